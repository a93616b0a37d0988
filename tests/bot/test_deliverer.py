"""The deliverer against the fake Bot API server: every part of every message arrives once
and in order per chat, through 429s, an outage, a timeout after acceptance, a failing
second part and a blocked account; what cannot be sent stays visible as failed, and the
person behind it gets a ticket for the moderators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from bot.channels.telegram import TelegramChannel, build_bot, split_text
from bot.deliverer import Deliverer
from bot.inbox import Inbox
from bot.metrics import Metrics
from handlers.conversation import Conversations
from handlers.i18n import Texts
from handlers.taxonomy import Taxonomy
from handlers.ticket_reasons import PRIORITY
from storage.db import Database
from storage.models import IdentityRow, OutboxRow
from storage.records import Scope
from tests.channels.fake_telegram import FakeTelegram


@asynccontextmanager
async def running(deliverer: Deliverer) -> AsyncIterator[None]:
    """The deliverer's own loop, for as long as the block lasts."""
    task = asyncio.create_task(deliverer.run_forever(interval=0.05))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


TOKEN = "123456:TEST-token"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Wire:
    tg: FakeTelegram
    channel: TelegramChannel
    clock: Clock
    metrics: Metrics
    database: Database

    def deliverer(self, **options: object) -> Deliverer:
        settings: dict[str, object] = {"clock": self.clock, "rate": 0, "per_chat_rate": 0}
        return Deliverer(
            self.database.unit_of_work,
            self.channel,
            metrics=self.metrics,
            **{**settings, **options},  # type: ignore[arg-type]
        )

    def texts_to(self, chat_id: int) -> list[str]:
        return [r.text or "" for r in self.tg.sent if r.chat_id == chat_id]

    def sends(self, result: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "meedoen_sends_total", {"channel": "telegram", "result": result}
        )
        return value or 0.0


def inbox_for(database: Database, metrics: Metrics) -> Inbox:
    texts = Texts.load()
    conversations = Conversations(
        unit_of_work=database.unit_of_work, texts=texts, taxonomy=Taxonomy.load()
    )
    return Inbox(database.unit_of_work, conversations, texts, metrics=metrics)


@pytest.fixture
async def wire(database: Database) -> AsyncIterator[Wire]:
    async with FakeTelegram(token=TOKEN) as tg:
        bot = build_bot(token=TOKEN, base_url=tg.base_url, read_timeout=1.0)
        await bot.initialize()
        metrics = Metrics()
        try:
            channel = TelegramChannel(bot, inbox_for(database, metrics))
            yield Wire(tg, channel, Clock(), metrics, database)
        finally:
            await bot.shutdown()


async def queue(database: Database, chat_id: int, *texts: str, options: bool = False) -> None:
    async with database.unit_of_work() as store:
        for text in texts:
            buttons = [("1:pick:a", "A"), ("1:pick:b", "B")] if options else []
            await store.queue_reply("telegram", str(chat_id), text, buttons)


async def unsent(database: Database) -> list[tuple[str, int, str | None]]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(OutboxRow.text, OutboxRow.parts_sent, OutboxRow.last_error)
            .where(OutboxRow.sent_at.is_(None), OutboxRow.failed_at.is_(None))
            .order_by(OutboxRow.id)
        )
        return [(text, parts, error) for text, parts, error in rows]


async def deliver_until_done(wire: Wire, deliverer: Deliverer, *, step: timedelta) -> int:
    """Rounds at the fake clock's "now", moving it on by `step`, until nothing is left."""
    rounds = 0
    while await unsent(wire.database) and rounds < 500:
        await deliverer.deliver_pending()
        wire.clock.now += step
        rounds += 1
    return rounds


async def test_messages_with_buttons_go_out_in_order_and_are_marked_sent(wire: Wire) -> None:
    anna = wire.tg.user(4242, started=True)
    await queue(wire.database, anna.chat_id, "een", "twee")
    await queue(wire.database, anna.chat_id, "drie", options=True)

    await deliver_until_done(wire, wire.deliverer(), step=timedelta(seconds=1))

    assert wire.texts_to(anna.chat_id) == ["een", "twee", "drie"]
    assert anna.last().buttons == ["A", "B"]
    assert await unsent(wire.database) == []
    assert wire.sends("ok") == 3


