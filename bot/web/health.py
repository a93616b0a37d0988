"""/healthz (is the database reachable, how far behind are the inbox and the outbox) and
/metrics (Prometheus text format; depths and lags are read from the database on scrape)."""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.app import App

log = logging.getLogger(__name__)


async def refresh_gauges(app: App) -> dict[str, float]:
    """Read the depths and lags from the database into the gauges; returns them."""
    now = app.clock()
    async with app.database.unit_of_work() as store:
        inbox_depth, inbox_lag = await store.inbox_lag(now)
        outbox_depth, outbox_lag = await store.outbox_lag(now)
        failed = len(await store.list_failed_outbox(limit=1000))
        jobs_due, job_lag = await store.job_lag(now)
    figures = {
        "inbox_depth": inbox_depth,
        "inbox_lag_s": inbox_lag,
        "outbox_depth": outbox_depth,
        "outbox_lag_s": outbox_lag,
        "outbox_failed": failed,
        "jobs_due": jobs_due,
        "job_lag_s": job_lag,
    }
    m = app.metrics
    m.inbox_depth.set(inbox_depth)
    m.inbox_lag.set(inbox_lag)
    m.outbox_depth.set(outbox_depth)
    m.outbox_lag.set(outbox_lag)
    m.outbox_failed.set(failed)
    m.jobs_due.set(jobs_due)
    m.job_lag.set(job_lag)
    return figures


def add_health_routes(web_app: web.Application, app: App) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        try:
            figures = await refresh_gauges(app)
        except Exception as error:
            log.warning("health check: database unreachable: %r", error)
            return web.json_response({"ok": False, "database": "unreachable"}, status=503)
        return web.json_response({"ok": True, "database": "ok", **figures})

    async def metrics(_request: web.Request) -> web.Response:
        try:
            await refresh_gauges(app)
        except Exception as error:  # the counters are still worth showing
            log.warning("metrics: could not read the database: %r", error)
        body = generate_latest(app.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
