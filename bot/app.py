"""The composition root: settings → database → stores → conversations → channels.

`python -m bot` and the tests build the program through `open_app`, so both run the very
same wiring; tests only pass other settings.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.settings import Settings
from handlers.conversation import Conversations
from handlers.i18n import Texts
from handlers.taxonomy import Taxonomy
from storage.db import Database
from storage.migrate import migrate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class App:
    settings: Settings
    database: Database
    texts: Texts
    conversations: Conversations


def build_app(settings: Settings) -> App:
    database = Database(settings.database_url)
    texts = Texts.load()
    conversations = Conversations(
        unit_of_work=database.unit_of_work, texts=texts, taxonomy=Taxonomy.load()
    )
    return App(settings=settings, database=database, texts=texts, conversations=conversations)


@asynccontextmanager
async def open_app(settings: Settings, *, apply_migrations: bool = True) -> AsyncIterator[App]:
    """Build the app, bring its database up to date, and close it afterwards."""
    app = build_app(settings)
    try:
        if apply_migrations:
            await migrate(app.database)
        yield app
    finally:
        await app.database.dispose()
