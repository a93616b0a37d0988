"""`python -m bot run`: the bot on its configured channels, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.app import App
from bot.channels.telegram import polling

log = logging.getLogger(__name__)


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
    ):
        log.info("Meedoen is running on Telegram (long polling); Ctrl-C stops it")
        await stop.wait()
    log.info("stopped")
    return 0
