"""The one web server: Telegram's and WhatsApp's webhooks, /healthz and /metrics, the web
chat under /chat/ and the moderators' dashboard under /dashboard/ — each a route group or
sub-application of its own, built by the composition root (`bot.runner`) from the app it
serves."""

from __future__ import annotations

from aiohttp import web

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.web.chat import chat_app
from bot.web.dashboard import dashboard_app
from bot.web.health import add_health_routes
from bot.web.telegram import WEBHOOK_PATH, add_telegram_webhook
from bot.web.whatsapp import WHATSAPP_PATH, add_whatsapp_webhook

__all__ = ["CHAT_PATH", "DASHBOARD_PATH", "WEBHOOK_PATH", "WHATSAPP_PATH", "build_web_app"]

DASHBOARD_PATH = "/dashboard/"
CHAT_PATH = "/chat/"


def build_web_app(
    app: App,
    *,
    telegram: TelegramChannel | None = None,
    whatsapp: WhatsAppChannel | None = None,
) -> web.Application:
    web_app = web.Application()
    add_health_routes(web_app, app)
    if telegram is not None:
        add_telegram_webhook(web_app, telegram, secret=app.settings.telegram_webhook_secret)
    if whatsapp is not None:
        add_whatsapp_webhook(
            web_app,
            whatsapp,
            app_secret=app.settings.whatsapp_app_secret,
            verify_token=app.settings.whatsapp_verify_token,
        )
    web_app.router.add_get("/chat", _to_chat)  # the address people type, without the slash
    web_app.add_subapp(CHAT_PATH, chat_app(app))
    web_app.add_subapp(
        DASHBOARD_PATH,
        dashboard_app(
            database=app.database, texts=app.texts, settings=app.settings, clock=app.clock
        ),
    )
    return web_app


async def _to_chat(_request: web.Request) -> web.Response:
    raise web.HTTPFound(CHAT_PATH)
