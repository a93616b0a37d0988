"""A block covers the organiser role: while a moderator blocks an organiser, their
initiative is not suggested and takes no new requests; lifting the block restores both.
Requests that were waiting when the block came stop: no reminder, no answer from the
blocked side, the residents who asked are told kindly; unblocking does not restart them.
Conversations through the bot stop too: nothing the blocked person writes reaches the
other side any more, not even what was still on its way."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable

import pytest
from sqlalchemy import text

from handlers.ideas import IDEAS_KEY
from handlers.introductions import stop_for_block
from storage.db import Database
from storage.records import Scope
from tests.handlers.test_introductions import (
    DAY,
    SOUP,
    T0,
    TEXTS,
    WALK,
    Member,
    World,
    ask,
    choose_route,
    henk_writes_to_anna,
    nl,
    refused,
    through_the_bot,
    world,
)

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


# -- requests that were waiting when the block came ---------------------------------------


async def _block_and_stop(world: World, name: str) -> int:
    """What the dashboard does when a moderator blocks `name`."""
    async with world.app.database.unit_of_work() as store:
        found = await store.set_blocked(Scope(None), world[name].person_id, blocked=True, now=T0)
        assert found is not None
        return await stop_for_block(store, TEXTS, found.id, now=T0)


async def _told_kindly(world: World, member: Member, key: str, *, blocked: str) -> None:
    """`member` got one message, `key` about the soup: kind, no reason given, and the way
    to other ideas; it names neither the block nor the person blocked."""
    (told,) = await world.take(member)
    assert told.text == nl(key, name=SOUP)  # kind, no reason given
    assert "blok" not in told.text.lower() and blocked not in told.text
    assert [o.key for o in told.options] == [IDEAS_KEY]


def _never_reached(world: World, recipient: str, owner: Member, since: int) -> None:
    """Nothing sent to `recipient` after message `since` holds any contact of `owner`."""
    contacts = (owner.phone, owner.typed_phone, owner.username or "")
    for sent in world.ledger.sent[since:]:
        if sent.to == recipient:
            blob = "\n".join([sent.text, *(o.label for o in sent.options)])
            assert not any(contact in blob for contact in contacts), sent


async def test_a_request_waiting_on_a_blocked_organiser_stops_and_the_resident_is_told(
    world: World,
) -> None:
    anna, henk, bram = world["Anna"], world["Henk"], world["Bram"]
    intro = await ask(world, anna, f"i:{world.soup}", "phone")  # her number, kept back
    for organiser in (henk, bram):
        (request,) = await world.take(organiser)
        assert f"x:{intro.id}:accept" in [o.key for o in request.options]
    await world.take(anna)
    mark = len(world.ledger.sent)

    assert await _block_and_stop(world, "Henk") == 1
    await _told_kindly(world, anna, "intro.stopped", blocked="Henk")
    stopped = await world.intro(intro.id)
    assert (stopped.status, stopped.target_route, stopped.target_contact) == ("closed", None, None)
    assert await world.pending_jobs(intro.id) == []

    # No reminder three days later, no expiry message after seven.
    assert await world.run_due(T0 + 3 * DAY) == 0
    assert await world.run_due(T0 + 8 * DAY) == 0
    await world.assert_quiet()

    # The blocked organiser presses yes on the old request: a kind, plain answer, nothing
    # else; the same for no, and for the other organiser, who finds it stopped too.
    for who, action in ((henk, "accept"), (henk, "decline"), (bram, "accept")):
        await who.press(f"x:{intro.id}:{action}")
        assert who.last[0].text == nl("intro.stopped_here"), (who.name, action)
        assert nl("intro.route_question") not in who.text
    await world.assert_quiet()
    _never_reached(world, "Henk", anna, mark)
    assert (await world.intro(intro.id)).status == "closed"

    # Her suggestions are still there (without the blocked organiser's initiative).
    await anna.tap("Ideeën voor mij")
    assert WALK in anna.text and SOUP not in anna.text


async def test_an_organiser_blocked_while_choosing_a_route_reaches_nobody(world: World) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro = await ask(world, anna, f"i:{world.soup}", "phone")
    await world.clear()
    mark = len(world.ledger.sent)
    await henk.press(f"x:{intro.id}:accept")
    assert henk.last[0].text == nl("intro.route_question")

    await _block_and_stop(world, "Henk")
    await choose_route(henk, "phone")  # his answer comes after the block
    assert henk.last[0].text == nl("intro.stopped_here")
    (told,) = await world.take(anna)
    assert told.text == nl("intro.stopped", name=SOUP)
    await world.assert_quiet()
    _never_reached(world, "Henk", anna, mark)
    _never_reached(world, "Anna", henk, mark)
    assert (await world.intro(intro.id)).status == "closed"


async def test_a_request_not_yet_delivered_never_reaches_the_blocked_organiser(
    world: World,
) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro = await ask(world, anna, f"i:{world.soup}", "username")
    await _block_and_stop(world, "Henk")  # before the request went out
    for organiser in (henk, world["Bram"]):
        assert await world.take(organiser) == []
    texts = [reply.text for reply in await world.take(anna)]
    assert texts == [nl("intro.stopped", name=SOUP)]
    assert (await world.intro(intro.id)).status == "closed"


async def test_a_blocked_residents_own_request_stops_quietly(world: World) -> None:
    anna, piet = world["Anna"], world["Piet"]
    intro = await ask(world, anna, f"p:{piet.person_id}", "phone")
    await world.clear()
    mark = len(world.ledger.sent)
    assert await _block_and_stop(world, "Anna") == 1
    await world.assert_quiet()  # nobody was waiting on it: nobody is told
    await piet.press(f"x:{intro.id}:accept")
    assert piet.last[0].text == nl("intro.stopped_here")
    _never_reached(world, "Piet", anna, mark)
    assert await world.run_due(T0 + 3 * DAY) == 0
    await world.assert_quiet()


async def test_unblocking_restores_nothing_but_the_suggestions(world: World) -> None:
    anna = world["Anna"]
    intro = await ask(world, anna, f"i:{world.soup}", "bot")
    await world.clear()
    await _block_and_stop(world, "Henk")
    await world.clear()
    await _block(world, "Henk", blocked=False)
    await world.assert_quiet()  # nobody is told anything more
    assert (await world.intro(intro.id)).status == "closed"
    assert await world.pending_jobs(intro.id) == []
    carla = world["Carla"]  # the initiative is suggested again, to those who never asked
    await carla.send("ideeën")
    assert SOUP in carla.text
    await anna.send("ideeën")  # one request per initiative, as after a decline
    assert SOUP not in anna.text


# -- conversations through the bot --------------------------------------------------------


async def test_a_conversation_with_a_blocked_organiser_stops_and_the_resident_is_told(
    world: World,
) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro, _ = await henk_writes_to_anna(world, "Welkom! Woensdag om 12 uur?")
    await world.clear()

    assert await _block_and_stop(world, "Henk") == 1
    await _told_kindly(world, anna, "relay.stopped", blocked="Henk")
    stopped = await world.intro(intro.id)
    assert (stopped.status, stopped.relay_open) == ("accepted", False)

    # Whatever Henk does now reaches nobody: the old buttons, or typing on.
    async with world.unchanged():
        for key in (f"x:{intro.id}:{action}" for action in ("write", "share", "end")):
            await refused(world, henk, key)
            await refused(world, anna, key)
    await henk.send("Hallo? Ben je er nog?")
    assert await world.take(anna) == []
    await world.assert_quiet()

    await _block(world, "Henk", blocked=False)  # unblocking opens nothing again
    assert (await world.intro(intro.id)).relay_open is False


async def test_words_still_on_their_way_from_the_blocked_side_are_dropped(
    world: World,
) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    await anna.press(f"x:{intro.id}:write")
    await anna.send("Tot woensdag!")  # hers, to Henk: on its way
    await henk.press(f"x:{intro.id}:write")
    await henk.send("Geef me je adres")  # his, to Anna: on its way when the block comes
    assert await _block_and_stop(world, "Henk") == 1
    texts = [reply.text for reply in await world.take(anna)]
    assert texts == [nl("relay.stopped", name=SOUP)]
    assert [r.text for r in await world.take(henk)] == [
        nl("relay.message", name="Anna", text="Tot woensdag!")  # hers still reaches him
    ]


async def test_a_blocked_resident_can_no_longer_write_to_the_organiser(world: World) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    await anna.press(f"x:{intro.id}:write")
    assert await _block_and_stop(world, "Anna") == 1
    (told,) = await world.take(henk)  # he answered her request: he is the other side
    assert told.text == nl("relay.stopped", name="Anna")
    await anna.send("Waarom antwoord je niet?")  # the words she was typing go nowhere
    assert anna.last[0].text == nl("relay.closed")
    assert await world.take(henk) == []
    assert await world.take(world["Bram"]) == []
    assert (await world.intro(intro.id)).relay_open is False


async def test_no_contact_details_are_swapped_with_a_blocked_side(world: World) -> None:
    """Henk offered his number before the block; Anna's yes afterwards swaps nothing."""
    anna, henk = world["Anna"], world["Henk"]
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    await henk.press(f"x:{intro.id}:share")
    await choose_route(henk, "phone")
    (asked,) = await world.take(anna)
    assert [o.key for o in asked.options] == [f"x:{intro.id}:share"]
    await anna.press(f"x:{intro.id}:share")  # she starts to answer; then the block comes
    mark = len(world.ledger.sent)
    await _block_and_stop(world, "Henk")
    await world.clear()
    await choose_route(anna, "phone")
    assert anna.last[0].text == nl("intro.stopped_here")
    _never_reached(world, "Henk", anna, mark)
    assert await world.take(henk) == []
    stopped = await world.intro(intro.id)
    assert (stopped.requester_route, stopped.requester_contact) == ("bot", None)
    async with world.unchanged():
        await refused(world, anna, f"x:{intro.id}:share")


