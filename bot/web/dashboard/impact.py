"""The impact page (charts drawn on the server as SVG, and tables) and its CSV export,
which has no personal data and no cell under five people."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from aiohttp import web

from bot.web.dashboard.context import CONTEXT
from bot.web.dashboard.pages import render
from bot.web.dashboard.security import moderator_of
from handlers import impact
from handlers.impact import MEASURES, MonthRow

PALETTE = ("#1f5f8b", "#3c8d5a", "#8a7a12", "#b5651d", "#7a4e9c", "#b03a48", "#5a5a5a")
COLOURS = dict(zip(MEASURES, PALETTE, strict=True))
CHART_HEIGHT = 180
BAR_WIDTH = 10
GROUP_GAP = 14


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    colour: str
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    months: tuple[tuple[int, str], ...]  # (x, "2026-12")
    top: int


def chart(rows: list[MonthRow]) -> Chart:
    """Grouped bars: one group per month, one bar per measure, scaled to the largest."""
    top = max([1, *(getattr(row, m) for row in rows for m in MEASURES)])
    group = len(MEASURES) * BAR_WIDTH + GROUP_GAP
    bars: list[Bar] = []
    months: list[tuple[int, str]] = []
    for index, row in enumerate(rows):
        left = 30 + index * group
        months.append((left, row.month))
        for offset, measure in enumerate(MEASURES):
            value = getattr(row, measure)
            height = round(value / top * CHART_HEIGHT)
            bars.append(
                Bar(
                    x=left + offset * BAR_WIDTH,
                    y=10 + CHART_HEIGHT - height,
                    height=height,
                    colour=COLOURS[measure],
                    label=f"{row.month} {measure}: {value}",
                )
            )
    return Chart(
        width=max(300, 40 + len(rows) * group),
        height=CHART_HEIGHT + 40,
        bars=tuple(bars),
        months=tuple(months),
        top=top,
    )


async def impact_page(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    async with context.unit_of_work() as store:
        facts = await store.impact_facts(moderator.scope)
    rows = impact.monthly(facts)
    totals = impact.totals_by_month(rows)
    wait = impact.median_first_answer(facts)
    return render(
        request,
        "impact.html",
        rows=rows,
        chart=chart(totals),
        colours=COLOURS,
        measures=MEASURES,
        wait_hours=None if wait is None else round(wait.total_seconds() / 3600, 1),
        gifts=impact.top_tags(facts, "gifts"),
        wishes=impact.top_tags(facts, "wishes"),
        unmet=impact.unmet_wishes(facts),
    )


async def impact_csv(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    async with context.unit_of_work() as store:
        facts = await store.impact_facts(moderator.scope)
    out = io.StringIO()
    csv.writer(out).writerows(impact.export_rows(impact.monthly(facts)))
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="meedoen-impact.csv"'},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/impact", impact_page, name="impact")
    app.router.add_get("/impact.csv", impact_csv, name="impact_csv")
