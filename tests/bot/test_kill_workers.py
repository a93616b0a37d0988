"""Fault test with real processes on PostgreSQL: two workers behind the webhook while 200
people talk, one of them killed with SIGKILL at random moments and started again. In the
end every message was handled exactly once and every reply reached its person, in order.

Telegram's side is the fake Bot API server (it records what the bot sends); the test posts
each update as Telegram does: to a worker, and again (to the other) until it is answered
200. Replies may arrive twice only in the documented window (a part accepted by Telegram
just before its worker died, see bot.deliverer); the test counts those and checks that,
apart from them, each person's messages are exactly the outbox in order."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import random
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.demo import DEMO_POSTCODES
from bot.web.telegram import SECRET_HEADER, WEBHOOK_PATH
from storage.db import Database
from storage.models import InboxRow, MessageLogRow, OutboxRow
from storage.records import ConversationState
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.test_webhook import text_update

pytestmark = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("MEEDOEN_FAULT_TESTS")),
    reason="real worker processes on PostgreSQL: set TEST_DATABASE_URL and MEEDOEN_FAULT_TESTS=1",
)

TOKEN = "123456:KILL-token"
SECRET = "kill-test-secret"
PEOPLE = 200
SCRIPT = ("hallo", "ja", "Anneke", "7607")  # ends at the gifts question
KILLS = 20
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Worker:
    port: int
    env: dict[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.starts += 1
        with self.log.open("a") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env,
                stdout=out, stderr=out,
            )  # fmt: skip

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def wait(self) -> None:
        if self.process is not None:
            await self.process.wait()


@dataclass
class Run:
    posted: int = 0
    retried: int = 0
    kills: int = 0
    done: set[int] = field(default_factory=set)


@pytest.fixture
async def workers(database_url: str, database: Database, tmp_path: Path) -> AsyncIterator[
    tuple[FakeTelegram, list[Worker]]
]:
    async with FakeTelegram(token=TOKEN) as tg:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": tg.base_url,
            "TELEGRAM_WEBHOOK_URL": "https://meedoen.example.org",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_SEND_RATE": "0",
            "TELEGRAM_CHAT_RATE": "0",
            "THROTTLE_PER_MINUTE": "0",
            "LOG_LEVEL": "WARNING",
        }
        group = []
        for n in range(2):
            port = free_port()
            group.append(Worker(port, {**env, "WEB_PORT": str(port)}, tmp_path / f"w{n}.log"))
        for worker in group:
            await worker.start()
        try:
            yield tg, group
        finally:
            for worker in group:
                worker.kill()
                await worker.wait()


async def post_until_taken(session: aiohttp.ClientSession, group: list[Worker], run: Run,
                           update: dict[str, object]) -> None:  # fmt: skip
    """Telegram's way: post the update until a worker answers 200."""
    for attempt in range(2000):
        worker = group[attempt % len(group)]
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with session.post(
                worker.url + WEBHOOK_PATH,
                json=update,
                headers={SECRET_HEADER: SECRET},
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                if response.status == 200:
                    run.posted += 1
                    return
        run.retried += 1
        await asyncio.sleep(0.05)
    raise AssertionError("no worker took the update")


async def test_killing_workers_loses_nothing_and_keeps_order(
    workers: tuple[FakeTelegram, list[Worker]],
    database: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tg, group = workers
    async with database.unit_of_work() as store:  # the postcode the people give is known
        await store.save_postcodes(DEMO_POSTCODES)
    people = [tg.user(800_000 + n, first_name="Anneke", started=True) for n in range(PEOPLE)]
    run = Run()

    def received(chat_id: int) -> int:
        return sum(1 for r in tg.sent if r.chat_id == chat_id and r.method == "sendMessage")

    def answered(chat_id: int, before: int) -> bool:
        return received(chat_id) > before

    async def state_of(chat_id: int) -> str:
        async with database.engine.connect() as connection:
            inbox = (await connection.execute(
                select(InboxRow.id, InboxRow.update_id, InboxRow.handled_at, InboxRow.attempts)
                .where(InboxRow.sender == str(chat_id))
            )).all()
            outbox = (await connection.execute(
                select(OutboxRow.id, OutboxRow.sent_at, OutboxRow.claimed_until,
                       OutboxRow.failed_at, OutboxRow.next_attempt_at, OutboxRow.last_error)
                .where(OutboxRow.external_id == str(chat_id))
            )).all()
        return f"chat {chat_id}: inbox {inbox}; outbox {outbox}"

    async def healthy(worker: Worker) -> None:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(worker.url + "/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError("a restarted worker did not come up")

    async def talk(session: aiohttp.ClientSession, chat_id: int) -> None:
        for text in SCRIPT:
            before = received(chat_id)
            await post_until_taken(session, group, run, text_update(chat_id, text))
            try:
                await tg.wait_for(
                    functools.partial(answered, chat_id, before), timeout=150, what="a reply"
                )
            except AssertionError:
                raise AssertionError(await state_of(chat_id)) from None
        run.done.add(chat_id)

    async def killer() -> None:
        """Kill the workers in turn, at random moments, at least KILLS times over the run."""
        rng = random.Random(7)
        while run.kills < KILLS or len(run.done) < PEOPLE:
            await asyncio.sleep(rng.uniform(0.2, 2.0))
            if run.kills >= KILLS and len(run.done) == PEOPLE:
                return
            worker = group[run.kills % len(group)]
            worker.kill()
            await worker.wait()
            run.kills += 1
            await worker.start()
            await healthy(worker)  # the other one is killed next: one is always up

    async with aiohttp.ClientSession() as session:
        kills = asyncio.create_task(killer())
        await asyncio.gather(*(talk(session, p.user_id) for p in people))
        await kills

    async def settled() -> bool:
        async with database.engine.connect() as connection:
            waiting = await connection.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
            )
            unhandled = await connection.scalar(
                select(func.count()).select_from(InboxRow).where(InboxRow.handled_at.is_(None))
            )
        return waiting == 0 and unhandled == 0

    for _ in range(600):
        if await settled():
            break
        await asyncio.sleep(0.1)
    assert await settled()

    duplicates = 0
    async with database.engine.connect() as connection:
        stored = await connection.scalar(select(func.count()).select_from(InboxRow))
        logged = dict(
            (await connection.execute(
                select(MessageLogRow.person_id, func.count())
                .where(MessageLogRow.direction == "in")
                .group_by(MessageLogRow.person_id)
            )).all()
        )  # fmt: skip
        outbox = (
            await connection.execute(
                select(OutboxRow.external_id, OutboxRow.text).order_by(OutboxRow.id)
            )
        ).all()
    expected: dict[str, list[str]] = {}
    for chat, body in outbox:
        expected.setdefault(str(chat), []).append(body)
    for person in people:
        sent = [r.text or "" for r in tg.sent if r.chat_id == person.user_id]
        deduplicated = [t for i, t in enumerate(sent) if i == 0 or t != sent[i - 1]]
        duplicates += len(sent) - len(deduplicated)
        assert deduplicated == expected[str(person.user_id)]  # every reply, in order
    # Exactly once: every update stored once, and every turn after consent logged once.
    assert stored == PEOPLE * len(SCRIPT)
    assert sorted(logged.values()) == [len(SCRIPT) - 1] * PEOPLE
    async with database.unit_of_work() as store:
        for person in people[:20]:
            found = await store.find_person_by_identity("telegram", str(person.user_id))
            assert found is not None
            state = await store.get_conversation(found.id)
            assert isinstance(state, ConversationState) and state.step == "gifts"
    assert run.kills >= KILLS
    with capsys.disabled():
        print(
            f"\nkill -9 test: {run.kills} kills, {run.posted} updates taken, "
            f"{run.retried} posts retried, {len(tg.sent)} messages sent, "
            f"{duplicates} duplicates (the documented window)"
        )
