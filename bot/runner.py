"""`python -m bot run`: the bot on its configured channels, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from bot.app import App, build_scheduler
from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.telegram import polling
from bot.delivery import OutboxDelivery
from bot.housekeeping import plan_housekeeping

log = logging.getLogger(__name__)


@asynccontextmanager
async def background(**jobs: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run coroutines as named tasks for as long as the block lasts; cancel them afterwards.

    A task that ends on its own (it crashed) is logged; the others keep running.
    """
    tasks = [asyncio.create_task(job, name=name) for name, job in jobs.items()]

    def report(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s stopped", task.get_name(), exc_info=task.exception())

    for task in tasks:
        task.add_done_callback(report)
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_bot(app: App) -> int:
    settings = app.settings
    if not settings.telegram_bot_token:
        log.error(
            "TELEGRAM_BOT_TOKEN is not set. Set it in .env, or try the terminal chat: "
            "python -m bot chat"
        )
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with polling(
        app.conversations,
        app.texts,
        token=settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url,
    ) as channel:
        delivery = OutboxDelivery(
            app.database.unit_of_work, TELEGRAM, channel.send_to, clock=app.clock
        )
        app.conversations.on_outbox(delivery.wake)
        scheduler = build_scheduler(app, on_fired=delivery.wake)
        await plan_housekeeping(app.database, app.clock())
        async with background(
            scheduler=scheduler.run_forever(), outbox_telegram=delivery.run_forever()
        ):
            log.info("Meedoen is running on Telegram (long polling); Ctrl-C stops it")
            await stop.wait()
    log.info("stopped")
    return 0
