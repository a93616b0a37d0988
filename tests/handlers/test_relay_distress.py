"""Distress inside a conversation through the bot: the message is still passed on (the
other side is waiting for it), and, as anywhere else, a distress ticket opens for the
moderators and the sender at once gets the help numbers in their own language. Figures
of speech stay silent."""

from __future__ import annotations

from typing import Any

from handlers.ticket_reasons import PRIORITY
from tests.handlers.test_introductions import TEXTS, World, nl, through_the_bot, world
from tests.handlers.test_reporting import tickets_seen_by

__all__ = ["world"]  # the neighbourhood fixture of test_introductions

def en(key: str, **values: Any) -> str:
    return TEXTS("en", key, **values)


async def _relay_open(world: World) -> int:
    anna, henk = world["Anna"], world["Henk"]
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    return intro.id


async def test_distress_in_a_relay_is_passed_on_and_opens_a_ticket(world: World) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro_id = await _relay_open(world)
    await anna.press(f"x:{intro_id}:write")
    words = "Ik kom niet, ik zie het echt niet meer zitten"
    await anna.send(words)

    said = [reply.text for reply in anna.last]
    assert nl("moderation.distress.suicide") in said
    assert nl("relay.sent") in said
    (relayed,) = await world.take(henk)
    assert relayed.text == nl("relay.message", name="Anna", text=words)

    [ticket] = await tickets_seen_by(world, "7607")
    assert (ticket.person_id, ticket.reason) == (anna.person_id, "distress")
    assert ticket.priority == PRIORITY["distress"]
    assert ticket.status == "open"

    await anna.send("Sorry, het gaat alweer")  # the conversation goes on through the bot
    assert nl("relay.sent") in [reply.text for reply in anna.last]
    (relayed,) = await world.take(henk)
    assert "het gaat alweer" in relayed.text
    assert len(await tickets_seen_by(world, "7607")) == 1  # still the one ticket


async def test_distress_in_english_gets_the_numbers_in_english(world: World) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro_id = await _relay_open(world)
    async with world.app.database.unit_of_work() as store:
        await store.update_person(anna.person_id, {"language": "en"})
    await anna.press(f"x:{intro_id}:write")
    await anna.send("My husband hits me when he is angry")
    said = [reply.text for reply in anna.last]
    assert en("moderation.distress.violence") in said
    assert en("relay.sent") in said
    (relayed,) = await world.take(henk)
    assert "hits me" in relayed.text
    [ticket] = await tickets_seen_by(world, "7607")
    assert (ticket.person_id, ticket.reason) == (anna.person_id, "distress")


async def test_figures_of_speech_in_a_relay_stay_silent(world: World) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro_id = await _relay_open(world)
    for words in ("Ik ga dood van het lachen om je grap", "De plantjes zijn dood, jammer"):
        await anna.press(f"x:{intro_id}:write")
        await anna.send(words)
        said = [reply.text for reply in anna.last]
        assert nl("relay.sent") in said
        assert not any("113" in text or "112" in text for text in said)
        (relayed,) = await world.take(henk)
        assert words in relayed.text
    assert await tickets_seen_by(world, "7607") == []
