"""Each platform update is handled once; one person's messages in order; people in parallel."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.app import App, open_app
from bot.settings import Settings
from handlers.i18n import Texts
from handlers.messages import Inbound
from handlers.ordering import SenderQueue
from tests.harness import Resident, person_of, row_counts, seed_places, state_of, text_of

TEXTS = Texts.load()
SAFETY = 10  # seconds; only a guard against hanging, never part of the logic

# One complete intake in the person's own words, and what it leaves behind.
SCRIPT = (
    "ja",
    "Anna",
    "7607",
    "koken",
    "wandelen",
    "'s ochtends",
    "1,5 km",
    "in een groep",
    "ja",  # only free activities
    "ja",  # the summary is right
    "nee",  # neighbours may not hear about her
)
PROFILE = {
    "first_name": "Anna",
    "postcode": "7607",
    "gifts": ("cooking",),
    "wishes": ("walking",),
    "times": ("morning",),
    "max_distance_m": 1500,
    "group_pref": "group",
    "free_only": True,
}

_ids = itertools.count(1_000_000)


def nl(key: str, **values: Any) -> str:
    return TEXTS("nl", key, **values)


def message(external_id: str, text: str, *, update_id: str | None = None) -> Inbound:
    return Inbound(
        channel="test",
        external_id=external_id,
        update_id=update_id or str(next(_ids)),
        text=text,
        first_name=external_id.capitalize(),
        language_code="nl",
    )


async def assert_profile(app: App, external_id: str, **expected: Any) -> None:
    person = await person_of(app.database, Resident(app.conversations, external_id=external_id))
    assert person is not None, external_id
    assert {name: getattr(person, name) for name in expected} == expected
    assert person.intake_done_at is not None


# -- the same update twice -----------------------------------------------------------------


async def test_a_repeated_update_is_answered_and_applied_once(app: App) -> None:
    await seed_places(app)
    anna = Resident(app.conversations)
    await anna.send("ja")
    update = anna.inbound(text="Anna")

    first = await anna.deliver(update)
    counts = await row_counts(app.database)
    state = await state_of(app.database, anna)
    second = await anna.deliver(update)

    assert nl("ack.name", name="Anna") in text_of(first)
    assert second == []
    assert await row_counts(app.database) == counts  # not even a log line
    assert await state_of(app.database, anna) == state
    assert state is not None and (state.step, state.turn) == ("place", 2)


async def test_a_repeated_button_tap_is_applied_once(app: App) -> None:
    await seed_places(app)
    anna = Resident(app.conversations)
    await anna.send("ja")
    await anna.send("Anna")
    await anna.send("7607")
    tap = anna.inbound(choice="3:pick:cooking")  # a toggle: applied twice it would undo itself

    assert await anna.deliver(tap)
    assert await anna.deliver(tap) == []

    person = await person_of(app.database, anna)
    assert person is not None and person.gifts == ("cooking",)


async def test_a_repeated_consent_creates_one_person(app: App) -> None:
    await seed_places(app)
    anna = Resident(app.conversations)
    update = anna.inbound(text="ja")
    before = await row_counts(app.database)

    first = await anna.deliver(update)
    once = await row_counts(app.database)
    second = await anna.deliver(update)

    assert nl("consent.thanks") in text_of(first)
    assert second == []
    assert await row_counts(app.database) == once
    for table in ("people", "identities", "consents", "conversations"):
        assert once[table] == before[table] + 1, table


async def test_the_same_update_delivered_concurrently_is_handled_once(app: App) -> None:
    await seed_places(app)
    anna = Resident(app.conversations)
    await anna.send("ja")
    update = anna.inbound(text="Anna")

    results = await asyncio.gather(*(app.conversations.handle(update) for _ in range(4)))

    answered = [replies for replies in results if replies]
    assert len(answered) == 1
    assert nl("ack.name", name="Anna") in text_of(answered[0])
    state = await state_of(app.database, anna)
    assert state is not None and (state.step, state.turn) == ("place", 2)
    logged = await _logged(app, anna)
    assert logged.count(("in", "Anna")) == 1


async def test_the_same_update_on_two_workers_is_handled_once(app: App, settings: Settings) -> None:
    """Two processes share the database: the stored update id decides, not process memory."""
    await seed_places(app)
    anna = Resident(app.conversations)
    await anna.send("ja")
    update = anna.inbound(text="Anna")
    async with open_app(settings) as other:
        results = await asyncio.gather(
            app.conversations.handle(update), other.conversations.handle(update)
        )
    assert sorted(bool(replies) for replies in results) == [False, True]
    counts = await row_counts(app.database)
    assert counts["processed_updates"] == 2  # "ja" and "Anna"
    state = await state_of(app.database, anna)
    assert state is not None and (state.step, state.turn) == ("place", 2)


async def test_the_same_update_id_on_another_channel_is_another_update(app: App) -> None:
    await seed_places(app)
    on_test = message("anna", "ja", update_id="42")
    on_other = Inbound(channel="other", external_id="anna", update_id="42", text="ja")
    before = await row_counts(app.database)

    assert await app.conversations.handle(on_test)
    assert await app.conversations.handle(on_other)
    assert (await row_counts(app.database))["people"] == before["people"] + 2


async def _logged(app: App, resident: Resident) -> list[tuple[str, str]]:
    person = await person_of(app.database, resident)
    assert person is not None
    async with app.database.unit_of_work() as store:
        return await store.list_logged_messages(person.id)


# -- one person's messages in order, different people in parallel -----------------------------


async def test_one_persons_concurrent_messages_are_handled_in_order(app: App) -> None:
    await seed_places(app)
    messages = [message("anna", text) for text in SCRIPT]

    results = await asyncio.gather(*(app.conversations.handle(m) for m in messages))

    await assert_profile(app, "anna", **PROFILE)
    state = await state_of(app.database, Resident(app.conversations, external_id="anna"))
    assert state is not None and state.step == "done"
    assert state.turn == len(SCRIPT)  # consent starts at 1; nine answers, each one step
    # each reply answers its own message
    assert nl("consent.thanks") in text_of(results[0])
    assert nl("ack.name", name="Anna") in text_of(results[1])
    assert nl("ack.place", place="Almelo") in text_of(results[2])
    assert nl("ask.wishes") in text_of(results[3])
    assert nl("ask.summary") in text_of(results[8])
    assert nl("done.thanks", name_sep=", Anna") in text_of(results[9])
    logged = await _logged(app, Resident(app.conversations, external_id="anna"))
    assert [body for direction, body in logged if direction == "in"] == list(SCRIPT)


async def test_two_people_are_handled_concurrently_and_both_complete(app: App) -> None:
    await seed_places(app, community=True)  # the whole demo: 30 neighbours, 12 initiatives
    before = await row_counts(app.database)

    async def intake(external_id: str) -> None:
        for text in SCRIPT:
            replies = await app.conversations.handle(message(external_id, text))
            assert replies
            assert nl("error.sorry") not in text_of(replies)

    await asyncio.gather(intake("anna"), intake("bram"))

    await assert_profile(app, "anna", **PROFILE)
    await assert_profile(app, "bram", **(PROFILE | {"first_name": "Anna"}))
    counts = await row_counts(app.database)
    assert counts["people"] == before["people"] + 2


async def test_many_people_sending_at_once_all_end_up_right(app: App) -> None:
    """Every message of three people in one interleaved burst."""
    await seed_places(app)
    people = ("anna", "bram", "cora")
    burst = [message(person, text) for text in SCRIPT for person in people]

    results = await asyncio.gather(*(app.conversations.handle(m) for m in burst))

    assert all(results)
    for person in people:
        await assert_profile(app, person, **PROFILE)


# -- SenderQueue ---------------------------------------------------------------------------


async def _yield_to_the_loop(times: int = 20) -> None:
    """Let every ready task run a few steps: a fixed number of loop turns, not a timed wait."""
    for _ in range(times):
        await asyncio.sleep(0)


def _work(
    log: list[str], name: str, gate: asyncio.Event | None = None, result: Any = None
) -> Callable[[], Awaitable[Any]]:
    async def work() -> Any:
        log.append(f"{name} start")
        if gate is not None:
            await gate.wait()
        log.append(f"{name} end")
        return result

    return work


async def test_sender_queue_runs_one_keys_work_in_call_order() -> None:
    queue = SenderQueue()
    log: list[str] = []
    gates = [asyncio.Event() for _ in range(3)]
    tasks = [
        asyncio.create_task(queue.run("anna", _work(log, f"w{i}", gates[i], i))) for i in range(3)
    ]
    await _yield_to_the_loop()
    assert log == ["w0 start"]  # the others wait their turn
    assert len(queue) == 1
    for gate in reversed(gates):  # release the last first: order must not depend on it
        gate.set()

    results = await asyncio.wait_for(asyncio.gather(*tasks), SAFETY)

    assert results == [0, 1, 2]
    assert log == ["w0 start", "w0 end", "w1 start", "w1 end", "w2 start", "w2 end"]
    assert len(queue) == 0  # nothing is kept once a key is idle


async def test_sender_queue_runs_different_keys_in_parallel() -> None:
    """A rendezvous: each work waits for the other to have started, so both run at once."""
    queue = SenderQueue()
    anna_started, bram_started = asyncio.Event(), asyncio.Event()

    async def anna() -> str:
        anna_started.set()
        await bram_started.wait()
        return "anna"

    async def bram() -> str:
        bram_started.set()
        await anna_started.wait()
        return "bram"

    results = await asyncio.wait_for(
        asyncio.gather(queue.run("anna", anna), queue.run("bram", bram)), SAFETY
    )
    assert list(results) == ["anna", "bram"]
    assert len(queue) == 0


async def test_sender_queue_a_slow_key_does_not_hold_up_another() -> None:
    queue = SenderQueue()
    log: list[str] = []
    gate = asyncio.Event()
    slow = asyncio.create_task(queue.run("anna", _work(log, "anna", gate)))

    await asyncio.wait_for(queue.run("bram", _work(log, "bram")), SAFETY)

    assert log == ["anna start", "bram start", "bram end"]
    assert not slow.done()
    gate.set()
    await asyncio.wait_for(slow, SAFETY)
    assert log[-1] == "anna end"


async def test_sender_queue_a_failure_does_not_block_the_next() -> None:
    queue = SenderQueue()
    log: list[str] = []

    async def fails() -> None:
        log.append("fails")
        raise ValueError("boom")

    failing = asyncio.create_task(queue.run("anna", fails))
    following = asyncio.create_task(queue.run("anna", _work(log, "next", result="ok")))

    with pytest.raises(ValueError, match="boom"):
        await asyncio.wait_for(failing, SAFETY)
    assert await asyncio.wait_for(following, SAFETY) == "ok"
    assert log == ["fails", "next start", "next end"]
    assert len(queue) == 0


async def test_sender_queue_a_cancelled_waiter_does_not_let_the_next_overtake() -> None:
    """Cancelling a message that waits its turn must not start the one after it early."""
    queue = SenderQueue()
    log: list[str] = []
    gate = asyncio.Event()
    first = asyncio.create_task(queue.run("anna", _work(log, "first", gate)))
    second = asyncio.create_task(queue.run("anna", _work(log, "second")))
    third = asyncio.create_task(queue.run("anna", _work(log, "third")))
    await _yield_to_the_loop()
    assert log == ["first start"]

    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    await _yield_to_the_loop()

    assert log == ["first start"]  # "third" still waits for "first"
    later = asyncio.create_task(queue.run("anna", _work(log, "later")))
    await _yield_to_the_loop()
    assert log == ["first start"]  # and so does a message that arrives now
    gate.set()
    await asyncio.wait_for(asyncio.gather(first, third, later), SAFETY)
    assert log == [
        "first start",
        "first end",
        "third start",
        "third end",
        "later start",
        "later end",
    ]
    assert len(queue) == 0


async def test_sender_queue_cancelling_the_running_work_lets_the_next_go() -> None:
    queue = SenderQueue()
    log: list[str] = []
    first = asyncio.create_task(queue.run("anna", _work(log, "first", asyncio.Event())))
    second = asyncio.create_task(queue.run("anna", _work(log, "second")))
    await _yield_to_the_loop()

    first.cancel()

    assert await asyncio.wait_for(second, SAFETY) is None
    assert log == ["first start", "second start", "second end"]
    assert len(queue) == 0
