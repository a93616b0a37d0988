"""The Alembic migrations build exactly the schema the models describe, on SQLite and,
when TEST_DATABASE_URL is set, on PostgreSQL (in a throw-away database of its own)."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database, normalise_url
from storage.migrate import DatabaseTooNew, alembic_config, migrate
from storage.models import Base
from storage.records import Area

WRITES = re.compile(r"^\s*(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@pytest.fixture
async def empty_database(tmp_path: Path) -> AsyncIterator[Database]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database on the
    server of TEST_DATABASE_URL that is dropped afterwards."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if not configured:
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
        yield database
        await database.dispose()
        return

    server = make_url(normalise_url(configured))
    name = f"meedoen_mig_{secrets.token_hex(6)}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(server.set(database=name).render_as_string(hide_password=False))
    try:
        yield database
    finally:
        await database.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def schema_diff(database: Database) -> list[Any]:
    async with database.engine.connect() as connection:
        return await connection.run_sync(_schema_diff)


async def current_revision(database: Database) -> str | None:
    async with database.engine.connect() as connection:
        return await connection.run_sync(_current_revision)


async def table_names(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        return await connection.run_sync(_table_names)


async def test_the_test_database_starts_empty(empty_database: Database) -> None:
    assert await table_names(empty_database) == set()
    assert await current_revision(empty_database) is None


async def test_migrating_an_empty_database_yields_exactly_the_models(
    empty_database: Database,
) -> None:
    await migrate(empty_database)

    assert await schema_diff(empty_database) == []
    assert await table_names(empty_database) == {*Base.metadata.tables, "alembic_version"}
    assert await current_revision(empty_database) == head_revision()


async def test_migrating_twice_is_a_no_op(empty_database: Database) -> None:
    await migrate(empty_database)
    async with empty_database.unit_of_work() as store:
        await store.save_area(Area("dorp", "Het dorp", "3291", 51.74, 4.55))

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    # Every engine: on SQLite, migrations run on an engine of their own.
    event.listen(Engine, "before_cursor_execute", record)
    try:
        await migrate(empty_database)
    finally:
        event.remove(Engine, "before_cursor_execute", record)

    assert statements, "the listener saw nothing: the check below would prove nothing"
    assert [s for s in statements if WRITES.match(s)] == []
    assert await current_revision(empty_database) == head_revision()
    assert await schema_diff(empty_database) == []
    async with empty_database.unit_of_work() as store:
        assert [a.slug for a in await store.list_areas()] == ["dorp"]


async def test_a_database_newer_than_the_code_is_refused(empty_database: Database) -> None:
    await migrate(empty_database)
    async with empty_database.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    with pytest.raises(DatabaseTooNew, match="9999"):
        await migrate(empty_database)

    assert await current_revision(empty_database) == "9999"
    assert await table_names(empty_database) == {*Base.metadata.tables, "alembic_version"}


def _downgrade_to_base(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


async def test_downgrade_to_base_then_upgrade_again(empty_database: Database) -> None:
    await migrate(empty_database)

    async with empty_database.engine.connect() as connection:
        await connection.run_sync(_downgrade_to_base, empty_database.url)
        await connection.commit()

    assert await table_names(empty_database) == {"alembic_version"}
    assert await current_revision(empty_database) is None

    await migrate(empty_database)

    assert await current_revision(empty_database) == head_revision()
    assert await schema_diff(empty_database) == []


async def test_changing_a_table_keeps_the_rows_that_refer_to_it(
    empty_database: Database,
) -> None:
    """Alembic rebuilds a SQLite table to change it; that must not cascade into other rows."""
    await migrate(empty_database)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    async with empty_database.unit_of_work() as store:
        anna = await store.create_person_with_consent(
            channel="test", external_id="anna", username=None, language="nl",
            consent_version="v1",
        )  # fmt: skip
        bram = await store.create_person_with_consent(
            channel="test", external_id="bram", username=None, language="nl",
            consent_version="v1",
        )  # fmt: skip
        intro = await store.create_introduction(
            anna.id, neighbour_id=bram.id, reason="cooking", route="bot", contact=None, now=now
        )
        await store.schedule_job("intro_followup", now, introduction_id=intro.id)

    # Back to before 0003 (on a plain engine, as `migrate` does on SQLite) and forward again.
    plain = create_async_engine(empty_database.url)
    async with plain.connect() as connection:
        await connection.run_sync(_downgrade_to, empty_database.url, "0002")
        await connection.commit()
    await plain.dispose()
    await migrate(empty_database)

    async with empty_database.unit_of_work() as store:
        assert [job.introduction_id for job in await store.list_pending_jobs()] == [intro.id]
        assert (await store.get_introduction(intro.id)) is not None


def _downgrade_to(connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.downgrade(config, revision)
