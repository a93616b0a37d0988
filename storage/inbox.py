"""One way in: platform updates stored raw before they are acknowledged, then handled.

`store_update` writes an update under its unique (channel, update id); a second copy of the
same update changes nothing. Handling takes one sender at a time (`try_lock_inbox_sender`
holds a lock on PostgreSQL for the rest of the transaction, so several workers never handle
one person at once), always the sender's oldest unhandled row (`next_inbox_update`), and
marks it handled (`mark_inbox_handled`) in the transaction of the conversation change; the
raw payload is dropped then. Handled rows are deleted by the housekeeping after a day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.models import IdentityRow, InboxRow, MentionRow, OutboxRow
from storage.records import InboxUpdate
from storage.verbs import Verbs, as_utc, aware


def sender_lock_key(channel: str, external_id: str) -> int:
    """The advisory lock key of one sender (the same as `Store.lock_sender` takes)."""
    digest = hashlib.blake2b(f"{channel}:{external_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_INBOX = cast(Table, InboxRow.__table__)
# Built once: the per-update path runs these with bound parameters, never building SQL anew.
_NEXT_OF_SENDER = (
    select(_INBOX.c.id, _INBOX.c.update_id, _INBOX.c.payload, _INBOX.c.attempts)
    .where(
        _INBOX.c.handled_at.is_(None),
        _INBOX.c.channel == bindparam("channel"),
        _INBOX.c.sender == bindparam("sender"),
    )
    .order_by(_INBOX.c.id)
    .limit(2)
)
_NEXT_WITHOUT_SENDER = (
    select(_INBOX.c.id, _INBOX.c.update_id, _INBOX.c.payload, _INBOX.c.attempts)
    .where(
        _INBOX.c.handled_at.is_(None),
        _INBOX.c.channel == bindparam("channel"),
        _INBOX.c.sender.is_(None),
    )
    .order_by(_INBOX.c.id)
    .limit(2)
)
_MARK_HANDLED = (
    update(_INBOX)
    .where(_INBOX.c.id == bindparam("inbox_id"))
    .values(handled_at=bindparam("now"), payload=None)
)
_STORE_POSTGRES = pg_insert(_INBOX).on_conflict_do_nothing()
_STORE_SQLITE = sqlite_insert(_INBOX).on_conflict_do_nothing()
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")


class InboxVerbs(Verbs):
    async def store_update(
        self,
        channel: str,
        update_id: str,
        *,
        sender: str | None,
        payload: dict[str, Any],
        now: datetime,
    ) -> bool:
        """Keep a platform update until it is handled; False when it was stored before."""
        statement = _STORE_POSTGRES if self._postgres else _STORE_SQLITE
        values = {
            "channel": channel,
            "update_id": update_id,
            "sender": sender,
            "payload": payload,
            "received_at": as_utc(now),
            "attempts": 0,
        }
        result = await self._session.execute(statement, values)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def list_inbox_senders(self, *, limit: int = 100) -> list[tuple[str, str | None]]:
        """Senders with unhandled updates, the one waiting longest first."""
        first = func.min(InboxRow.id)
        rows = await self._session.execute(
            select(InboxRow.channel, InboxRow.sender)
            .where(InboxRow.handled_at.is_(None))
            .group_by(InboxRow.channel, InboxRow.sender)
            .order_by(first)
            .limit(limit)
        )
        return [(channel, sender) for channel, sender in rows]

    async def try_lock_inbox_sender(self, channel: str, sender: str | None) -> bool:
        """Hold this sender for the rest of the transaction; False when another worker has
        them (PostgreSQL). SQLite transactions hold the whole database already."""
        if not self._postgres:
            return True
        key = sender_lock_key(channel, sender or "")
        if key in self._held_locks:
            return True
        taken = bool(await self._session.scalar(_TRY_LOCK, {"key": key}))
        if taken:
            self._held_locks.add(key)
        return taken

    async def next_inbox_update(self, channel: str, sender: str | None) -> InboxUpdate | None:
        """The sender's oldest unhandled update."""
        item, _more = await self.next_inbox_update_and_more(channel, sender)
        return item

    async def next_inbox_update_and_more(
        self, channel: str, sender: str | None
    ) -> tuple[InboxUpdate | None, bool]:
        """The sender's oldest unhandled update, and whether another one waits after it (so
        the caller need not open a transaction only to find nothing)."""
        if sender is None:
            found = await self._session.execute(_NEXT_WITHOUT_SENDER, {"channel": channel})
        else:
            found = await self._session.execute(
                _NEXT_OF_SENDER, {"channel": channel, "sender": sender}
            )
        rows = found.all()
        if not rows:
            return None, False
        inbox_id, update_id, payload, attempts = rows[0]
        item = InboxUpdate(
            id=inbox_id,
            channel=channel,
            update_id=update_id,
            sender=sender,
            payload=dict(payload or {}),
            attempts=attempts,
        )
        return item, len(rows) > 1

    async def mark_inbox_handled(self, inbox_id: int, now: datetime) -> None:
        """Handled: drop the raw payload (it holds names and texts) and keep the row a day."""
        await self._session.execute(_MARK_HANDLED, {"inbox_id": inbox_id, "now": as_utc(now)})

    async def count_inbox_failure(self, inbox_id: int) -> int:
        """Count a failed attempt at handling an update; returns the attempts so far."""
        await self._session.execute(
            update(InboxRow)
            .where(InboxRow.id == inbox_id)
            .values(attempts=InboxRow.attempts + 1)
        )
        return int(
            await self._session.scalar(select(InboxRow.attempts).where(InboxRow.id == inbox_id))
            or 0
        )

    async def count_recent_updates(self, channel: str, sender: str, since: datetime) -> int:
        """How many updates this sender sent since `since` (for the per-person throttle)."""
        return int(
            await self._session.scalar(
                select(func.count(InboxRow.id)).where(
                    InboxRow.channel == channel,
                    InboxRow.sender == sender,
                    InboxRow.received_at >= as_utc(since),
                )
            )
            or 0
        )

    async def last_inbound_at(self, channel: str, sender: str) -> datetime | None:
        """When this sender's newest update arrived, if within the last day (handled rows
        are kept a day: long enough for WhatsApp's 24-hour window)."""
        moment = await self._session.scalar(
            select(func.max(InboxRow.received_at)).where(
                InboxRow.channel == channel, InboxRow.sender == sender
            )
        )
        return aware(moment) if moment is not None else None

    async def inbox_lag(self, now: datetime) -> tuple[int, float]:
        """Unhandled updates, and how long the oldest has waited (seconds)."""
        count, oldest = (
            await self._session.execute(
                select(func.count(InboxRow.id), func.min(InboxRow.received_at)).where(
                    InboxRow.handled_at.is_(None)
                )
            )
        ).one()
        waited = (as_utc(now) - aware(oldest)).total_seconds() if oldest is not None else 0.0
        return int(count or 0), max(0.0, waited)

    async def forget_handled_inbox_before(self, moment: datetime) -> int:
        result = await self._session.execute(
            delete(InboxRow).where(
                InboxRow.handled_at.is_not(None), InboxRow.handled_at < as_utc(moment)
            )
        )
        return int(getattr(result, "rowcount", 0))

    async def forget_inbox_of(self, person_id: int) -> None:
        """Erasure: delete the updates a person sent, and the replies waiting for their
        accounts, by the channel and platform id of each of their identities."""
        accounts = [
            (channel, external_id)
            for channel, external_id in await self._session.execute(
                select(IdentityRow.channel, IdentityRow.external_id).where(
                    IdentityRow.person_id == person_id
                )
            )
        ]
        if not accounts:
            return
        await self._session.execute(
            delete(InboxRow).where(_any_of(InboxRow.channel, InboxRow.sender, accounts))
        )
        waiting = and_(
            OutboxRow.sent_at.is_(None),
            _any_of(OutboxRow.channel, OutboxRow.external_id, accounts),
        )
        await self._session.execute(
            delete(MentionRow).where(MentionRow.outbox_id.in_(select(OutboxRow.id).where(waiting)))
        )
        await self._session.execute(delete(OutboxRow).where(waiting))


def _any_of(channel: Any, external_id: Any, accounts: Iterable[tuple[str, str]]) -> Any:
    pairs = list(accounts)
    if len(pairs) == 1:
        return and_(channel == pairs[0][0], external_id == pairs[0][1])
    return or_(*(and_(channel == c, external_id == e) for c, e in pairs))


__all__ = ["InboxVerbs", "sender_lock_key"]
