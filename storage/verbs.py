"""What every group of storage verbs shares: the open transaction, and UTC moments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware moment in UTC, ready to store or compare; naive ones are refused."""
    if moment.tzinfo is None:
        raise ValueError(f"a timezone-aware datetime is required, got {moment!r}")
    return moment.astimezone(UTC)


class Verbs:
    def __init__(self, session: AsyncSession, *, postgres: bool) -> None:
        self._session = session
        self._postgres = postgres
        # Advisory locks this transaction holds (PostgreSQL): each is taken once.
        self._held_locks: set[int] = set()

    def savepoint(self) -> AsyncSessionTransaction:
        """A nested transaction: `async with store.savepoint():` undoes only its own block
        when that block raises."""
        return self._session.begin_nested()