async def test_a_429_is_waited_out_and_nothing_is_lost_or_reordered(wire: Wire) -> None:
    anna = wire.tg.user(4243, started=True)
    await queue(wire.database, anna.chat_id, "een", "twee", "drie")
    wire.tg.fail_next("sendMessage", 429, retry_after=1)
    deliverer = wire.deliverer(clock=lambda: datetime.now(UTC))  # real waiting here

    async with running(deliverer):
        await wire.tg.wait_for(
            lambda: len(wire.texts_to(anna.chat_id)) == 3, timeout=10, what="three messages"
        )

    refused = [c for c in wire.tg.calls_to("sendMessage") if c.status == 429]
    accepted = [c for c in wire.tg.calls_to("sendMessage") if c.status == 200]
    assert len(refused) == 1 and len(accepted) == 3
    assert accepted[0].at - refused[0].at >= 0.9  # waited as Telegram asked
    assert wire.texts_to(anna.chat_id) == ["een", "twee", "drie"]
    assert (wire.sends("429"), wire.sends("ok")) == (1, 3)


async def test_a_30_second_outage_delays_but_loses_nothing(wire: Wire) -> None:
    anna, bert = wire.tg.user(4244, started=True), wire.tg.user(4245, started=True)
    await queue(wire.database, anna.chat_id, "a1", "a2")
    await queue(wire.database, bert.chat_id, "b1")
    wire.tg.fail_next("sendMessage", 502, times=10_000)
    deliverer = wire.deliverer()

    while wire.clock.now < START + timedelta(seconds=30):  # Telegram answers 502 throughout
        await deliverer.deliver_pending()
        wire.clock.now += timedelta(seconds=1)
    failed_calls = len(wire.tg.calls_to("sendMessage"))
    wire.tg.clear_faults()
    await deliver_until_done(wire, deliverer, step=timedelta(seconds=5))

    assert failed_calls >= 6  # tried again and again, with growing pauses
    assert failed_calls < 60  # but not every second: backoff
    assert wire.texts_to(anna.chat_id) == ["a1", "a2"]
    assert wire.texts_to(bert.chat_id) == ["b1"]
    assert await unsent(wire.database) == []


async def test_a_timeout_after_acceptance_sends_that_part_again_once(wire: Wire) -> None:
    """The one window for a duplicate (see bot.deliverer): Telegram accepted the message but
    its answer came after our timeout. That message is sent again, once; the rest once."""
    anna = wire.tg.user(4246, started=True)
    await queue(wire.database, anna.chat_id, "een", "twee")
    wire.tg.answer_late("sendMessage", 2.0)  # longer than the bot's 1 s read timeout
    deliverer = wire.deliverer()

    await deliver_until_done(wire, deliverer, step=timedelta(minutes=1))

    assert wire.texts_to(anna.chat_id) == ["een", "een", "twee"]
    assert wire.sends("timeout") == 1
    assert await unsent(wire.database) == []


async def test_a_slow_answer_within_the_timeout_is_waited_for_not_repeated(wire: Wire) -> None:
    anna = wire.tg.user(4247, started=True)
    await queue(wire.database, anna.chat_id, "een", "twee")
    wire.tg.answer_late("sendMessage", 0.5)

    await deliver_until_done(wire, wire.deliverer(), step=timedelta(minutes=1))

    assert wire.texts_to(anna.chat_id) == ["een", "twee"]


async def test_a_long_message_whose_second_part_fails_sends_each_part_once(wire: Wire) -> None:
    anna = wire.tg.user(4248, started=True)
    text = "\n".join(f"regel {n}: {' '.join(['woord'] * 10)}" for n in range(600))
    pieces = split_text(text)
    assert len(pieces) >= 3
    await queue(wire.database, anna.chat_id, text, options=True)
    await queue(wire.database, anna.chat_id, "daarna")
    wire.tg.fail_next("sendMessage", 502, after=1)  # the first part goes, the second fails
    deliverer = wire.deliverer()

    await deliverer.deliver_pending()
    assert wire.texts_to(anna.chat_id) == pieces[:1]
    assert await unsent(wire.database) == [(text, 1, "Bad Gateway"), ("daarna", 0, None)]
    await deliver_until_done(wire, deliverer, step=timedelta(seconds=10))

    assert wire.texts_to(anna.chat_id) == [*pieces, "daarna"]
    sent = [r for r in wire.tg.sent if r.chat_id == anna.chat_id]
    assert sent[len(pieces) - 1].buttons == ["A", "B"]  # the buttons go with the last part
    assert not any(r.buttons for r in sent[: len(pieces) - 1])


