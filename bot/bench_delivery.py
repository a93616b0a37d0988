"""`python -m bot bench delivery|memory|throughput`: the way in and the way out, measured.

* delivery: `--messages` queued messages to `--chats` chats, sent by the deliverer to a
  loopback Bot API that answers 429 whenever Telegram's limits (30 a second, one a second
  per chat) are exceeded. Last line: `sent_per_s=… limit_ratio=… n429=…` (limit_ratio is
  sent_per_s / 30).
* memory: the resident set size of the bot after 0, 1,000 and `--people` people each took
  a few steps through the inbox. Last line: `rss_mb_0=… rss_mb_1k=… rss_mb_<n>=…`.
  `--profile` prints where the CPU time of the per-update path goes (cProfile).
* throughput: see `bot.bench_throughput`.

Each works in a fresh SQLite file under data/ (deleted afterwards) unless `--database-url`
names an empty database.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import logging
import os
import pstats
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app import App, open_app
from bot.bench_api import BenchBotApi
from bot.channels.telegram import CHANNEL, SENDS_PER_SECOND, TelegramChannel, build_bot
from bot.deliverer import Deliverer
from bot.settings import Settings

log = logging.getLogger(__name__)

TOKEN = "123456:BENCH-token"
TELEGRAM_LIMIT = float(SENDS_PER_SECOND)
STEPS = ("hallo", "ja", "Anneke")  # consent, then a name: a few steps of the intake


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@asynccontextmanager
async def bench_app(settings: Settings, name: str, url: str | None) -> AsyncIterator[App]:
    """The app on a fresh SQLite file (deleted afterwards) or on the given database."""
    path = Path("data") / f"bench-{name}.db"
    _remove(path)
    configured = settings.model_copy(
        update={
            "database_url": url or f"sqlite+aiosqlite:///{path}",
            "telegram_bot_token": TOKEN,
            "throttle_per_minute": 0,
        }
    )
    try:
        async with open_app(configured) as app:
            yield app
    finally:
        if url is None:
            _remove(path)


async def run_delivery(settings: Settings, *, messages: int, chats: int, url: str | None) -> str:
    api = BenchBotApi(rate=int(TELEGRAM_LIMIT), per_chat=1.0)
    await api.start()
    try:
        async with bench_app(settings, "delivery", url) as app:
            async with app.database.unit_of_work() as store:
                for n in range(messages):
                    chat = 1_000_000 + n % chats
                    await store.queue_reply(CHANNEL, str(chat), f"Bericht {n // chats + 1}")
            # No ANALYZE after the burst: the claim must not depend on fresh statistics.
            bot = build_bot(token=TOKEN, base_url=api.url)
            await bot.initialize()
            channel = TelegramChannel(bot, app.inbox)
            deliverer = Deliverer(
                app.database.unit_of_work,
                channel,
                metrics=app.metrics,
                rate=app.settings.telegram_send_rate,
                limit=SENDS_PER_SECOND,
                per_chat_rate=app.settings.telegram_chat_rate,
            )
            started = time.perf_counter()
            task = asyncio.create_task(deliverer.run_forever(interval=0.2))
            await api.wait_for_sends(messages)
            elapsed = time.perf_counter() - started
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await bot.shutdown()
    finally:
        await api.stop()
    figures = api.figures
    window = max(1e-9, figures.last_send - figures.first_send)
    per_s = (figures.sends - 1) / window
    return (
        f"messages={messages} chats={chats} elapsed_s={elapsed:.1f}\n"
        f"sent_per_s={per_s:.2f} limit_ratio={per_s / TELEGRAM_LIMIT:.3f} n429={figures.n429}"
    )


def _updates(first_id: int, people: int, update_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    batch = []
    for text in STEPS:
        for chat in range(first_id, first_id + people):
            person = {"id": chat, "is_bot": False, "first_name": "Bewoner", "language_code": "nl"}
            payload = {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "from": person,
                    "chat": {"id": chat, "type": "private"},
                    "date": 1_700_000_000,
                    "text": text,
                },
            }
            batch.append((str(update_id), str(chat), payload))
            update_id += 1
    return batch


async def run_memory(settings: Settings, *, people: int, url: str | None, profile: bool) -> str:
    async with bench_app(settings, "memory", url) as app:
        bot = build_bot(token=TOKEN, base_url="http://127.0.0.1:9/bot")
        TelegramChannel(bot, app.inbox)  # the inbox reads Telegram's updates through it
        update_id, first_id = 1, 2_000_000
        rss: dict[int, float] = {}
        profiler = cProfile.Profile() if profile else None
        handled_total, cpu_total = 0, 0.0
        for target in (1, 1_000, people):  # one person first: imports and caches warm up
            while first_id - 2_000_000 < target:
                count = min(500, target - (first_id - 2_000_000))
                batch = _updates(first_id, count, update_id)
                update_id += len(batch)
                first_id += count
                await app.inbox.receive(CHANNEL, batch)
                del batch  # the bench's own input (up to 1,500 updates) is not the bot's memory
                cpu = time.process_time()
                if profiler is not None:
                    profiler.enable()
                handled = await app.inbox.handle_pending()
                if profiler is not None:
                    profiler.disable()
                cpu_total += time.process_time() - cpu
                handled_total += handled
            rss[target] = _rss_mb()
        await bot.shutdown()
    lines = [f"people={people} updates={handled_total} cpu_ms_per_update="
             f"{1000 * cpu_total / max(1, handled_total):.2f}"]
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        lines.append(out.getvalue())
    lines.append(
        f"rss_mb_0={rss[1]:.1f} rss_mb_1k={rss[1_000]:.1f} rss_mb_{people // 1000}k="
        f"{rss[people]:.1f} growth_mb={rss[people] - rss[1]:.1f}"
    )
    return "\n".join(lines)
