"""A block covers the organiser role: while a moderator blocks an organiser, their
initiative is not suggested and takes no new requests; lifting the block restores both."""

from __future__ import annotations

from storage.records import Scope
from tests.handlers.test_introductions import SOUP, T0, WALK, World, ask, refused, world

__all__ = ["world"]  # the neighbourhood fixture of test_introductions


async def _block(world: World, name: str, *, blocked: bool) -> None:
    async with world.app.database.unit_of_work() as store:
        found = await store.set_blocked(
            Scope(None), world[name].person_id, blocked=blocked, now=T0
        )
    assert found is not None and found.blocked is blocked


async def test_a_blocked_organisers_initiative_is_not_suggested_until_unblocked(
    world: World,
) -> None:
    anna = world["Anna"]
    await _block(world, "Henk", blocked=True)  # one of the soup's two organisers

    await anna.send("ideeën")
    assert WALK in anna.text and SOUP not in anna.text
    async with world.unchanged():  # an old button asks for nothing
        await refused(world, anna, f"s:i:{world.soup}:intro")

    await _block(world, "Henk", blocked=False)
    await anna.send("ideeën")
    assert SOUP in anna.text
    intro = await ask(world, anna, f"i:{world.soup}", "bot")
    assert intro.status == "requested"
    for organiser in ("Henk", "Bram"):  # the request reaches both organisers again
        received = await world.take(world[organiser])
        assert any(f"x:{intro.id}:accept" in [o.key for o in r.options] for r in received)


async def test_blocking_someone_else_leaves_the_initiative_alone(world: World) -> None:
    anna = world["Anna"]
    await _block(world, "Piet", blocked=True)  # a resident who organises nothing
    await anna.send("ideeën")
    assert SOUP in anna.text
