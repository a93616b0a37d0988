"""What every page of the dashboard needs, kept on the application under one typed key."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiohttp import web
from aiohttp_session import Session

from bot.settings import Settings
from handlers.i18n import Texts
from storage.protocols import DashboardStore
from storage.records import Moderator

UnitOfWork = Callable[[], AbstractAsyncContextManager[DashboardStore]]


class Databaselike(Protocol):
    """What the dashboard needs of `storage.db.Database`: one unit of work per request."""

    def unit_of_work(self) -> AbstractAsyncContextManager[DashboardStore]: ...


@dataclass(frozen=True)
class DashboardContext:
    unit_of_work: UnitOfWork
    texts: Texts
    settings: Settings
    clock: Callable[[], datetime]


CONTEXT = web.AppKey("dashboard", DashboardContext)
# Set by the guard on every request: who is logged in (None on the login page), and the
# session.
MODERATOR = web.RequestKey[Moderator | None]("moderator")
SESSION = web.RequestKey("session", Session)
