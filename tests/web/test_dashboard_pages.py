"""The dashboard's other pages: impact (SVG chart, CSV), initiatives (approve, reject with a
reason for the organiser), invite codes, the audit log for admins, both languages."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.app import App
from storage.verbs import utcnow
from tests.harness import Resident, joined, seed_places
from tests.web.dashboard_harness import account, log_in, organisation, post

Dashboard = tuple[Any, Any]


async def _setup(app: App) -> tuple[int, int]:
    await seed_places(app)
    org = await organisation(app.database, "woonstad", "Woonstad", "7607")
    await account(app.database, org, "fatima@example.org")
    await account(app.database, org, "root@example.org", name="Ria", admin=True)
    _, person = await joined(app, "henk", "Henk")
    async with app.database.unit_of_work() as store:
        await store.update_person(
            person.id, {"postcode": "7607", "first_name": "Henk", "intake_done_at": utcnow()}
        )
        initiative = await store.create_initiative(
            organisation_id=org.id, organiser_ids=[person.id], title="Soepcafé", now=utcnow()
        )
    return person.id, initiative.id


async def test_impact_shows_a_chart_and_exports_csv(app: App, dashboard: Dashboard) -> None:
    client, _ = dashboard
    await _setup(app)
    await log_in(client, "fatima@example.org")
    page = await (await client.get("/impact")).text()
    assert "<svg" in page and "<rect" in page and "Aangemeld" in page
    export = await client.get("/impact.csv")
    assert export.content_type == "text/csv"
    lines = (await export.text()).splitlines()
    assert lines[0].startswith("area,month,consented")
    assert any(line.startswith("7607,") and ",<5," in line for line in lines[1:])
    assert "Henk" not in await export.text()


async def test_approve_then_reject_with_a_reason_for_the_organiser(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    _, initiative = await _setup(app)
    await log_in(client, "fatima@example.org")
    assert (await post(client, f"/initiatives/{initiative}/approve")).status == 303
    assert (await post(client, f"/initiatives/{initiative}/approve")).status == 409
    assert (await post(client, f"/initiatives/{initiative}/reject")).status == 400  # no reason
    rejected = await post(client, f"/initiatives/{initiative}/reject", reason="Dubbel")
    assert rejected.status == 303
    async with app.database.unit_of_work() as store:
        found = await store.get_initiative(initiative)
        sent = await store.claim_outbox("test", now=utcnow(), external_id="henk")
    assert found is not None and found.status == "archived"
    assert any("Soepcafé" in m.text and "Dubbel" in m.text for m, _ in sent)


async def test_an_invite_code_is_made_for_the_own_organisation(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    await _setup(app)
    await log_in(client, "fatima@example.org")
    page = await (await post(client, "/invites")).text()
    assert "organisator " in page


async def test_only_admins_read_the_audit_log(app: App, dashboard: Dashboard) -> None:
    client, _ = dashboard
    henk, _ = await _setup(app)
    await log_in(client, "fatima@example.org")
    await client.get(f"/people/{henk}")
    assert (await client.get("/audit")).status == 403
    await post(client, "/logout")
    await log_in(client, "root@example.org")
    page = await (await client.get("/audit")).text()
    assert "view_profile" in page and "Fatima" in page


async def test_the_dashboard_speaks_english_too(app: App, dashboard: Dashboard) -> None:
    client, _ = dashboard
    await _setup(app)
    await client.get("/language/en")
    assert "Log in" in await (await client.get("/login")).text()
    await log_in(client, "fatima@example.org")
    assert "Who needs a person" in await (await client.get("/inbox")).text()


async def test_a_blocked_person_gets_no_ideas_and_is_told_once(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    henk, _ = await _setup(app)
    await log_in(client, "fatima@example.org")
    assert (await post(client, f"/people/{henk}/block")).status == 303
    async with app.database.unit_of_work() as store:
        person = await store.get_person(henk)
        told = [m.text for m, _ in await store.claim_outbox("test", now=utcnow())]
    assert person is not None and person.blocked and person.suggestions_paused
    assert told == [app.texts("nl", "moderation.blocked")]
    resident = Resident(app.conversations, external_id="henk", first_name="Henk")
    await resident.send("hervat")  # only a moderator lifts the block
    async with app.database.unit_of_work() as store:
        person = await store.get_person(henk)
    assert person is not None and person.suggestions_paused
    assert "Blokkade opheffen" in await (await client.get(f"/people/{henk}")).text()
    assert (await post(client, f"/people/{henk}/unblock")).status == 303
    async with app.database.unit_of_work() as store:
        person = await store.get_person(henk)
        told = [m.text for m, _ in await store.claim_outbox("test", now=utcnow())]
    assert person is not None and not person.blocked and not person.suggestions_paused
    assert told == [app.texts("nl", "moderation.unblocked")]


async def test_an_invite_code_from_the_dashboard_expires(app: App, dashboard: Dashboard) -> None:
    client, clock = dashboard
    await _setup(app)
    await log_in(client, "fatima@example.org")
    page = await (await post(client, "/invites")).text()
    code = re.search(r'<p class="code">(\w+)</p>', page)
    assert code is not None
    _, late = await joined(app, "late", "Laat")
    _, early = await joined(app, "early", "Vroeg")
    async with app.database.unit_of_work() as store:
        after = clock.now + timedelta(days=15)
        assert await store.redeem_invite(code.group(1), late.id, after) is None
        assert await store.redeem_invite(code.group(1), early.id, clock.now) is not None
