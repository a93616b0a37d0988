"""One way in: platform updates are stored raw, then handled from the inbox.

A channel hands every update to `Inbox.receive`, which commits it under its unique (channel,
update id) before the channel acknowledges it to the platform. `Inbox.run_forever` then
handles the inbox one sender at a time, in arrival order, different senders concurrently,
also across workers (a sender is held by a database lock for the transaction). Each update is
handled in one transaction that also writes every reply to the outbox and marks the update
handled, so a crash at any point either leaves it unhandled (handled again after the restart)
or handled with its replies queued: never half.

The turn's replies are merged into as few messages as fit, since every message counts
against the platform's limits. A person who sends more than `THROTTLE_PER_MINUTE` updates
a minute is told once to slow down, and their further updates that minute are set aside.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.metrics import Metrics
from bot.scheduler import Clock, UnitOfWork
from handlers.conversation import Conversations
from handlers.i18n import Texts, pick_language
from handlers.messages import Inbound, Reply
from storage.outbox import MASK_WHEN_SENT
from storage.records import InboxUpdate
from storage.store import Store
from storage.verbs import utcnow

log = logging.getLogger(__name__)

THROTTLE_PER_MINUTE = 20
MAX_HANDLING_ATTEMPTS = 3
MERGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Incoming:
    """A stored update as the conversation sees it, plus what the channel needs to answer."""

    inbound: Inbound
    hints: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Draft:
    """One outbox row to write: text, buttons, and channel hints (`extra`)."""

    text: str
    options: tuple[tuple[str, str], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    introduction_id: int | None = None
    about: tuple[int, ...] = ()


class Reader(Protocol):
    """What a channel tells the inbox: how to read its raw updates and write its replies."""

    max_text: int

    def read(self, payload: Mapping[str, Any]) -> Incoming | None: ...

    def drafts(self, incoming: Incoming, replies: Sequence[Reply]) -> list[Draft]: ...


def merge_replies(
    replies: Iterable[Reply], limit: int, *, keep_first_apart: bool = False
) -> list[Reply]:
    """A turn's replies as few messages as fit: "Genoteerd." and the next question become one.

    Only a reply without buttons is merged into the next one; the merged message carries the
    union of the people it names. `keep_first_apart` leaves the first reply a message of its
    own (it takes away a "share my location" keyboard, which a message with buttons cannot).
    """
    merged: list[Reply] = []
    for index, reply in enumerate(replies):
        if index == 1 and keep_first_apart:
            pass
        elif merged and _mergeable(merged[-1], reply, limit):
            first = merged.pop()
            reply = Reply(
                first.text + MERGE_SEPARATOR + reply.text,
                options=reply.options,
                request_location=reply.request_location,
                columns=reply.columns,
                about=tuple(sorted({*first.about, *reply.about})),
                introduction_id=first.introduction_id or reply.introduction_id,
                secret=first.secret or reply.secret,
            )
        merged.append(reply)
    return merged


def _mergeable(first: Reply, second: Reply, limit: int) -> bool:
    return (
        not first.options
        and first.request_location is None
        and not first.edit_in_place
        and not second.edit_in_place
        and first.to_person is None
        and second.to_person is None
        and (
            first.introduction_id is None
            or second.introduction_id is None
            or first.introduction_id == second.introduction_id
        )
        and len(first.text) + len(MERGE_SEPARATOR) + len(second.text) <= limit
    )


def reply_drafts(replies: Sequence[Reply], extra: Mapping[str, Any] | None = None) -> list[Draft]:
    """Replies as plain outbox drafts (a channel that needs nothing special)."""
    drafts = []
    for reply in replies:
        hints: dict[str, Any] = dict(extra or {})
        if reply.request_location:
            hints["location"] = reply.request_location
        if reply.columns != 1:
            hints["columns"] = reply.columns
        if reply.secret:
            hints[MASK_WHEN_SENT] = True
        drafts.append(
            Draft(
                reply.text,
                tuple((o.key, o.label) for o in reply.options),
                hints,
                reply.introduction_id,
                reply.about,
            )
        )
    return drafts


class Throttle:
    """Counts each sender's updates over the last minute, in this worker's memory; old
    senders are swept out, so it stays as small as the number of people writing now."""

    def __init__(self, per_minute: int = THROTTLE_PER_MINUTE) -> None:
        self._per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}
        self._swept = time.monotonic()

    def check(self, key: str) -> str:
        """Count one update of `key`: "ok" to handle it, "warn" the first time over the
        limit (say so kindly), "drop" after that (within the minute)."""
        if self._per_minute <= 0:
            return "ok"
        count = self._count(key)
        if count <= self._per_minute:
            return "ok"
        return "warn" if count == self._per_minute + 1 else "drop"

    def _count(self, key: str) -> int:
        now = time.monotonic()
        if now - self._swept > 60:
            self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] < 60}
            self._swept = now
        seen = self._seen.setdefault(key, deque())
        while seen and now - seen[0] >= 60:
            seen.popleft()
        seen.append(now)
        return len(seen)


class Inbox:
    """Stores updates (`receive`) and handles them (`run_forever` / `handle_pending`)."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        conversations: Conversations,
        texts: Texts,
        *,
        metrics: Metrics,
        clock: Clock = utcnow,
        deadline: float = 30.0,
        concurrency: int = 8,
        throttle: Throttle | None = None,
        merge: bool = True,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._conversations = conversations
        self._texts = texts
        self._metrics = metrics
        self._clock = clock
        self._deadline = deadline
        self._slots = asyncio.Semaphore(concurrency)
        self._throttle = throttle or Throttle()
        self._merge = merge
        self._readers: dict[str, Reader] = {}
        self._busy: dict[tuple[str, str | None], asyncio.Task[None]] = {}
        # Senders whose update was stored here while their drain ran: look once more.
        self._again: set[tuple[str, str | None]] = set()
        self._wake = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []

    def add_reader(self, channel: str, reader: Reader) -> None:
        self._readers[channel] = reader

    def on_outbox(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever replies were queued."""
        self._listeners.append(listener)

    def wake(self) -> None:
        self._wake.set()

    async def receive(
        self, channel: str, updates: Sequence[tuple[str, str | None, dict[str, Any]]]
    ) -> int:
        """Store updates (update id, sender, raw payload) in one transaction; returns how many
        were new. Only after this returns may the platform be told they arrived."""
        now = self._clock()
        new = 0
        async with self._unit_of_work() as store:
            for update_id, sender, payload in updates:
                if await store.store_update(
                    channel, update_id, sender=sender, payload=payload, now=now
                ):
                    new += 1
                else:
                    log.info("update %s on %s arrived before; stored once", update_id, channel)
        self._metrics.updates_received.labels(channel).inc(len(updates))
        if new:
            busy = {(channel, sender) for _id, sender, _payload in updates} & set(self._busy)
            self._again.update(busy)
            self.wake()
        return new

    async def run_forever(self, interval: float = 1.0) -> None:
        """Handle what is waiting when woken, and every `interval` seconds anyway."""
        log.info("inbox started")
        try:
            while True:
                self._wake.clear()
                try:
                    await self._start_senders()
                except Exception:
                    log.exception("could not read the inbox; trying again in %.0f s", interval)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(interval):
                        await self._wake.wait()
        finally:
            tasks = list(self._busy.values())
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            log.info("inbox stopped")

    async def handle_pending(self) -> int:
        """Handle everything waiting now, sender by sender (tests and benchmarks)."""
        handled = 0
        while True:
            async with self._unit_of_work() as store:
                senders = await store.list_inbox_senders()
            if not senders:
                return handled
            for channel, sender in senders:
                while True:
                    took, more = await self._handle_next(channel, sender)
                    handled += took
                    if not more:
                        break

    async def _start_senders(self) -> None:
        async with self._unit_of_work() as store:
            senders = await store.list_inbox_senders(limit=200)
        for key in senders:
            if key not in self._busy:
                task = asyncio.create_task(self._drain(*key))
                self._busy[key] = task
                task.add_done_callback(functools.partial(self._done, key))

    def _done(self, key: tuple[str, str | None], _task: asyncio.Task[None]) -> None:
        self._busy.pop(key, None)
        if key in self._again:  # it arrived as the drain ended: start the sender anew
            self._again.discard(key)
            self.wake()

    async def _drain(self, channel: str, sender: str | None) -> None:
        """Handle one sender's updates in order until none is left (or another worker has
        them)."""
        key = (channel, sender)
        try:
            while True:
                self._again.discard(key)
                async with self._slots:
                    _took, more = await self._handle_next(channel, sender)
                if not more and key not in self._again:
                    return
        except Exception:
            log.exception("handling the inbox of a %s sender failed", channel)

    async def _handle_next(self, channel: str, sender: str | None) -> tuple[int, bool]:
        """Handle the sender's oldest update: how many were handled (0 or 1), and whether
        to look again (another update waits, or this one failed and is tried again)."""
        started = time.perf_counter()
        item: InboxUpdate | None = None
        try:
            async with asyncio.timeout(self._deadline), self._unit_of_work() as store:
                if not await store.try_lock_inbox_sender(channel, sender):
                    return 0, False
                item, more = await store.next_inbox_update_and_more(channel, sender)
                if item is None:
                    return 0, False
                queued = await self._handle(store, item)
                await store.mark_inbox_handled(item.id, self._clock())
        except Exception as error:
            if item is None:
                raise
            await self._count_failure(item, error)
            return 1, True
        self._metrics.updates_handled.labels(channel).inc()
        self._metrics.handling_seconds.observe(time.perf_counter() - started)
        if queued:
            for listener in self._listeners:
                listener()
        return 1, more

    async def _handle(self, store: Store, item: InboxUpdate) -> int:
        reader = self._readers.get(item.channel)
        incoming = reader.read(item.payload) if reader is not None else None
        if reader is None or incoming is None or item.sender is None:
            return 0  # not a person's message (or a channel this worker does not run)
        msg = incoming.inbound
        page = incoming.hints.get("page")
        if isinstance(page, int):  # "more choices": the person's last options, that page
            last = await store.last_options_message(item.channel, item.sender)
            if last is not None:
                extra = {**last.extra, "page": page}
                await store.queue_reply(
                    item.channel, item.sender, last.text, last.options, extra=extra
                )
                self._metrics.messages_queued.inc()
                return 1
        # An update tried again after a fault was counted on its first try.
        verdict = "ok" if item.attempts else self._throttle.check(f"{item.channel}:{item.sender}")
        if verdict != "ok":
            self._metrics.updates_throttled.inc()
            if verdict == "drop":
                return 0  # told once already
            replies = [Reply(self._texts(pick_language(msg.language_code), "error.slow_down"))]
            person_id, apart = None, False
        else:
            handled = await self._conversations.handle_within(store, msg)
            replies, person_id = handled.replies, handled.person_id
            apart = handled.answers_location_question
        if self._merge:
            replies = merge_replies(replies, reader.max_text, keep_first_apart=apart)
        drafts = reader.drafts(incoming, replies)
        if drafts:
            await store.queue_replies(
                item.channel,
                item.sender,
                [
                    (d.text, d.options, dict(d.extra), d.introduction_id, d.about)
                    for d in drafts
                ],
                person_id=person_id,
            )
        self._metrics.messages_queued.inc(len(drafts))
        return len(drafts)

    async def _count_failure(self, item: InboxUpdate, error: BaseException) -> None:
        """A transaction that failed (a lost database, the deadline, a fault in a handler)
        left nothing behind: try again; after `MAX_HANDLING_ATTEMPTS` the update is set
        aside with an apology."""
        log.warning(
            "handling update %s on %s failed (attempt %d)",
            item.update_id,
            item.channel,
            item.attempts + 1,
            exc_info=error,
        )
        apologised = False
        async with self._unit_of_work() as store:
            attempts = await store.count_inbox_failure(item.id)
            if attempts >= MAX_HANDLING_ATTEMPTS and item.sender is not None:
                log.error("update %s on %s set aside", item.update_id, item.channel)
                sorry = self._texts(pick_language(self._language_of(item)), "error.sorry")
                await store.queue_reply(item.channel, item.sender, sorry)
                await store.mark_inbox_handled(item.id, self._clock())
                apologised = True
        if apologised:
            for listener in self._listeners:
                listener()

    def _language_of(self, item: InboxUpdate) -> str | None:
        """The language the sender's app is set to, as far as the update says."""
        reader = self._readers.get(item.channel)
        try:
            incoming = reader.read(item.payload) if reader is not None else None
        except Exception:  # an update that cannot be read at all: the default language
            return None
        return incoming.inbound.language_code if incoming is not None else None
