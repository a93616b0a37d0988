"""Introductions with double opt-in: asking, answering, and releasing contact details.

The relay lives in `relay.py`, the timers (reminder, expiry, follow-up) in `followup.py`.

The life of an introduction is declared in `introduction_states.py`; every change goes
through `Store.change_introduction`, one conditional update, so of two racing answers one
wins and the other is told the request was answered already. Timers: one reminder after 3
days without an answer, expiry after 7, the follow-up question 7 days after a yes.

The resident chooses how they want to be reached when they ask; the organiser or
neighbour chooses when they accept. Contact details travel to the other side only in
`reveal`, which refuses unless the introduction is accepted and both routes are known.
Buttons for introductions ("x:<id>:<action>") are checked against who presses them and
the introduction's current state, so a forged or replayed press by anyone else changes
nothing; ids are never reused, so a button about someone who left finds nothing. Every
message for the other side names its introduction and the people in it, so that erasing
either side cancels it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from handlers.errors import InvalidAnswer, NotAllowed
from handlers.i18n import Texts
from handlers.ideas import IDEAS_KEY, check_suggestion, reason_tags
from handlers.introduction_states import ACCEPT, ACCEPTED, CLOSED, DECLINE, REQUESTED
from handlers.messages import Option
from handlers.parties import (
    Queue,
    first_name,
    is_target,
    named_people,
    other_name,
    others,
    side_name,
    target_people,
    told,
)
from handlers.relay import RELAY_STEP, end_relay
from handlers.reporting import REPORT, report, report_key
from handlers.taxonomy import Taxonomy
from handlers.turn import Turn
from storage.protocols import BlockActions
from storage.records import Introduction
from storage.store import Store

REMIND_AFTER = timedelta(days=3)
EXPIRE_AFTER = timedelta(days=7)
FOLLOW_UP_AFTER = timedelta(days=7)
MEET_AGAIN_AFTER = timedelta(days=28)  # after "we met": "did you see each other again?"
AGAIN = {"again_yes": "button.again_yes", "again_no": "button.again_no"}  # its answers
ROUTES = ("bot", "username", "phone", "whatsapp")
WHATSAPP = "whatsapp"  # the channel whose account id is the person's number
OUTCOMES = ("met_good", "not_for_me", "not_yet", "no")  # each fits the 12-character column
ROUTE_STEP = "contact_route"
PHONE_STEP = "contact_phone"
_PHONE = re.compile(r"^(\+31|0031|0)[1-9][0-9]{8}$")

# -- asking for an introduction --------------------------------------------------------


def route_options(turn: Turn) -> tuple[Option, ...]:
    options = [turn.option("route:bot", turn.t("button.route_bot"))]
    if turn.msg.username:
        options.append(
            turn.option(
                "route:username", turn.t("button.route_username", username=turn.msg.username)
            )
        )
    number = whatsapp_number(turn)
    if number:  # one tap: the number they write from
        options.append(
            turn.option("route:whatsapp", turn.t("button.route_whatsapp", number=number))
        )
    options.append(turn.option("route:phone", turn.t("button.route_phone")))
    return tuple(options)


def whatsapp_number(turn: Turn) -> str | None:
    """The number someone writes from on WhatsApp ("+31612345678"); None elsewhere.

    It is personal data like any phone number: offered only to its owner, as a route, and
    shown to the other side only once both said yes."""
    if turn.msg.channel != WHATSAPP or not turn.msg.external_id.isdigit():
        return None
    return f"+{turn.msg.external_id}"


def ask_route(turn: Turn) -> None:
    key = "intro.route_share" if "share" in turn.state.context else "intro.route_question"
    turn.say(turn.t(key), route_options(turn))


def ask_phone(turn: Turn) -> None:
    turn.say(turn.t("intro.phone_question"))


async def request(turn: Turn, kind: str, target_id: int) -> None:
    """ "Stel me voor": first ask how the person wants to be reached."""
    await check_suggestion(turn, kind, target_id)
    turn.goto(ROUTE_STEP, target=f"{kind}:{target_id}", resume=turn.resume_point())
    ask_route(turn)


async def route_choice(turn: Turn, key: str) -> None:
    route = key.removeprefix("route:")
    if route not in ROUTES or (route == "username" and not turn.msg.username):
        raise InvalidAnswer("button.unknown")
    if route == WHATSAPP:
        number = whatsapp_number(turn)
        if number is None:
            raise InvalidAnswer("button.unknown")
        await _route_chosen(turn, route, number)
        return
    if route == "phone":
        turn.goto(PHONE_STEP, **_carry(turn))
        ask_phone(turn)
        return
    await _route_chosen(turn, route, turn.msg.username if route == "username" else None)


async def route_text(turn: Turn, text: str) -> None:
    folded = text.strip().lower()
    if folded in ("bot", "via de bot", "via bot", "via the bot"):
        await _route_chosen(turn, "bot", None)
    else:
        raise InvalidAnswer("intro.route_not_understood")


async def phone_text(turn: Turn, text: str) -> None:
    number = re.sub(r"[\s\-().]", "", text)
    if not _PHONE.match(number):
        raise InvalidAnswer("intro.phone_invalid")
    await _route_chosen(turn, "phone", number)


def _carry(turn: Turn) -> dict[str, object]:
    keep = ("target", "answer", "share", "resume")
    return {k: v for k, v in turn.state.context.items() if k in keep}


async def _route_chosen(turn: Turn, route: str, contact: str | None) -> None:
    context = dict(turn.state.context)
    # Back first: when the step below is refused (the suggestion or introduction changed
    # meanwhile), the person is not left at a route question that can only be refused again.
    turn.resume(str(context.get("resume", "done")))
    if "target" in context:
        kind, _, number = str(context["target"]).partition(":")
        await _create_request(turn, kind, int(number), route, contact)
    elif "answer" in context:
        await _accept(turn, int(context["answer"]), route, contact)
    elif "share" in context:
        await _share(turn, int(context["share"]), route, contact)


async def _create_request(
    turn: Turn, kind: str, target_id: int, route: str, contact: str | None
) -> None:
    suggestion = await check_suggestion(turn, kind, target_id)
    ids = {"initiative_id": target_id} if kind == "initiative" else {"neighbour_id": target_id}
    if await turn.store.find_introduction(turn.person.id, **ids) is not None:
        turn.say(turn.t("intro.already_asked"))
        return
    intro = await turn.store.create_introduction(
        turn.person.id, reason=reason_tags(suggestion), route=route, contact=contact,
        now=turn.now, **ids,
    )  # fmt: skip
    await send_request(
        turn.store, turn.texts, turn.taxonomy, intro, reminder=False, queue=told(turn)
    )
    await turn.store.schedule_job(
        "intro_reminder", turn.now + REMIND_AFTER, introduction_id=intro.id
    )
    await turn.store.schedule_job("intro_expiry", turn.now + EXPIRE_AFTER, introduction_id=intro.id)
    turn.mention(*named_people(intro))
    turn.say(turn.t("intro.asked", name=await side_name(turn.store, intro, turn.texts, turn.lang)))


async def send_request(
    store: Store,
    texts: Texts,
    taxonomy: Taxonomy,
    intro: Introduction,
    *,
    reminder: bool,
    queue: Queue | None = None,
) -> None:
    """Ask the other side: first name, area and what fits; never contact details."""
    queue = queue or store.queue_message
    requester = await store.get_person(intro.requester_id)
    if requester is not None and requester.blocked:  # their requests stopped with the block
        return
    initiative = await store.get_initiative(intro.initiative_id) if intro.initiative_id else None
    for person_id in await target_people(store, intro):
        person = await store.get_person(person_id)
        if person is None or person.blocked:  # a blocked organiser is asked nothing more
            continue
        lang = person.language
        tags = [t for t in intro.reason.split(",") if t in taxonomy]
        fits = ", ".join(taxonomy.get(t).label(lang) for t in tags)
        values = {
            "name": first_name(requester, texts, lang),
            "area": (requester.area_name if requester else None) or "?",
            "fits": fits or "-",
            "title": initiative.title if initiative else "",
        }
        key = "intro.request_initiative" if initiative else "intro.request_neighbour"
        text = texts(lang, key, **values)
        if reminder:
            text = texts(lang, "intro.reminder") + "\n\n" + text
        options = (
            (f"x:{intro.id}:accept", texts(lang, "button.accept")),
            (f"x:{intro.id}:decline", texts(lang, "button.decline")),
            (report_key(intro.id), texts(lang, "button.report")),
        )
        await queue(person_id, text, options, introduction_id=intro.id, about=(intro.requester_id,))


async def stop_for_block(
    store: BlockActions, texts: Texts, person_id: int, *, now: datetime
) -> int:
    """A moderator blocked `person_id`: the requests still waiting that involve them stop
    (`close_requests_of`: no reminder, no expiry message, and an answer from either side
    finds the request closed). Each resident who was waiting on one is told kindly that it
    will not go on, in their language, with the way to other ideas; no reason is given.
    Requests the blocked person asked themselves stop quietly: nobody waits on them.
    Their conversations through the bot stop as well (`close_relays_of`), and the other
    side is told the same kind way. Returns how many requests and conversations stopped.

    Unblocking restores nothing by itself: the stopped requests stay closed (one request
    per resident and initiative or neighbour, as after a decline), the residents were told
    already, and only the suggestions come back (`storage.matching`)."""

    async def tell(
        who: int, lang: str, key: str, side: str | None, intro: int, named: tuple[int, ...]
    ) -> None:
        await store.queue_message(
            who,
            texts(lang, key, name=side or texts(lang, "intro.someone")),
            ((IDEAS_KEY, texts(lang, "menu.ideas")),),
            introduction_id=intro,
            about=named,
        )

    stopped = await store.close_requests_of(person_id, now=now)
    for request in stopped:
        if request.requester_id is not None:
            await tell(
                request.requester_id, request.language, "intro.stopped", request.other_side,
                request.introduction_id, request.named,
            )  # fmt: skip
    relays = await store.close_relays_of(person_id)
    for relay in relays:
        await tell(
            relay.person_id, relay.language, "relay.stopped", relay.other_side,
            relay.introduction_id, relay.named,
        )  # fmt: skip
    return len(stopped) + len(relays)


# -- answering (x:<id>:<action>) -------------------------------------------------------


async def act(turn: Turn, choice: str) -> None:
    """A press on an introduction's button, by whoever holds it."""
    _, number, action = ([*choice.split(":"), "", ""])[:3]
    if not number.isdigit():
        raise NotAllowed("malformed")
    intro = await turn.store.get_introduction(int(number))
    if intro is None:  # the other side left (erased), or the button was made up
        turn.say(turn.t("intro.gone"))
        turn.ask_after = True
        return
    me = turn.person.id
    as_target = await is_target(turn.store, intro, me)
    as_requester = intro.requester_id == me
    if action in ("accept", "decline") and not as_target and await _was_asked(turn, intro):
        turn.say(turn.t("intro.too_late"))  # another organiser of it answered first
        turn.ask_after = True
        return
    if action == REPORT and (as_requester or as_target):
        if intro.status == REQUESTED and as_target:
            await _decline(turn, intro, noted=False)
            await report(turn, intro, as_requester=False)
            return
        if intro.status == ACCEPTED:
            await report(turn, intro, as_requester=as_requester)
            return
    if action in ("accept", "decline") and as_target:
        if intro.status == CLOSED or turn.person.blocked:  # stopped (see `stop_for_block`)
            turn.say(turn.t("intro.stopped_here"))
            turn.ask_after = True
        elif intro.status != REQUESTED:  # answered, expired or withdrawn meanwhile
            turn.say(turn.t("intro.too_late"))
            turn.ask_after = True
        elif action == "decline":
            await _decline(turn, intro)
        else:
            turn.goto(ROUTE_STEP, answer=intro.id, resume=turn.resume_point())
            ask_route(turn)
        return
    if intro.status == ACCEPTED and (as_target or as_requester):
        if action == "write" and intro.relay_open:
            turn.goto(RELAY_STEP, intro=intro.id, resume=turn.resume_point())
            name = await other_name(turn, intro, as_requester)
            turn.say(turn.t("relay.write", name=name))
            return
        if action == "end" and intro.relay_open:
            await end_relay(turn, intro, as_requester)
            return
        if action == "share" and await _may_share(turn, intro, as_requester):
            turn.goto(ROUTE_STEP, share=intro.id, resume=turn.resume_point())
            ask_route(turn)
            return
        if action in OUTCOMES:
            await _record_outcome(turn, intro, action, as_requester)
            return
        if action in AGAIN and (
            intro.requester_outcome if as_requester else intro.target_outcome
        ) == "met_good":  # asked only of a side that said they met
            await _record_again(turn, intro, met=action == "again_yes")
            return
    raise NotAllowed(f"{action} on a {intro.status} introduction")


