"""Organisers in the chat: joining with an invite code, describing an initiative step by
step, seeing their initiatives, and pausing or reopening them.

New and changed initiatives wait for a moderator's approval before residents see them.
Buttons on the list of initiatives ("o:<id>:<action>") are checked against who presses them.
"""

from __future__ import annotations

import re

from handlers.errors import NotAllowed
from handlers.flow import DONE, INITIATIVE_FLOW
from handlers.menu import show_menu
from handlers.messages import Option
from handlers.reading import read_name
from handlers.turn import Turn
from storage.records import Initiative

INVITE = re.compile(
    r"^\s*/?(?:start|organisator|organiser|organizer|code)\s+([A-Za-z0-9]{6,12})\s*$"
)
CONTENT_FIELDS = (
    "title",
    "description",
    "offers",
    "needs",
    "postcode",
    "area_name",
    "latitude",
    "longitude",
    "times",
    "free",
    "wheelchair",
    "capacity",
)


def read_invite(text: str | None) -> str | None:
    """The code in "organisator K7MX2PQA" or "/start K7MX2PQA"."""
    match = INVITE.match(text or "")
    return match.group(1).upper() if match else None


async def join(turn: Turn, code: str) -> bool:
    """Redeem an invite code: the person becomes an organiser of that organisation."""
    organisation = await turn.store.redeem_invite(code, turn.person.id, turn.now)
    if organisation is None:
        return False
    turn.person = await turn.store.get_person(turn.person.id) or turn.person
    if turn.person.first_name is None and read_name(turn.msg.first_name or ""):
        await turn.update(first_name=read_name(turn.msg.first_name or ""))
    turn.goto(DONE)
    show_menu(turn, intro=turn.t("organiser.welcome", organisation=organisation.name))
    return True


def start_new(turn: Turn) -> None:
    """Begin describing a new initiative; the conversation asks the first question."""
    turn.goto(INITIATIVE_FLOW.first, draft={})
    turn.drop_context("initiative_id", "return_to")
    turn.say(turn.t("organiser.new_intro"))
    turn.ask_after = True


async def list_mine(turn: Turn) -> None:
    """Each of the organiser's initiatives with its status and buttons."""
    initiatives = await turn.store.list_initiatives_of(turn.person.id)
    if not initiatives:
        turn.say(turn.t("organiser.none_yet"))
        return
    for initiative in initiatives:
        options = [Option(f"o:{initiative.id}:edit", turn.t("button.edit_initiative"))]
        if initiative.status == "approved":
            options.append(Option(f"o:{initiative.id}:pause", turn.t("button.pause")))
        elif initiative.status == "paused":
            options.append(Option(f"o:{initiative.id}:open", turn.t("button.reopen")))
        status = turn.t(f"organiser.status.{initiative.status}")
        turn.say(f"🌱 {initiative.title}\n{status}", tuple(options), columns=2)


async def act(turn: Turn, choice: str) -> None:
    """A press on a button of the organiser's list of initiatives."""
    _, number, action = [*choice.split(":"), "", ""][:3]
    if not number.isdigit() or not await turn.store.is_organiser_of(turn.person.id, int(number)):
        raise NotAllowed("not an organiser of this initiative")
    initiative = await turn.store.get_initiative(int(number))
    if initiative is None:
        raise NotAllowed("no such initiative")
    if action == "edit":
        turn.goto(INITIATIVE_FLOW.summary, draft=_draft_of(initiative))
        turn.set_context(initiative_id=initiative.id)
        turn.ask_after = True
    elif action == "pause" and initiative.status == "approved":
        await turn.store.set_initiative_status(initiative.id, "paused", now=turn.now)
        turn.say(turn.t("organiser.paused", title=initiative.title))
    elif action == "open" and initiative.status == "paused":
        await turn.store.set_initiative_status(initiative.id, "approved", now=turn.now)
        turn.say(turn.t("organiser.reopened", title=initiative.title))
    else:
        raise NotAllowed(f"{action} on a {initiative.status} initiative")


def _draft_of(initiative: Initiative) -> dict[str, object]:
    values = {
        "title": initiative.title,
        "description": initiative.description,
        "offers": list(initiative.offers),
        "needs": list(initiative.needs),
        "postcode": initiative.postcode,
        "area_name": initiative.place_name,
        "latitude": initiative.latitude,
        "longitude": initiative.longitude,
        "times": list(initiative.times),
        "free": initiative.free,
        "wheelchair": initiative.wheelchair,
        "capacity": initiative.capacity,
    }
    return {k: v for k, v in values.items() if v is not None}


async def save_draft(turn: Turn) -> None:
    """The organiser confirmed: create or change the initiative; a moderator approves it."""
    draft = dict(turn.state.context.get("draft", {}))
    initiative_id = turn.state.context.get("initiative_id")
    turn.drop_context("draft", "initiative_id", "return_to")
    fields = {k: draft[k] for k in CONTENT_FIELDS if k in draft}
    fields["place_name"] = fields.pop("area_name", None)
    for name in ("offers", "needs", "times"):
        fields[name] = tuple(fields.get(name) or ())
    if not fields.get("title"):
        turn.say(turn.t("organiser.needs_title"))
        show_menu(turn)
        return
    if isinstance(initiative_id, int) and await turn.store.is_organiser_of(
        turn.person.id, initiative_id
    ):
        await turn.store.update_initiative(initiative_id, fields, now=turn.now)
        await turn.store.set_initiative_status(initiative_id, "pending", now=turn.now)
    else:
        await turn.store.create_initiative(
            organisation_id=turn.person.organisation_id,
            organiser_ids=[turn.person.id],
            status="pending",
            now=turn.now,
            **fields,
        )
    turn.say(turn.t("organiser.saved", title=str(fields["title"])))
    show_menu(turn)
