"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
TEST_DATABASE_URL is set (for example postgresql://postgres@127.0.0.1:5432/test)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import App, open_app
from bot.settings import Settings
from storage.db import Database, normalise_url
from storage.migrate import migrate
from storage.models import Base
from tests.channels.fake_telegram import FakeTelegram

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
POSTCODES_FILE = SHARED_DATA / "geonames-NL-postcodes.tsv"


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database for the session: a fresh PostgreSQL database created on the server that
    TEST_DATABASE_URL names (dropped afterwards, so parallel runs never meet), or a fresh
    SQLite file."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if not configured:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'meedoen.db'}"
        return
    server = make_url(normalise_url(configured))
    admin = server.render_as_string(hide_password=False)
    name = f"{server.database or 'test'}_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def empty_tables(database: Database) -> None:
    async with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The session's database, migrated and empty at the start of each test."""
    db = Database(database_url)
    await migrate(db)
    await empty_tables(db)
    yield db
    await db.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        telegram_bot_token="123456:TEST-token",
        web_port=0,  # any free port on loopback
        telegram_send_rate=0,  # pacing is measured by `bench delivery`, not in every test
        telegram_chat_rate=0,
        throttle_per_minute=0,  # tests talk fast; the throttle has a test of its own
    )


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[App]:
    """The whole program, built by the same composition root as `python -m bot`."""
    async with open_app(settings) as built:
        yield built


@pytest.fixture
async def tg(settings: Settings) -> AsyncIterator[FakeTelegram]:
    """The fake Telegram Bot API on loopback, for the settings' bot token."""
    async with FakeTelegram(token=settings.telegram_bot_token) as server:
        yield server


@pytest.fixture
async def dashboard(app: App, settings: Settings) -> AsyncIterator[tuple[Any, Any]]:
    """The moderators' dashboard on a test server: (client, clock). Plain HTTP, so the
    session cookie is not marked Secure here."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.web.dashboard import dashboard_app
    from tests.web.dashboard_harness import Clock

    clock = Clock()
    web_app = dashboard_app(
        database=app.database,
        texts=app.texts,
        settings=settings.model_copy(update={"dashboard_secure_cookie": False}),
        clock=clock,
    )
    async with TestClient(TestServer(web_app)) as client:
        yield client, clock