async def test_a_blocked_account_is_unreachable_on_that_channel_only(wire: Wire) -> None:
    async with wire.database.unit_of_work() as store:
        person = await store.create_person_with_consent(
            channel="telegram",
            external_id="4249",
            username=None,
            language="nl",
            consent_version="test",
        )
    async with wire.database.engine.begin() as connection:
        await connection.execute(
            insert(IdentityRow).values(person_id=person.id, channel="terminal", external_id="a")
        )
    wire.tg.user(4249, started=True)
    wire.tg.block_user(4249)
    await queue(wire.database, 4249, "een", "twee")

    await wire.deliverer().deliver_pending()

    async with wire.database.unit_of_work() as store:
        after = await store.get_person(person.id)
        failed = await store.list_failed_outbox()
    assert after is not None and after.reachable  # still reachable in the terminal
    assert sorted((m.text, error) for m, error in failed) == [
        ("een", "blocked"),
        ("twee", "blocked"),
    ]
    assert wire.sends("403") == 1
    assert await unsent(wire.database) == []  # nothing waits for ever


async def test_a_message_that_cannot_be_sent_within_the_hour_stays_visible_as_failed(
    wire: Wire,
) -> None:
    anna = wire.tg.user(4250, started=True)
    await queue(wire.database, anna.chat_id, "een")
    wire.tg.fail_next("sendMessage", 502, times=10_000)
    deliverer = wire.deliverer(retry_for=timedelta(hours=1))
    wire.clock.now = datetime.now(UTC)  # the message's age counts from its creation

    started = wire.clock.now
    await deliver_until_done(wire, deliverer, step=timedelta(minutes=1))

    async with wire.database.unit_of_work() as store:
        [(message, error)] = await store.list_failed_outbox()
    assert (message.text, error) == ("een", "Bad Gateway")
    assert wire.clock.now - started > timedelta(hours=1)  # tried for an hour, then given up
    assert 10 <= message.attempts < 60
    assert wire.texts_to(anna.chat_id) == []


async def test_a_message_given_up_opens_a_ticket_for_the_person_behind_the_chat(
    wire: Wire,
) -> None:
    async with wire.database.unit_of_work() as store:
        person = await store.create_person_with_consent(
            channel="telegram",
            external_id="4251",
            username=None,
            language="nl",
            consent_version="test",
        )
        await store.queue_message(person.id, "een")
    wire.tg.user(4251, started=True)
    stranger = wire.tg.user(4252, started=True)
    await queue(wire.database, stranger.chat_id, "twee")  # a chat without a known person
    wire.tg.fail_next("sendMessage", 400, description="Bad Request: chat not found", times=2)

    await wire.deliverer().deliver_pending()

    async with wire.database.unit_of_work() as store:
        failed = await store.list_failed_outbox()
        ticket = await store.get_active_ticket(person.id)
        waiting = await store.list_tickets(Scope(None))
    assert sorted(m.text for m, _ in failed) == ["een", "twee"]
    assert ticket is not None
    assert (ticket.reason, ticket.priority) == ("undeliverable", PRIORITY["undeliverable"])
    assert [t.person_id for t in waiting] == [person.id]  # none for the unknown chat


async def test_a_group_chat_is_paced_to_its_messages_a_minute_and_others_are_not(
    wire: Wire,
) -> None:
    group = wire.tg.user(-100_4242, first_name="Buurtgroep", started=True)
    anna = wire.tg.user(4250, started=True)
    await queue(wire.database, group.chat_id, "een", "twee", "drie")
    await queue(wire.database, anna.chat_id, "een", "twee", "drie")
    # 120 a minute: one every half second in the group; no pacing per private chat here.
    deliverer = wire.deliverer(clock=lambda: datetime.now(UTC), group_per_minute=120)

    loop = asyncio.get_running_loop()
    started = loop.time()
    async with running(deliverer):
        await wire.tg.wait_for(
            lambda: len(wire.texts_to(anna.chat_id)) == 3, timeout=10, what="anna's three"
        )
        in_group_then = len(wire.texts_to(group.chat_id))
        await wire.tg.wait_for(
            lambda: len(wire.texts_to(group.chat_id)) == 3, timeout=10, what="the group's three"
        )
        group_took = loop.time() - started

    assert in_group_then < 3  # the private chat did not wait for the group
    assert group_took >= 0.9  # three in a group: at 0 s, 0.5 s and 1 s
    assert wire.texts_to(group.chat_id) == ["een", "twee", "drie"]
    assert await unsent(wire.database) == []


