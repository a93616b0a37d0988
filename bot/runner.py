"""`python -m bot run`: the bot on its configured channels, until SIGINT or SIGTERM.

One worker runs: the web server (/healthz, /metrics, and Telegram's webhook when a public URL
is configured; long polling otherwise; WhatsApp's webhook when WhatsApp is configured), the
inbox, a deliverer per channel and the scheduler. Telegram and WhatsApp are each optional:
the bot starts with either one, or both.
Any number of identical workers may run against one PostgreSQL database (in webhook mode:
polling allows one).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.app import App, build_scheduler
from bot.channels.telegram import ALLOWED_UPDATES, SENDS_PER_SECOND, TelegramChannel, build_bot
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.client import WhatsAppClient
from bot.deliverer import Deliverer, Transport
from bot.housekeeping import plan_housekeeping
from bot.scheduler import Scheduler
from bot.web import CHAT_PATH, WEBHOOK_PATH, build_web_app
from handlers.answers import warm_up

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


@dataclass(frozen=True)
class Running:
    """What `serve` started: the channels configured, their deliverers, the scheduler and
    the web server's address."""

    scheduler: Scheduler
    web_url: str
    telegram: TelegramChannel | None = None
    telegram_deliverer: Deliverer | None = None
    whatsapp: WhatsAppChannel | None = None
    whatsapp_deliverer: Deliverer | None = None
    telegram_webhook: bool = False

    @property
    def channel(self) -> TelegramChannel:
        """The Telegram channel, for callers that started Telegram."""
        if self.telegram is None:
            raise RuntimeError("Telegram is not configured")
        return self.telegram


def _deliverer(
    app: App, channel: Transport, *, rate: float, per_chat: float, limit: int = 0
) -> Deliverer:
    """A channel's deliverer, woken whenever the inbox or a conversation queued messages."""
    deliverer = Deliverer(
        app.database.unit_of_work,
        channel,
        metrics=app.metrics,
        clock=app.clock,
        rate=rate,
        limit=limit,
        per_chat_rate=per_chat,
    )
    app.inbox.on_outbox(deliverer.wake)
    app.conversations.on_outbox(deliverer.wake)
    return deliverer


@asynccontextmanager
async def open_whatsapp(app: App) -> AsyncIterator[tuple[WhatsAppChannel, Deliverer]]:
    """The WhatsApp channel of `app` and its deliverer, with one HTTP session for both."""
    settings = app.settings
    async with aiohttp.ClientSession() as session:
        client = WhatsAppClient(
            session,
            phone_number_id=settings.whatsapp_phone_number_id,
            access_token=settings.whatsapp_access_token,
            base_url=settings.whatsapp_api_base_url,
            version=settings.whatsapp_api_version,
        )
        channel = WhatsAppChannel(
            client,
            app.inbox,
            unit_of_work=app.database.unit_of_work,
            texts=app.texts,
            clock=app.clock,
            language=settings.default_language,
        )
        deliverer = _deliverer(
            app, channel, rate=settings.whatsapp_send_rate, per_chat=settings.whatsapp_chat_rate
        )
        yield channel, deliverer


def serve_telegram(
    app: App,
    *,
    base_url: str | None = None,
    poll_timeout: int = 30,
    run_scheduler: bool = True,
) -> AbstractAsyncContextManager[Running]:
    """`serve` with Telegram, which must be configured; `base_url` points it at a Bot API
    server other than the configured one (a fake, in tests)."""
    if not app.settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    return serve(
        app, telegram_base_url=base_url, poll_timeout=poll_timeout, run_scheduler=run_scheduler
    )


