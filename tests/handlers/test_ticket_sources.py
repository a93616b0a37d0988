"""Tickets that open without anyone asking for a person: an initiative left without
organisers when its last organiser is erased (on its most recent requester)."""

from __future__ import annotations

from datetime import timedelta

from storage.records import Scope
from tests.handlers.test_introductions import T0, World, ask, nl, world

__all__ = ["world"]  # the neighbourhood fixture of test_introductions


async def test_an_initiative_left_without_organisers_opens_a_ticket(world: World) -> None:
    carla, anna, gert = world["Carla"], world["Anna"], world["Gert"]
    walk = world.places["walk"]  # Gert is its only organiser
    async with world.app.database.unit_of_work() as store:  # an older request, declined
        older = await store.create_introduction(
            carla.person_id, initiative_id=walk, reason="walking", route="bot", contact=None,
            now=T0 - timedelta(days=30),
        )  # fmt: skip
        await store.change_introduction(older.id, allowed={"requested"}, changes={
            "status": "declined", "ended_at": T0 - timedelta(days=29)
        })  # fmt: skip
        await store.create_introduction(  # to an archived initiative of Gert's: no ticket
            carla.person_id, initiative_id=world.places["archived"], reason="eat_together",
            route="bot", contact=None, now=T0 - timedelta(days=1),
        )  # fmt: skip
    await ask(world, anna, f"i:{walk}", "bot")  # the most recent request
    async with world.app.database.unit_of_work() as store:
        assert await store.list_tickets(Scope(None)) == []

    await gert.send("vergeet mij")
    await gert.tap("Ja, wis alles")
    assert gert.last[0].text == nl("forget.done")

    async with world.app.database.unit_of_work() as store:
        initiative = await store.get_initiative(walk)
        [ticket] = await store.list_tickets(Scope(None))
        lines = await store.list_ticket_messages(Scope(None), ticket.id)
    assert initiative is not None and initiative.status == "paused"
    assert (ticket.person_id, ticket.reason) == (anna.person_id, "no_organiser")
    assert [(line.kind, line.body) for line in lines] == [
        ("event", f"no_organiser: initiative {walk}")
    ]
