"""Several workers against one PostgreSQL database: two that start at once on an empty
database both come up (the migration runs under an advisory lock), and the daily
housekeeping is planned once. SQLite is the one-process default: skipped there."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import open_app
from bot.housekeeping import HOUSEKEEPING, plan_housekeeping
from bot.settings import Settings
from storage.db import normalise_url
from storage.models import JobRow
from tests.storage.test_migrations import head_revision

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="several workers need PostgreSQL"
)


async def _admin(statement: str) -> None:
    server = normalise_url(os.environ["TEST_DATABASE_URL"])
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture
async def empty_database_url() -> AsyncIterator[str]:
    """A database of its own, with nothing in it yet."""
    server = make_url(normalise_url(os.environ["TEST_DATABASE_URL"]))
    name = f"{server.database or 'test'}_workers_{os.getpid()}_{secrets.token_hex(3)}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_two_workers_starting_at_once_both_come_up_and_plan_housekeeping_once(
    empty_database_url: str,
) -> None:
    settings = Settings(_env_file=None, database_url=empty_database_url)  # type: ignore[call-arg]
    started = asyncio.Event()
    ready: list[str] = []

    async def worker(name: str) -> None:
        await started.wait()  # both begin at the same moment, each with its own engine
        async with open_app(settings) as app:
            await plan_housekeeping(app.database, app.clock())
            ready.append(name)

    tasks = [asyncio.create_task(worker(name)) for name in ("one", "two")]
    started.set()
    await asyncio.gather(*tasks)

    assert sorted(ready) == ["one", "two"]
    engine = create_async_engine(normalise_url(empty_database_url))
    try:
        async with engine.connect() as connection:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            planned = await connection.scalar(
                select(func.count()).select_from(JobRow).where(JobRow.kind == HOUSEKEEPING)
            )
    finally:
        await engine.dispose()
    assert version == head_revision()
    assert planned == 1
