"""Organisations are kept apart in the queries: walking every route of the dashboard, with
every id of another organisation's people, tickets and initiatives, returns nothing of
them and changes nothing. Every view of a person is audited, and the resident sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from bot.app import App
from storage.models import AuditRow, OutboxRow, TicketMessageRow
from storage.records import Initiative, Person, Scope, Ticket
from storage.verbs import utcnow
from tests.harness import Resident, joined, seed_places
from tests.web.dashboard_harness import account, log_in, organisation, post

Dashboard = tuple[Any, Any]
# What of Annabel (organisation A) must never reach a moderator of organisation B.
SECRETS = ("Annabel", "Zonnebloemtuin", "iemand spreken", "7607")
ECHOED = re.compile(r'value="[^"]*"')
SKIPPED = {"static", "login", "login_submit", "logout", "language", "password_submit"}


@dataclass
class World:
    anna: Resident
    person: Person
    ticket: Ticket
    initiative: Initiative


async def _world(app: App) -> World:
    await seed_places(app)
    woonstad = await organisation(app.database, "woonstad", "Woonstad", "7607")
    elders = await organisation(app.database, "buurtteam-b", "Buurtteam B", "7608")
    await account(app.database, woonstad, "fatima@example.org", name="Fatima")
    await account(app.database, elders, "bob@example.org", name="Bob")
    await account(app.database, elders, "root@example.org", name="Ria", admin=True)
    async with app.database.unit_of_work() as store:
        initiative = await store.create_initiative(
            organisation_id=woonstad.id,
            organiser_ids=[],
            title="Zonnebloemtuin",
            postcode="7607",
            now=utcnow(),
        )
    for name in ("Bertus", "Cees"):  # residents of organisation B
        resident, other = await joined(app, name.lower(), name)
        async with app.database.unit_of_work() as store:
            await store.update_person(other.id, {"first_name": name, "postcode": "7608"})
    await resident.send("help van een mens")
    anna, person = await joined(app, "anna", "Annabel")
    async with app.database.unit_of_work() as store:
        person = await store.update_person(
            person.id,
            {
                "first_name": "Annabel",
                "postcode": "7607",
                "wishes": ["gardening"],
                "intake_done_at": utcnow(),
            },
        )
    await anna.send("ik wil iemand spreken")
    async with app.database.unit_of_work() as store:
        ticket = await store.get_active_ticket(person.id)
    assert ticket is not None
    return World(anna, person, ticket, initiative)


def _paths(client: Any, world: World) -> list[tuple[str, str]]:
    """Every route of the dashboard, filled in with every id of organisation A."""
    app = client.server.app
    found: list[tuple[str, str]] = []
    for resource in app.router.resources():
        for route in resource:
            if route.name in SKIPPED or route.method not in ("GET", "POST"):
                continue
            info = resource.get_info()
            template = info.get("formatter") or info.get("path")
            assert template, route.name
            if "{id}" not in template:
                found.append((route.method, template))
                continue
            for thing in (world.person.id, world.ticket.id, world.initiative.id):
                for action in ("approve", "pause", "reject", "block", "unblock"):
                    path = template.replace("{id}", str(thing)).replace("{action}", action)
                    found.append((route.method, path))
    return sorted(set(found))


async def _walk(client: Any, world: World) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    for method, path in _paths(client, world):
        if method == "GET":
            response = await client.get(path, allow_redirects=False)
            text = await response.text()
            for query in ("name=Annabel", "area=7607", "tag=gardening", "name=a"):
                searched = await client.get(f"{path}?{query}", allow_redirects=False)
                # the search form shows what was asked: that is not an answer
                text += ECHOED.sub("", await searched.text())
        else:
            response = await post(client, path, text="Hallo", reason="Nee")
            text = await response.text()
        leaked = [secret for secret in SECRETS if secret in text]
        assert leaked == [], (method, path, leaked)
        seen.append((path, response.status))
    return seen


async def test_another_organisation_sees_and_changes_nothing(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    world = await _world(app)
    await log_in(client, "bob@example.org")
    assert "Cees" in await (await client.get("/inbox")).text()  # B's own resident: shown
    seen = await _walk(client, world)
    assert len(seen) >= 20
    assert ("/inbox", 200) in seen and ("/impact.csv", 200) in seen
    assert (f"/people/{world.person.id}", 404) in seen
    assert (f"/tickets/{world.ticket.id}", 404) in seen
    async with app.database.unit_of_work() as store:
        ticket = await store.get_ticket(Scope(None), world.ticket.id)
        initiative = await store.get_initiative(world.initiative.id)
    assert ticket is not None and ticket.status == "open" and ticket.assignee_id is None
    assert initiative is not None and initiative.status == "pending"
    async with app.database.engine.connect() as connection:
        queued = await connection.scalar(
            select(func.count()).where(OutboxRow.person_id == world.person.id)
        )
        lines = await connection.scalar(
            select(func.count()).where(TicketMessageRow.ticket_id == world.ticket.id)
        )
        assert (queued, lines) == (0, 1)  # nothing sent to her; only her own first words
        audited = await connection.scalar(
            select(func.count()).where(AuditRow.person_id == world.person.id)
        )
    assert audited == 0


async def test_the_own_organisation_and_an_admin_do_see_her(app: App, dashboard: Dashboard) -> None:
    """The control for the walk above: the same pages do show her to those who may."""
    client, _ = dashboard
    world = await _world(app)
    for email in ("fatima@example.org", "root@example.org"):
        await log_in(client, email)
        assert "Annabel" in await (await client.get("/inbox")).text()
        assert "Annabel" in await (await client.get("/people?area=7607")).text()
        assert "Zonnebloemtuin" in await (await client.get("/initiatives")).text()
        assert "iemand spreken" in await (await client.get(f"/tickets/{world.ticket.id}")).text()
        await post(client, "/logout")


async def test_every_view_of_a_person_is_audited_and_she_can_see_it(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    world = await _world(app)
    await log_in(client, "fatima@example.org")
    assert (await client.get(f"/people/{world.person.id}")).status == 200
    assert (await client.get(f"/tickets/{world.ticket.id}")).status == 200
    assert (await client.get(f"/people/{world.person.id}")).status == 200
    async with app.database.unit_of_work() as store:
        entries = await store.list_audit(person_id=world.person.id)
    actions = sorted(entry.action for entry in entries)
    assert actions == ["view_profile", "view_profile", "view_ticket"]
    assert {entry.organisation_name for entry in entries} == {"Woonstad"}
    shown = "\n".join(reply.text for reply in await world.anna.send("mijn gegevens"))
    assert "Woonstad" in shown


async def test_the_moderator_takes_over_through_the_dashboard(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    world = await _world(app)
    await log_in(client, "fatima@example.org")
    ticket = f"/tickets/{world.ticket.id}"
    assert (await post(client, f"{ticket}/assign")).status == 303
    assert (await post(client, f"{ticket}/reply", text="Hoi Annabel, ik help je.")).status == 303
    assert (await post(client, f"{ticket}/note", text="Belt liever niet")).status == 303
    async with app.database.unit_of_work() as store:
        sent = [
            m.text
            for m, _ in await store.claim_outbox(
                "test", now=utcnow(), external_id=world.anna.external_id
            )
        ]
    assert sent[-1] == "Fatima (Woonstad): Hoi Annabel, ik help je."
    assert not any("Belt liever niet" in text for text in sent)  # a note stays inside
    await world.anna.send("Dank je wel!")
    assert "Dank je wel!" in await (await client.get(ticket)).text()
    assert (await post(client, f"{ticket}/close")).status == 303
    await world.anna.send("hallo")
    assert "doorgegeven" not in world.anna.text
    poll = await (await client.get("/inbox/poll")).json()
    assert poll == {"newest": world.ticket.id, "waiting": 0}
