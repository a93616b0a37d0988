"""A human steps in: tickets open from the conversation, and a moderator takes it over.

From the resident's side (`take_over`, `misunderstood`, called by the conversation):
a ticket opens when they ask for a person, when the bot fails to understand them three
times in a row, and when a message shows distress (highest priority; the crisis numbers
go out at once, in their language). While a moderator holds their ticket, the bot's
automation is paused: what they write lands in the ticket.

Inside a conversation through the bot (a relay) a message that shows distress is still
passed on: the other side is waiting for it, and holding it back would tell them nothing
good. The ticket opens and the help numbers go out all the same.

From the moderator's side (`assign`, `reply`, `close`, called by the dashboard): replies
reach the resident through the outbox as "Naam (Organisatie): …"; closing hands the
conversation back to the bot, and the resident is told.
"""

from __future__ import annotations

import logging
from datetime import datetime

from handlers.distress import Distress, asks_for_human, read_distress
from handlers.errors import InvalidAnswer
from handlers.flow import DONE
from handlers.i18n import DEFAULT_LANGUAGE, Texts
from handlers.privacy import FORGET_STEP
from handlers.reading import MAX_TEXT, Command, clean, read_command
from handlers.relay import LAST_RELAY, RELAY_STEP
from handlers.scrub import scrub
from handlers.ticket_reasons import HIGHEST, PRIORITY
from handlers.turn import Turn
from storage.protocols import TicketActions
from storage.records import Moderator, Ticket

log = logging.getLogger(__name__)

MISUNDERSTOOD_LIMIT = 3
# Commands that keep working while a moderator holds the conversation (and the question
# "really forget me?" they lead to): a resident can always see and erase their data.
ALWAYS = (Command.FORGET, Command.MY_DATA)


def _body(turn: Turn) -> str:
    msg = turn.msg
    if msg.choice is not None:
        return "[button]"
    if msg.location is not None:
        return "[location]"
    if msg.media is not None:
        return f"[{msg.media.value}]"
    return scrub(clean(msg.text)[:MAX_TEXT])


async def take_over(turn: Turn) -> bool:
    """Before the bot answers: True when a person takes it from here (the message is
    in a ticket and the resident got their answer), False when the bot goes on."""
    text = clean(turn.msg.text) if turn.msg.choice is None else ""
    if (text and read_command(text) in ALWAYS) or turn.state.step == FORGET_STEP:
        return False
    ticket = None
    if turn.ticket_active is not False:
        ticket = await turn.store.get_active_ticket(turn.person.id)
    if ticket is not None and ticket.status == "assigned":
        await turn.store.add_ticket_message(
            ticket.id, kind="resident", body=_body(turn), now=turn.now
        )
        turn.say(turn.t("moderation.forwarded", name=ticket.assignee_name or ""))
        return True
    if not text:
        return False
    distress = read_distress(text)
    if distress is not None:
        await _open(turn, "distress", body=text)
        log.info("a message showed distress (%s); a ticket is open", distress.value)
        turn.say(turn.t(_distress_key(distress)))
        return not _in_relay(turn)  # in a relay, the message is still passed on
    if asks_for_human(text):
        await _open(turn, "asked_for_human", body=text)
        turn.say(turn.t("moderation.asked"))
        return True
    return False


def _in_relay(turn: Turn) -> bool:
    """Whether typed words go to the other side of a conversation through the bot: they
    are writing in it, or typing at the menu right after writing in it."""
    step = turn.state.step
    return step == RELAY_STEP or (
        step == DONE and isinstance(turn.state.context.get(LAST_RELAY), int)
    )


def _distress_key(distress: Distress) -> str:
    if distress in (Distress.SUICIDE, Distress.VIOLENCE):
        return f"moderation.distress.{distress.value}"
    return "moderation.distress.other"


