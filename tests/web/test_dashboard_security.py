"""The dashboard's guards, through aiohttp's test client: login, first-login password
change, lock-out per account and per address, CSRF refusal, idle expiry, headers."""

from __future__ import annotations

from typing import Any

from bot.app import App
from tests.web.dashboard_harness import (
    PASSWORD,
    account,
    csrf,
    log_in,
    organisation,
    post,
)

Dashboard = tuple[Any, Any]


async def _fatima(app: App, *, must_change: bool = False) -> None:
    org = await organisation(app.database, "buurtteam", "Buurtteam Almelo", "7607")
    await account(app.database, org, "fatima@example.org", must_change=must_change)


async def test_a_moderator_logs_in_and_out(app: App, dashboard: Dashboard) -> None:
    client, _ = dashboard
    await _fatima(app)
    assert (await client.get("/inbox", allow_redirects=False)).headers["Location"] == "/login"
    response = await log_in(client, "fatima@example.org")
    assert response.status == 303 and response.headers["Location"] == "/inbox"
    page = await client.get("/inbox")
    assert page.status == 200 and "Fatima (Buurtteam Almelo)" in await page.text()
    assert (await post(client, "/logout")).status == 303
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


async def test_a_wrong_password_is_refused(app: App, dashboard: Dashboard) -> None:
    client, _ = dashboard
    await _fatima(app)
    response = await log_in(client, "fatima@example.org", "not-the-password")
    assert response.status == 401
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


async def test_the_session_cookie_is_httponly_strict_and_encrypted(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    await _fatima(app)
    response = await log_in(client, "fatima@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "moderator_id" not in cookie  # encrypted, not readable


async def test_the_one_time_password_must_be_changed_first(app: App, dashboard: Dashboard) -> None:
    client, _ = dashboard
    await _fatima(app, must_change=True)
    response = await log_in(client, "fatima@example.org")
    assert response.headers["Location"] == "/password"
    assert (await client.get("/inbox", allow_redirects=False)).headers["Location"] == "/password"
    short = await post(client, "/password", current=PASSWORD, new="short", repeat="short")
    assert short.status == 400
    new = "another-long-passphrase"
    changed = await post(client, "/password", current=PASSWORD, new=new, repeat=new)
    assert changed.status == 303
    assert (await client.get("/inbox")).status == 200
    await post(client, "/logout")
    assert (await log_in(client, "fatima@example.org")).status == 401  # the old one is gone
    assert (await log_in(client, "fatima@example.org", new)).status == 303


async def test_repeated_failures_lock_the_account(app: App, dashboard: Dashboard) -> None:
    client, clock = dashboard
    await _fatima(app)
    failures = app.settings.dashboard_lockout_failures
    for _ in range(failures):
        assert (await log_in(client, "fatima@example.org", "guess")).status == 401
    locked = await log_in(client, "fatima@example.org")  # even the right password
    assert locked.status == 429
    clock.advance(minutes=app.settings.dashboard_lockout_minutes + 1)
    assert (await log_in(client, "fatima@example.org")).status == 303


async def test_repeated_failures_from_one_address_lock_every_account(
    app: App, dashboard: Dashboard
) -> None:
    client, _ = dashboard
    await _fatima(app)
    failures = app.settings.dashboard_lockout_failures
    for number in range(failures):
        assert (await log_in(client, f"guess{number}@example.org", "guess")).status == 401
    assert (await log_in(client, "fatima@example.org")).status == 429


async def test_a_form_without_the_csrf_token_is_refused(app: App, dashboard: Dashboard) -> None:
    client, _ = dashboard
    await _fatima(app)
    await csrf(client)
    no_token = await client.post(
        "/login", data={"email": "fatima@example.org", "password": PASSWORD}
    )
    assert no_token.status == 403
    await log_in(client, "fatima@example.org")
    wrong = await client.post("/logout", data={"csrf": "forged"}, allow_redirects=False)
    assert wrong.status == 403
    assert (await client.get("/inbox", allow_redirects=False)).status == 200  # still in


async def test_an_idle_session_expires(app: App, dashboard: Dashboard) -> None:
    client, clock = dashboard
    await _fatima(app)
    await log_in(client, "fatima@example.org")
    idle = app.settings.dashboard_idle_minutes
    clock.advance(minutes=idle - 1)
    assert (await client.get("/inbox", allow_redirects=False)).status == 200
    clock.advance(minutes=idle - 1)  # active a minute ago: still in
    assert (await client.get("/inbox", allow_redirects=False)).status == 200
    clock.advance(minutes=idle + 1)
    expired = await client.get("/inbox", allow_redirects=False)
    assert expired.status == 303 and "expired" in expired.headers["Location"]
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


async def test_every_response_carries_the_security_headers(app: App, dashboard: Dashboard) -> None:
    client, _ = dashboard
    await _fatima(app)
    await log_in(client, "fatima@example.org")
    for path in ("/login", "/inbox", "/tickets/999", "/static/dashboard.js", "/nowhere"):
        response = await client.get(path, allow_redirects=False)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp, path
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path


async def test_pages_have_no_inline_script(app: App, dashboard: Dashboard) -> None:
    client, _ = dashboard
    await _fatima(app)
    await log_in(client, "fatima@example.org")
    for path in ("/login", "/inbox", "/people", "/initiatives", "/impact"):
        html = await (await client.get(path)).text()
        assert "<script>" not in html and " on" + "click=" not in html, path
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), path
