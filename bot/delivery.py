"""The terminal's outbox delivery: messages other people's actions left for its one person,
shown on the screen before each answer. Platform channels use `bot.deliverer` instead (in
order per chat across workers, paced, retried, each part once).

A round claims a batch in one short transaction, sends each message outside any
transaction, and hands the failures back in another, which counts an attempt; storage stops
offering a message after its last attempt. When a message to someone fails, their later
messages in the batch wait for the next round, so one person's messages keep their order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from bot.scheduler import Clock, UnitOfWork
from handlers.messages import Option, Reply
from storage.records import Identity, OutboxMessage
from storage.verbs import utcnow

log = logging.getLogger(__name__)

Send = Callable[[Identity, Reply], Awaitable[bool]]

BATCH_SIZE = 50


def to_reply(message: OutboxMessage) -> Reply:
    """An outbox message as the reply a channel renders."""
    return Reply(message.text, options=tuple(Option(key, label) for key, label in message.options))


class OutboxDelivery:
    """Sends one channel's outbox through `send` (True when sent; False or raising = failed).

    `external_id` limits it to one account on the channel (the terminal's one person).
    """

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        channel: str,
        send: Send,
        *,
        external_id: str | None = None,
        clock: Clock = utcnow,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.channel = channel
        self._unit_of_work = unit_of_work
        self._send = send
        self._external_id = external_id
        self._clock = clock
        self._batch_size = batch_size
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Deliver soon: `run_forever` starts a round at once instead of at the interval."""
        self._wake.set()

    async def deliver_pending(self, now: datetime | None = None) -> int:
        """One round: claim a batch, send it, release what failed; returns how many were sent."""
        moment = now if now is not None else self._clock()
        async with self._unit_of_work() as store:
            batch = await store.claim_outbox(
                self.channel,
                now=moment,
                limit=self._batch_size,
                external_id=self._external_id,
            )
        if not batch:
            return 0
        sent = 0
        failed: list[int] = []  # tried and not sent: counts an attempt
        held: list[int] = []  # not tried: handed back as they were
        stuck: set[int] = set()  # people whose earlier message failed in this round
        waiting = list(batch)
        try:
            while waiting:
                message, identity = waiting[0]
                if message.person_id in stuck:
                    held.append(message.id)
                elif await self._send_one(message, identity):
                    sent += 1
                else:
                    failed.append(message.id)
                    stuck.add(message.person_id)
                waiting.pop(0)
        except BaseException:  # cancelled halfway: what was not sent goes back untouched
            held.extend(message.id for message, _ in waiting)
            await self._release(failed, held)
            raise
        await self._release(failed, held)
        log.info(
            "outbox on %s: %d sent, %d failed, %d held back",
            self.channel,
            sent,
            len(failed),
            len(held),
        )
        return sent

    async def run_forever(self, interval: float = 2.0) -> None:
        """Deliver when woken, and every `interval` seconds anyway, until cancelled."""
        log.info("outbox delivery on %s started", self.channel)
        try:
            while True:
                self._wake.clear()
                try:
                    if await self.deliver_pending() >= self._batch_size:
                        continue  # probably more waiting
                except Exception:
                    log.exception("outbox delivery on %s failed", self.channel)
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
                # cancellation that arrives just as the event is set.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(interval):
                        await self._wake.wait()
        finally:
            log.info("outbox delivery on %s stopped", self.channel)

    async def _send_one(self, message: OutboxMessage, identity: Identity) -> bool:
        try:
            if await self._send(identity, to_reply(message)):
                return True
            log.warning("outbox message %d on %s was not sent", message.id, self.channel)
        except Exception:
            log.exception("outbox message %d on %s could not be sent", message.id, self.channel)
        return False

    async def _release(self, failed: Iterable[int], held: Iterable[int]) -> None:
        failed, held = list(failed), list(held)
        if not failed and not held:
            return
        async with self._unit_of_work() as store:
            for message_id in failed:
                await store.release_outbox(message_id)
            for message_id in held:
                await store.release_outbox(message_id, count_attempt=False)
