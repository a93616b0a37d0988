"""One way out: sends the outbox of one platform channel, in order per chat, within limits.

Each round claims the oldest unsent message of chats that have nothing in flight (a lease in
the database, so across workers one chat never has two messages in flight) and sends each
claimed message in a task of its own. A message's parts go one by one; after each part the
platform accepted, that is committed at once (`record_part_sent`), so a part is never sent
again and the message counts as sent right after its last part was accepted.

Failures: 429 waits `retry_after` (for the whole channel: Telegram's flood control is per
bot); 5xx, timeouts and lost connections are tried again with exponential backoff and jitter
for `retry_for` (an hour by default), then the message is given up; 403 (blocked) marks that
account unreachable; any other refusal gives the message up. A message given up is kept,
with its error, for the moderators' view (`list_failed_outbox`), and the chat's next message
goes on. When a person is behind the chat, giving up also opens a ticket (`undeliverable`)
in the same transaction, so the moderators learn that the bot cannot reach them.

The one window for a duplicate: the platform accepted a part, and the process died (or the
database was lost) before `record_part_sent` committed; or the platform accepted a part but
its answer never reached us (a timeout after acceptance). Then that part is sent again once
the lease ends. The platform offers no idempotency key that would close it.

Pacing (`Pacer`): `rate` sends a second overall on a fixed schedule, and never more than
`limit` in any one second; one a second per chat, and `group_per_minute` a minute per group
chat (Telegram's groups have negative chat ids). The gaps are counted from when the earlier
send was answered, so they hold where the platform counts, however the requests travel.
After a 429 nothing starts before the pause is over, also no send that was already waiting.
Only chats with a recent send are remembered, so memory stays bounded.

Recording: sends finish in many tasks at once; their records are committed together (one
transaction for all that finished while the previous commit ran, each still with its own
`record_part_sent`), and that transaction claims the next message of every chat whose
message was done. A record is still committed before the chat's next message goes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import random
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.metrics import Metrics
from bot.scheduler import Clock, UnitOfWork
from handlers.ticket_reasons import PRIORITY
from storage.outbox import HELD, LEASE
from storage.records import Outgoing
from storage.store import Store
from storage.verbs import utcnow

log = logging.getLogger(__name__)


RETRY_FOR = timedelta(hours=1)
FIRST_BACKOFF = 1.0  # seconds; doubled per attempt, with jitter
MAX_BACKOFF = 300.0
MAX_CHATS_PACED = 10_000  # chats remembered for their last send; quiet ones are dropped
CATCH_UP = 0.1  # seconds of a late schedule made up at once (a short burst at most)
HAND_BACK_AFTER = 5.0  # seconds: a longer 429 pause lets go of the message and its lease


class DeliveryError(Exception):
    """A part was not sent. `result` names it for the metrics."""

    result = "5xx"


class Transient(DeliveryError):
    """5xx, a timeout, a lost connection: try again later."""


class TimedOut(Transient):
    result = "timeout"


class RateLimited(DeliveryError):
    result = "429"

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}")
        self.retry_after = retry_after


class Blocked(DeliveryError):
    """The person blocked the bot on this account."""

    result = "403"


class Rejected(DeliveryError):
    """The platform refuses this message for good (a bad request)."""

    result = "rejected"


class Held(DeliveryError):
    """The message may not go yet (WhatsApp's 24-hour window closed; a template asked the
    person to write): keep it, unsent, until `until` or until they write again."""

    result = "held"

    def __init__(self, until: timedelta) -> None:
        super().__init__("held until the person writes")
        self.until = until


class Paused(Exception):
    """The platform asked to wait longer than `HAND_BACK_AFTER`: give the message back."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"paused for {seconds:.1f} s")
        self.seconds = seconds


class Transport(Protocol):
    """A platform's way of sending: how many parts a message has, and sending one."""

    channel: str

    def parts(self, message: Outgoing) -> int: ...

    async def send_part(self, message: Outgoing, index: int) -> str | None:
        """Send one part; returns the platform's id for it when it gives one."""
        ...


def is_group_chat(external_id: str) -> bool:
    """Telegram's group and channel chats have negative ids (WhatsApp ids never do)."""
    return external_id.startswith("-")


