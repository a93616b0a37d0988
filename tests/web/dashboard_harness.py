"""Building the dashboard for tests, with a clock the test moves, and logging in to it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from bot.web.dashboard.security import hash_password
from storage.db import Database
from storage.records import Moderator, Organisation

Client = TestClient[web.Request, web.Application]
PASSWORD = "a-long-enough-password"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 12, 1, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def organisation(database: Database, slug: str, name: str, *postcodes: str) -> Organisation:
    async with database.unit_of_work() as store:
        org = await store.create_organisation(slug, name)
        for code in postcodes:
            await store.add_organisation_area(org.id, code)
        return org


async def account(
    database: Database,
    org: Organisation,
    email: str,
    *,
    name: str = "Fatima",
    admin: bool = False,
    must_change: bool = False,
) -> Moderator:
    async with database.unit_of_work() as store:
        moderator = await store.create_moderator(
            email=email,
            name=name,
            organisation_id=org.id,
            role="admin" if admin else "moderator",
            password_hash=hash_password(PASSWORD),
            now=datetime.now(UTC),
        )
        await store.set_moderator_password(
            moderator.id, moderator.password_hash, must_change=must_change
        )
        return moderator


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def csrf(client: Client, path: str = "/login") -> str:
    response = await client.get(path)
    return csrf_of(await response.text())


async def log_in(client: Client, email: str, password: str = PASSWORD) -> ClientResponse:
    token = await csrf(client)
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf": token},
        allow_redirects=False,
    )


async def post(client: Client, path: str, **data: str) -> ClientResponse:
    """A form sent from a page of the dashboard, with the session's CSRF token."""
    token = await csrf(client, "/password")
    return await client.post(path, data={"csrf": token, **data}, allow_redirects=False)
