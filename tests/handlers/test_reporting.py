"""Reporting the other side of an introduction ("⚠️ Melden"), through `Conversations`.

A report opens a ticket (`reported`) for the moderators of the reporter's neighbourhood,
blocks the other side, stops the conversation through the bot (or declines the request),
and thanks the reporter; the other side is told nothing of it. Presses of the report
button by anyone else change nothing.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from handlers.ticket_reasons import PRIORITY
from storage.models import BlockRow
from storage.records import Scope, Ticket
from tests.handlers.test_introductions import (
    SOUP,
    World,
    answer,
    ask,
    henk_writes_to_anna,
    nl,
    refused,
    world,
)

__all__ = ["world"]  # the neighbourhood fixture of test_introductions


async def blocks(world: World) -> set[tuple[int, int]]:
    async with world.app.database.engine.connect() as connection:
        rows = await connection.execute(select(BlockRow.person_id, BlockRow.blocked_id))
        return {(a, b) for a, b in rows}


async def tickets_seen_by(world: World, *postcodes: str) -> list[Ticket]:
    """The inbox of a new organisation that works in `postcodes`."""
    async with world.app.database.unit_of_work() as store:
        org = await store.create_organisation(f"org-{secrets.token_hex(4)}", "Wijkteam")
        for code in postcodes:
            await store.add_organisation_area(org.id, code)
        return await store.list_tickets(Scope(org.id))


async def test_a_report_on_a_relayed_message_stops_it_and_tells_only_a_moderator(
    world: World,
) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro, relayed = await henk_writes_to_anna(world, "Kom je woensdag?")
    assert relayed.text == nl("relay.message", name=f"Henk ({SOUP})", text="Kom je woensdag?")
    assert relayed.options[-1].label == nl("button.report")
    await world.clear()

    async with world.unchanged():  # a forged report by anyone else changes nothing
        for stranger in (world["Eve"], world["Carla"], world["Gert"], world["Piet"]):
            await refused(world, stranger, f"x:{intro.id}:report")
    assert await tickets_seen_by(world, "7607") == []

    anna.last = [relayed]
    await anna.tap("Melden")
    assert anna.last[0].text == nl("report.noted")
    after = await world.intro(intro.id)
    assert (after.status, after.relay_open) == ("accepted", False)
    assert await blocks(world) == {(anna.person_id, henk.person_id)}
    assert await world.take(henk) == []  # not told who reported, nor that anyone did
    assert await world.take(world["Bram"]) == []

    [ticket] = await tickets_seen_by(world, "7607")  # Anna's neighbourhood
    assert (ticket.person_id, ticket.reason) == (anna.person_id, "reported")
    assert ticket.priority == PRIORITY["reported"]
    assert await tickets_seen_by(world, "1011") == []  # another organisation's inbox

    async with world.unchanged():  # Henk can no longer reach her, nor offer his number
        await henk.send("Hallo?")  # at his menu: not passed on (nothing in the outbox)
        assert nl("relay.sent") not in [reply.text for reply in henk.last]
        await refused(world, henk, f"x:{intro.id}:write")
        await refused(world, henk, f"x:{intro.id}:share")


async def test_a_report_on_a_request_declines_it_as_any_no(world: World) -> None:
    anna, piet = world["Anna"], world["Piet"]
    intro = await ask(world, anna, f"p:{piet.person_id}", "bot")
    (request,) = await world.take(piet)
    assert [o.label for o in request.options][-1] == nl("button.report")
    await world.clear()

    piet.last = [request]
    await piet.tap("Melden")
    assert piet.last[0].text == nl("report.noted")
    assert (await world.intro(intro.id)).status == "declined"
    assert await world.pending_jobs(intro.id) == []  # no reminder, no expiry
    (told,) = await world.take(anna)
    assert told.text == nl("intro.declined", name="Piet")  # the same as any "no"
    assert await blocks(world) == {(piet.person_id, anna.person_id)}
    [ticket] = await tickets_seen_by(world, "7607")
    assert (ticket.person_id, ticket.reason) == (piet.person_id, "reported")

    async with world.unchanged():  # she cannot report her own request, nor can others
        await refused(world, anna, f"x:{intro.id}:report")
        await refused(world, world["Eve"], f"x:{intro.id}:report")


async def test_the_requester_reports_after_numbers_were_shared(world: World) -> None:
    anna, piet = world["Anna"], world["Piet"]
    intro = await ask(world, anna, f"p:{piet.person_id}", "phone")
    await world.entitle(piet, anna, "phone")
    await world.entitle(anna, piet, "username")
    await answer(piet, intro.id, "username")
    (to_anna,) = await world.take(anna)
    assert [o.key for o in to_anna.options] == [f"x:{intro.id}:report"]
    await world.clear()

    anna.last = [to_anna]
    await anna.tap("Melden")
    assert anna.last[0].text == nl("report.noted")
    assert await blocks(world) == {(anna.person_id, piet.person_id)}
    assert await world.take(piet) == []
    [ticket] = await tickets_seen_by(world, "7607")
    assert (ticket.person_id, ticket.reason) == (anna.person_id, "reported")
