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
import re

from handlers.i18n import Texts
from handlers.introduction_states import ACCEPTED
from handlers.parties import named_people, others
from handlers.ticket_reasons import PRIORITY
from handlers.turn import Turn
from storage.records import Introduction, ReportedThing

log = logging.getLogger(__name__)

REPORT = "report"  # the action of "x:<id>:report"
# The ticket line a report writes: only the introduction, by reference. The dashboard reads
# what it was about when a moderator opens the ticket (`describe`), so the line never keeps
# a name or words of someone who is later erased.
_LINE = re.compile(r"^\[report: introduction (\d{1,12})\]$")
FIRST_WORDS = 12


def report_line(intro_id: int) -> str:
    return f"[report: introduction {intro_id}]"


def reported_introduction(line: str) -> int | None:
    """The introduction a ticket line reports, or None for any other line."""
    found = _LINE.match(line)
    return int(found.group(1)) if found else None


def describe(texts: Texts, lang: str, thing: ReportedThing) -> str:
    """A report in plain words for the moderator: what, who, and the first words said."""
    number = thing.introduction_id
    if thing.other_id is None and thing.other_name is None:
        return texts(lang, "dash.report.gone", id=number)
    name = thing.other_name or texts(lang, "dash.someone")
    if thing.initiative_title is not None:
        text = texts(lang, "dash.report.initiative", title=thing.initiative_title, id=number)
        text += " " + texts(lang, "dash.report.person", name=name)
    else:
        text = texts(lang, "dash.report.neighbour", name=name, id=number)
    if thing.last_words:
        words = thing.last_words.split()
        shown = " ".join(words[:FIRST_WORDS]) + (" …" if len(words) > FIRST_WORDS else "")
        text += " " + texts(lang, "dash.report.words", words=shown)
    return text


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
        body=report_line(intro.id),
    )
    if created:
        log.info("ticket %s opened (reported)", ticket.id)
    turn.say(turn.t("report.noted"))
    turn.ask_after = True
