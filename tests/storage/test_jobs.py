"""Jobs (timers that survive restarts) and the outbox, on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from storage.db import Database
from storage.jobs import FAILED_ATTEMPTS, GAVE_UP, MAX_OUTBOX_ATTEMPTS
from storage.models import IntroductionRow, JobRow, OutboxRow
from storage.records import Identity, OutboxMessage
from tests.harness import add_person

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


async def add_introduction(database: Database, requester_id: int, neighbour_id: int) -> int:
    async with database.engine.begin() as connection:
        result = await connection.execute(
            insert(IntroductionRow)
            .values(
                requester_id=requester_id,
                neighbour_id=neighbour_id,
                status="requested",
                created_at=NOW,
            )
            .returning(IntroductionRow.id)
        )
        return int(result.scalar_one())


async def attempts_of(database: Database, message_id: int) -> int:
    async with database.engine.connect() as connection:
        value = await connection.scalar(
            select(OutboxRow.attempts).where(OutboxRow.id == message_id)
        )
        return int(value or 0)


async def claim(
    database: Database, channel: str = "telegram", *, limit: int = 50, now: datetime = NOW
) -> list[tuple[OutboxMessage, Identity]]:
    async with database.unit_of_work() as store:
        return await store.claim_outbox(channel, now=now, limit=limit)


def ids(claimed: list[tuple[OutboxMessage, Identity]]) -> list[int]:
    return [message.id for message, _ in claimed]


# -- jobs --------------------------------------------------------------------------------


async def test_a_job_is_due_at_its_time_and_gone_once_finished(database: Database) -> None:
    anna = await add_person(database, "1")
    due = NOW + timedelta(days=3)
    async with database.unit_of_work() as store:
        job_id = await store.schedule_job(
            "reminder", due, person_id=anna, payload={"round": 1, "note": "zaterdag"}
        )

    async with database.unit_of_work() as store:
        assert await store.next_due_job(due - timedelta(seconds=1)) is None
        job = await store.next_due_job(due)
        assert job is not None
        assert (job.id, job.kind, job.person_id, job.introduction_id) == (
            job_id,
            "reminder",
            anna,
            None,
        )
        assert job.due_at == due
        assert job.due_at.tzinfo is not None and job.due_at.utcoffset() == timedelta(0)
        assert job.payload == {"round": 1, "note": "zaterdag"}
        await store.finish_job(job.id, due)

    async with database.unit_of_work() as store:
        assert await store.next_due_job(due + timedelta(days=365)) is None
        assert await store.list_pending_jobs() == []


async def test_the_oldest_due_job_comes_first(database: Database) -> None:
    async with database.unit_of_work() as store:
        later = await store.schedule_job("expire", NOW - timedelta(minutes=5))
        sooner = await store.schedule_job("remind", NOW - timedelta(hours=2))
        await store.schedule_job("follow_up", NOW + timedelta(minutes=1))

    async with database.unit_of_work() as store:
        first = await store.next_due_job(NOW)
        assert first is not None and first.id == sooner
        second = await store.next_due_job(NOW, exclude={sooner})
        assert second is not None and second.id == later
        assert await store.next_due_job(NOW, exclude={sooner, later}) is None
        assert [j.kind for j in await store.list_pending_jobs()] == [
            "remind",
            "expire",
            "follow_up",
        ]


async def test_moments_in_other_timezones_are_the_same_instant(database: Database) -> None:
    local = datetime(2026, 3, 2, 10, 0, tzinfo=CET)  # 09:00 UTC
    async with database.unit_of_work() as store:
        await store.schedule_job("remind", local)
    async with database.unit_of_work() as store:
        assert await store.next_due_job(NOW - timedelta(microseconds=1)) is None
        job = await store.next_due_job(NOW)
        assert job is not None
        assert job.due_at == NOW and job.due_at.utcoffset() == timedelta(0)


async def test_naive_moments_and_odd_kinds_are_refused(database: Database) -> None:
    async with database.unit_of_work() as store:
        with pytest.raises(ValueError, match="timezone-aware"):
            await store.schedule_job("remind", datetime(2026, 3, 2, 9, 0))
        with pytest.raises(ValueError, match="timezone-aware"):
            await store.next_due_job(datetime(2026, 3, 2, 9, 0))
        with pytest.raises(ValueError, match="kind"):
            await store.schedule_job("x" * 25, NOW)
        with pytest.raises(ValueError, match="kind"):
            await store.schedule_job("", NOW)


async def test_finishing_twice_keeps_the_first_moment(database: Database) -> None:
    async with database.unit_of_work() as store:
        job_id = await store.schedule_job("remind", NOW)
        await store.finish_job(job_id, NOW)
        await store.finish_job(job_id, NOW + timedelta(days=1))
        assert await store.record_job_failure(job_id, NOW, give_up_after=3) == 0
        assert await store.next_due_job(NOW + timedelta(days=2)) is None


async def test_cancelling_an_introductions_jobs(database: Database) -> None:
    anna, bert, carla = [await add_person(database, str(n)) for n in (1, 2, 3)]
    first = await add_introduction(database, anna, bert)
    other = await add_introduction(database, anna, carla)
    async with database.unit_of_work() as store:
        await store.schedule_job("remind", NOW + timedelta(days=2), introduction_id=first)
        await store.schedule_job("expire", NOW + timedelta(days=7), introduction_id=first)
        await store.schedule_job("remind", NOW + timedelta(days=2), introduction_id=other)

    async with database.unit_of_work() as store:
        assert await store.cancel_jobs(introduction_id=first, kinds=["remind"], now=NOW) == 1
        assert [j.kind for j in await store.list_pending_jobs(introduction_id=first)] == ["expire"]
        assert await store.cancel_jobs(introduction_id=first, kinds=[], now=NOW) == 0
        assert await store.cancel_jobs(introduction_id=first, now=NOW) == 1
        assert await store.cancel_jobs(introduction_id=first, now=NOW) == 0

    async with database.unit_of_work() as store:
        assert await store.list_pending_jobs(introduction_id=first) == []
        assert [j.introduction_id for j in await store.list_pending_jobs()] == [other]
        assert await store.next_due_job(NOW + timedelta(days=30)) is not None


async def test_a_failing_job_is_counted_tried_later_and_kept(database: Database) -> None:
    async with database.unit_of_work() as store:
        job_id = await store.schedule_job("remind", NOW, payload={"round": 1})
    for attempt in (1, 2):
        async with database.unit_of_work() as store:
            assert (
                await store.record_job_failure(job_id, NOW, give_up_after=3, error="KeyError")
                == attempt
            )
    async with database.unit_of_work() as store:
        (job,) = await store.list_pending_jobs()
        assert job.payload == {"round": 1, FAILED_ATTEMPTS: 2, "last_error": "KeyError"}
        assert job.due_at == NOW + timedelta(minutes=2)  # 1, then 2 minutes later
        assert await store.list_failing_jobs() == []
        assert await store.record_job_failure(job_id, NOW, give_up_after=3) == 3
    async with database.unit_of_work() as store:
        (job,) = await store.list_pending_jobs()  # kept, and tried again later
        assert job.due_at == NOW + timedelta(minutes=4)
        assert await store.next_due_job(NOW + timedelta(minutes=3)) is None
        assert await store.next_due_job(NOW + timedelta(minutes=4)) is not None
        assert [failing.id for failing in await store.list_failing_jobs()] == [job_id]
        await store.finish_job(job_id, NOW)
        assert await store.record_job_failure(job_id, NOW, give_up_after=3) == 0
    async with database.engine.connect() as connection:
        payload = await connection.scalar(select(JobRow.payload).where(JobRow.id == job_id))
    assert payload == {"round": 1, FAILED_ATTEMPTS: 3, "last_error": "KeyError", GAVE_UP: True}


async def test_a_singleton_is_planned_once_until_it_is_done(database: Database) -> None:
    async with database.unit_of_work() as store:
        assert await store.schedule_singleton("housekeeping", NOW) is True
        assert await store.schedule_singleton("housekeeping", NOW) is False
    async with database.unit_of_work() as store:
        (job,) = await store.list_pending_jobs()
        await store.finish_job(job.id, NOW)
        assert await store.schedule_singleton("housekeeping", NOW + timedelta(days=1)) is True
    async with database.unit_of_work() as store:
        assert [j.due_at for j in await store.list_pending_jobs()] == [NOW + timedelta(days=1)]


async def test_two_transactions_never_take_the_same_job(database: Database) -> None:
    """(The time limits only turn a lock wait, which would be a bug, into a failure.)"""
    async with database.unit_of_work() as store:
        first = await store.schedule_job("remind", NOW - timedelta(minutes=2))
        second = await store.schedule_job("remind", NOW - timedelta(minutes=1))

    if database.is_sqlite:  # the first transaction holds the write lock: they take turns

        async def take() -> int | None:
            async with database.unit_of_work() as store:
                job = await store.next_due_job(NOW)
                if job is not None:
                    await store.finish_job(job.id, NOW)
                return job.id if job else None

        taken = await asyncio.gather(take(), take(), take())
        assert sorted(t for t in taken if t is not None) == [first, second]
        assert taken.count(None) == 1
        return

    async with database.unit_of_work() as one:
        held = await one.next_due_job(NOW)
        assert held is not None and held.id == first
        async with database.unit_of_work() as two:  # at the same time, while one holds it
            other = await asyncio.wait_for(two.next_due_job(NOW), timeout=10)
            assert other is not None and other.id == second
            async with database.unit_of_work() as three:
                assert await asyncio.wait_for(three.next_due_job(NOW), timeout=10) is None


# -- outbox ------------------------------------------------------------------------------


async def test_a_queued_message_is_claimed_once(database: Database) -> None:
    anna = await add_person(database, "101")
    async with database.unit_of_work() as store:
        message_id = await store.queue_message(
            anna, "Bert wil je graag ontmoeten.", [("intro:1:yes", "Ja"), ("intro:1:no", "Nee")]
        )
        assert await store.count_pending_outbox() == 1
        assert await store.count_pending_outbox(anna) == 1

    (claimed,) = await claim(database)
    message, identity = claimed
    assert message == OutboxMessage(
        message_id,
        anna,
        "Bert wil je graag ontmoeten.",
        (("intro:1:yes", "Ja"), ("intro:1:no", "Nee")),
    )
    assert identity == Identity("telegram", "101", None)
    assert await claim(database) == []
    async with database.unit_of_work() as store:
        assert await store.count_pending_outbox(anna) == 0


async def test_released_messages_come_back_until_the_attempt_limit(database: Database) -> None:
    anna = await add_person(database, "101")
    async with database.unit_of_work() as store:
        message_id = await store.queue_message(anna, "Hallo")

    for attempt in range(1, MAX_OUTBOX_ATTEMPTS + 1):
        assert ids(await claim(database)) == [message_id]
        async with database.unit_of_work() as store:
            await store.release_outbox(message_id)
        assert await attempts_of(database, message_id) == attempt

    assert await claim(database) == []
    async with database.unit_of_work() as store:
        assert await store.count_pending_outbox(anna) == 0


async def test_a_message_handed_back_untried_keeps_its_attempts(database: Database) -> None:
    anna = await add_person(database, "101")
    async with database.unit_of_work() as store:
        message_id = await store.queue_message(anna, "Hallo")
    for _ in range(MAX_OUTBOX_ATTEMPTS + 2):
        assert ids(await claim(database)) == [message_id]
        async with database.unit_of_work() as store:
            await store.release_outbox(message_id, count_attempt=False)
    assert await attempts_of(database, message_id) == 0


async def test_claims_are_per_channel_for_reachable_people(database: Database) -> None:
    anna = await add_person(database, "101")
    bert = await add_person(database, "bert", channel="terminal")
    carla = await add_person(database, "103", reachable=False)
    dirk = await add_person(database, "dirk", channel="terminal")
    async with database.unit_of_work() as store:
        for_anna = await store.queue_message(anna, "voor Anna")
        for_bert = await store.queue_message(bert, "voor Bert")
        await store.queue_message(carla, "voor Carla")
        for_dirk = await store.queue_message(dirk, "voor Dirk")

    async with database.unit_of_work() as store:
        only_dirk = await store.claim_outbox("terminal", now=NOW, external_id="dirk")
    assert [(m.id, i.external_id) for m, i in only_dirk] == [(for_dirk, "dirk")]
    assert [(m.id, i) for m, i in await claim(database)] == [
        (for_anna, Identity("telegram", "101"))
    ]
    assert [(m.id, i) for m, i in await claim(database, "terminal")] == [
        (for_bert, Identity("terminal", "bert"))
    ]
    assert await claim(database, "whatsapp") == []
    async with database.unit_of_work() as store:
        assert await store.count_pending_outbox(carla) == 1  # waits until reachable again
        await store.update_person(carla, {"reachable": True})
    assert [m.text for m, _ in await claim(database)] == ["voor Carla"]


async def test_claims_take_the_oldest_first_within_the_limit(database: Database) -> None:
    anna = await add_person(database, "101")
    async with database.unit_of_work() as store:
        queued = [await store.queue_message(anna, f"bericht {n}") for n in range(5)]
    assert ids(await claim(database, limit=2)) == queued[:2]
    assert ids(await claim(database, limit=2)) == queued[2:4]
    assert ids(await claim(database, limit=2)) == queued[4:]


async def test_erasing_a_person_removes_their_jobs_and_outbox(database: Database) -> None:
    anna = await add_person(database, "101")
    async with database.unit_of_work() as store:
        await store.queue_message(anna, "Hallo")
        await store.schedule_job("remind", NOW, person_id=anna)
    async with database.unit_of_work() as store:
        await store.erase_person(anna)
    async with database.unit_of_work() as store:
        assert await store.count_pending_outbox() == 0
        assert await store.list_pending_jobs() == []


async def test_concurrent_claims_never_return_the_same_message(database: Database) -> None:
    people = [await add_person(database, str(200 + n)) for n in range(4)]
    async with database.unit_of_work() as store:
        queued = [await store.queue_message(p, f"bericht {n}") for n in range(5) for p in people]

    if not database.is_sqlite:  # two claims open at once: the second skips what the first holds
        async with database.unit_of_work() as one:
            first = await one.claim_outbox("telegram", now=NOW, limit=6)
            async with database.unit_of_work() as two:
                second = await asyncio.wait_for(
                    two.claim_outbox("telegram", now=NOW, limit=6), timeout=10
                )
        assert len(first) == len(second) == 6
        assert not set(ids(first)) & set(ids(second))
        assert ids(first) + ids(second) == queued[:12]

    rounds = await asyncio.gather(*(claim(database, limit=3) for _ in range(10)))
    everything = [message_id for claimed in rounds for message_id in ids(claimed)]
    assert len(everything) == len(set(everything))
    if database.is_sqlite:
        assert sorted(everything) == queued[:30]
    else:
        assert sorted(everything) == queued[12:]