async def test_a_blocked_person_writes_to_nobody_even_while_their_relay_is_open(
    world: World,
) -> None:
    """The block alone is enough: words typed after it are not passed on, whatever the
    state of the conversation (stopping it races with their typing)."""
    anna, henk = world["Anna"], world["Henk"]
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    await anna.press(f"x:{intro.id}:write")
    await _block(world, "Anna", blocked=True)
    await anna.send("Hallo Henk")
    assert anna.last[0].text == nl("relay.closed")
    assert await world.take(henk) == []


async def _waiting_on_a_row_lock(database: Database, timeout: float = 10.0) -> bool:  # noqa: ASYNC109
    """Whether some other connection to this database comes to wait for a row's lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')"
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with database.engine.connect() as connection:
        while loop.time() < deadline:
            if (await connection.execute(query)).scalar_one():
                return True
            await connection.rollback()
            await asyncio.sleep(0.02)
    return False


POSTGRES_ONLY = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="two transactions at once need PostgreSQL (SQLite takes one at a time)",
)


async def _while_blocking(world: World, name: str, action: Awaitable[object]) -> int:
    """Block `name` as the dashboard does, in an engine of its own, and run `action` while
    that is saved but not committed: `action` must come to wait for it, and then ends.
    Returns how many requests and conversations the block stopped."""
    moderator = Database(world.app.database.url)
    try:
        async with moderator.unit_of_work() as store:
            person_id = world[name].person_id
            await store.set_blocked(Scope(None), person_id, blocked=True, now=T0)
            stopped = await stop_for_block(store, TEXTS, person_id, now=T0)
            running = asyncio.ensure_future(action)
            assert await _waiting_on_a_row_lock(moderator), "it did not wait for the block"
            assert not running.done()
        await asyncio.wait_for(running, 10)
    finally:
        await moderator.dispose()
    return stopped


@POSTGRES_ONLY
async def test_words_typed_while_the_block_is_being_saved_wait_for_it_and_go_nowhere(
    world: World,
) -> None:
    """The moderator's block (its own engine, as the dashboard's request) has stopped the
    conversation but not committed yet when Henk sends his words: his turn waits for it,
    then finds the conversation stopped. Nothing of his reaches Anna."""
    anna, henk = world["Anna"], world["Henk"]
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    await henk.press(f"x:{intro.id}:write")
    assert await _while_blocking(world, "Henk", henk.send("Geef me je adres")) == 1
    assert henk.last[0].text == nl("relay.closed")
    assert [r.text for r in await world.take(anna)] == [nl("relay.stopped", name=SOUP)]
    assert (await world.intro(intro.id)).relay_open is False


@POSTGRES_ONLY
async def test_contact_details_offered_while_the_block_is_being_saved_are_not_swapped(
    world: World,
) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    await henk.press(f"x:{intro.id}:share")
    await choose_route(henk, "phone")
    await world.take(anna)
    await anna.press(f"x:{intro.id}:share")
    mark = len(world.ledger.sent)
    await _while_blocking(world, "Henk", choose_route(anna, "phone"))
    assert anna.last[0].text == nl("intro.stopped_here")
    await world.clear()
    _never_reached(world, "Henk", anna, mark)
    stopped = await world.intro(intro.id)
    assert (stopped.requester_route, stopped.requester_contact) == ("bot", None)