async def _was_asked(turn: Turn, intro: Introduction) -> bool:
    """An organiser of the initiative: asked at first, even if another one answered."""
    return intro.initiative_id is not None and await turn.store.is_organiser_of(
        turn.person.id, intro.initiative_id
    )


async def _decline(turn: Turn, intro: Introduction, *, noted: bool = True) -> None:
    declined = await turn.store.change_introduction(
        intro.id,
        allowed=DECLINE.sources,
        changes={"status": DECLINE.target, "answered_at": turn.now, "ended_at": turn.now},
    )
    if declined is None:  # someone else answered first
        turn.say(turn.t("intro.too_late"))
        turn.ask_after = True
        return
    await turn.store.cancel_jobs(introduction_id=intro.id, now=turn.now)
    requester = await turn.store.get_person(intro.requester_id)
    if requester is not None:
        lang = requester.language
        name = await side_name(turn.store, intro, turn.texts, lang)
        turn.tell(
            requester.id,
            turn.texts(lang, "intro.declined", name=name),
            (Option(IDEAS_KEY, turn.texts(lang, "menu.ideas")),),
            about=named_people(intro),
            introduction_id=intro.id,
        )
    if noted:
        turn.say(turn.t("intro.decline_noted"))


async def _accept(turn: Turn, intro_id: int, route: str, contact: str | None) -> None:
    intro = await turn.store.get_introduction(intro_id)
    if intro is not None and (intro.status == CLOSED or turn.person.blocked):
        turn.say(turn.t("intro.stopped_here"))  # blocked while choosing a route
        return
    if intro is None or intro.status != REQUESTED:
        turn.say(turn.t("intro.too_late" if intro else "intro.gone"))
        return
    if not await is_target(turn.store, intro, turn.person.id):
        raise NotAllowed("not the other side")
    accepted = await turn.store.change_introduction(
        intro.id,
        allowed=ACCEPT.sources,
        changes={
            "status": ACCEPT.target,
            "answered_at": turn.now,
            "target_route": route,
            "target_contact": contact,
            "answered_by_id": turn.person.id,
            # Whoever chose "via the bot" can only be reached through the relay.
            "relay_open": route == "bot" or intro.requester_route == "bot",
        },
    )
    if accepted is None:  # another organiser, a decline, the expiry or an erasure won
        turn.say(turn.t("intro.too_late"))
        return
    intro = accepted
    await turn.store.cancel_jobs(introduction_id=intro.id, now=turn.now)
    await turn.store.schedule_job(
        "intro_followup", turn.now + FOLLOW_UP_AFTER, introduction_id=intro.id,
        payload={"round": 1},
    )  # fmt: skip
    await reveal(turn.store, turn.texts, intro, answered_by=turn.person.id, queue=told(turn))


