"""Telegram's webhook: checks the secret header, stores the update, then answers 200.

Telegram retries every update that was not answered with a 2xx, so the 200 is sent only
after the update was committed to the inbox; a failure before that answers 500 and the
update comes again. A missing or wrong secret is refused with 403.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web

from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def add_telegram_webhook(
    web_app: web.Application, channel: TelegramChannel, *, secret: str
) -> None:
    if not secret:
        raise ValueError("the Telegram webhook needs a secret (TELEGRAM_WEBHOOK_SECRET)")

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            payload = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(payload, dict) or "update_id" not in payload:
            return web.Response(status=400, text="not an update")
        try:
            await channel.receive([payload])
        except Exception:
            log.exception("could not store a Telegram update; Telegram will send it again")
            return web.Response(status=500, text="try again")
        return web.Response(status=200, text="ok")

    web_app.router.add_post(WEBHOOK_PATH, receive)
