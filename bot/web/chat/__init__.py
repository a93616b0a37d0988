"""The web chat (/chat/): the same conversation in a browser, for trying Meedoen without a
token and for residents who prefer a browser (a housing corporation can link to it).

It is a channel like the others, on the one way in and out: a typed message or a tapped
button is stored in the inbox (channel "web") before the browser is told it arrived; the
replies go through the outbox, and the browser is their deliverer: it fetches them
(`/chat/messages`), which marks each one sent. Nothing is kept in this process.

The chat's identity is a random id in an HttpOnly, SameSite=Strict cookie (Secure unless
CHAT_SECURE_COOKIE=false, for plain http on a laptop). After "vergeet mij" the person is
gone; the next fetch sees that and gives the browser a new id, so the old one is never
used again. The page is plain HTML with one script and one style sheet, served from this
package (no external assets); large text, high contrast, real buttons with labels.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from importlib import resources
from typing import Any

from aiohttp import web

from bot.app import App
from bot.inbox import Draft, Incoming, reply_drafts
from handlers.messages import Inbound, Location, Reply

log = logging.getLogger(__name__)

CHANNEL = "web"
COOKIE = "meedoen_chat"
KNOWN = "meedoen_chat_known"  # set while a person stands behind the id
MAX_TEXT = 4000
MAX_BODY = 16_384
LEASE = timedelta(seconds=30)
_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
STATIC = {"chat.js": "text/javascript", "chat.css": "text/css", "index.html": "text/html"}


class WebChat:
    """The web chat's side of the inbox: reading its stored messages, writing its replies."""

    channel = CHANNEL
    max_text = MAX_TEXT

    def read(self, payload: Mapping[str, Any]) -> Incoming | None:
        sender = payload.get("sender")
        if not isinstance(sender, str) or not _ID.match(sender):
            return None
        text, choice = payload.get("text"), payload.get("choice")
        where = payload.get("location")
        location = None
        if isinstance(where, dict):
            try:
                location = Location(float(where["latitude"]), float(where["longitude"]))
            except (KeyError, TypeError, ValueError):
                location = None
        return Incoming(
            Inbound(
                channel=CHANNEL,
                external_id=sender,
                update_id=str(payload.get("id", "")) or None,
                text=text if isinstance(text, str) else None,
                choice=choice if isinstance(choice, str) else None,
                location=location,
                language_code=str(payload.get("language") or "nl")[:5],
            )
        )

    def drafts(self, incoming: Incoming, replies: Sequence[Reply]) -> list[Draft]:
        return reply_drafts(replies)


def _static(name: str) -> bytes:
    return (resources.files("bot.web.chat") / "static" / name).read_bytes()


def _chat_id(request: web.Request) -> str | None:
    value = request.cookies.get(COOKIE, "")
    return value if _ID.match(value) else None


def _set_cookie(response: web.StreamResponse, name: str, value: str, *, secure: bool) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="Strict", secure=secure, path="/chat/",
        max_age=60 * 60 * 24 * 365,
    )  # fmt: skip


def chat_app(app: App) -> web.Application:
    """The web chat as a sub-application (mounted at /chat/ by `bot.web.build_web_app`)."""
    secure = app.settings.chat_secure_cookie
    app.inbox.add_reader(CHANNEL, WebChat())

    @web.middleware
    async def headers(request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    async def page(request: web.Request) -> web.Response:
        response = web.Response(body=_static("index.html"), content_type="text/html")
        if _chat_id(request) is None:
            _set_cookie(response, COOKIE, secrets.token_urlsafe(24), secure=secure)
        return response

    async def static(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC or name == "index.html":
            raise web.HTTPNotFound()
        return web.Response(body=_static(name), content_type=STATIC[name])

    async def send(request: web.Request) -> web.Response:
        chat = _chat_id(request)
        if chat is None:
            raise web.HTTPForbidden(text="no chat")
        if request.content_length is None or request.content_length > MAX_BODY:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=0)
        try:
            body = json.loads(await request.text())
        except ValueError as error:
            raise web.HTTPBadRequest(text="not json") from error
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="not an object")
        payload: dict[str, Any] = {"sender": chat, "language": request.headers.get(
            "Accept-Language", "nl"
        )[:2]}  # fmt: skip
        if isinstance(body.get("choice"), str):
            payload["choice"] = body["choice"][:256]
        elif isinstance(body.get("location"), dict):  # the browser's "share my location"
            where = body["location"]
            payload["location"] = {k: where.get(k) for k in ("latitude", "longitude")}
        else:
            payload["text"] = str(body.get("text") or "")[:MAX_TEXT * 3]
        update_id = secrets.token_hex(12)
        payload["id"] = update_id
        await app.inbox.receive(CHANNEL, [(update_id, chat, payload)])
        return web.json_response({"ok": True})

    async def messages(request: web.Request) -> web.Response:
        chat = _chat_id(request)
        if chat is None:
            return web.json_response({"messages": []})
        # Who they are is read before their messages: "vergeet mij" and its last reply commit
        # together, so a person already gone has that reply waiting below. Read the other way
        # round, an erasure landing between the two reads would end the chat unread.
        async with app.database.unit_of_work() as store:
            person = await store.find_person_by_identity(CHANNEL, chat)
        delivered: list[dict[str, Any]] = []
        for _ in range(20):
            async with app.database.unit_of_work() as store:
                claimed = await store.claim_deliveries(
                    CHANNEL, now=app.clock(), limit=1, lease=LEASE, external_id=chat
                )
                if not claimed:
                    break
                message = claimed[0]
                await store.record_part_sent(message.id, 1, done=True)
            delivered.append(
                {
                    "text": message.text,
                    "options": [{"key": k, "label": label} for k, label in message.options],
                    "location": message.extra.get("location"),  # a "share my location" label
                }
            )
        forgotten = person is None and bool(request.cookies.get(KNOWN)) and not delivered
        response = web.json_response({"messages": delivered, "forgotten": forgotten})
        if person is not None:
            _set_cookie(response, KNOWN, "1", secure=secure)
        elif forgotten:
            # "vergeet mij": the person is gone once their last messages were read; the
            # browser gets a new id, and the old one is never used again.
            _set_cookie(response, COOKIE, secrets.token_urlsafe(24), secure=secure)
            response.del_cookie(KNOWN, path="/chat/")
        return response

    web_app = web.Application(middlewares=[headers], client_max_size=MAX_BODY)
    web_app.router.add_get("", page)
    web_app.router.add_get("/", page)
    web_app.router.add_get("/static/{name}", static)
    web_app.router.add_post("/send", send)
    web_app.router.add_get("/messages", messages)
    return web_app
