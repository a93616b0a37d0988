"""The impact page and its CSV export show "shown ideas" and "met again" too, counted from
the marks and introductions of the moderator's own organisation only, with no cell under
five people in the export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.app import App
from tests.harness import joined, seed_places
from tests.web.dashboard_harness import account, log_in, organisation, post

Dashboard = tuple[Any, Any]
MONTH = datetime(2026, 11, 15, tzinfo=UTC)


async def _shown_ideas(app: App, postcode: str, names: list[str]) -> None:
    for name in names:
        _, person = await joined(app, name.lower(), name)
        async with app.database.unit_of_work() as store:
            person = await store.update_person(
                person.id, {"postcode": postcode, "first_name": name, "area_name": "Wijk"}
            )
            await store.mark_suggestions_shown(person, now=MONTH)
            await store.mark_suggestions_shown(person, now=MONTH)  # once a month


async def test_shown_ideas_and_met_again_on_the_page_and_in_the_export(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    await seed_places(app)
    woonstad = await organisation(app.database, "woonstad", "Woonstad", "7607")
    elders = await organisation(app.database, "elders", "Elders", "7608")
    await account(app.database, woonstad, "fatima@example.org")
    await account(app.database, elders, "bob@example.org", name="Bob")
    await _shown_ideas(app, "7607", ["Henk", "Joke", "Kees", "Lies", "Mien", "Nel"])
    await _shown_ideas(app, "7608", ["Otto"])

    await log_in(client, "fatima@example.org")
    page = await (await client.get("/impact")).text()
    assert "Ideeën gekregen" in page and "Nog eens gezien" in page
    assert "2026-11 suggested: 6" in page  # the bar's label in the chart
    lines = (await (await client.get("/impact.csv")).text()).splitlines()
    assert lines[0] == "area,month,consented,intake_done,suggested,asked,introduced,met,met_again"
    assert "Wijk,2026-11,0,0,6,0,0,0,0" in lines
    assert not any(name in "\n".join(lines) for name in ("Henk", "Joke", "Otto"))
    await post(client, "/logout")

    await log_in(client, "bob@example.org")  # the other organisation: one person, hidden
    lines = (await (await client.get("/impact.csv")).text()).splitlines()
    assert "Wijk,2026-11,0,0,<5,0,0,0,0" in lines
    assert not any(",6," in line for line in lines[1:])
