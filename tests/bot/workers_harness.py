"""Real worker processes (`python -m bot run`) behind Telegram's webhook, for the fault tests.

A worker is forked from a server process that imported the bot once (multiprocessing's
forkserver), then runs exactly what `python -m bot run` runs. Starting one costs a fraction
of a second instead of the interpreter start and the imports, so twenty restarts fit in a
short test.

The fake Bot API server stands in for Telegram: it records what the bot sends. `Traffic`
posts each update as Telegram does (to a worker, again to the next one until one answers
200) and waits for the person's reply before the next message. `check_exactly_once` then
compares the database with what the fake received: every update stored and handled once,
every reply delivered, in order per person."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.processes import PROJECT, free_port, healthy
from bot.web.telegram import SECRET_HEADER, WEBHOOK_PATH
from storage.db import Database
from storage.models import InboxRow, MessageLogRow, OutboxRow
from storage.records import ConversationState
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.test_webhook import text_update

TOKEN = "123456:FAULT-token"
SECRET = "fault-test-secret"
# What each person says, and the question they are at in the end.
SCRIPT = ("hallo", "ja", "Anneke", "7607"), "gifts"
SHORT = ("hallo", "ja", "Anneke"), "place"


def worker_env(database_url: str, tg: FakeTelegram) -> dict[str, str]:
    return {
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


FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload(["bot.cli", "bot.runner", "tests.bot.workers_harness"])


def serve(env: dict[str, str], log: str) -> None:
    """In the worker process: `python -m bot run` with `env`, output to `log`."""
    os.chdir(PROJECT)
    os.environ.clear()
    os.environ.update(env)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(out, 1)
    os.dup2(out, 2)
    sys.exit(main(["run"]))


@dataclass
class Worker:
    """One `python -m bot run` process on a port of its own, logging to a file."""

    port: int
    env: dict[str, str]
    log: Path
    process: multiprocessing.process.BaseProcess | None = None
    starts: int = 0

    @classmethod
    def on_free_port(cls, env: dict[str, str], log: Path) -> Worker:
        port = free_port()
        return cls(port, {**env, "WEB_PORT": str(port)}, log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.is_alive()

    async def start(self) -> None:
        self.starts += 1
        self.process = FORKS.Process(target=serve, args=(self.env, str(self.log)), daemon=True)
        await asyncio.to_thread(self.process.start)

    async def kill(self) -> None:
        """SIGKILL, and wait until the process is gone."""
        if self.process is not None and self.process.exitcode is None:
            self.process.kill()
            await asyncio.to_thread(self.process.join)

    async def healthy(self, timeout: float = 120.0) -> None:  # noqa: ASYNC109
        """Wait until /healthz answers 200 (the database reachable)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as session:
            while loop.time() < deadline:
                if not self.running:
                    raise AssertionError(f"a worker stopped:\n{self.tail()}")
                if await healthy(session, self.url):
                    return
                await asyncio.sleep(0.1)
        raise AssertionError(f"a worker did not come up:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Traffic:
    """People talking to the workers through the webhook, one message after the reply."""

    tg: FakeTelegram
    workers: list[Worker]
    database: Database
    script: tuple[tuple[str, ...], str] = SCRIPT
    reply_timeout: float = 120.0
    posted: int = 0
    retried: int = 0
    done: set[int] = field(default_factory=set)
    _seen: int = 0
    _received: Counter[int] = field(default_factory=Counter)

    def received(self, chat_id: int) -> int:
        """Messages the fake accepted for `chat_id` so far (counted as they come in, not
        rescanned: two hundred people ask this many times a second)."""
        sent = self.tg.sent
        for record in sent[self._seen :]:
            if record.method == "sendMessage":
                self._received[record.chat_id] += 1
        self._seen = len(sent)
        return self._received[chat_id]

    async def post(self, session: aiohttp.ClientSession, update: dict[str, object]) -> None:
        """Telegram's way: post the update until a worker answers 200."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reply_timeout
        first = self.posted % len(self.workers)
        attempt = 0
        while loop.time() < deadline:
            worker = self.workers[(first + attempt) % len(self.workers)]
            attempt += 1
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.post(
                    worker.url + WEBHOOK_PATH,
                    json=update,
                    headers={SECRET_HEADER: SECRET},
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:
                    if response.status == 200:
                        self.posted += 1
                        return
            self.retried += 1
            if attempt % len(self.workers) == 0:  # every worker said no: wait a little
                await asyncio.sleep(0.2)
        raise AssertionError("no worker took the update")

    async def talk(self, session: aiohttp.ClientSession, chat_id: int) -> None:
        loop = asyncio.get_running_loop()
        for text in self.script[0]:
            before = self.received(chat_id)
            await self.post(session, text_update(chat_id, text))
            deadline = loop.time() + self.reply_timeout
            while self.received(chat_id) <= before:
                if loop.time() >= deadline:
                    raise AssertionError(await self.explain(chat_id, text))
                await asyncio.sleep(0.05)
        self.done.add(chat_id)

    async def explain(self, chat_id: int, text: str) -> str:
        """What the database holds for a person who got no reply."""
        async with self.database.engine.connect() as connection:
            inbox = (await connection.execute(
                select(InboxRow.id, InboxRow.update_id, InboxRow.handled_at, InboxRow.attempts)
                .where(InboxRow.sender == str(chat_id))
            )).all()
            outbox = (await connection.execute(
                select(OutboxRow.id, OutboxRow.sent_at, OutboxRow.claimed_until,
                       OutboxRow.failed_at, OutboxRow.next_attempt_at, OutboxRow.last_error)
                .where(OutboxRow.external_id == str(chat_id))
            )).all()
        logs = "\n".join(f"-- {w.log.name}:\n{w.tail()}" for w in self.workers)
        return f"no reply to {text!r} for chat {chat_id}: inbox {inbox}; outbox {outbox}\n{logs}"


@dataclass
class Counts:
    updates_sent: int
    updates_stored: int
    updates_handled: int
    replies_queued: int
    replies_delivered: int
    duplicates: int

    def line(self) -> str:
        return (
            f"{self.updates_sent} updates sent, {self.updates_stored} stored, "
            f"{self.updates_handled} handled, {self.replies_queued} replies queued, "
            f"{self.replies_delivered} delivered, {self.duplicates} duplicates"
        )


async def settle(database: Database, timeout: float = 90.0) -> None:  # noqa: ASYNC109
    """Wait until nothing is waiting in the inbox or the outbox (a lease of a killed worker
    runs out first)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with database.engine.connect() as connection:
            waiting = await connection.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
            )
            unhandled = await connection.scalar(
                select(func.count()).select_from(InboxRow).where(InboxRow.handled_at.is_(None))
            )
        if waiting == 0 and unhandled == 0:
            return
        if loop.time() >= deadline:
            raise AssertionError(f"{unhandled} updates unhandled, {waiting} messages unsent")
        await asyncio.sleep(0.2)


