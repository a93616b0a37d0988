"""The person's own data: showing everything stored, and erasing it on request."""

from __future__ import annotations

from datetime import datetime

from handlers.flow import INTAKE_FLOW
from handlers.ideas import IDEAS_KEY
from handlers.intake import summary_text
from handlers.linking import channel_name
from handlers.messages import Option
from handlers.parties import first_name, named_people, side_name
from handlers.ticket_reasons import PRIORITY
from handlers.turn import Turn
from handlers.visibility import VISIBILITY_KEY
from storage.records import Introduction

FORGET_STEP = "confirm_forget"


# Every table that refers to a person, and the line of the overview that shows it. A test
# fails when a table with a reference to people is missing here.
OVERVIEW_TABLES = (
    "identities",
    "consents",
    "conversations",
    "message_log",
    "introductions",
    "initiative_organisers",
    "organiser_invites",
    "dismissals",
    "blocks",
    "jobs",
    "outbox",
    "mentions",
    "tickets",
    "audit_log",
    "link_codes",
)


def _date(moment: datetime) -> str:
    return moment.strftime("%d-%m-%Y")


async def my_data_text(turn: Turn) -> str:
    """Everything stored about the person, in plain words: one line per kind of row."""
    export = await turn.store.export_person(turn.person.id)
    if export is None:
        return turn.t("data.nothing")
    person, rows = export.person, export.rows
    lines = [turn.t("data.title"), "", summary_text(turn, INTAKE_FLOW), ""]
    lines.append(turn.t("data.language", value=turn.t(f"language.{person.language}")))
    if person.latitude is not None:
        lines.append(turn.t("data.location"))
    lines.append(turn.t("data.visible_yes" if person.neighbour_visible else "data.visible_no"))
    for identity in export.identities:
        lines.append(turn.t("data.channel", channel=channel_name(identity.channel)))
        if identity.username:
            lines.append(turn.t("data.username", username=identity.username))
    if export.consents:
        lines.append(turn.t("data.consent", date=_date(export.consents[-1].given_at)))
    if rows.get("conversations"):
        lines.append(turn.t("data.conversation"))
    lines.append(turn.t("data.messages", count=export.message_count))
    if person.role == "organiser" or rows.get("initiative_organisers"):
        titles = ", ".join(export.organised)
        lines.append(turn.t("data.organiser", titles=titles) if titles else turn.t("data.role"))
    if rows.get("organiser_invites"):
        lines.append(turn.t("data.invite"))
    if export.suggestion_months:
        months = [f"{m[5:7]}-{m[:4]}" for m in export.suggestion_months]
        lines.append(turn.t("data.suggestion_months", months=", ".join(months)))
    lines += await _introduction_lines(turn, export.introductions)
    for table in ("dismissals", "blocks", "jobs", "outbox", "mentions", "tickets", "link_codes"):
        if rows.get(table):
            lines.append(turn.t(f"data.count.{table}", count=rows[table]))
    lines += await _looked_at_lines(turn)
    lines += ["", turn.t("data.retention"), turn.t("data.rights")]
    return "\n".join(lines)


async def _introduction_lines(turn: Turn, intros: tuple[Introduction, ...]) -> list[str]:
    if not intros:
        return []
    lines = [turn.t("data.introductions")]
    for intro in intros:
        mine = intro.requester_id == turn.person.id
        if mine:
            other = await side_name(turn.store, intro, turn.texts, turn.lang)
        else:
            other = first_name(
                await turn.store.get_person(intro.requester_id), turn.texts, turn.lang
            )
        turn.mention(*named_people(intro))
        route = intro.requester_route if mine else intro.target_route
        contact = intro.requester_contact if mine else intro.target_contact
        shared = turn.t(f"data.shared.{route}", contact=contact or "") if route else ""
        status = turn.t(f"data.status.{intro.status}")
        lines.append(turn.t("data.introduction", name=other, status=status, shared=shared))
    return lines


async def _looked_at_lines(turn: Turn) -> list[str]:
    """Which organisation looked at the person's data or acted on it, and when (audit log)."""
    entries = await turn.store.list_audit(person_id=turn.person.id)
    if not entries:
        return []
    lines = [turn.t("data.looked_at")]
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        organisation = entry.organisation_name or turn.t("data.an_organisation")
        key = (organisation, _date(entry.at))
        if key not in seen:
            seen.add(key)
            lines.append(turn.t("data.looked_at_line", organisation=organisation, date=key[1]))
    return lines


def my_data_options(turn: Turn) -> tuple[Option, ...]:
    """Under the overview: change whether neighbours may hear about me."""
    return (Option(VISIBILITY_KEY, turn.t("button.change_visibility")),)


def forget_options(turn: Turn) -> tuple[Option, ...]:
    return (
        turn.option("forget:yes", turn.t("button.forget_yes")),
        turn.option("forget:no", turn.t("button.forget_no")),
    )


def ask_forget(turn: Turn) -> None:
    turn.say(turn.t("forget.confirm"), forget_options(turn))


async def erase(turn: Turn) -> None:
    """Erase everything; from here on nothing of this person is written. Whoever was
    waiting for them in a request or a conversation is told, without their name. An
    initiative left without organisers gets a ticket, on its most recent requester."""
    erasure = await turn.store.erase_person(turn.person.id, now=turn.now)
    turn.erased = True
    for person_id in erasure.tell:
        other = await turn.store.get_person(person_id)
        if other is None:
            continue
        lang = other.language
        options = (Option(IDEAS_KEY, turn.texts(lang, "menu.ideas")),)
        turn.tell(
            person_id, turn.texts(lang, "intro.left"), options if other.intake_done_at else ()
        )
    for initiative_id, requester_id in erasure.orphaned:
        ticket, _ = await turn.store.open_ticket(
            requester_id, reason="no_organiser", priority=PRIORITY["no_organiser"], now=turn.now
        )
        await turn.store.add_ticket_message(
            ticket.id, kind="event", body=f"no_organiser: initiative {initiative_id}", now=turn.now
        )
    turn.say(turn.t("forget.done"))