async def _open(turn: Turn, reason: str, *, body: str) -> Ticket:
    before = None
    if turn.ticket_active is not False:
        before = await turn.store.get_active_ticket(turn.person.id)
    ticket, created = await turn.store.open_ticket(
        turn.person.id,
        reason=reason,
        priority=PRIORITY[reason],
        now=turn.now,
        body=scrub(body[:MAX_TEXT]),
    )
    turn.ticket_active = True
    if created:
        log.info("ticket %s opened (%s)", ticket.id, reason)
    if ticket.priority >= HIGHEST and (before is None or before.priority < HIGHEST):
        await _alert_moderators(turn, ticket)
    return ticket


async def _alert_moderators(turn: Turn, ticket: Ticket) -> None:
    """Tell the moderators' chat that a ticket needs them now: a link, never the words."""
    alert = turn.alert
    if alert is None:
        return
    link = alert.ticket_url.format(id=ticket.id)
    text = turn.texts(DEFAULT_LANGUAGE, "dash.alert.urgent", link=link)
    await turn.store.queue_reply(alert.channel, alert.chat_id, text)


async def misunderstood(turn: Turn, problem: InvalidAnswer) -> None:
    """The bot could not read this answer: the third time in a row, a person helps."""
    if "not_understood" not in problem.text_key or turn.msg.choice is not None:
        return  # an empty message, a stale button or a wrong number is no misunderstanding
    count = await turn.store.count_misunderstood(turn.person.id)
    turn.misunderstood = count
    if count >= MISUNDERSTOOD_LIMIT:
        await turn.store.forget_misunderstood(turn.person.id)
        turn.misunderstood = 0
        await _open(turn, "not_understood", body=clean(turn.msg.text))
        turn.say(turn.t("moderation.not_understood"))


async def understood(turn: Turn) -> None:
    """The bot understood the answer: the count of misunderstood answers starts again."""
    if turn.misunderstood == 0:
        return  # nothing to forget
    await turn.store.forget_misunderstood(turn.person.id)
    turn.misunderstood = 0


# -- the moderator's side ----------------------------------------------------------------


def signed(texts: Texts, language: str, moderator: Moderator, text: str) -> str:
    """A moderator's words as the resident sees them: "Naam (Organisatie): …"."""
    return texts(
        language,
        "moderation.reply",
        name=moderator.name,
        organisation=moderator.organisation_name,
        text=text,
    )


async def assign(
    store: TicketActions, texts: Texts, moderator: Moderator, ticket: Ticket, *, now: datetime
) -> bool:
    """Take the ticket: the bot pauses for this resident, who is told who helps them."""
    if not await store.assign_ticket(moderator.scope, ticket.id, moderator.id):
        return False
    if ticket.status == "open":
        person = await store.get_person_in_scope(moderator.scope, ticket.person_id)
        if person is not None:
            await store.queue_message(
                person.id,
                texts(
                    person.language,
                    "moderation.taken",
                    name=moderator.name,
                    organisation=moderator.organisation_name,
                ),
            )
        await store.add_ticket_message(
            ticket.id, kind="event", body="assigned", now=now, moderator_id=moderator.id
        )
    return True


async def reply(
    store: TicketActions,
    texts: Texts,
    moderator: Moderator,
    ticket: Ticket,
    text: str,
    *,
    now: datetime,
) -> bool:
    """Send the moderator's words to the resident, through the outbox."""
    person = await store.get_person_in_scope(moderator.scope, ticket.person_id)
    words = clean(text)[:MAX_TEXT]
    if person is None or not words or ticket.status == "closed":
        return False
    await store.add_ticket_message(
        ticket.id, kind="reply", body=words, now=now, moderator_id=moderator.id
    )
    await store.queue_message(person.id, signed(texts, person.language, moderator, words))
    return True


async def close(
    store: TicketActions, texts: Texts, moderator: Moderator, ticket: Ticket, *, now: datetime
) -> bool:
    """Close the ticket: the bot answers the resident again, and tells them so."""
    if not await store.close_ticket(moderator.scope, ticket.id, now=now):
        return False
    await store.add_ticket_message(
        ticket.id, kind="event", body="closed", now=now, moderator_id=moderator.id
    )
    person = await store.get_person_in_scope(moderator.scope, ticket.person_id)
    if person is not None:
        await store.queue_message(
            person.id, texts(person.language, "moderation.closed", name=moderator.name)
        )
    return True
