"""The composition root: settings → database → conversations → inbox → channels → web.

`python -m bot` and the tests build the program through `open_app`, so both run the very
same wiring; tests only pass other settings.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from bot.housekeeping import HOUSEKEEPING, Retention, housekeeping
from bot.inbox import Inbox, Throttle
from bot.logs import protect_logs
from bot.metrics import Metrics
from bot.scheduler import Clock, JobHandler, Scheduler
from bot.settings import Settings
from handlers.conversation import Conversations
from handlers.followup import job_handlers
from handlers.i18n import Texts
from handlers.taxonomy import Taxonomy
from handlers.ticket_reasons import ModeratorAlert
from storage.db import Database
from storage.migrate import migrate
from storage.verbs import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class App:
    settings: Settings
    database: Database
    texts: Texts
    conversations: Conversations
    inbox: Inbox
    metrics: Metrics
    clock: Clock = utcnow
    job_handlers: Mapping[str, JobHandler] = field(default_factory=dict)


def moderator_alert(settings: Settings) -> ModeratorAlert | None:
    """The moderators' Telegram group, when MODERATOR_CHAT_ID names one."""
    if not settings.moderator_chat_id:
        return None
    base = settings.dashboard_url.rstrip("/")
    return ModeratorAlert("telegram", settings.moderator_chat_id, base + "/tickets/{id}")


def build_app(settings: Settings, *, clock: Clock = utcnow) -> App:
    protect_logs(settings.secrets())
    database = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        lock_timeout_ms=settings.db_lock_timeout_ms,
    )
    texts = Texts.load()
    taxonomy = Taxonomy.load()
    metrics = Metrics()
    conversations = Conversations(
        unit_of_work=database.unit_of_work,
        texts=texts,
        taxonomy=taxonomy,
        clock=clock,
        alert=moderator_alert(settings),
    )
    inbox = Inbox(
        database.unit_of_work,
        conversations,
        texts,
        metrics=metrics,
        clock=clock,
        deadline=settings.handle_deadline,
        throttle=Throttle(settings.throttle_per_minute),
        merge=settings.merge_replies,
    )
    return App(
        settings=settings,
        database=database,
        texts=texts,
        conversations=conversations,
        inbox=inbox,
        metrics=metrics,
        clock=clock,
        job_handlers={
            **job_handlers(texts, taxonomy),
            HOUSEKEEPING: housekeeping(
                Retention(
                    messages=timedelta(days=settings.keep_messages_days),
                    finished=timedelta(days=settings.keep_finished_days),
                    introductions=timedelta(days=settings.keep_introductions_days),
                )
            ),
        },
    )


@asynccontextmanager
async def open_app(
    settings: Settings, *, apply_migrations: bool = True, clock: Clock = utcnow
) -> AsyncIterator[App]:
    """Build the app, bring its database up to date, and close it afterwards."""
    app = build_app(settings, clock=clock)
    try:
        if apply_migrations:
            await migrate(app.database)
        yield app
    finally:
        await app.database.dispose()


def build_scheduler(
    app: App,
    handlers: Mapping[str, JobHandler] | None = None,
    *,
    on_fired: Callable[[], None] | None = None,
) -> Scheduler:
    """The timers of this app: `handlers` by job kind (default: the app's `job_handlers`)."""
    return Scheduler(
        app.database.unit_of_work,
        app.job_handlers if handlers is None else handlers,
        on_fired=on_fired,
        clock=app.clock,
    )
