"""Outbox delivery: each message is sent once, failures are tried again up to the limit, one
person's messages keep their order; the terminal's way (platforms: tests/bot/test_deliverer.py)."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.terminal import OUTBOX_HEADER, chat
from bot.delivery import OutboxDelivery, to_reply
from handlers.messages import Option, Reply
from storage.db import Database
from storage.jobs import MAX_OUTBOX_ATTEMPTS
from storage.models import OutboxRow
from storage.records import Identity, OutboxMessage
from tests.harness import add_person

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeSend:
    """Records what it was asked to send; fails for the texts in `failing`."""

    def __init__(self, *, failing: set[str] | None = None, raising: set[str] | None = None):
        self.calls: list[tuple[Identity, Reply]] = []
        self.failing = failing or set()
        self.raising = raising or set()
        self.called = asyncio.Event()

    async def __call__(self, identity: Identity, reply: Reply) -> bool:
        self.calls.append((identity, reply))
        self.called.set()
        if reply.text in self.raising:
            raise ConnectionError("network down")
        return reply.text not in self.failing

    @property
    def texts(self) -> list[str]:
        return [reply.text for _, reply in self.calls]


async def queue(
    database: Database, person_id: int, text: str, options: tuple[tuple[str, str], ...] = ()
) -> int:
    async with database.unit_of_work() as store:
        return await store.queue_message(person_id, text, options)


async def pending_count(database: Database, person_id: int | None = None) -> int:
    async with database.unit_of_work() as store:
        return await store.count_pending_outbox(person_id)


async def attempts_of(database: Database, message_id: int) -> int:
    async with database.engine.connect() as connection:
        value = await connection.scalar(
            select(OutboxRow.attempts).where(OutboxRow.id == message_id)
        )
        return int(value or 0)


def test_an_outbox_message_becomes_a_reply_with_buttons() -> None:
    message = OutboxMessage(1, 2, "Doe je mee?", (("yes", "Ja"), ("no", "Nee")))
    assert to_reply(message) == Reply(
        "Doe je mee?", options=(Option("yes", "Ja"), Option("no", "Nee"))
    )


async def test_a_message_is_delivered_once(database: Database) -> None:
    anna = await add_person(database)
    await queue(database, anna, "Bert wil kennismaken", (("intro:7:yes", "Ja, leuk"),))
    await queue(database, anna, "Tot zaterdag!")
    send = FakeSend()
    delivery = OutboxDelivery(database.unit_of_work, "telegram", send)

    assert await delivery.deliver_pending(NOW) == 2
    assert await delivery.deliver_pending(NOW + timedelta(seconds=2)) == 0

    assert send.calls == [
        (
            Identity("telegram", "101"),
            Reply("Bert wil kennismaken", options=(Option("intro:7:yes", "Ja, leuk"),)),
        ),
        (Identity("telegram", "101"), Reply("Tot zaterdag!")),
    ]
    assert await pending_count(database) == 0


async def test_a_failed_message_is_tried_again(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    anna = await add_person(database)
    bert = await add_person(database, "102")
    failing = await queue(database, anna, "eerst niet")
    await queue(database, bert, "voor Bert")
    raising = await queue(database, bert, "storing")
    send = FakeSend(failing={"eerst niet"}, raising={"storing"})
    delivery = OutboxDelivery(database.unit_of_work, "telegram", send)

    with caplog.at_level(logging.WARNING, logger="bot.delivery"):
        assert await delivery.deliver_pending(NOW) == 1
    assert send.texts == ["eerst niet", "voor Bert", "storing"]
    assert any(r.exc_info for r in caplog.records)  # the exception was logged
    assert await pending_count(database) == 2
    assert await attempts_of(database, failing) == 1
    assert await attempts_of(database, raising) == 1

    send.failing.clear()
    send.raising.clear()
    assert await delivery.deliver_pending(NOW + timedelta(seconds=2)) == 2
    assert send.texts[3:] == ["eerst niet", "storing"]
    assert await pending_count(database) == 0


async def test_a_message_that_keeps_failing_stops_after_the_attempt_limit(
    database: Database,
) -> None:
    anna = await add_person(database)
    message_id = await queue(database, anna, "komt niet aan")
    send = FakeSend(failing={"komt niet aan"})
    delivery = OutboxDelivery(database.unit_of_work, "telegram", send)

    for round_ in range(MAX_OUTBOX_ATTEMPTS + 3):
        assert await delivery.deliver_pending(NOW + timedelta(seconds=round_)) == 0

    assert len(send.calls) == MAX_OUTBOX_ATTEMPTS
    assert await attempts_of(database, message_id) == MAX_OUTBOX_ATTEMPTS
    assert await pending_count(database, anna) == 0


async def test_one_persons_messages_keep_their_order(database: Database) -> None:
    anna = await add_person(database)
    bert = await add_person(database, "102")
    await queue(database, anna, "een")
    second = await queue(database, anna, "twee")
    await queue(database, bert, "voor Bert")
    send = FakeSend(failing={"een"})
    delivery = OutboxDelivery(database.unit_of_work, "telegram", send)

    assert await delivery.deliver_pending(NOW) == 1
    assert send.texts == ["een", "voor Bert"]  # "twee" waits for "een"
    assert await attempts_of(database, second) == 0

    send.failing.clear()
    assert await delivery.deliver_pending(NOW + timedelta(seconds=2)) == 2
    assert send.texts[2:] == ["een", "twee"]


async def test_two_deliverers_at_once_send_each_message_once(database: Database) -> None:
    people = [await add_person(database, str(300 + n)) for n in range(3)]
    queued = [await queue(database, p, f"bericht {p}-{n}") for n in range(4) for p in people]
    send = FakeSend()
    one = OutboxDelivery(database.unit_of_work, "telegram", send, batch_size=5)
    two = OutboxDelivery(database.unit_of_work, "telegram", send, batch_size=5)

    sent = 0
    while await pending_count(database):
        sent += sum(await asyncio.gather(one.deliver_pending(NOW), two.deliver_pending(NOW)))

    assert sent == len(queued) == len(send.calls)
    assert len(set(send.texts)) == len(queued)


async def test_a_cancelled_round_hands_back_what_it_did_not_send(database: Database) -> None:
    anna = await add_person(database)
    first = await queue(database, anna, "een")
    second = await queue(database, anna, "twee")
    entered = asyncio.Event()
    never = asyncio.Event()

    async def stuck(identity: Identity, reply: Reply) -> bool:
        entered.set()
        await never.wait()
        return True

    delivery = OutboxDelivery(database.unit_of_work, "telegram", stuck)
    task = asyncio.create_task(delivery.deliver_pending(NOW))
    await asyncio.wait_for(entered.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await pending_count(database, anna) == 2
    assert [await attempts_of(database, m) for m in (first, second)] == [0, 0]


async def test_run_forever_delivers_when_woken(database: Database) -> None:
    anna = await add_person(database)
    send = FakeSend()
    delivery = OutboxDelivery(database.unit_of_work, "telegram", send, clock=lambda: NOW)
    task = asyncio.create_task(delivery.run_forever(interval=3600))
    try:
        await queue(database, anna, "wakker worden")
        delivery.wake()
        await asyncio.wait_for(send.called.wait(), timeout=10)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert send.texts == ["wakker worden"]
    assert await pending_count(database) == 0


async def test_the_terminal_shows_outbox_messages_before_the_answer(app: App) -> None:
    anna = await add_person(app.database, "anna", channel="terminal")
    bert = await add_person(app.database, "bert", channel="terminal")
    await queue(app.database, anna, "Bert wil kennismaken", (("intro:1:yes", "Ja"),))
    await queue(app.database, bert, "voor Bert")
    stdout = io.StringIO()

    await chat(
        app.conversations,
        name="Anna",
        stdin=io.StringIO(""),
        stdout=stdout,
        unit_of_work=app.database.unit_of_work,
    )

    shown = stdout.getvalue()
    assert f"{OUTBOX_HEADER}\nBert wil kennismaken\n  [1] Ja" in shown
    answer = shown.split("[1] Ja", 1)[1]
    assert answer.strip(), "the answer to the greeting follows the outbox message"
    assert "voor Bert" not in shown
    assert await pending_count(app.database, anna) == 0
    assert await pending_count(app.database, bert) == 1


async def test_the_terminal_without_a_unit_of_work_leaves_the_outbox(app: App) -> None:
    anna = await add_person(app.database, "anna", channel="terminal")
    await queue(app.database, anna, "Bert wil kennismaken")
    stdout = io.StringIO()
    await chat(app.conversations, name="Anna", stdin=io.StringIO(""), stdout=stdout)
    assert OUTBOX_HEADER not in stdout.getvalue()
    assert await pending_count(app.database, anna) == 1