async def reveal(
    store: Store,
    texts: Texts,
    intro: Introduction,
    *,
    answered_by: int,
    queue: Queue | None = None,
) -> None:
    """Tell each side how to reach the other — only once both said yes."""
    queue = queue or store.queue_message
    if intro.status != ACCEPTED or intro.requester_route is None or intro.target_route is None:
        raise NotAllowed("contact details are released only after both sides said yes")
    requester = await store.get_person(intro.requester_id)
    answerer = await store.get_person(answered_by)
    if requester is None or answerer is None:
        return
    side = await side_name(store, intro, texts, requester.language)
    to_requester = _route_text(texts, requester.language, intro, target_side=True, name=side)
    # Each side's message carries the other side's contact details: it names them both.
    await queue(
        requester.id,
        texts(requester.language, "intro.accepted", name=side) + "\n" + to_requester[0],
        to_requester[1],
        introduction_id=intro.id,
        about=(answerer.id,),
    )
    name = first_name(requester, texts, answerer.language)
    to_target = _route_text(texts, answerer.language, intro, target_side=False, name=name)
    await queue(
        answerer.id,
        texts(answerer.language, "intro.you_accepted", name=name) + "\n" + to_target[0],
        to_target[1],
        introduction_id=intro.id,
        about=(requester.id,),
    )


