"""A report ("Melden") reads, on the ticket's page, in plain words: which introduction,
which initiative or neighbour, and the first words of the last message passed on through
the bot. Another organisation learns nothing of it, and once the other side is erased the
line names nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from bot.web.dashboard import dashboard_app
from storage.records import Scope
from tests.handlers.test_introductions import SOUP, World, henk_writes_to_anna, world
from tests.web.dashboard_harness import Clock, account, log_in, organisation, post

__all__ = ["world"]  # the neighbourhood fixture of test_introductions


@pytest.fixture
async def client(world: World, settings: Settings) -> AsyncIterator[Any]:
    """The dashboard on the neighbourhood's own database."""
    web_app = dashboard_app(
        database=world.app.database,
        texts=world.app.texts,
        settings=settings.model_copy(update={"dashboard_secure_cookie": False}),
        clock=Clock(),
    )
    async with TestClient(TestServer(web_app)) as test_client:
        yield test_client


async def _reported(world: World) -> int:
    """Henk (of the soup) writes to Anna through the bot; she reports it."""
    anna = world["Anna"]
    _, relayed = await henk_writes_to_anna(
        world, "Kom je woensdag naar mijn huis? Dan drinken we koffie en praten we samen"
    )
    anna.last = [relayed]
    await anna.tap("Melden")
    async with world.app.database.unit_of_work() as store:
        ticket = await store.get_active_ticket(anna.person_id)
    assert ticket is not None and ticket.reason == "reported"
    return ticket.id


async def test_a_report_reads_in_plain_words(world: World, client: Any) -> None:
    ticket_id = await _reported(world)
    woonstad = await organisation(world.app.database, "woonstad", "Woonstad", "7607")
    elders = await organisation(world.app.database, "elders", "Elders", "1011")
    await account(world.app.database, woonstad, "fatima@example.org")
    await account(world.app.database, elders, "bob@example.org", name="Bob")

    await log_in(client, "fatima@example.org")
    page = await (await client.get(f"/tickets/{ticket_id}")).text()
    assert "[report: introduction" not in page
    assert f"de kennismaking met {SOUP}" in page
    assert "Aan de andere kant: Henk." in page
    assert "‘Kom je woensdag naar mijn huis? Dan drinken we koffie en praten …’" in page
    async with world.app.database.unit_of_work() as store:
        seen = await store.list_audit(person_id=world["Henk"].person_id)
    assert [(e.action, e.detail) for e in seen] == [("view_report", f"ticket #{ticket_id}")]
    await post(client, "/logout")

    await log_in(client, "bob@example.org")  # another organisation
    response = await client.get(f"/tickets/{ticket_id}")
    assert response.status == 404
    text = await response.text()
    assert "Henk" not in text and "woensdag" not in text
    async with world.app.database.unit_of_work() as store:
        assert await store.describe_report(Scope(elders.id), ticket_id, 1) is None


async def test_after_the_other_side_is_erased_the_report_names_nobody(
    world: World, client: Any
) -> None:
    ticket_id = await _reported(world)
    woonstad = await organisation(world.app.database, "woonstad", "Woonstad", "7607")
    await account(world.app.database, woonstad, "fatima@example.org")
    henk, bram = world["Henk"], world["Bram"]
    for organiser in (henk, bram):
        await organiser.send("vergeet mij")
        await organiser.tap("Ja, wis alles")

    await log_in(client, "fatima@example.org")
    page = await (await client.get(f"/tickets/{ticket_id}")).text()
    assert "De andere kant is niet meer bekend." in page
    assert "Henk" not in page and "woensdag" not in page
