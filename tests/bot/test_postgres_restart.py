"""PostgreSQL restarts under load: a worker process (`python -m bot run`) on a private
PostgreSQL cluster while people talk; the server stops at once (`pg_ctl stop -m immediate`,
as in a crash), stays away a few seconds and comes back. The worker recovers by itself (it
is not restarted), every update is handled exactly once and every reply delivered, in order
per person. Needs Debian's PostgreSQL binaries (initdb, pg_ctl); skipped without them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.demo import DEMO_POSTCODES
from bot.processes import free_port
from storage.db import Database
from storage.migrate import migrate
from tests.bot.workers_harness import (
    TOKEN,
    Traffic,
    Worker,
    check_exactly_once,
    report,
    worker_env,
)
from tests.channels.fake_telegram import FakeTelegram

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PEOPLE = 60
LATE = 20  # of whom these begin while the server is away: their first posts are refused
DOWN_SECONDS = 4.0

pytestmark = pytest.mark.skipif(
    not (BIN / "initdb").exists() or not (BIN / "pg_ctl").exists(),
    reason=f"PostgreSQL's initdb and pg_ctl are not in {BIN} (set PG_BIN)",
)


class Cluster:
    """A PostgreSQL cluster of its own in a temporary directory, on a free port."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="meedoen-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        # initdb refuses to run as root: then the cluster belongs to the postgres user.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.root, "postgres")

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
            " -c full_page_writes=off -c max_connections=100"
        )
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        """Stop at once, as in a crash: no checkpoint, connections cut."""
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    made = Cluster()
    try:
        made.init()
        made.start()
        yield made
    finally:
        made.remove()


async def test_worker_recovers_by_itself_when_postgres_restarts(
    cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = Database(cluster.url)
    try:
        await migrate(database)
        async with database.unit_of_work() as store:
            await store.save_postcodes(DEMO_POSTCODES)
        async with FakeTelegram(token=TOKEN) as tg:
            worker = Worker.on_free_port(worker_env(cluster.url, tg), tmp_path / "worker.log")
            try:
                await worker.start()
                await worker.healthy()
                people = [700_000 + n for n in range(PEOPLE)]
                for chat_id in people:
                    tg.user(chat_id, first_name="Anneke", started=True)
                traffic = Traffic(tg, [worker], database, reply_timeout=120)
                total = PEOPLE * len(traffic.script[0])
                started = time.monotonic()
                down = 0.0

                quarter_in = asyncio.Event()
                away = asyncio.Event()

                async def restart() -> None:
                    """Once a quarter of the updates is in: stop, wait, start again."""
                    nonlocal down
                    await quarter_in.wait()
                    stopped = time.monotonic()
                    await asyncio.to_thread(cluster.stop)
                    away.set()
                    await asyncio.sleep(DOWN_SECONDS)
                    await asyncio.to_thread(cluster.start)
                    down = time.monotonic() - stopped

                async def talk(session: aiohttp.ClientSession, chat_id: int) -> None:
                    await traffic.talk(session, chat_id)
                    if len(traffic.done) * len(traffic.script[0]) >= total // 4:
                        quarter_in.set()

                async def late(session: aiohttp.ClientSession, chat_id: int) -> None:
                    await away.wait()
                    await traffic.talk(session, chat_id)

                async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as tasks:
                    tasks.create_task(restart())
                    for chat_id in people[:-LATE]:
                        tasks.create_task(talk(session, chat_id))
                    for chat_id in people[-LATE:]:
                        tasks.create_task(late(session, chat_id))
                assert down >= DOWN_SECONDS  # the server really was away while people talked
                assert traffic.retried > 0  # and the webhook refused updates meanwhile
                await worker.healthy()
                result = await check_exactly_once(database, tg, people, traffic)
                assert worker.running and worker.starts == 1  # recovered by itself
                report(
                    capsys,
                    f"PostgreSQL restart test: {PEOPLE} people, server away {down:.1f} s,"
                    f" {traffic.retried} posts retried, {result.line()};"
                    f" {time.monotonic() - started:.0f} s",
                )
                assert result.duplicates == 0
            finally:
                await worker.kill()
    finally:
        await database.dispose()
