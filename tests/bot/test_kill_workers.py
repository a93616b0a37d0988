"""Fault test with real processes on PostgreSQL: two workers behind the webhook while 200
people talk, the workers killed in turn with SIGKILL at random moments (at least 20 times)
and started again. In the end every message was handled exactly once and every reply
reached its person, in order. SQLite is the one-process default: skipped there.

The people start in waves spread over the kills, so that there is talk during all of them.
Replies may arrive twice only in the documented window (a part accepted by Telegram just
before its worker died, see bot.deliverer): the test counts those, allows at most the
deliverer's sends in flight per kill, and checks that apart from them each person's
messages are exactly the outbox in order."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.demo import DEMO_POSTCODES
from storage.db import Database
from tests.bot.workers_harness import (
    SHORT,
    TOKEN,
    Traffic,
    Worker,
    check_exactly_once,
    report,
    worker_env,
)
from tests.channels.fake_telegram import FakeTelegram

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="several worker processes need PostgreSQL (SQLite is the one-process default)",
)

PEOPLE = 200
KILLS = 20
WAVES = 10  # wave w starts talking at kill 2w: the last one at kill 18
IN_FLIGHT = 64  # messages a deliverer sends at once (bot.deliverer.Deliverer's in_flight)


@pytest.fixture
async def workers(
    database_url: str, database: Database, tmp_path: Path
) -> AsyncIterator[tuple[FakeTelegram, list[Worker]]]:
    async with FakeTelegram(token=TOKEN) as tg:
        env = worker_env(database_url, tg)
        group = [Worker.on_free_port(env, tmp_path / f"w{n}.log") for n in range(2)]
        try:
            for worker in group:
                await worker.start()
            for worker in group:
                await worker.healthy()
            yield tg, group
        finally:
            for worker in group:
                await worker.kill()


async def test_killing_workers_loses_nothing_and_keeps_order(
    workers: tuple[FakeTelegram, list[Worker]],
    database: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tg, group = workers
    async with database.unit_of_work() as store:  # the postcode the people give is known
        await store.save_postcodes(DEMO_POSTCODES)
    people = [800_000 + n for n in range(PEOPLE)]
    for chat_id in people:
        tg.user(chat_id, first_name="Anneke", started=True)
    traffic = Traffic(tg, group, database, script=SHORT, reply_timeout=300)
    kills = 0
    kills_while_talking = 0
    killed = asyncio.Condition()
    started = time.monotonic()

    async def killer() -> None:
        """Kill the workers in turn at random moments; the other one is up at each kill."""
        nonlocal kills, kills_while_talking
        rng = random.Random(7)
        while kills < KILLS:
            await asyncio.sleep(rng.uniform(2.0, 5.0))
            victim, other = group[kills % 2], group[(kills + 1) % 2]
            await other.healthy()
            kills_while_talking += len(traffic.done) < PEOPLE
            await victim.kill()
            async with killed:
                kills += 1
                killed.notify_all()
            await victim.start()

    async def wave(session: aiohttp.ClientSession, number: int, chats: list[int]) -> None:
        async with killed:
            await killed.wait_for(lambda: kills >= 2 * number)
        await asyncio.gather(*(traffic.talk(session, chat_id) for chat_id in chats))

    size = PEOPLE // WAVES
    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as tasks:
        tasks.create_task(killer())
        for w in range(WAVES):
            tasks.create_task(wave(session, w, people[w * size : (w + 1) * size]))

    result = await check_exactly_once(database, tg, people, traffic)
    report(
        capsys,
        f"kill -9 test: {PEOPLE} people, {kills} kills ({kills_while_talking} while people"
        f" talked), {traffic.retried} posts retried, {result.line()};"
        f" {time.monotonic() - started:.0f} s",
    )
    assert kills >= KILLS
    # At most the parts under way when a worker died: a deliverer has up to 64 in flight.
    assert result.duplicates <= kills * IN_FLIGHT