async def check_exactly_once(
    database: Database, tg: FakeTelegram, people: list[int], traffic: Traffic
) -> Counts:
    """Every update stored once and handled once (the conversation moved one step per
    message), every queued reply delivered in order per person. A reply that arrives twice
    in a row is counted as a duplicate (the window of a part accepted by Telegram just
    before its worker died, see bot.deliverer); the caller decides how many it allows."""
    await settle(database)
    async with database.engine.connect() as connection:
        stored = await connection.scalar(select(func.count()).select_from(InboxRow))
        handled = await connection.scalar(
            select(func.count()).select_from(InboxRow).where(InboxRow.handled_at.is_not(None))
        )
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
    duplicates = delivered = 0
    for chat_id in people:
        sent = [r.text or "" for r in tg.sent if r.chat_id == chat_id]
        deduplicated = [t for i, t in enumerate(sent) if i == 0 or t != sent[i - 1]]
        duplicates += len(sent) - len(deduplicated)
        delivered += len(deduplicated)
        assert deduplicated == expected[str(chat_id)], f"chat {chat_id}"  # all, in order
    counts = Counts(
        updates_sent=traffic.posted,
        updates_stored=stored or 0,
        updates_handled=handled or 0,
        replies_queued=len(outbox),
        replies_delivered=delivered,
        duplicates=duplicates,
    )
    assert traffic.done == set(people)
    said, last_step = traffic.script
    assert counts.updates_stored == counts.updates_handled == len(people) * len(said)
    assert counts.updates_sent >= counts.updates_stored
    assert counts.replies_delivered == counts.replies_queued
    # Handled once: every turn after consent is in the message log once ...
    assert sorted(logged.values()) == [len(said) - 1] * len(people)
    # ... and moved the conversation exactly one step: everyone is at the same question.
    async with database.unit_of_work() as store:
        for chat_id in people:
            found = await store.find_person_by_identity("telegram", str(chat_id))
            assert found is not None
            state = await store.get_conversation(found.id)
            assert isinstance(state, ConversationState) and state.step == last_step, chat_id
    return counts


def report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    """Print a result line in the test output, also without `-s`."""
    with capsys.disabled():
        print(f"\n{text}")
