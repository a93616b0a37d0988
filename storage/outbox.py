"""One way out: every message the bot sends, as the deliverer sees it.

Replies to the sender are queued with `queue_reply` (messages for other people with
`JobVerbs.queue_message`), in the transaction of the change that caused them. A deliverer
takes the oldest unsent message of each chat that has none in flight (`claim_deliveries`:
a lease in `claimed_until`, skipping rows other transactions are claiming on PostgreSQL), so
one chat has at most one message in flight across all workers and its messages keep their
order. After each part the platform accepted, `record_part_sent` is committed at once; the
last part marks the message sent. A failure is handed back with a time for the next try
(`retry_delivery`), or the message is given up (`fail_delivery`): kept, with its error, for
the moderators' view.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, delete, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.delivery_status import record_platform_id
from storage.models import IdentityRow, MentionRow, OutboxRow, PersonRow
from storage.records import Outgoing
from storage.verbs import Verbs, as_utc, aware, utcnow

LEASE = timedelta(seconds=30)
# `last_error` of a message held back until the person writes again (WhatsApp's window).
HELD = "held: waiting for the person to write"
# The `extra` flag of a message that shows a one-time link code (`handlers.linking`): once
# it is delivered (or given up), the stored text keeps the code masked. Set when the
# message is queued, never guessed from a message's text.
MASK_WHEN_SENT = "mask_code"
_CODE = re.compile(r"(?<![\w+])\d{3}[\s.-]?\d{3}(?!\w)")
CODE_MASK = "••• •••"


_OUTBOX = cast(Table, OutboxRow.__table__)
_MENTIONS = cast(Table, MentionRow.__table__)
# Built once: the per-update path runs these with bound parameters, never building SQL anew.
_INSERT_REPLY = insert(_OUTBOX).returning(_OUTBOX.c.id)
_INSERT_MENTIONS = insert(_MENTIONS)


_SET_CLAIMED = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(claimed_until=bindparam("until"))
)
_RECORD_PART = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("message_id"))
    .values(
        parts_sent=bindparam("parts_sent"),
        sent_at=bindparam("sent_at"),
        claimed_until=bindparam("claimed_until"),
    )
)
_RECORD_LAST_PART = _RECORD_PART.returning(_OUTBOX.c.extra)


@functools.cache
def _claim_statement(postgres: bool, *, by_chat: bool) -> Select[Any]:
    """The claim query, built once per kind: the head of each chat's queue that may go.

    A chat's head is found as the smallest unsent id of that chat, one probe of the
    partial index `ix_outbox_unsent` per candidate. Written as "no earlier unsent message"
    instead, PostgreSQL plans it from the table's statistics, which trail a burst until
    the next ANALYZE: with 10,000 fresh messages that plan took seconds per claim, this
    one takes tens of milliseconds (about one with statistics)."""
    outbox = _OUTBOX
    earlier = outbox.alias("earlier")
    blocked = cast(Table, IdentityRow.__table__).alias("blocked")
    head = (
        select(func.min(earlier.c.id))
        .where(
            earlier.c.channel == outbox.c.channel,
            earlier.c.external_id == outbox.c.external_id,
            earlier.c.sent_at.is_(None),
            earlier.c.failed_at.is_(None),
        )
        .scalar_subquery()
    )
    statement = (
        select(outbox)
        .where(
            outbox.c.channel == bindparam("channel"),
            outbox.c.sent_at.is_(None),
            outbox.c.failed_at.is_(None),
            or_(
                outbox.c.next_attempt_at.is_(None),
                outbox.c.next_attempt_at <= bindparam("moment"),
            ),
            or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= bindparam("real")),
            outbox.c.id == head,
            ~exists().where(
                blocked.c.channel == outbox.c.channel,
                blocked.c.external_id == outbox.c.external_id,
                blocked.c.reachable.is_(False),
            ),
        )
        .order_by(outbox.c.id)
        .limit(bindparam("limit"))
    )
    if by_chat:
        statement = statement.where(outbox.c.external_id.in_(bindparam("chats", expanding=True)))
    if postgres:
        statement = statement.with_for_update(skip_locked=True)
    return statement


def _outgoing(row: Any) -> Outgoing:
    return Outgoing(
        id=row.id,
        channel=row.channel or "",
        external_id=row.external_id or "",
        text=row.text,
        options=tuple((str(key), str(label)) for key, label in row.options or ()),
        extra=dict(row.extra or {}),
        parts_sent=row.parts_sent,
        attempts=row.attempts,
        created_at=aware(row.created_at),
    )


def _unsent() -> Any:
    return (OutboxRow.sent_at.is_(None), OutboxRow.failed_at.is_(None))


async def add_to_outbox(session: AsyncSession, row: OutboxRow, about: Collection[int]) -> int:
    """Write one outbox row and the people it names (its `mentions`, except the recipient):
    erasing any of them cancels it while it waits. Returns its id."""
    session.add(row)
    await session.flush()
    for named in sorted(set(about) - {row.person_id}):
        session.add(MentionRow(person_id=named, outbox_id=row.id))
    return row.id


class OutboxVerbs(Verbs):
    async def queue_reply(
        self,
        channel: str,
        external_id: str,
        text: str,
        options: Sequence[tuple[str, str]] = (),
        *,
        person_id: int | None = None,
        extra: dict[str, Any] | None = None,
        introduction_id: int | None = None,
        about: Collection[int] = (),
    ) -> int:
        """A message to a chat (a reply to the sender), sent after this transaction commits.

        `person_id` is the person behind the chat when there is one; `introduction_id` and
        `about` are kept as for `queue_message`, so erasure cancels the message by reference.
        """
        return (
            await self.queue_replies(
                channel,
                external_id,
                [(text, options, extra or {}, introduction_id, about)],
                person_id=person_id,
            )
        )[0]

    async def queue_replies(
        self,
        channel: str,
        external_id: str,
        replies: Sequence[
            tuple[str, Sequence[tuple[str, str]], dict[str, Any], int | None, Collection[int]]
        ],
        *,
        person_id: int | None = None,
    ) -> list[int]:
        """Several replies to one chat (text, options, extra, introduction id, about), in
        order, as `queue_reply` writes one: one prepared statement each, no ORM objects.
        Returns their ids."""
        now = utcnow()
        ids: list[int] = []
        mentions: list[dict[str, int]] = []
        for text, options, extra, introduction_id, about in replies:
            values = {
                "person_id": person_id,
                "channel": channel,
                "external_id": external_id,
                "text": text,
                "options": [[key, label] for key, label in options],
                "extra": dict(extra),
                "is_reply": True,
                "created_at": now,
                "attempts": 0,
                "parts_sent": 0,
                "introduction_id": introduction_id,
            }
            message_id = int((await self._session.execute(_INSERT_REPLY, values)).scalar_one())
            ids.append(message_id)
            mentions.extend(
                {"person_id": named, "outbox_id": message_id}
                for named in sorted(set(about) - {person_id})
            )
        if mentions:
            await self._session.execute(_INSERT_MENTIONS, mentions)
        return ids

    async def claim_deliveries(
        self,
        channel: str,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        external_id: str | None = None,
        external_ids: Sequence[str] | None = None,
    ) -> list[Outgoing]:
        """The oldest unsent message of up to `limit` chats with nothing in flight, held for
        `lease` (a deliverer that dies lets go when the lease ends). `now` decides which
        retries are due; the lease runs on the real clock, as it is about processes.
        `external_id`: only that chat; `external_ids`: only those chats."""
        if external_id is not None:
            external_ids = [external_id]
        real = utcnow()
        params: dict[str, Any] = {
            "channel": channel,
            "moment": as_utc(now),
            "real": real,
            "limit": limit,
        }
        if external_ids is not None:
            params["chats"] = list(external_ids)
        statement = _claim_statement(self._postgres, by_chat=external_ids is not None)
        rows = (await self._session.execute(statement, params)).all()
        if rows:
            await self._session.execute(
                _SET_CLAIMED, {"ids": [row.id for row in rows], "until": real + lease}
            )
        return [_outgoing(row) for row in rows]

    async def record_part_sent(
        self,
        message_id: int,
        parts_sent: int,
        *,
        done: bool,
        lease: timedelta = LEASE,
        platform_id: str | None = None,
    ) -> None:
        """The platform accepted part `parts_sent` (counting from 1); `done` when it was the
        last, which marks the message sent and lets the chat's next message go.
        `platform_id`: the platform's id for that part, for its status reports later."""
        if platform_id:
            await record_platform_id(
                self._session, message_id, part=parts_sent - 1, platform_id=platform_id
            )
        if done:
            values: dict[str, Any] = {"sent_at": utcnow(), "claimed_until": None}
        else:  # the next part may take as long again: renew the lease
            values = {"sent_at": None, "claimed_until": utcnow() + lease}
        values.update(message_id=message_id, parts_sent=parts_sent)
        if not done:
            await self._session.execute(_RECORD_PART, values)
            return
        extra = (await self._session.execute(_RECORD_LAST_PART, values)).scalar()
        await self._mask_if_flagged(message_id, extra)

    async def _mask_if_flagged(self, message_id: int, extra: Any) -> None:
        """A delivered (or given up) message flagged `MASK_WHEN_SENT`: its stored text no
        longer holds the code, while it waits for housekeeping."""
        if not isinstance(extra, dict) or not extra.get(MASK_WHEN_SENT):
            return
        text = await self._session.scalar(select(OutboxRow.text).where(OutboxRow.id == message_id))
        if text is not None:
            await self._session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == message_id)
                .values(text=_CODE.sub(CODE_MASK, text))
            )

    async def retry_delivery(
        self, message_id: int, *, at: datetime, error: str, count_attempt: bool = True
    ) -> None:
        """Not sent now: offer it again from `at`."""
        values: dict[str, Any] = {
            "next_attempt_at": as_utc(at),
            "claimed_until": None,
            "last_error": error[:80],
        }
        if count_attempt:
            values["attempts"] = OutboxRow.attempts + 1
        await self._session.execute(
            update(OutboxRow).where(OutboxRow.id == message_id).values(**values)
        )

    async def fail_delivery(self, message_id: int, *, now: datetime, error: str) -> int | None:
        """Give a message up: it stays, visible as failed, and the chat's next one may go.
        Returns the person behind the chat, when there is one."""
        found = (
            await self._session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == message_id)
                .values(failed_at=as_utc(now), claimed_until=None, last_error=error[:80])
                .returning(OutboxRow.person_id, OutboxRow.extra)
            )
        ).first()
        if found is None:
            return None
        await self._mask_if_flagged(message_id, found.extra)
        return None if found.person_id is None else int(found.person_id)

    async def mark_account_unreachable(self, channel: str, external_id: str) -> None:
        """The platform refuses messages to this account (blocked): only this channel stops;
        the person counts as unreachable once none of their accounts can be reached. What
        was waiting for this chat is given up (kept, as failed): when they come back, old
        questions would only confuse."""
        await self._session.execute(
            update(IdentityRow)
            .where(IdentityRow.channel == channel, IdentityRow.external_id == external_id)
            .values(reachable=False)
        )
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.channel == channel, OutboxRow.external_id == external_id, *_unsent())
            .values(failed_at=utcnow(), claimed_until=None, last_error="blocked")
        )
        person_id = await self._session.scalar(
            select(IdentityRow.person_id).where(
                IdentityRow.channel == channel, IdentityRow.external_id == external_id
            )
        )
        if person_id is None:
            return
        still = await self._session.scalar(
            select(IdentityRow.id)
            .where(IdentityRow.person_id == person_id, IdentityRow.reachable.is_(True))
            .limit(1)
        )
        if still is None:
            await self._session.execute(
                update(PersonRow).where(PersonRow.id == person_id).values(reachable=False)
            )

    async def mark_account_reachable(self, channel: str, external_id: str) -> None:
        """They wrote to us on this account, so it can be reached again."""
        await self._session.execute(
            update(IdentityRow)
            .where(
                IdentityRow.channel == channel,
                IdentityRow.external_id == external_id,
                IdentityRow.reachable.is_(False),
            )
            .values(reachable=True)
        )

    async def release_held_deliveries(self, channel: str, external_id: str) -> int:
        """The person wrote again: messages held for them may go now."""
        result = await self._session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.channel == channel,
                OutboxRow.external_id == external_id,
                OutboxRow.last_error == HELD,
                *_unsent(),
            )
            .values(next_attempt_at=None)
        )
        return int(getattr(result, "rowcount", 0))

    async def last_options_message(self, channel: str, external_id: str) -> Outgoing | None:
        """The newest message with options sent (or waiting) for this chat."""
        rows = await self._session.scalars(
            select(OutboxRow)
            .where(OutboxRow.channel == channel, OutboxRow.external_id == external_id)
            .order_by(OutboxRow.id.desc())
            .limit(20)
        )
        return next((_outgoing(row) for row in rows if row.options), None)

    async def outbox_lag(self, now: datetime) -> tuple[int, float]:
        """Messages waiting to be sent, and how long the oldest has waited (seconds)."""
        count, oldest = (
            await self._session.execute(
                select(func.count(OutboxRow.id), func.min(OutboxRow.created_at)).where(
                    *_unsent()
                )
            )
        ).one()
        waited = (as_utc(now) - aware(oldest)).total_seconds() if oldest is not None else 0.0
        return int(count or 0), max(0.0, waited)

    async def forget_failed_outbox_before(self, moment: datetime) -> int:
        """Delete messages given up on before `moment` (kept that long for moderators)."""
        result = await self._session.execute(
            delete(OutboxRow).where(
                OutboxRow.failed_at.is_not(None), OutboxRow.failed_at < as_utc(moment)
            )
        )
        return int(getattr(result, "rowcount", 0))

    async def list_failed_outbox(self, *, limit: int = 100) -> list[tuple[Outgoing, str]]:
        """Messages given up on, newest first, with their last error."""
        rows = await self._session.scalars(
            select(OutboxRow)
            .where(OutboxRow.failed_at.is_not(None))
            .order_by(OutboxRow.id.desc())
            .limit(limit)
        )
        return [(_outgoing(row), row.last_error or "") for row in rows]
