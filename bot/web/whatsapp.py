"""WhatsApp's webhook: the verification handshake, and signed bodies stored before the 200.

GET answers Meta's subscription handshake with the challenge when the verify token is ours
(403 otherwise). POST checks `X-Hub-Signature-256` on the raw bytes first (403 when it does
not match: nothing is parsed or stored), then commits the body's messages to the inbox and
applies its status events; only then does it answer 200. A failure before the commit
answers 500, and WhatsApp sends the body again.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.inbound import (
    SIGNATURE_HEADER,
    MalformedWebhook,
    handshake,
    verify_signature,
)

log = logging.getLogger(__name__)

WHATSAPP_PATH = "/whatsapp/webhook"


def add_whatsapp_webhook(
    web_app: web.Application, channel: WhatsAppChannel, *, app_secret: str, verify_token: str
) -> None:
    if not app_secret or not verify_token:
        raise ValueError("the WhatsApp webhook needs WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN")

    async def verify(request: web.Request) -> web.Response:
        challenge = handshake(request.query, verify_token)
        if challenge is None:
            return web.Response(status=403, text="forbidden")
        return web.Response(status=200, text=challenge)

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        if not verify_signature(body, request.headers.get(SIGNATURE_HEADER), app_secret):
            log.warning("refused a WhatsApp webhook call with a wrong signature")
            return web.Response(status=403, text="forbidden")
        try:
            await channel.receive(body)
        except MalformedWebhook:
            return web.Response(status=400, text="not a WhatsApp webhook")
        except Exception:
            log.exception("could not store a WhatsApp webhook; WhatsApp will send it again")
            return web.Response(status=500, text="try again")
        return web.Response(status=200, text="ok")

    web_app.router.add_get(WHATSAPP_PATH, verify)
    web_app.router.add_post(WHATSAPP_PATH, receive)
