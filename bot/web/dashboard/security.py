"""The dashboard's guards: passwords, sessions that end when idle, CSRF tokens, lock-out
after repeated failed logins, and security headers on every response."""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from aiohttp import web
from aiohttp_session import Session, get_session, new_session
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.web.dashboard.context import CONTEXT, MODERATOR, SESSION
from storage.protocols import DashboardStore
from storage.records import Moderator

log = logging.getLogger(__name__)

HASHER = PasswordHasher()
MIN_PASSWORD = 12

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# Pages anyone may open; every other page needs a moderator who logged in.
PUBLIC = frozenset({"login", "login_submit", "language", "static"})
# Pages a moderator with a one-time password may open (they must change it first).
BEFORE_NEW_PASSWORD = frozenset({"password", "password_submit", "logout", "language", "static"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def new_one_time_password() -> str:
    return secrets.token_urlsafe(12)


@functools.cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so that an answer takes as long either way (made
    at the first login, not when a worker starts: hashing costs about a second)."""
    return HASHER.hash(secrets.token_urlsafe(16))


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, email: str) -> str | None:
    """Why a new password cannot be used (a catalog key), or None."""
    if len(password) < MIN_PASSWORD:
        return "dash.password.too_short"
    if password.lower() in email.lower() or email.lower().split("@")[0] in password.lower():
        return "dash.password.like_email"
    return None


async def headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the security headers, on pages and errors alike."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)


def csrf_token(session: Session) -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _route_name(request: web.Request) -> str:
    route = request.match_info.route
    return (route.name or "") if route.resource is not None else "static"


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request: a session that ends when idle, a CSRF token on every form that is
    sent, and a moderator who logged in (and changed a one-time password)."""
    context = request.app[CONTEXT]
    session = await get_session(request)
    now = context.clock()
    name = _route_name(request)
    moderator_id = session.get("moderator_id")
    seen = session.get("seen")
    idle = timedelta(minutes=context.settings.dashboard_idle_minutes)
    if moderator_id is not None and (
        not isinstance(seen, (int, float)) or now.timestamp() - seen > idle.total_seconds()
    ):
        session.invalidate()
        session = await new_session(request)
        moderator_id = None
        if name not in PUBLIC:
            raise web.HTTPSeeOther(request.app.router["login"].url_for().with_query(expired="1"))
    if request.method == "POST":
        form = await request.post()
        sent = form.get("csrf")
        expected = session.get("csrf")
        if (
            not isinstance(sent, str)
            or not isinstance(expected, str)
            or not secrets.compare_digest(sent, expected)
        ):
            log.info("refused a form without a valid CSRF token (%s)", name)
            raise web.HTTPForbidden(text="CSRF token missing or wrong.")
    moderator: Moderator | None = None
    if moderator_id is not None:
        async with context.unit_of_work() as store:
            moderator = await store.get_moderator(int(moderator_id))
        if moderator is None:
            session.invalidate()
    if name not in PUBLIC:
        if moderator is None:
            raise web.HTTPSeeOther(request.app.router["login"].url_for())
        if moderator.must_change_password and name not in BEFORE_NEW_PASSWORD:
            raise web.HTTPSeeOther(request.app.router["password"].url_for())
    if moderator is not None:
        session["seen"] = now.timestamp()
    request[MODERATOR] = moderator
    request[SESSION] = session
    return await handler(request)


def moderator_of(request: web.Request) -> Moderator:
    moderator = request.get(MODERATOR)
    if not isinstance(moderator, Moderator):
        raise web.HTTPSeeOther(request.app.router["login"].url_for())
    return moderator


class Locked(Exception):
    """Too many failed logins for this account or from this address: try again later."""


def lock_keys(email: str, address: str) -> tuple[str, str]:
    return f"account:{email.strip().lower()}"[:300], f"address:{address}"[:300]


async def login(
    store: DashboardStore,
    *,
    email: str,
    password: str,
    address: str,
    now: datetime,
    failures: int,
    lock_for: timedelta,
) -> Moderator | None:
    """Check a login: the moderator when it is right, None when it is wrong. Raises
    `Locked` when the account or the address is locked (the password is not checked)."""
    keys = lock_keys(email, address)
    for key in keys:
        if await store.locked_until(key, now) is not None:
            raise Locked(key.partition(":")[0])
    moderator = await store.find_moderator_by_email(email)
    if password_matches(moderator.password_hash if moderator else None, password):
        await store.clear_login_failures(keys[0])
        return moderator
    for key in keys:
        await store.record_login_failure(key, now=now, limit=failures, lock_for=lock_for)
    return None
