"""Racing answers to one introduction, with real concurrency: two apps, each with an engine
(and connections) of its own, as two workers would run. On PostgreSQL the two transactions
truly overlap; on SQLite the file lock takes them one after the other.

Each race runs many times. Whatever the interleaving: exactly one answer wins, the loser is
told the request was answered already (or is gone), and a contact detail reaches exactly
the people the introduction row records — never twice, never after an erasure.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from bot.app import App, build_scheduler, open_app
from bot.settings import Settings
from handlers.messages import Reply
from storage.db import Database
from storage.models import IntroductionRow, OutboxRow
from storage.verbs import utcnow
from tests.handlers.test_introductions import nl
from tests.harness import Resident, known, text_of

ROUNDS = 12
PHONE = "0612345678"
_names = itertools.count(1)


@pytest.fixture
async def two_workers(settings: Settings, database: Database) -> AsyncIterator[tuple[App, App]]:
    """Two complete apps on the same database, each with its own engine."""
    async with (
        open_app(settings, apply_migrations=False) as one,
        open_app(settings, apply_migrations=False) as two,
    ):
        yield one, two


@dataclass
class Scene:
    """A request from a resident (phone number given) to an initiative run by two."""

    intro_id: int
    requester: Resident
    henk: Resident
    bram: Resident
    ids: dict[str, int]


async def _person(app: App, name: str, **profile: object) -> tuple[Resident, int]:
    external_id = f"{name.lower()}-{next(_names)}"
    person_id = await known(app, external_id, profile={"first_name": name, **profile})
    return Resident(app.conversations, external_id=external_id, first_name=name), person_id


async def scene(one: App, two: App) -> Scene:
    anna, anna_id = await _person(one, "Anna", intake_done_at=utcnow())
    henk, henk_id = await _person(one, "Henk", role="organiser")
    bram, bram_id = await _person(two, "Bram", role="organiser")
    bram.conversations = two.conversations  # Bram is served by the other worker
    async with one.database.unit_of_work() as store:
        initiative = await store.create_initiative(
            organisation_id=None, organiser_ids=[henk_id, bram_id], title="Soepcafé",
            description="", offers=("eat_together",), needs=("cooking",), postcode="7607",
            place_name="Almelo", latitude=52.35, longitude=6.66, times=("any",), free=True,
            capacity=5, status="approved", now=utcnow(),
        )  # fmt: skip
        intro = await store.create_introduction(
            anna_id, initiative_id=initiative.id, reason="cooking", route="phone",
            contact=PHONE, now=utcnow(),
        )  # fmt: skip
        await store.schedule_job(
            "intro_expiry", utcnow() + timedelta(days=7), introduction_id=intro.id
        )
    ids = {"anna": anna_id, "henk": henk_id, "bram": bram_id}
    return Scene(intro.id, anna, henk, bram, ids)


async def at_route_question(organiser: Resident, intro_id: int) -> str:
    """The organiser said yes and is asked how to be reached: the key of "via de bot"."""
    await organiser.press(f"x:{intro_id}:accept")
    assert organiser.last[0].text == nl("intro.route_question")
    return organiser.find("Via de bot").key


async def race(*answers: Awaitable[list[Reply]]) -> list[list[Reply]]:
    return list(await asyncio.gather(*answers))


async def outcome(app: App, scene: Scene) -> tuple[IntroductionRow | None, list[OutboxRow]]:
    async with app.database.unit_of_work() as store:
        row = await store._session.get(IntroductionRow, scene.intro_id)
        queued = list(await store._session.scalars(select(OutboxRow)))
        store._session.expunge_all()
    return row, queued


def phone_recipients(queued: list[OutboxRow]) -> list[int | None]:
    return [message.person_id for message in queued if PHONE in message.text]


async def test_two_organisers_say_yes_at_once(two_workers: tuple[App, App]) -> None:
    one, two = two_workers
    for _ in range(ROUNDS):
        s = await scene(one, two)
        henk_key = await at_route_question(s.henk, s.intro_id)
        bram_key = await at_route_question(s.bram, s.intro_id)
        henk_said, bram_said = await race(s.henk.press(henk_key), s.bram.press(bram_key))

        row, queued = await outcome(one, s)
        assert row is not None and row.status == "accepted"
        winner = row.answered_by_id
        assert winner in (s.ids["henk"], s.ids["bram"])
        loser_said = bram_said if winner == s.ids["henk"] else henk_said
        assert nl("intro.too_late") in text_of(loser_said)
        assert phone_recipients(queued) == [winner]  # exactly the one the row records
        await _clear_outbox(one)


async def test_yes_and_no_at_once(two_workers: tuple[App, App]) -> None:
    one, two = two_workers
    wins = {"accepted": 0, "declined": 0}
    for _ in range(ROUNDS):
        s = await scene(one, two)
        henk_key = await at_route_question(s.henk, s.intro_id)
        henk_said, bram_said = await race(
            s.henk.press(henk_key), s.bram.press(f"x:{s.intro_id}:decline")
        )
        row, queued = await outcome(one, s)
        assert row is not None and row.status in wins
        wins[row.status] += 1
        if row.status == "accepted":
            assert nl("intro.too_late") in text_of(bram_said)
            assert phone_recipients(queued) == [s.ids["henk"]] == [row.answered_by_id]
        else:
            assert nl("intro.too_late") in text_of(henk_said)
            assert phone_recipients(queued) == []
        await _clear_outbox(one)
    assert sum(wins.values()) == ROUNDS


async def test_yes_and_the_expiry_at_once(two_workers: tuple[App, App]) -> None:
    one, two = two_workers
    for _ in range(ROUNDS):
        s = await scene(one, two)
        henk_key = await at_route_question(s.henk, s.intro_id)
        scheduler = build_scheduler(two)
        henk_said, _ = await asyncio.gather(
            s.henk.press(henk_key), scheduler.run_due(utcnow() + timedelta(days=8))
        )
        row, queued = await outcome(one, s)
        assert row is not None and row.status in ("accepted", "expired")
        if row.status == "accepted":
            assert phone_recipients(queued) == [s.ids["henk"]]
            assert not any("geen antwoord" in m.text for m in queued)
        else:
            assert nl("intro.too_late") in text_of(henk_said)
            assert phone_recipients(queued) == []
        await _clear_outbox(one)


async def test_yes_while_she_erases_herself(two_workers: tuple[App, App]) -> None:
    one, two = two_workers
    for _ in range(ROUNDS):
        s = await scene(one, two)
        s.requester.conversations = two.conversations
        henk_key = await at_route_question(s.henk, s.intro_id)
        await s.requester.send("vergeet mij")
        forget_key = s.requester.find("wis alles").key
        henk_said, anna_said = await race(s.henk.press(henk_key), s.requester.press(forget_key))

        assert nl("forget.done") in text_of(anna_said)
        row, queued = await outcome(one, s)
        assert row is not None and row.requester_id is None and row.anonymised_at is not None
        assert phone_recipients(queued) == []  # never after the erasure
        assert nl("error.sorry") not in text_of(henk_said)  # a kind answer either way
        await _clear_outbox(one)


async def _clear_outbox(app: App) -> None:
    async with app.database.unit_of_work() as store:
        await store._session.execute(delete(OutboxRow))