def _route_text(
    texts: Texts, lang: str, intro: Introduction, *, target_side: bool, name: str
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """How to reach the OTHER side (the target when `target_side`), and its buttons."""
    route = intro.target_route if target_side else intro.requester_route
    contact = intro.target_contact if target_side else intro.requester_contact
    report_button = (report_key(intro.id), texts(lang, "button.report"))
    if route == "bot" or not contact:
        buttons = (
            (f"x:{intro.id}:write", texts(lang, "button.write")),
            (f"x:{intro.id}:share", texts(lang, "button.share")),
            report_button,
        )
        return texts(lang, "intro.via_bot", name=name), buttons
    key = {"username": "intro.contact_username", WHATSAPP: "intro.contact_whatsapp"}.get(
        route or "", "intro.contact_phone"
    )
    return texts(lang, key, name=name, contact=contact), (report_button,)


async def _may_share(turn: Turn, intro: Introduction, as_requester: bool) -> bool:
    """Whether contact details may still be swapped: not after a report (either side
    blocked the other), nor while a moderator blocks either side."""
    other_ids = await others(turn, intro, as_requester)
    if await turn.store.any_blocked_by_moderator([turn.person.id, *other_ids]):
        return False
    return not await turn.store.is_blocked_between(turn.person.id, other_ids)


async def _share(turn: Turn, intro_id: int, route: str, contact: str | None) -> None:
    """Both want to swap contact details instead of talking through the bot."""
    intro = await turn.store.get_introduction(intro_id)
    if intro is None or intro.status != ACCEPTED:
        turn.say(turn.t("intro.gone" if intro is None else "intro.too_late"))
        return
    if route == "bot" or contact is None:
        turn.say(turn.t("intro.share_bot_kept"))
        return
    as_requester = intro.requester_id == turn.person.id
    if not await _may_share(turn, intro, as_requester):  # blocked while choosing a route
        turn.say(turn.t("intro.stopped_here"))
        return
    fields = (
        ("requester_route", "requester_contact")
        if as_requester
        else ("target_route", "target_contact")
    )
    shared = await turn.store.change_introduction(
        intro.id, allowed={ACCEPTED}, changes=dict(zip(fields, (route, contact), strict=True))
    )
    if shared is None:
        turn.say(turn.t("intro.too_late"))
        return
    intro = shared
    both = intro.requester_route != "bot" and intro.target_route != "bot"
    name = await other_name(turn, intro, as_requester)
    if not both:
        for other in await others(turn, intro, as_requester):
            person = await turn.store.get_person(other)
            lang = person.language if person else "nl"
            turn.tell(
                other,
                turn.texts(lang, "intro.share_asked", name=turn.person.first_name or "?"),
                (Option(f"x:{intro.id}:share", turn.texts(lang, "button.share")),),
                introduction_id=intro.id,
            )
        turn.say(turn.t("intro.share_waiting", name=name))
        return
    closed = await turn.store.change_introduction(
        intro.id, allowed={ACCEPTED}, changes={"relay_open": False}
    )
    if closed is None:
        turn.say(turn.t("intro.too_late"))
        return
    intro = closed
    answered_by = intro.answered_by_id or intro.neighbour_id or turn.person.id
    await reveal(turn.store, turn.texts, intro, answered_by=answered_by, queue=told(turn))
    turn.say(turn.t("intro.shared"))


# -- follow-up -------------------------------------------------------------------------


async def _record_outcome(
    turn: Turn, intro: Introduction, outcome: str, as_requester: bool
) -> None:
    field = "requester_outcome" if as_requester else "target_outcome"
    before = intro.requester_outcome if as_requester else intro.target_outcome
    if (
        await turn.store.change_introduction(intro.id, allowed={ACCEPTED}, changes={field: outcome})
        is None
    ):
        turn.say(turn.t("intro.too_late"))
        return
    if outcome == "not_yet" and before != "not_yet":  # asked again once, not every week
        pending = await turn.store.list_pending_jobs(introduction_id=intro.id)
        if not any(  # a follow-up that will ask this person anyway
            job.kind == "intro_followup" and job.payload.get("only") in (None, turn.person.id)
            for job in pending
        ):
            await turn.store.schedule_job(
                "intro_followup", turn.now + FOLLOW_UP_AFTER, introduction_id=intro.id,
                payload={"round": 2, "only": turn.person.id},
            )  # fmt: skip
    if outcome == "met_good" and before != "met_good":  # later: did they meet again?
        await turn.store.schedule_job(
            "intro_again", turn.now + MEET_AGAIN_AFTER, introduction_id=intro.id,
            payload={"only": turn.person.id},
        )  # fmt: skip
    turn.say(turn.t(f"followup.thanks.{outcome}"))


async def _record_again(turn: Turn, intro: Introduction, *, met: bool) -> None:
    """The answer to "hebben jullie elkaar nog eens gezien?": a yes counts as "met again"
    in the impact figures (one per introduction, whichever side says it)."""
    if met and (
        await turn.store.change_introduction(
            intro.id, allowed={ACCEPTED}, changes={"met_again_at": turn.now}
        )
        is None
    ):
        turn.say(turn.t("intro.too_late"))
        return
    turn.say(turn.t("followup.again_thanks.yes" if met else "followup.again_thanks.no"))
