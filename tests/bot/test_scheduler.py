"""The scheduler fires each due job exactly once: after a restart, after failures, and with
two schedulers at the same time (on SQLite and, with TEST_DATABASE_URL, on PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import build_scheduler, open_app
from bot.scheduler import JobHandler, Scheduler
from bot.settings import Settings
from storage.db import Database
from storage.jobs import FAILED_ATTEMPTS
from storage.records import Job
from storage.store import Store
from tests.harness import add_person

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def schedule(database: Database, kind: str, due: datetime, person_id: int) -> int:
    async with database.unit_of_work() as store:
        return await store.schedule_job(kind, due, person_id=person_id)


async def outbox_count(database: Database, person_id: int | None = None) -> int:
    async with database.unit_of_work() as store:
        return await store.count_pending_outbox(person_id)


async def pending(database: Database) -> list[Job]:
    async with database.unit_of_work() as store:
        return await store.list_pending_jobs()


class Reminders:
    """A job handler that queues a reminder; it can be told to fail a number of times."""

    def __init__(self, *, failures: int = 0) -> None:
        self.calls: list[tuple[int, datetime]] = []
        self.failures = failures

    async def __call__(self, store: Store, job: Job, now: datetime) -> None:
        self.calls.append((job.id, now))
        assert job.person_id is not None
        await store.queue_message(job.person_id, f"Herinnering {job.id}", [("ok", "Oké")])
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the reminder service hiccuped")


async def test_a_job_due_while_the_bot_was_down_fires_once_after_the_restart(
    settings: Settings, database: Database
) -> None:
    due = NOW + timedelta(days=2)
    async with open_app(settings) as before:
        anna = await add_person(before.database)
        job_id = await schedule(before.database, "reminder", due, anna)
        assert await build_scheduler(before, {"reminder": Reminders()}).run_due(NOW) == 0

    remind = Reminders()  # the bot was down when the job fell due; a new process starts
    async with open_app(settings, clock=lambda: due + timedelta(hours=5)) as after:
        scheduler = build_scheduler(after, {"reminder": remind})
        assert await scheduler.run_due() == 1
        assert remind.calls == [(job_id, due + timedelta(hours=5))]

    async with open_app(settings) as again:  # what the handler did was committed
        assert await outbox_count(again.database, anna) == 1
        assert await pending(again.database) == []
        scheduler = build_scheduler(again, {"reminder": remind})
        assert await scheduler.run_due(due + timedelta(days=1)) == 0
    assert len(remind.calls) == 1


async def test_a_failing_handler_rolls_back_and_is_tried_again_later(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    anna = await add_person(database)
    job_id = await schedule(database, "reminder", NOW, anna)
    remind = Reminders(failures=1)
    scheduler = Scheduler(database.unit_of_work, {"reminder": remind})

    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        assert await scheduler.run_due(NOW) == 0
    assert len(remind.calls) == 1  # not tried again in the same run
    assert any(r.exc_info and "job %d (%s) failed" in r.msg for r in caplog.records)
    assert await outbox_count(database) == 0  # its message was rolled back
    (job,) = await pending(database)
    assert job.id == job_id and job.payload[FAILED_ATTEMPTS] == 1

    assert await scheduler.run_due(NOW + timedelta(minutes=1)) == 1
    assert len(remind.calls) == 2
    assert await outbox_count(database, anna) == 1
    assert await pending(database) == []
    assert await scheduler.run_due(NOW + timedelta(days=1)) == 0
    assert len(remind.calls) == 2


async def test_a_job_that_keeps_failing_is_kept_tried_later_each_time_and_shown(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    anna = await add_person(database)
    broken_job = await schedule(database, "broken", NOW, anna)
    good_job = await schedule(database, "reminder", NOW, anna)
    broken = Reminders(failures=1000)
    remind = Reminders()
    fired: list[str] = []
    scheduler = Scheduler(
        database.unit_of_work,
        {"broken": broken, "reminder": remind},
        on_fired=lambda: fired.append("x"),
    )

    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        counts = [await scheduler.run_due(NOW + timedelta(minutes=n)) for n in range(8)]

    # Tried at 0, 1 and 3 minutes, then 4 minutes later: 1, 2, 4 ... minutes apart.
    assert [at for _, at in broken.calls] == [NOW + timedelta(minutes=n) for n in (0, 1, 3, 7)]
    assert [job_id for job_id, _ in remind.calls] == [good_job]
    assert counts == [1, 0, 0, 0, 0, 0, 0, 0]
    assert fired == ["x"]
    (kept,) = await pending(database)  # never dropped
    assert kept.id == broken_job and kept.payload[FAILED_ATTEMPTS] == 4
    async with database.unit_of_work() as store:
        assert [job.id for job in await store.list_failing_jobs()] == [broken_job]
    assert await outbox_count(database) == 1  # the good job's message only
    warnings = [r for r in caplog.records if "keeps being tried" in r.getMessage()]
    assert [r.levelno for r in warnings] == [logging.ERROR, logging.ERROR]  # 3rd and 4th


async def test_a_kind_this_worker_does_not_know_stays_pending_for_one_that_does(
    database: Database,
) -> None:
    anna = await add_person(database)
    mystery = await schedule(database, "mystery", NOW, anna)
    assert await Scheduler(database.unit_of_work, {"reminder": Reminders()}).run_due(NOW) == 0
    assert [job.id for job in await pending(database)] == [mystery]
    knows = Reminders()
    assert await Scheduler(database.unit_of_work, {"mystery": knows}).run_due(NOW) == 1
    assert [job_id for job_id, _ in knows.calls] == [mystery]
    assert await pending(database) == []


async def test_jobs_not_yet_due_wait(database: Database) -> None:
    anna = await add_person(database)
    job_id = await schedule(database, "reminder", NOW + timedelta(hours=1), anna)
    remind = Reminders()
    scheduler = Scheduler(database.unit_of_work, {"reminder": remind})
    assert await scheduler.run_due(NOW) == 0
    assert await scheduler.run_due(NOW + timedelta(hours=1)) == 1
    assert remind.calls == [(job_id, NOW + timedelta(hours=1))]


async def test_two_schedulers_at_once_fire_every_job_exactly_once(database: Database) -> None:
    anna = await add_person(database)
    jobs = [
        await schedule(database, "reminder", NOW - timedelta(minutes=n), anna) for n in range(8)
    ]
    calls: list[tuple[str, int]] = []
    inside = 0
    both_inside = asyncio.Event()

    def handler(name: str) -> JobHandler:
        async def remind(store: Store, job: Job, now: datetime) -> None:
            nonlocal inside
            calls.append((name, job.id))
            await store.queue_message(anna, f"Herinnering {job.id}")
            if not database.is_sqlite and not both_inside.is_set():
                # PostgreSQL: hold this job until the other scheduler is firing one too, so
                # both are inside a job at the same moment.
                inside += 1
                if inside == 2:
                    both_inside.set()
                await asyncio.wait_for(both_inside.wait(), timeout=10)

        return remind

    one = Scheduler(database.unit_of_work, {"reminder": handler("one")})
    two = Scheduler(database.unit_of_work, {"reminder": handler("two")})
    counts = await asyncio.gather(one.run_due(NOW), two.run_due(NOW))

    assert sorted(job_id for _, job_id in calls) == sorted(jobs)
    assert sum(counts) == len(jobs)
    assert await outbox_count(database, anna) == len(jobs)
    assert await pending(database) == []
    if not database.is_sqlite:
        assert both_inside.is_set()
        assert {name for name, _ in calls} == {"one", "two"}


async def test_run_forever_fires_due_jobs_and_stops_cleanly(database: Database) -> None:
    anna = await add_person(database)
    job_id = await schedule(database, "reminder", NOW, anna)
    remind = Reminders()
    fired = asyncio.Event()
    scheduler = Scheduler(
        database.unit_of_work,
        {"reminder": remind},
        on_fired=fired.set,
        clock=lambda: NOW + timedelta(minutes=1),
    )

    task = asyncio.create_task(scheduler.run_forever(interval=3600))
    await asyncio.wait_for(fired.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert remind.calls == [(job_id, NOW + timedelta(minutes=1))]
    assert await outbox_count(database, anna) == 1


async def test_a_failing_on_fired_callback_does_not_undo_the_job(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    anna = await add_person(database)
    await schedule(database, "reminder", NOW, anna)

    def broken() -> None:
        raise RuntimeError("no deliverer")

    scheduler = Scheduler(database.unit_of_work, {"reminder": Reminders()}, on_fired=broken)
    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        assert await scheduler.run_due(NOW) == 1
    assert any("on_fired" in r.getMessage() for r in caplog.records)
    assert await pending(database) == []
