"""A person's audit trail: admins read the audit log filtered per person and per moderator,
and each reading of a trail is written to the log itself. Moderators read none of it."""

from __future__ import annotations

from typing import Any

from bot.app import App
from storage.records import Moderator
from storage.verbs import utcnow
from tests.harness import joined, seed_places
from tests.web.dashboard_harness import account, log_in, organisation, post

Dashboard = tuple[Any, Any]


async def _setup(app: App) -> tuple[int, int, Moderator, Moderator]:
    await seed_places(app)
    woonstad = await organisation(app.database, "woonstad", "Woonstad", "7607")
    fatima = await account(app.database, woonstad, "fatima@example.org", name="Fatima")
    karel = await account(app.database, woonstad, "karel@example.org", name="Karel")
    await account(app.database, woonstad, "root@example.org", name="Ria", admin=True)
    ids = []
    for name in ("Henk", "Joke"):
        _, person = await joined(app, name.lower(), name)
        async with app.database.unit_of_work() as store:
            await store.update_person(
                person.id, {"postcode": "7607", "first_name": name, "intake_done_at": utcnow()}
            )
        ids.append(person.id)
    return ids[0], ids[1], fatima, karel


async def test_an_admin_reads_one_persons_trail_and_that_reading_is_logged(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    henk, joke, _, _ = await _setup(app)
    await log_in(client, "fatima@example.org")
    assert (await client.get(f"/people/{henk}")).status == 200
    await post(client, "/logout")
    await log_in(client, "karel@example.org")
    assert (await client.get(f"/people/{joke}")).status == 200
    await post(client, "/logout")

    await log_in(client, "root@example.org")
    page = await (await client.get(f"/people/{henk}")).text()
    assert f"/audit?person={henk}" in page  # the admin finds the trail from the profile
    trail = await (await client.get(f"/audit?person={henk}")).text()
    assert "Fatima" in trail and "Karel" not in trail
    assert f"?person={joke}" not in trail

    async with app.database.unit_of_work() as store:
        entries = await store.list_audit(person_id=henk)
    assert [e.action for e in entries] == ["view_audit", "view_profile", "view_profile"]
    newest = entries[0]
    assert (newest.moderator_name, newest.organisation_name) == ("Ria", "Woonstad")
    async with app.database.unit_of_work() as store:
        joke_entries = await store.list_audit(person_id=joke)
    assert [e.action for e in joke_entries] == ["view_profile"]  # no trail of hers was read


async def test_an_admin_reads_one_moderators_trail(app: App, dashboard: Dashboard) -> None:
    client, _ = dashboard
    henk, joke, _, karel = await _setup(app)
    await log_in(client, "fatima@example.org")
    await client.get(f"/people/{henk}")
    await post(client, "/logout")
    await log_in(client, "karel@example.org")
    await client.get(f"/people/{joke}")
    await post(client, "/logout")

    await log_in(client, "root@example.org")
    trail = await (await client.get(f"/audit?moderator={karel.id}")).text()
    assert f"?person={joke}" in trail and f"?person={henk}" not in trail
    assert "Fatima" not in trail
    async with app.database.unit_of_work() as store:
        ria_lines = [e for e in await store.list_audit() if e.moderator_name == "Ria"]
        karels = await store.list_audit(moderator_id=karel.id)
    assert [(e.action, e.detail) for e in ria_lines] == [("view_audit", f"moderator #{karel.id}")]
    assert [(e.action, e.person_id) for e in karels] == [("view_profile", joke)]


async def test_moderators_read_no_trail_and_odd_ids_are_not_found(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    henk, _, fatima, _ = await _setup(app)
    await log_in(client, "fatima@example.org")
    assert f"/audit?person={henk}" not in await (await client.get(f"/people/{henk}")).text()
    assert (await client.get(f"/audit?person={henk}")).status == 403
    assert (await client.get(f"/audit?moderator={fatima.id}")).status == 403
    async with app.database.unit_of_work() as store:
        assert [e.action for e in await store.list_audit()] == ["view_profile"]
    await post(client, "/logout")
    await log_in(client, "root@example.org")
    assert (await client.get("/audit?person=abc")).status == 404
    assert (await client.get("/audit?moderator=-1")).status == 404
