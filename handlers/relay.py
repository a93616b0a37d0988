"""The relay "via the bot": messages pass between the two sides of an accepted
introduction with first names shown and numbers hidden, until either ends it."""

from __future__ import annotations

from handlers.errors import InvalidAnswer, NotAllowed
from handlers.introduction_states import ACCEPTED
from handlers.messages import Option
from handlers.parties import is_target, named_people, other_name, others, side_name
from handlers.reporting import report_key
from handlers.turn import Turn
from storage.records import Introduction

RELAY_STEP = "relay_write"


async def relay_text(turn: Turn, text: str) -> None:
    """Pass one message on to the other side, names shown, numbers hidden."""
    intro = await turn.store.get_introduction(
        int(turn.state.context.get("intro", 0)), hold=True
    )
    if intro is None or intro.status != ACCEPTED or not intro.relay_open or turn.person.blocked:
        turn.resume(str(turn.state.context.get("resume", "done")))
        raise InvalidAnswer("relay.closed")
    as_requester = intro.requester_id == turn.person.id
    if not as_requester and not await is_target(turn.store, intro, turn.person.id):
        raise NotAllowed("not part of this conversation")
    turn.mention(*named_people(intro))  # "Hallo Anna" in the sender's log names Anna
    sender = turn.person.first_name or turn.t("intro.someone")
    if not as_requester and intro.initiative_id is not None:
        sender = f"{sender} ({await side_name(turn.store, intro, turn.texts, turn.lang)})"
    for other in await others(turn, intro, as_requester):
        person = await turn.store.get_person(other)
        lang = person.language if person else "nl"
        turn.tell(
            other,
            turn.texts(lang, "relay.message", name=sender, text=text),
            (
                Option(f"x:{intro.id}:write", turn.texts(lang, "button.reply")),
                Option(f"x:{intro.id}:end", turn.texts(lang, "button.end_relay")),
                Option(report_key(intro.id), turn.texts(lang, "button.report")),
            ),
            about=named_people(intro),
            introduction_id=intro.id,
        )
    turn.say(turn.t("relay.sent"))
    turn.resume(str(turn.state.context.get("resume", "done")))
    turn.set_context(**{LAST_RELAY: intro.id})


LAST_RELAY = "relay"  # context: the conversation this person last wrote in through the bot


DRAFT = "relay_draft"  # context: typed words waiting for "send them on?"
SEND_KEY = "relay:send"
KEEP_KEY = "relay:keep"


async def pass_on_typed(turn: Turn, text: str) -> bool:
    """Typed words at the menu after writing through the bot: pass them on as well. Someone
    who only received messages and types instead of tapping "Antwoorden" is asked first,
    with one tap, whether the words are for the other side of their open conversation."""
    intro_id = turn.state.context.get(LAST_RELAY)
    if not isinstance(intro_id, int):
        return await _offer_to_send(turn, text)
    intro = await turn.store.get_introduction(intro_id)
    if intro is None or intro.status != "accepted" or not intro.relay_open:
        turn.drop_context(LAST_RELAY)
        return False
    turn.set_context(intro=intro_id, resume=turn.resume_point())
    await relay_text(turn, text)
    return True


async def _offer_to_send(turn: Turn, text: str) -> bool:
    """One open conversation through the bot: offer to send the typed words on."""
    open_relays = await turn.store.list_open_relays_for(turn.person.id)
    if len(open_relays) != 1:
        return False
    intro = open_relays[0]
    name = await other_name(turn, intro, intro.requester_id == turn.person.id)
    turn.set_context(**{DRAFT: text[:MAX_DRAFT], LAST_RELAY: intro.id})
    turn.say(
        turn.t("relay.send_question", name=name, text=text[:MAX_DRAFT]),
        (
            turn.option(SEND_KEY, turn.t("button.relay_send", name=name)),
            turn.option(KEEP_KEY, turn.t("button.relay_keep")),
        ),
    )
    return True


async def send_draft(turn: Turn, key: str) -> bool:
    """The answer to "send it on?"; False when `key` is not one of its buttons."""
    if key not in (SEND_KEY, KEEP_KEY):
        return False
    draft = turn.state.context.get(DRAFT)
    intro_id = turn.state.context.get(LAST_RELAY)
    turn.drop_context(DRAFT)
    if key == KEEP_KEY or not isinstance(draft, str) or not isinstance(intro_id, int):
        turn.drop_context(LAST_RELAY)
        turn.say(turn.t("relay.not_sent"))
        turn.ask_after = True
        return True
    turn.set_context(intro=intro_id, resume=turn.resume_point())
    await relay_text(turn, draft)
    return True


MAX_DRAFT = 1000


async def end_relay(turn: Turn, intro: Introduction, as_requester: bool) -> None:
    ended = await turn.store.change_introduction(
        intro.id, allowed={ACCEPTED}, changes={"relay_open": False}
    )
    if ended is None:
        turn.say(turn.t("intro.too_late"))
        return
    for other in await others(turn, intro, as_requester):
        person = await turn.store.get_person(other)
        lang = person.language if person else "nl"
        turn.tell(
            other,
            turn.texts(lang, "relay.ended_by", name=turn.person.first_name or "?"),
            introduction_id=intro.id,
        )
    turn.say(turn.t("relay.ended"))
