"""The moderators' dashboard: an aiohttp sub-application, mounted by the composition root
under `/dashboard` (and served alone by `python -m bot dashboard`).

Pages are rendered on the server (aiohttp-jinja2), with one small script and one style
sheet served from here: no external assets, no inline scripts. Sessions live in
encrypted, HttpOnly, SameSite=Strict cookies and end after a while without activity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import setup as setup_sessions
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from bot.settings import Settings
from bot.web.dashboard import auth, impact, people, tickets
from bot.web.dashboard.context import CONTEXT, DashboardContext, Databaselike
from bot.web.dashboard.security import guard, headers
from handlers.i18n import Texts

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
COOKIE = "meedoen_dashboard"


def _fernet(settings: Settings) -> Fernet:
    """The key that encrypts session cookies; a key that is not a Fernet key is refused."""
    if settings.dashboard_secret_key:
        return Fernet(settings.dashboard_secret_key.encode())
    log.warning("DASHBOARD_SECRET_KEY is not set: sessions end when the dashboard restarts")
    return Fernet(Fernet.generate_key())


def dashboard_app(
    *,
    database: Databaselike,
    texts: Texts,
    settings: Settings,
    clock: Callable[[], datetime],
) -> web.Application:
    """The dashboard as a sub-application. `database` offers `unit_of_work()`, whose store
    the dashboard sees only through `storage.protocols.DashboardStore`."""
    app = web.Application()
    app[CONTEXT] = DashboardContext(
        unit_of_work=database.unit_of_work, texts=texts, settings=settings, clock=clock
    )
    storage = EncryptedCookieStorage(
        _fernet(settings),
        cookie_name=COOKIE,
        httponly=True,
        samesite="Strict",
        secure=settings.dashboard_secure_cookie,
        path="/",
    )
    setup_sessions(app, storage)
    app.middlewares.append(guard)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    app.on_response_prepare.append(headers)
    auth.add_routes(app)
    tickets.add_routes(app)
    people.add_routes(app)
    impact.add_routes(app)
    app.router.add_static("/static", HERE / "static", name="static")
    return app
