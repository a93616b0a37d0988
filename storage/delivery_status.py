"""What a platform reports about a message after it accepted it (WhatsApp's status webhooks).

When the deliverer records a part the platform accepted, the platform's id for it is kept
(`record_platform_id`, called from `OutboxVerbs.record_part_sent`), so a later report finds
its outbox row: `mark_message_delivered` / `mark_message_read` note the times;
`fail_sent_message` gives the message up after all (kept, with its error, for the
moderators' `list_failed_outbox`); `send_message_again` puts it back in the outbox from the
part that failed, first in its chat, e.g. when WhatsApp says the 24-hour window had closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxRow, SentPartRow
from storage.verbs import Verbs, as_utc

# `extra` key of a message sent again because the platform said the window had closed: the
# moment it said so. Free-form messages wait until the person wrote after it.
WINDOW_CLOSED_AT = "window_closed_at"


@dataclass(frozen=True)
class SentPart:
    """One accepted part of an outbox message, found by the platform's id for it."""

    message_id: int
    part: int
    person_id: int | None
    external_id: str
    attempts: int
    failed: bool


async def record_platform_id(
    session: AsyncSession, message_id: int, *, part: int, platform_id: str
) -> None:
    """Keep the platform's id of part `part` (counting from 0) of an outbox message."""
    channel = await session.scalar(select(OutboxRow.channel).where(OutboxRow.id == message_id))
    if channel is None:
        return  # erased while it was sent
    session.add(
        SentPartRow(outbox_id=message_id, channel=channel, platform_id=platform_id, part=part)
    )


class DeliveryStatusVerbs(Verbs):
    async def find_sent_part(self, channel: str, platform_id: str) -> SentPart | None:
        """The outbox message part the platform knows as `platform_id`, if we sent it."""
        found = (
            await self._session.execute(
                select(SentPartRow.part, OutboxRow)
                .join(OutboxRow, OutboxRow.id == SentPartRow.outbox_id)
                .where(SentPartRow.channel == channel, SentPartRow.platform_id == platform_id)
            )
        ).first()
        if found is None:
            return None
        part, row = found
        return SentPart(
            message_id=row.id,
            part=part,
            person_id=row.person_id,
            external_id=row.external_id or "",
            attempts=row.attempts,
            failed=row.failed_at is not None,
        )

    async def mark_message_delivered(self, message_id: int, *, at: datetime) -> None:
        """The person's phone received it (the first report counts)."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id, OutboxRow.delivered_at.is_(None))
            .values(delivered_at=as_utc(at))
        )

    async def mark_message_read(self, message_id: int, *, at: datetime) -> None:
        """The person read it; a message read was delivered too."""
        await self.mark_message_delivered(message_id, at=at)
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id, OutboxRow.read_at.is_(None))
            .values(read_at=as_utc(at))
        )

    async def fail_sent_message(self, message_id: int, *, at: datetime, error: str) -> None:
        """The platform accepted it but could not deliver it: give it up after all."""
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id)
            .values(failed_at=as_utc(at), claimed_until=None, last_error=error[:80])
        )

    async def send_message_again(
        self,
        message_id: int,
        *,
        from_part: int,
        at: datetime,
        error: str,
        window_closed_at: datetime | None = None,
    ) -> None:
        """Put a sent message back in the outbox from part `from_part`, due at `at`; it goes
        before the chat's later messages. `window_closed_at`: the platform said then that
        free-form messages may not go until the person writes again."""
        row = await self._session.get(OutboxRow, message_id)
        if row is None:
            return
        extra: dict[str, Any] = dict(row.extra or {})
        if window_closed_at is not None:
            extra[WINDOW_CLOSED_AT] = as_utc(window_closed_at).isoformat()
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id)
            .values(
                sent_at=None,
                failed_at=None,
                claimed_until=None,
                parts_sent=min(row.parts_sent, from_part),
                next_attempt_at=as_utc(at),
                attempts=OutboxRow.attempts + 1,
                last_error=error[:80],
                extra=extra,
            )
        )