@asynccontextmanager
async def serve(
    app: App,
    *,
    telegram_base_url: str | None = None,
    poll_timeout: int = 30,
    run_scheduler: bool = True,
) -> AsyncIterator[Running]:
    """The configured channels (Telegram, WhatsApp, or both) with everything behind them,
    for as long as the block lasts: the web server, Telegram's polling or webhook, the
    inbox, a deliverer per channel and (unless the caller runs timers itself) the
    scheduler."""
    settings = app.settings
    async with AsyncExitStack() as stack:
        telegram: TelegramChannel | None = None
        telegram_deliverer: Deliverer | None = None
        whatsapp: WhatsAppChannel | None = None
        whatsapp_deliverer: Deliverer | None = None
        if settings.telegram_bot_token:
            bot = build_bot(
                token=settings.telegram_bot_token,
                base_url=telegram_base_url or settings.telegram_api_base_url,
            )
            await bot.initialize()
            stack.push_async_callback(bot.shutdown)
            telegram = TelegramChannel(bot, app.inbox)
            telegram_deliverer = _deliverer(
                app,
                telegram,
                rate=settings.telegram_send_rate,
                per_chat=settings.telegram_chat_rate,
                # TELEGRAM_SEND_RATE=0 turns pacing off (a local Bot API server, benchmarks)
                limit=SENDS_PER_SECOND if settings.telegram_send_rate > 0 else 0,
            )
        if settings.whatsapp_enabled:
            whatsapp, whatsapp_deliverer = await stack.enter_async_context(open_whatsapp(app))
        deliverers = [d for d in (telegram_deliverer, whatsapp_deliverer) if d is not None]

        def wake_deliverers() -> None:
            for each in deliverers:
                each.wake()

        scheduler = build_scheduler(app, on_fired=wake_deliverers)
        webhook = telegram is not None and bool(settings.telegram_webhook_url)
        runner = web.AppRunner(
            build_web_app(app, telegram=telegram if webhook else None, whatsapp=whatsapp),
            access_log=None,
        )
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, settings.web_host, settings.web_port)
        await site.start()
        host, port = runner.addresses[0][:2]
        jobs: dict[str, Coroutine[Any, Any, None]] = {"inbox": app.inbox.run_forever()}
        if telegram is not None and telegram_deliverer is not None:
            jobs["outbox_telegram"] = telegram_deliverer.run_forever()
            jobs.update(await _start_telegram(app, telegram, poll_timeout=poll_timeout))
        if whatsapp_deliverer is not None:
            jobs["outbox_whatsapp"] = whatsapp_deliverer.run_forever()
        if run_scheduler:
            await plan_housekeeping(app.database, app.clock())
            jobs["scheduler"] = scheduler.run_forever()
        async with background(**jobs):
            yield Running(
                scheduler,
                f"http://{host}:{port}",
                telegram,
                telegram_deliverer,
                whatsapp,
                whatsapp_deliverer,
                webhook,
            )


async def _start_telegram(
    app: App, channel: TelegramChannel, *, poll_timeout: int
) -> dict[str, Coroutine[Any, Any, None]]:
    """Set the bot's commands and its webhook (or, without one, start long polling)."""
    settings = app.settings
    await channel.set_commands(app.texts)
    if settings.telegram_webhook_url:
        url = settings.telegram_webhook_url.rstrip("/") + WEBHOOK_PATH
        await channel.bot.set_webhook(
            url, secret_token=settings.telegram_webhook_secret, allowed_updates=ALLOWED_UPDATES
        )
        return {}
    await channel.bot.delete_webhook()
    return {"poll_telegram": channel.poll(poll_seconds=poll_timeout)}


async def run_bot(app: App) -> int:
    settings = app.settings
    if not settings.telegram_bot_token and not settings.whatsapp_enabled:
        log.error(
            "TELEGRAM_BOT_TOKEN is not set, nor WHATSAPP_ACCESS_TOKEN and "
            "WHATSAPP_PHONE_NUMBER_ID: set one channel in .env, or try the terminal chat: "
            "python -m bot chat"
        )
        return 2
    if settings.whatsapp_enabled and not (
        settings.whatsapp_app_secret and settings.whatsapp_verify_token
    ):
        log.error("WhatsApp is set up: set WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN too")
        return 2
    if settings.telegram_webhook_url and not settings.telegram_webhook_secret:
        log.error("TELEGRAM_WEBHOOK_URL is set: set TELEGRAM_WEBHOOK_SECRET as well")
        return 2
    warm_up()  # before the first person writes, not during their first message
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serve(app) as running:
        log.info(
            "Meedoen is running on %s, web server on %s; Ctrl-C stops it",
            " and ".join(_channel_names(running)),
            running.web_url,
        )
        await stop.wait()
    log.info("stopped")
    return 0


def _channel_names(running: Running) -> list[str]:
    names = []
    if running.telegram is not None:
        mode = "webhook" if running.telegram_webhook else "long polling"
        names.append(f"Telegram ({mode})")
    if running.whatsapp is not None:
        names.append("WhatsApp")
    return names


@asynccontextmanager
async def serve_web_chat(app: App, *, enabled: bool = True) -> AsyncIterator[str | None]:
    """The web server with the inbox behind it, for the terminal demo: its /chat/ address,
    or None when not enabled or the port is taken (the terminal chat goes on without it)."""
    if not enabled:
        yield None
        return
    runner = web.AppRunner(build_web_app(app), access_log=None)
    await runner.setup()
    try:
        try:
            site = web.TCPSite(runner, app.settings.web_host, app.settings.web_port)
            await site.start()
        except OSError as error:
            log.warning("the web chat could not start: %s", error)
            yield None
            return
        host, port = runner.addresses[0][:2]
        async with background(inbox=app.inbox.run_forever()):
            yield f"http://{host}:{port}{CHAT_PATH}"
    finally:
        await runner.cleanup()