def backoff(attempts: int, *, first: float = FIRST_BACKOFF, cap: float = MAX_BACKOFF) -> float:
    """Seconds before the next try after `attempts` failures: doubling, capped, jittered."""
    delay: float = min(cap, first * 2.0 ** max(0, attempts))
    return delay * random.uniform(0.5, 1.5)


class Pacer:
    """When a send may start (loop time). `slot(chat)` waits for the send's turn; the send
    goes inside it, and the moment it was answered counts for the gaps that follow.

    * overall: `rate` a second on a fixed schedule; a turn taken late (the event loop was
      busy) does not push the schedule back, though at most `CATCH_UP` seconds are made up;
    * never more than `limit` (0: no such limit) in any one second: a send starts at least a
      second after the send `limit` turns before it was answered. A request arrives between
      its start and its answer, so the platform never sees more than `limit` within a
      second, whatever delays the requests had on their way;
    * per chat: a send starts at least `chat_period` (groups: `group_period`) after the
      chat's previous send was answered;
    * `pause(seconds)` (a 429): no turn is given before it is over; a turn that would wait
      more than `HAND_BACK_AFTER` seconds raises `Paused`.
    """

    def __init__(
        self, *, rate: float, limit: int, chat_period: float, group_period: float
    ) -> None:
        self._interval = 1 / rate if rate > 0 else 0.0
        self._limit = limit
        self._chat_period = chat_period
        self._group_period = max(chat_period, group_period)
        self._next = -math.inf  # the schedule's next turn
        self._turn = asyncio.Lock()  # turns are given in order of asking
        self._answered: collections.deque[asyncio.Future[float]] = collections.deque()
        self._chat_last: dict[str, float] = {}
        self.paused_until = -math.inf

    def pause(self, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + seconds
        self.paused_until = max(self.paused_until, until)

    def period(self, chat: str) -> float:
        return self._group_period if is_group_chat(chat) else self._chat_period

    @contextlib.asynccontextmanager
    async def slot(self, chat: str) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        chat_ready = self._chat_last.get(chat, -math.inf) + self.period(chat)
        await self._sleep_until(chat_ready)  # outside the queue: other chats go meanwhile
        async with self._turn:
            await self._wait_turn(chat_ready)
            answered: asyncio.Future[float] = loop.create_future()
            if self._limit:
                self._answered.append(answered)
                if len(self._answered) > self._limit:
                    self._answered.popleft()
        try:
            yield
        finally:
            now = loop.time()
            answered.set_result(now)
            self._remember(chat, now)

    async def _sleep_until(self, at: float) -> None:
        loop = asyncio.get_running_loop()
        wait = self._pause_check(at) - loop.time()
        while wait > 0:  # again: a 429 meanwhile may have made the pause longer
            await asyncio.sleep(wait)
            wait = self._pause_check(at) - loop.time()

    def _pause_check(self, at: float) -> float:
        now = asyncio.get_running_loop().time()
        if self.paused_until - now > HAND_BACK_AFTER:
            raise Paused(self.paused_until - now)
        return max(at, self.paused_until)

    async def _wait_turn(self, chat_ready: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            window = -math.inf
            if self._limit and len(self._answered) >= self._limit:
                oldest = self._answered[0]
                if not oldest.done():
                    await asyncio.wait({oldest})  # (waiting on it directly would cancel it)
                    continue
                window = oldest.result() + 1.0
            now = loop.time()
            scheduled = max(self._next, now - CATCH_UP)
            at = self._pause_check(max(window, scheduled, chat_ready))
            if at <= now:
                self._next = scheduled + self._interval
                return
            await asyncio.sleep(at - now)

    def _remember(self, chat: str, now: float) -> None:
        if len(self._chat_last) >= MAX_CHATS_PACED:
            quiet = [k for k, last in self._chat_last.items() if now - last >= self.period(k)]
            for key in quiet:
                del self._chat_last[key]
        if self._chat_period or is_group_chat(chat):
            self._chat_last[chat] = now


class Deliverer:
    def __init__(
        self,
        unit_of_work: UnitOfWork,
        transport: Transport,
        *,
        metrics: Metrics,
        clock: Clock = utcnow,
        rate: float = 30.0,
        limit: int = 0,
        per_chat_rate: float = 1.0,
        group_per_minute: float = 20.0,
        in_flight: int = 64,
        retry_for: timedelta = RETRY_FOR,
    ) -> None:
        self.channel = transport.channel
        self._unit_of_work = unit_of_work
        self._transport = transport
        self._metrics = metrics
        self._clock = clock
        self._retry_for = retry_for
        self._capacity = in_flight
        self._pacer = Pacer(
            rate=rate,
            limit=limit,
            chat_period=1 / per_chat_rate if per_chat_rate > 0 else 0.0,
            group_period=60 / group_per_minute if group_per_minute > 0 else 0.0,
        )
        self._to_record: list[
            tuple[Outgoing, int, bool, str | None, asyncio.Future[Outgoing | None]]
        ] = []
        self._recorder: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def deliver_pending(self) -> int:
        """Claim what may go now and send it; waits for those sends. Returns how many
        messages were claimed (tests and the terminal-like callers)."""
        claimed = await self._claim(self._capacity)
        await asyncio.gather(*(self._deliver(message) for message in claimed))
        return len(claimed)

    async def run_forever(self, interval: float = 1.0) -> None:
        """Deliver whenever woken (a reply was queued, a send finished), and every
        `interval` seconds anyway, until cancelled."""
        log.info("delivery on %s started", self.channel)
        try:
            while True:
                self._wake.clear()
                try:
                    await self._start_round()
                except Exception:
                    log.exception("delivery on %s could not claim messages", self.channel)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(interval):
                        await self._wake.wait()
        finally:
            if self._tasks:  # let sends under way finish briefly, so no part goes twice
                await asyncio.wait(self._tasks, timeout=5)
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._recorder is not None:
                await asyncio.gather(self._recorder, return_exceptions=True)
            log.info("delivery on %s stopped", self.channel)

    async def _start_round(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._pacer.paused_until:
            return
        free = self._capacity - len(self._tasks)
        if free <= 0:
            return
        for message in await self._claim(free):
            task = asyncio.create_task(self._deliver(message))
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a delivery task failed", exc_info=task.exception())
        self._wake.set()

    async def _claim(self, limit: int) -> list[Outgoing]:
        async with self._unit_of_work() as store:
            return await store.claim_deliveries(
                self.channel, now=self._clock(), limit=limit, lease=LEASE
            )

    async def _deliver(self, first: Outgoing) -> None:
        """Send a chat's message, then its next ones while they are ready: the commit that
        records a message as sent also claims the chat's next one."""
        message: Outgoing | None = first
        while message is not None:
            message = await self._deliver_one(message)

    async def _deliver_one(self, message: Outgoing) -> Outgoing | None:
        total = self._transport.parts(message)
        for index in range(message.parts_sent, total):
            try:
                async with self._pacer.slot(message.external_id):
                    platform_id = await self._transport.send_part(message, index)
            except Paused as pause:  # a long 429 pause: let go of the message and its lease
                await self._hand_back(message, pause.seconds)
                return None
            except DeliveryError as error:
                self._metrics.sends.labels(self.channel, error.result).inc()
                await self._failed(message, error)
                return None
            except Exception as error:  # unexpected: treat as passing trouble
                log.exception("sending message %d on %s failed", message.id, self.channel)
                self._metrics.sends.labels(self.channel, "5xx").inc()
                await self._failed(message, Transient(repr(error)))
                return None
            self._metrics.sends.labels(self.channel, "ok").inc()
            last = index + 1 == total
            following = await self._record(message, index + 1, done=last, platform_id=platform_id)
            if last:
                return following
        return None

    async def _record(
        self, message: Outgoing, parts: int, *, done: bool, platform_id: str | None = None
    ) -> Outgoing | None:
        """Commit an accepted part (with the records of other sends that finished meanwhile);
        with the last part, the chat's next message is claimed in the same transaction.
        `platform_id`: the platform's id for that part, for its status reports later."""
        waiter: asyncio.Future[Outgoing | None] = asyncio.get_running_loop().create_future()
        self._to_record.append((message, parts, done, platform_id, waiter))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_waiting())
        return await waiter

    async def _record_waiting(self) -> None:
        while self._to_record:
            batch, self._to_record = self._to_record, []
            following = await self._record_batch(batch)
            for message, _parts, _done, _platform_id, waiter in batch:
                if not waiter.done():
                    waiter.set_result(following.get(message.id))

    async def _record_batch(
        self, batch: Sequence[tuple[Outgoing, int, bool, str | None, object]]
    ) -> dict[int, Outgoing]:
        """One transaction for the batch (keep trying if the database is briefly gone);
        returns the next message claimed for each message that was done."""
        for attempt in range(8):
            try:
                async with self._unit_of_work() as store:
                    for message, parts, done, platform_id, _waiter in batch:
                        await store.record_part_sent(
                            message.id, parts, done=done, platform_id=platform_id
                        )
                    done_chats = {m.external_id: m.id for m, _p, done, _i, _w in batch if done}
                    if not done_chats:
                        return {}
                    following = await store.claim_deliveries(
                        self.channel,
                        now=self._clock(),
                        limit=len(done_chats),
                        lease=LEASE,
                        external_ids=list(done_chats),
                    )
                return {done_chats[m.external_id]: m for m in following}
            except Exception:
                ids = ", ".join(str(message.id) for message, *_rest in batch)
                log.warning("could not record messages %s as sent; trying again", ids)
                await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
        for message, *_rest in batch:
            log.error("message %d was sent but could not be recorded", message.id)
        return {}

    async def _hand_back(self, message: Outgoing, seconds: float) -> None:
        async with self._unit_of_work() as store:
            at = self._clock() + timedelta(seconds=seconds)
            await store.retry_delivery(message.id, at=at, error="paused", count_attempt=False)

    async def _failed(self, message: Outgoing, error: DeliveryError) -> None:
        now = self._clock()
        reason = str(error) or type(error).__name__
        if isinstance(error, RateLimited):
            self._pacer.pause(error.retry_after)  # at once: not after the commit below
        async with self._unit_of_work() as store:
            if isinstance(error, RateLimited):
                at = now + timedelta(seconds=error.retry_after)
                await store.retry_delivery(message.id, at=at, error=reason, count_attempt=False)
                log.warning("%s asks to wait %s s", self.channel, error.retry_after)
            elif isinstance(error, Held):
                at = now + error.until
                await store.retry_delivery(message.id, at=at, error=HELD, count_attempt=False)
                log.info("message %d on %s held until the person writes", message.id, self.channel)
            elif isinstance(error, Blocked):
                await store.mark_account_unreachable(self.channel, message.external_id)
                await self._give_up(store, message, now=now, error="blocked")
                log.info("a person blocked the bot on %s; marked unreachable", self.channel)
            elif isinstance(error, Rejected):
                await self._give_up(store, message, now=now, error=reason)
                log.error("message %d refused on %s: %s", message.id, self.channel, reason)
            elif message.created_at is not None and now - message.created_at > self._retry_for:
                await self._give_up(store, message, now=now, error=reason)
                log.error("message %d on %s given up: %s", message.id, self.channel, reason)
            else:
                at = now + timedelta(seconds=backoff(message.attempts))
                await store.retry_delivery(message.id, at=at, error=reason)
                log.warning(
                    "message %d on %s not sent (%s); trying again at %s",
                    message.id,
                    self.channel,
                    reason,
                    at.isoformat(timespec="seconds"),
                )

    async def _give_up(
        self, store: Store, message: Outgoing, *, now: datetime, error: str
    ) -> None:
        """Give the message up for good; a person behind the chat gets a ticket."""
        person_id = await store.fail_delivery(message.id, now=now, error=error)
        if person_id is None:
            return  # a chat without a person (a group), or one nobody knows
        ticket, created = await store.open_ticket(
            person_id, reason="undeliverable", priority=PRIORITY["undeliverable"], now=now
        )
        if created:
            log.info("ticket %s opened (undeliverable)", ticket.id)

