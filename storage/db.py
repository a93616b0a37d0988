"""The database: one engine, and one unit of work (one transaction) per inbound message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.store import Store

log = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def _prepare_sqlite(engine: AsyncEngine, url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves, and make every transaction take the write lock up
        # front: two transactions can then never deadlock upgrading a read lock.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine; hands out `Store`s bound to one transaction each."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 5,
        statement_timeout_ms: int = 15000,
        lock_timeout_ms: int = 5000,
    ) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        options: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            options["connect_args"] = {"timeout": 30}
        else:
            options["pool_size"] = pool_size
            options["pool_pre_ping"] = True
            # A stuck lock or a runaway query ends with an error instead of holding a
            # connection (and a person's turn) for ever.
            options["connect_args"] = {
                "server_settings": {
                    "statement_timeout": str(statement_timeout_ms),
                    "lock_timeout": str(lock_timeout_ms),
                }
            }
        self.engine = create_async_engine(self.url, **options)
        if self.is_sqlite:
            _prepare_sqlite(self.engine, self.url)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time, and a waiting connection polls for the file lock
        # (sleeping between tries however soon it is free). This process's transactions
        # take turns here instead; other processes (the CLI) still meet the busy timeout.
        self._sqlite_turn = asyncio.Lock() if self.is_sqlite else None
        self._sqlite_holder: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Store]:
        """One transaction: committed when the block ends, rolled back on an exception."""
        session: AsyncSession
        if self._sqlite_turn is None:
            async with self._sessions() as session, session.begin():
                yield Store(session, postgres=True)
            return
        task = asyncio.current_task()
        if task is not None and task is self._sqlite_holder:
            # Waiting here would wait for ourselves for ever.
            raise RuntimeError("a unit of work was opened inside another one")
        async with self._sqlite_turn:
            self._sqlite_holder = task
            try:
                async with self._sessions() as session, session.begin():
                    yield Store(session, postgres=False)
            finally:
                self._sqlite_holder = None

    async def dispose(self) -> None:
        await self.engine.dispose()
