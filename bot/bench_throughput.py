"""`python -m bot bench throughput`: the full bot against a bare python-telegram-bot echo bot.

Both run in this process, one after the other, against the same kind of loopback Bot API
(`bot.bench_api`, its limits off) with `--residents` simulated residents who each send the
intake's first steps, the next as soon as the previous was answered. For each: updates per
second, p95 latency (update offered → first answer), CPU milliseconds per update (this
process, which also runs the fake: the same share in both) and messages per update. The
full bot runs with its rate limiter off. Last line: `ratio=<full/bare updates per second>
full_updates_per_s=… bare_updates_per_s=…`. With `--workers N`: see `bot.bench_workers`.
"""

from __future__ import annotations

import statistics
import time

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.bench_api import BenchBotApi
from bot.bench_delivery import TOKEN, bench_app
from bot.runner import serve_telegram
from bot.settings import Settings
from handlers.answers import warm_up

SCRIPT = ("hallo", "ja", "Anneke", "7607", "ik kook graag", "wandelen", "weekend", "1 km")


def p95_ms(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] * 1000 if len(values) > 1 else 0.0


async def _measure(api: BenchBotApi, residents: int) -> tuple[float, float, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    await api.add_residents(residents, SCRIPT, first_id=3_000_000)
    await api.finished.wait()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    updates = residents * len(SCRIPT)
    messages = api.figures.sends / updates
    return updates / wall, p95_ms(api.figures.latencies), 1000 * cpu / updates, messages


async def _bare(residents: int) -> tuple[float, float, float, float]:
    api = BenchBotApi(limits=False)
    await api.start()

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is not None and update.message.text is not None:
            await update.message.reply_text(update.message.text)

    application = (
        ApplicationBuilder().token(TOKEN).base_url(api.url).concurrent_updates(True).build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=10)
    try:
        return await _measure(api, residents)
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        await api.stop()


async def _full(settings: Settings, residents: int, url: str | None) -> tuple[float, ...]:
    api = BenchBotApi(limits=False)
    await api.start()
    configured = settings.model_copy(
        update={"telegram_send_rate": 0, "telegram_chat_rate": 0, "web_port": 0}
    )
    try:
        warm_up()  # as `python -m bot run` does before it serves
        async with (
            bench_app(configured, "throughput", url) as app,
            serve_telegram(app, base_url=api.url, poll_timeout=10, run_scheduler=False),
        ):
            return await _measure(api, residents)
    finally:
        await api.stop()


async def run_throughput(
    settings: Settings, *, residents: int, url: str | None, workers: int = 1
) -> str:
    if workers != 1:
        from bot.bench_workers import run_workers

        return await run_workers(residents=residents, url=url, workers=workers)
    bare = await _bare(residents)
    full = await _full(settings, residents, url)
    lines = []
    for name, (per_s, p95, cpu_ms, per_update) in (("bare", bare), ("full", full)):
        lines.append(
            f"{name}: updates_per_s={per_s:.1f} p95_ms={p95:.0f} cpu_ms_per_update={cpu_ms:.2f}"
            f" messages_per_update={per_update:.2f}"
        )
    lines.append(
        f"ratio={full[0] / bare[0]:.2f} full_updates_per_s={full[0]:.1f} "
        f"bare_updates_per_s={bare[0]:.1f} full_messages_per_update={full[3]:.2f}"
    )
    return "\n".join(lines)
