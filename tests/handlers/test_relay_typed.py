"""A typed answer in a conversation through the bot is not lost: someone who received a
relayed message and types at the menu (instead of tapping "Antwoorden") is asked, with one
tap, whether the words are for the other side — and nothing goes out without that tap."""

from __future__ import annotations

from tests.handlers.test_introductions import World, bring_to, nl, world

__all__ = ["world"]  # the fixture, shared with the introductions' tests


async def test_a_typed_answer_is_offered_to_the_other_side(world: World) -> None:
    anna, piet = world["Anna"], world["Piet"]
    intro = await bring_to(world, "p", "accepted_relay")
    await piet.press(f"x:{intro.id}:write")
    await piet.send("Zullen we woensdag koffie drinken?")
    (relayed,) = await world.take(anna)
    assert "woensdag" in relayed.text

    await anna.send("Ja leuk, woensdag om tien uur is goed")  # typed, no button tapped
    assert anna.last[0].text == nl(
        "relay.send_question", name="Piet", text="Ja leuk, woensdag om tien uur is goed"
    )
    await world.assert_quiet()  # nothing went out before her tap
    await anna.tap("Ja, stuur naar Piet")
    (answer,) = await world.take(piet)
    assert answer.text == nl(
        "relay.message", name="Anna", text="Ja leuk, woensdag om tien uur is goed"
    )


async def test_nothing_is_sent_when_she_says_no(world: World) -> None:
    anna, piet = world["Anna"], world["Piet"]
    intro = await bring_to(world, "p", "accepted_relay")
    await piet.press(f"x:{intro.id}:write")
    await piet.send("Hoe gaat het?")
    await world.take(anna)
    await anna.send("hoe laat is het eigenlijk")
    await anna.tap("Nee, niet sturen")
    assert anna.last[0].text == nl("relay.not_sent")
    await world.assert_quiet()


async def test_without_an_open_conversation_typed_words_are_not_offered(world: World) -> None:
    anna = world["Anna"]
    await bring_to(world, "p", "relay_ended")
    await anna.send("hoe laat is het eigenlijk")
    assert nl("relay.send_question", name="Piet", text="hoe laat is het eigenlijk") not in (
        anna.text
    )
    await world.assert_quiet()
