"""Schema migrations (Alembic), applied by `python -m bot migrate` and at every start-up."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x6D656564_6F656E  # an advisory lock key of its own ("meedoen")


class DatabaseTooNew(RuntimeError):
    """The database was migrated by a newer version of Meedoen than this one."""


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except (ResolutionError, CommandError):  # ScriptDirectory wraps the former in the latter
        return False


def _upgrade(connection: Connection, config: Config) -> None:
    current = MigrationContext.configure(connection).get_current_revision()
    scripts = ScriptDirectory.from_config(config)
    if current is not None and not _known(scripts, current):
        raise DatabaseTooNew(
            f"database is at revision {current}, which this version does not know; "
            "upgrade Meedoen before starting it on this database"
        )
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(database: Database) -> None:
    """Bring the database to the newest schema; refuse a database newer than the code.

    On PostgreSQL it runs under an advisory lock, so several workers may start at once.

    On SQLite, Alembic changes a table by copying it; with foreign keys enforced, dropping
    the old copy would cascade into the rows that refer to it. So SQLite migrates on a
    connection without enforcement, and the references are checked afterwards.
    """
    config = alembic_config(database.url)
    engine = create_async_engine(database.url) if database.is_sqlite else database.engine
    try:
        async with engine.connect() as connection:
            if not database.is_sqlite:
                # Workers that start at once migrate one after the other: the lock is held
                # until this transaction commits; the next one then finds nothing to do.
                await connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
                await connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            await connection.run_sync(_upgrade, config)
            await connection.commit()
            if database.is_sqlite:
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"migration left broken references: {broken[:5]}")
    finally:
        if engine is not database.engine:
            await engine.dispose()
    log.info("database schema is up to date")
