"""A fake WhatsApp Cloud API (Graph API) server on loopback, as strict as the real one.

`FakeWhatsApp` serves `POST /<version>/<phone_number_id>/messages` and validates every
payload the way the Cloud API does, answering in the Graph API's error shape
(`{"error": {"message", "type", "code", "error_data": {"details"}, "fbtrace_id"}}`)::

    async with FakeWhatsApp(templates={"meedoen_reminder": {"nl": 2}}) as wa:
        wa.person("31612345678", last_inbound=wa.now())
        client = WhatsAppClient(session, base_url=wa.url, phone_number_id=wa.phone_number_id,
                                access_token=wa.access_token)
        await client.send(payload)
        assert wa.sent[-1].payload == payload

What it rejects:

* a wrong access token (HTTP 401, code 190) or phone number id (400, code 100);
* text: an empty or blank body, or one over 4096 characters;
* interactive reply buttons: none or more than 3, a title empty or over 20 characters, an id
  empty or over 256, repeated ids or titles; lists: a button text over 20, more than 10
  rows in all, a row title over 24, a description over 72, a row id over 200, a section
  title over 24 (and missing when there are several sections); every interactive body
  empty or over 1024 characters; location requests without `send_location`;
* templates whose name or language is not registered (132001), with a wrong number of body
  parameters (132000), or a parameter with a line break, tab or more than 4 spaces in a row;
* free-form messages (anything but a template) to someone whose last message is older than
  24 hours, or who never wrote (131047);
* a recipient it does not know (131026: the real API accepts first and reports this in a
  "failed" status later).

It records what it accepted (`sent`), can be told to fail the next calls (`fail_next`) or
to answer slowly (`delay`), and posts signed webhook calls to the bot (`post_webhook`), which
also opens the sender's 24-hour window, as a real message from them would. Once told where
the bot's webhook is (`webhook_url`), it reports what became of a message it accepted as
WhatsApp does, in a signed status webhook (`report`: sent, delivered, read, or failed with
an error code).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

JSONDict = dict[str, Any]

WINDOW = timedelta(hours=24)


class GraphError(Exception):
    def __init__(self, code: int, title: str, details: str = "", http_status: int = 400) -> None:
        super().__init__(f"({code}) {title}: {details}")
        self.code, self.title, self.details, self.http_status = code, title, details, http_status

    def body(self) -> JSONDict:
        error_data = {"messaging_product": "whatsapp", "details": self.details or self.title}
        return {
            "error": {
                "message": f"(#{self.code}) {self.title}",
                "type": "OAuthException",
                "code": self.code,
                "error_data": error_data,
                "fbtrace_id": "AzXQ1fake",
            }
        }


def status_body(
    message_id: str,
    wa_id: str,
    state: str,
    *,
    phone_number_id: str,
    timestamp: int,
    error_code: int | None = None,
    error_title: str = "",
) -> JSONDict:
    """A status webhook body as the Cloud API posts it."""
    event: JSONDict = {
        "id": message_id,
        "status": state,
        "timestamp": str(timestamp),
        "recipient_id": wa_id,
    }
    if state in ("sent", "delivered"):
        event["conversation"] = {"id": "CONVERSATION_ID", "origin": {"type": "service"}}
        event["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if error_code is not None:
        details = {"details": error_title or f"error {error_code}"}
        error = {"code": error_code, "title": error_title, "message": error_title}
        event["errors"] = [{**error, "error_data": details}]
    metadata = {"display_phone_number": "15550783881", "phone_number_id": phone_number_id}
    value = {"messaging_product": "whatsapp", "metadata": metadata, "statuses": [event]}
    change = {"value": value, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [change]}]}


def _invalid(details: str) -> GraphError:
    return GraphError(131009, "Parameter value is not valid", details)


def _shape(details: str) -> GraphError:
    return GraphError(100, "Invalid parameter", details)


@dataclass(frozen=True)
class Sent:
    """One message the fake accepted."""

    to: str
    payload: JSONDict
    message_id: str

    @property
    def kind(self) -> str:
        kind: str = self.payload["type"]
        if kind == "interactive":
            return f"interactive.{self.payload['interactive']['type']}"
        return kind


@dataclass
class _Failure:
    error: GraphError
    retry_after: int | None


@dataclass
class FakeWhatsApp:
    """The Graph API's /messages endpoint for one business phone number."""

    templates: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    access_token: str = "EAAGfakeTOKEN"
    phone_number_id: str = "106540352242922"
    app_secret: str = "fake-app-secret"
    version: str = "v21.0"
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    host: str = "127.0.0.1"
    delay: float = 0.0
    webhook_url: str | None = None
    sent: list[Sent] = field(default_factory=list)
    refused: list[tuple[JSONDict, GraphError]] = field(default_factory=list)
    last_inbound: dict[str, datetime | None] = field(default_factory=dict)
    _failures: list[_Failure] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    _url: str | None = None

    # -- set-up ----------------------------------------------------------------------------

    def person(self, wa_id: str, *, last_inbound: datetime | None) -> None:
        """Someone on WhatsApp, who last wrote to the business at `last_inbound`."""
        self.last_inbound[wa_id] = last_inbound

    def fail_next(
        self, code: int, *, http_status: int = 400, title: str = "", retry_after: int | None = None
    ) -> None:
        """Answer the next call with this Graph API error instead of handling it."""
        error = GraphError(code, title or f"error {code}", http_status=http_status)
        self._failures.append(_Failure(error, retry_after))

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("FakeWhatsApp is not started")
        return self._url

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{version}/{number}/messages", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self._url = f"http://{self.host}:{int(self._runner.addresses[0][1])}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def sent_to(self, wa_id: str) -> list[Sent]:
        return [sent for sent in self.sent if sent.to == wa_id]

    # -- webhooks to the bot ---------------------------------------------------------------

    def sign(self, body: bytes, secret: str | None = None) -> str:
        key = (secret if secret is not None else self.app_secret).encode()
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    async def post_webhook(
        self, url: str, body: JSONDict, *, secret: str | None = None, signed: bool = True
    ) -> tuple[int, str]:
        """POST `body` to the bot's webhook as WhatsApp does: signed with the app secret (or
        with `secret`, to test a forgery), unsigned when `signed` is False. Senders of
        messages in it have written now, so their 24-hour window opens."""
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        if signed:
            headers["X-Hub-Signature-256"] = self.sign(raw, secret)
        for change in (c for e in body.get("entry", []) for c in e.get("changes", [])):
            for message in change.get("value", {}).get("messages", []):
                self.last_inbound[str(message["from"])] = self.now()
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=raw, headers=headers) as response,
        ):
            return response.status, await response.text()

    async def report(
        self, message_id: str, state: str, *, error_code: int | None = None, error_title: str = ""
    ) -> tuple[int, str]:
        """Post a signed status webhook about a message this fake accepted: "sent",
        "delivered", "read", or "failed" with `error_code`."""
        if self.webhook_url is None:
            raise RuntimeError("set webhook_url to report statuses")
        [sent] = [s for s in self.sent if s.message_id == message_id]
        body = status_body(
            message_id,
            sent.to,
            state,
            phone_number_id=self.phone_number_id,
            timestamp=int(self.now().timestamp()),
            error_code=error_code,
            error_title=error_title,
        )
        return await self.post_webhook(self.webhook_url, body)

    async def verify_webhook(self, url: str, verify_token: str, challenge: str) -> tuple[int, str]:
        """The subscription handshake WhatsApp performs when the webhook URL is saved."""
        params = {"hub.mode": "subscribe", "hub.verify_token": verify_token}
        params["hub.challenge"] = challenge
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, params=params) as response,
        ):
            return response.status, await response.text()

    # -- the API ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        payload: JSONDict = {}
        try:
            self._check_request(request)
            if self._failures:
                failure = self._failures.pop(0)
                headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
                return web.json_response(
                    failure.error.body(), status=failure.error.http_status, headers=headers
                )
            try:
                payload = await request.json()
            except ValueError as error:
                raise _shape("the body is not JSON") from error
            if not isinstance(payload, dict):
                raise _shape("the body is not an object")
            to = self._validate(payload)
        except GraphError as error:
            self.refused.append((payload, error))
            return web.json_response(error.body(), status=error.http_status)
        message_id = f"wamid.FAKE{next(self._ids):08d}"
        self.sent.append(Sent(to, payload, message_id))
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": message_id}],
        }
        return web.json_response(answer)

    def _check_request(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            raise GraphError(190, "Invalid OAuth access token", http_status=401)
        if request.match_info["version"] != self.version:
            raise _shape(f"unknown version {request.match_info['version']}")
        if request.match_info["number"] != self.phone_number_id:
            raise _shape("Unsupported post request. Object does not exist")

    def _validate(self, payload: JSONDict) -> str:
        """The recipient of a valid message; raises `GraphError` for anything WhatsApp refuses."""
        if payload.get("messaging_product") != "whatsapp":
            raise _shape("messaging_product must be 'whatsapp'")
        if payload.get("recipient_type", "individual") != "individual":
            raise _shape("recipient_type must be 'individual'")
        to = payload.get("to")
        if not isinstance(to, str) or not to.isdigit():
            raise _shape("to must be a phone number or wa_id")
        kind = payload.get("type", "text")
        content = payload.get(kind)
        if not isinstance(content, dict):
            raise _shape(f"the message has no {kind!r} object")
        checks = {"text": _text, "interactive": _interactive, "template": self._template}
        if kind not in checks:
            raise _shape(f"Param type must be one of {sorted(checks)}")
        checks[kind](content)
        if to not in self.last_inbound:
            raise GraphError(131026, "Message undeliverable", "unknown recipient")
        last = self.last_inbound[to]
        if kind != "template" and (last is None or self.now() - last > WINDOW):
            raise GraphError(131047, "Re-engagement message", "more than 24 hours passed")
        return to

    def _template(self, content: JSONDict) -> None:
        name, language = content.get("name"), content.get("language")
        code = language.get("code") if isinstance(language, dict) else None
        registered = self.templates.get(str(name), {})
        if code not in registered:
            raise GraphError(132001, "Template name does not exist in the translation")
        components = content.get("components", [])
        body = [c for c in components if isinstance(c, dict) and c.get("type") == "body"]
        parameters = body[0].get("parameters", []) if body else []
        if len(parameters) != registered[str(code)]:
            raise GraphError(132000, "Number of parameters does not match the expected number")
        for parameter in parameters:
            value = parameter.get("text") if parameter.get("type") == "text" else None
            if not isinstance(value, str) or not value.strip():
                raise GraphError(131008, "Required parameter is missing")
            if "\n" in value or "\t" in value or "     " in value:
                raise _invalid("Param text cannot have new-line/tab characters or 4+ spaces")


def _length(value: object, low: int, high: int, what: str) -> str:
    if not isinstance(value, str) or not low <= len(value) <= high or not value.strip():
        raise _invalid(f"{what} must be {low} to {high} characters")
    return value


def _text(content: JSONDict) -> None:
    _length(content.get("body"), 1, 4096, "text.body")
    if set(content) - {"body", "preview_url"}:
        raise _shape(f"unknown fields in text: {sorted(set(content) - {'body', 'preview_url'})}")


def _interactive(content: JSONDict) -> None:
    kind = content.get("type")
    body = content.get("body")
    _length(body.get("text") if isinstance(body, dict) else None, 1, 1024, "body.text")
    footer = content.get("footer")
    if footer is not None:
        _length(footer.get("text"), 1, 60, "footer.text")
    action = content.get("action")
    if not isinstance(action, dict):
        raise _shape("interactive.action is required")
    if kind == "button":
        _buttons(action)
    elif kind == "list":
        _list(action)
    elif kind == "location_request_message":
        if action != {"name": "send_location"}:
            raise _shape("action.name must be 'send_location'")
    else:
        raise _shape(f"unknown interactive type {kind!r}")


def _buttons(action: JSONDict) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise _invalid("buttons must have 1 to 3 items")
    ids, titles = [], []
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if button.get("type") != "reply" or not isinstance(reply, dict):
            raise _shape("a button must be of type 'reply'")
        ids.append(_length(reply.get("id"), 1, 256, "button id"))
        titles.append(_length(reply.get("title"), 1, 20, "button title"))
    if len(set(ids)) != len(ids) or len(set(titles)) != len(titles):
        raise _invalid("button ids and titles must be unique")


def _list(action: JSONDict) -> None:
    _length(action.get("button"), 1, 20, "action.button")
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
        raise _invalid("sections must have 1 to 10 items")
    ids: list[str] = []
    for section in sections:
        if len(sections) > 1 or "title" in section:
            _length(section.get("title"), 1, 24, "section title")
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise _invalid("a section needs rows")
        for row in rows:
            ids.append(_length(row.get("id"), 1, 200, "row id"))
            _length(row.get("title"), 1, 24, "row title")
            if "description" in row:
                _length(row["description"], 1, 72, "row description")
    if len(ids) > 10:
        raise _invalid("a list has at most 10 rows")
    if len(set(ids)) != len(ids):
        raise _invalid("row ids must be unique")
