"""Reporting the other side of an introduction ("⚠️ Melden").

The button sits on an introduction request, on the message that says both agreed, and on
every message passed on through the bot. A report opens a ticket (reason `reported`) for
the moderators of the reporter's organisation, blocks the other side from the reporter (the
matching honours blocks both ways), stops the conversation through the bot or declines the
request (`introductions.act`), and tells the reporter kindly that a person will look at it.
The other side is not told who reported, nor that anyone did: a declined request reads as
any other "no", and a message through the bot finds the conversation stopped.
"""

from __future__ import annotations

import logging

from handlers.introduction_states import ACCEPTED
from handlers.parties import named_people, others
from handlers.ticket_reasons import PRIORITY
from handlers.turn import Turn
from storage.records import Introduction

log = logging.getLogger(__name__)

REPORT = "report"  # the action of "x:<id>:report"


def report_key(intro_id: int) -> str:
    return f"x:{intro_id}:{REPORT}"


async def report(turn: Turn, intro: Introduction, *, as_requester: bool) -> None:
    """The reporter is one of the two sides (checked by the caller). A request the caller
    has declined already; an accepted introduction stops its conversation through the bot."""
    if intro.status == ACCEPTED:
        await turn.store.change_introduction(
            intro.id, allowed={ACCEPTED}, changes={"relay_open": False}
        )
    for other in await others(turn, intro, as_requester):
        await turn.store.add_block(turn.person.id, other, now=turn.now)
    turn.mention(*named_people(intro))
    ticket, created = await turn.store.open_ticket(
        turn.person.id,
        reason="reported",
        priority=PRIORITY["reported"],
        now=turn.now,
        body=f"[report: introduction {intro.id}]",
    )
    if created:
        log.info("ticket %s opened (reported)", ticket.id)
    turn.say(turn.t("report.noted"))
    turn.ask_after = True
