"""Blocking an organiser from the dashboard: one kind message says that their initiative
is not suggested meanwhile, and unblocking says it is again. Another organisation cannot
block them. A request waiting on them stops, and the resident who asked is told kindly, in
their own language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.app import App
from storage.verbs import utcnow
from tests.harness import joined, seed_places
from tests.web.dashboard_harness import account, log_in, organisation, post

Dashboard = tuple[Any, Any]


async def _organiser(app: App) -> int:
    await seed_places(app)
    org = await organisation(app.database, "woonstad", "Woonstad", "7607")
    elders = await organisation(app.database, "buurtteam-b", "Buurtteam B", "7608")
    await account(app.database, org, "fatima@example.org")
    await account(app.database, elders, "bob@example.org", name="Bob")
    _, person = await joined(app, "henk", "Henk")
    async with app.database.unit_of_work() as store:
        await store.update_person(person.id, {"postcode": "7607", "first_name": "Henk"})
        initiative = await store.create_initiative(
            organisation_id=org.id, organiser_ids=[person.id], title="Soepcafé", now=utcnow()
        )
        await store.set_initiative_status(initiative.id, "approved", now=utcnow())
    return person.id


async def _told(app: App) -> list[str]:
    async with app.database.unit_of_work() as store:
        return [m.text for m, _ in await store.claim_outbox("test", now=utcnow())]


async def test_a_blocked_organiser_is_told_once_about_their_initiative(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    henk = await _organiser(app)
    await log_in(client, "bob@example.org")  # another organisation: nothing happens
    assert (await post(client, f"/people/{henk}/block")).status == 404
    assert await _told(app) == []
    await post(client, "/logout")

    await log_in(client, "fatima@example.org")
    assert (await post(client, f"/people/{henk}/block")).status == 303
    blocked = app.texts("nl", "moderation.blocked")
    more = app.texts("nl", "moderation.blocked_organiser", titles="Soepcafé")
    assert await _told(app) == [f"{blocked}\n\n{more}"]

    assert (await post(client, f"/people/{henk}/unblock")).status == 303
    unblocked = app.texts("nl", "moderation.unblocked")
    again = app.texts("nl", "moderation.unblocked_organiser", titles="Soepcafé")
    assert await _told(app) == [f"{unblocked}\n\n{again}"]


async def test_blocking_stops_a_waiting_request_and_tells_the_resident_in_english(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    henk = await _organiser(app)
    _, lisa = await joined(app, "lisa", "Lisa")
    now = utcnow()
    async with app.database.unit_of_work() as store:
        await store.update_person(lisa.id, {"language": "en"})
        [soup] = await store.list_initiatives_of(henk)
        intro = await store.create_introduction(
            lisa.id, initiative_id=soup.id, reason="", route="phone", contact="0612345678",
            now=now,
        )  # fmt: skip
        remind_at = now + timedelta(days=3)
        await store.schedule_job("intro_reminder", remind_at, introduction_id=intro.id)
        await store.queue_message(henk, "verzoek", introduction_id=intro.id, about=(lisa.id,))
    await log_in(client, "fatima@example.org")
    assert (await post(client, f"/people/{henk}/block")).status == 303

    told = await _told(app)
    stopped = app.texts("en", "intro.stopped", name="Soepcafé")
    assert stopped in told and "verzoek" not in told  # the request itself never goes out
    assert not any("0612345678" in text for text in told)
    async with app.database.unit_of_work() as store:
        closed = await store.get_introduction(intro.id)
        assert closed is not None and closed.status == "closed"
        assert await store.list_pending_jobs(introduction_id=intro.id) == []
