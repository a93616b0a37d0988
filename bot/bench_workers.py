"""`python -m bot bench throughput --workers N`: one worker process against N, same run.

Each worker is `python -m bot run` in webhook mode against the given PostgreSQL database,
with its limiter off, as in production with several workers. The loopback Bot API posts
each simulated resident's updates to that resident's worker (`BenchBotApi.push_to`) and
records the answers. First one worker serves `--residents` residents, then N workers serve
as many new ones; each prints updates per second, p95 latency, CPU milliseconds per update
(the workers' and this process's together) and messages per update. Last line:
`workers_ratio=<N workers / one, updates per second> one_updates_per_s=… two_updates_per_s=…`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator

import aiohttp
from sqlalchemy import func, select

from bot.bench_api import BenchBotApi
from bot.bench_delivery import TOKEN
from bot.bench_throughput import SCRIPT, p95_ms
from bot.processes import free_port, healthy, start_run
from bot.web.telegram import WEBHOOK_PATH
from storage.db import Database
from storage.migrate import migrate
from storage.models import OutboxRow

SECRET = "bench-webhook-secret"
NAMES = {1: "one", 2: "two", 3: "three", 4: "four"}


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _healthy(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if await healthy(session, url):
                return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"a worker did not come up at {url}")


@contextlib.asynccontextmanager
async def _workers(
    count: int, api: BenchBotApi, url: str
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.url,
        "TELEGRAM_WEBHOOK_URL": "https://bench.example.org",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_SEND_RATE": "0",
        "TELEGRAM_CHAT_RATE": "0",
        "THROTTLE_PER_MINUTE": "0",
        "LOG_LEVEL": "WARNING",
    }
    processes, urls = [], []
    try:
        for _ in range(count):
            port = free_port()
            process = await start_run(
                {**env, "WEB_PORT": str(port)}, stdout=asyncio.subprocess.DEVNULL
            )
            processes.append(process)
            urls.append(f"http://127.0.0.1:{port}")
        for each in urls:
            await _healthy(each)
        api.push_to = [each + WEBHOOK_PATH for each in urls]
        api.secret = SECRET
        yield processes
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


DRAIN_SECONDS = 120


async def _drained(url: str) -> None:
    """Wait until no message waits in the outbox."""
    database = Database(url)
    try:
        for _ in range(DRAIN_SECONDS * 10):
            async with database.engine.connect() as connection:
                waiting = await connection.scalar(
                    select(func.count())
                    .select_from(OutboxRow)
                    .where(OutboxRow.sent_at.is_(None), OutboxRow.failed_at.is_(None))
                )
            if not waiting:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the outbox did not drain in {DRAIN_SECONDS} s")
    finally:
        await database.dispose()


async def _measure(count: int, url: str, residents: int, first_id: int) -> tuple[float, ...]:
    api = BenchBotApi(limits=False, first_update=first_id)
    await api.start()
    try:
        async with _workers(count, api, url) as processes:
            pids = [process.pid for process in processes]
            cpu = time.process_time() + sum(_cpu_seconds(pid) for pid in pids)
            wall = time.perf_counter()
            await api.add_residents(residents, SCRIPT, first_id=first_id)
            await api.finished.wait()
            wall = time.perf_counter() - wall
            cpu = time.process_time() + sum(_cpu_seconds(pid) for pid in pids) - cpu
            # The last answers' later messages are still queued: let these workers send
            # them, or the next phase's workers would, counted as theirs.
            await _drained(url)
    finally:
        await api.stop()
    updates = residents * len(SCRIPT)
    return (
        updates / wall,
        p95_ms(api.figures.latencies),
        1000 * cpu / updates,
        api.figures.sends / updates,
    )


async def run_workers(*, residents: int, url: str | None, workers: int) -> str:
    if url is None or url.startswith("sqlite"):
        return "--workers needs a PostgreSQL --database-url (several workers share one database)"
    if workers not in NAMES or workers < 2:
        return "--workers takes 2, 3 or 4"
    database = Database(url)
    try:
        await migrate(database)  # once, before the workers start
    finally:
        await database.dispose()
    one = await _measure(1, url, residents, first_id=5_000_000)
    many = await _measure(workers, url, residents, first_id=6_000_000)
    name = NAMES[workers]
    lines = []
    for label, (per_s, p95, cpu_ms, per_update) in (("one", one), (name, many)):
        lines.append(
            f"{label}: updates_per_s={per_s:.1f} p95_ms={p95:.0f} cpu_ms_per_update={cpu_ms:.2f}"
            f" messages_per_update={per_update:.2f}"
        )
    lines.append(
        f"workers_ratio={many[0] / one[0]:.2f} one_updates_per_s={one[0]:.1f} "
        f"{name}_updates_per_s={many[0]:.1f}"
    )
    return "\n".join(lines)
