"""Everyday words outside the questions: thanks get a kind answer at any step, and at the
menu "heb je iets voor mij?" asks for ideas as the button does. Someone who says they have
nothing to give hears that everyone has something; nothing wished is a skip."""

from __future__ import annotations

import pytest

from bot.app import App
from handlers.reading import asks_for_ideas, asks_for_no_more_ideas, is_thanks
from tests.handlers.test_commands import asks, nl, put_at
from tests.harness import seeded, snapshot, text_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bedankt!", True),
        ("dank je wel 😊", True),
        ("Dankjewel", True),
        ("thank you", True),
        ("nee bedankt", False),  # a no
        ("ja dank je", False),  # a yes
        ("bedankt, maar ik wil iets anders", False),
    ],
)
def test_is_thanks(text: str, expected: bool) -> None:
    assert is_thanks(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("heb je iets voor mij?", True),
        ("Wat kan ik doen?", True),
        ("ik zoek iets leuks om te doen", True),
        ("ik wil graag mensen ontmoeten", True),
        ("zijn er activiteiten in de buurt", True),
        ("anything for me?", True),
        ("ik wil geen ideeën meer", False),
        ("niet iets voor mij", False),
        ("mijn buurman is ziek", False),
    ],
)
def test_asks_for_ideas(text: str, expected: bool) -> None:
    assert asks_for_ideas(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ik wil geen ideeën meer", True),
        ("even geen suggesties graag", True),
        ("no more ideas please", True),
        ("ik heb geen idee", False),  # "no idea"
        ("geen idee", False),
    ],
)
def test_asks_for_no_more_ideas(text: str, expected: bool) -> None:
    assert asks_for_no_more_ideas(text) is expected


@pytest.mark.parametrize("step", ["name", "gifts", "summary", "done"])
async def test_thanks_get_a_kind_answer_and_the_same_question(app: App, step: str) -> None:
    anna = await seeded(app)
    await put_at(app, anna, step)
    before = await snapshot(app.database, anna)
    for _ in range(4):  # never a misunderstanding: no person is called in
        replies = await anna.send("Dank je wel!")
        assert replies[0].text == nl("thanks.welcome")
        assert asks(replies, step)
        assert nl("moderation.not_understood") not in text_of(replies)
    assert await snapshot(app.database, anna) == before


async def test_asking_for_something_to_do_at_the_menu_shows_the_ideas(app: App) -> None:
    anna = await seeded(app)
    await put_at(app, anna, "done")
    by_button_word = text_of(await anna.send("ideeën"))
    for said in ("heb je iets voor mij?", "ik wil graag mensen ontmoeten"):
        assert text_of(await anna.send(said)) == by_button_word
    assert nl("menu.not_understood") not in by_button_word


async def test_no_more_ideas_at_the_menu_pauses_them(app: App) -> None:
    anna = await seeded(app)
    await put_at(app, anna, "done")
    replies = await anna.send("ik wil geen ideeën meer")
    assert nl("ideas.paused") in text_of(replies)
    async with app.database.unit_of_work() as store:
        person = await store.find_person_by_identity(anna.channel, anna.external_id)
    assert person is not None and person.suggestions_paused


@pytest.mark.parametrize("said", ["ik kan niks meer", "niet veel, ik ben 85", "Nothing really"])
async def test_nothing_to_give_hears_that_everyone_has_something(app: App, said: str) -> None:
    anna = await seeded(app)
    await put_at(app, anna, "gifts")
    before = await snapshot(app.database, anna)
    for _ in range(3):  # kindly each time, and no person is called in for it
        replies = await anna.send(said)
        assert replies[0].text == nl("gifts.everyone_gives")
        assert asks(replies, "gifts")
        assert nl("moderation.not_understood") not in text_of(replies)
    assert await snapshot(app.database, anna) == before
    replies = await anna.send("nou, ik luister graag")
    assert asks(replies, "wishes")


async def test_nothing_wished_is_a_skip(app: App) -> None:
    anna = await seeded(app)
    await put_at(app, anna, "wishes")
    replies = await anna.send("niks eigenlijk")
    assert replies[0].text.startswith(nl("ack.skipped"))
    assert asks(replies, "times")