async def test_never_more_than_the_limit_reach_the_platform_in_one_second(wire: Wire) -> None:
    chats = [wire.tg.user(4300 + n, started=True).chat_id for n in range(8)]
    for chat_id in chats:
        await queue(wire.database, chat_id, "een")
    wire.tg.answer_late("sendMessage", 0.2, times=3)  # slow answers: the window waits for them
    # The schedule alone would send 50 a second; the limit allows 3 in any second.
    deliverer = wire.deliverer(clock=lambda: datetime.now(UTC), rate=50, limit=3)

    async with running(deliverer):
        await wire.tg.wait_for(
            lambda: all(wire.texts_to(c) == ["een"] for c in chats), timeout=10, what="all eight"
        )

    arrived = sorted(c.at for c in wire.tg.calls_to("sendMessage"))
    assert len(arrived) == 8
    assert all(later - earlier >= 1.0 for earlier, later in zip(arrived, arrived[3:], strict=False))
    assert arrived[-1] - arrived[0] >= 2.0  # 8 at 3 a second


async def test_a_chat_s_next_send_waits_a_second_from_its_last_even_when_the_queue_empties(
    wire: Wire,
) -> None:
    others = [wire.tg.user(4320 + n, started=True).chat_id for n in range(9)]
    anna = wire.tg.user(4319, started=True)
    for chat_id in others:
        await queue(wire.database, chat_id, "een")
    await queue(wire.database, anna.chat_id, "een", "twee")
    # Anna's first message waits behind the nine others (10 a second); her second then finds
    # nobody waiting, and must still keep a second from her first.
    deliverer = wire.deliverer(
        clock=lambda: datetime.now(UTC), rate=10, limit=10, per_chat_rate=1
    )

    async with running(deliverer):
        await wire.tg.wait_for(
            lambda: len(wire.texts_to(anna.chat_id)) == 2, timeout=10, what="anna's two"
        )

    sends = wire.tg.calls_to("sendMessage")
    to_anna = [c.at for c in sends if int(c.params["chat_id"]) == anna.chat_id]
    assert len(to_anna) == 2
    assert to_anna[1] - to_anna[0] >= 1.0
    assert wire.texts_to(anna.chat_id) == ["een", "twee"]


async def test_sends_already_waiting_for_their_turn_keep_still_during_a_429_pause(
    wire: Wire,
) -> None:
    chats = [wire.tg.user(4340 + n, started=True).chat_id for n in range(4)]
    for chat_id in chats:
        await queue(wire.database, chat_id, "een")
    wire.tg.fail_next("sendMessage", 429, retry_after=1)
    # Two a second: the others wait for their turn when the first is refused.
    deliverer = wire.deliverer(clock=lambda: datetime.now(UTC), rate=2, limit=2)

    async with running(deliverer):
        await wire.tg.wait_for(
            lambda: all(wire.texts_to(c) == ["een"] for c in chats), timeout=10, what="all four"
        )

    calls = wire.tg.calls_to("sendMessage")
    refused = [c.at for c in calls if c.status == 429]
    accepted = [c.at for c in calls if c.status == 200]
    assert len(refused) == 1 and len(accepted) == 4
    assert all(at - refused[0] >= 0.9 for at in accepted)  # none went during the pause


async def test_chats_without_a_recent_send_are_forgotten_by_the_pacer() -> None:
    from bot.deliverer import MAX_CHATS_PACED, Pacer

    pacer = Pacer(rate=0, limit=0, chat_period=0.001, group_period=60.0)
    async with pacer.slot("-100"):  # a group: its next send is a minute away, so it is kept
        pass
    for n in range(MAX_CHATS_PACED - 1):  # then it remembers as many as it may
        async with pacer.slot(str(n)):
            pass
    await asyncio.sleep(0.05)  # those chats are quiet again
    async with pacer.slot("new"):
        pass
    assert set(pacer._chat_last) == {"-100", "new"}
