"""The one web server of `python -m bot run`: health, metrics and the moderators' dashboard
are served side by side, built by the composition root from the app."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.web import DASHBOARD_PATH, build_web_app


async def test_the_dashboard_is_served_beside_health_and_metrics(app: App) -> None:
    async with TestClient(TestServer(build_web_app(app))) as client:
        health = await client.get("/healthz")
        assert health.status == 200
        metrics = await client.get("/metrics")
        assert metrics.status == 200 and "updates" in await metrics.text()
        login = await client.get(f"{DASHBOARD_PATH}login")
        assert login.status == 200
        assert 'name="csrf"' in await login.text()
        assert "frame-ancestors 'none'" in login.headers.get("Content-Security-Policy", "")
        missing = await client.get(f"{DASHBOARD_PATH}people")  # not logged in
        assert missing.status in (302, 303, 401, 403) or missing.url.path.endswith("/login")
