"""The fake WhatsApp server itself: signed webhook calls, the handshake, the window, strictness.

A small receiver stands in for the web server's WhatsApp route, built from the channel's
own `verify_signature`, `handshake` and `parse_webhook`, as the real route will be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.channels.whatsapp.client import PermanentError, WhatsAppClient, WindowClosed
from bot.channels.whatsapp.inbound import (
    SIGNATURE_HEADER,
    Webhook,
    handshake,
    parse_webhook,
    verify_signature,
)

from . import whatsapp_webhooks as hooks
from .fake_whatsapp import FakeWhatsApp

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEES = "31687654321"
VERIFY_TOKEN = "meedoen-verify"


class Receiver:
    """A webhook route on loopback that keeps what it accepted."""

    def __init__(self, app_secret: str) -> None:
        self.app_secret = app_secret
        self.accepted: list[Webhook] = []
        self.refused = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify_signature(body, request.headers.get(SIGNATURE_HEADER), self.app_secret):
            self.refused += 1
            return web.Response(status=403)
        self.accepted.append(parse_webhook(body))
        return web.Response(text="ok")

    async def _get(self, request: web.Request) -> web.Response:
        challenge = handshake(dict(request.query), VERIFY_TOKEN)
        return web.Response(status=403) if challenge is None else web.Response(text=challenge)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/whatsapp", self._post)
        app.router.add_get("/whatsapp", self._get)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{int(self._runner.addresses[0][1])}/whatsapp"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp(now=lambda: NOW) as wa:
        wa.person(KEES, last_inbound=NOW - timedelta(hours=25))
        yield wa


@pytest.fixture
async def receiver(fake: FakeWhatsApp) -> AsyncIterator[Receiver]:
    server = Receiver(fake.app_secret)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def client(fake: FakeWhatsApp) -> AsyncIterator[WhatsAppClient]:
    async with aiohttp.ClientSession() as session:
        yield WhatsAppClient(
            session,
            base_url=fake.url,
            phone_number_id=fake.phone_number_id,
            access_token=fake.access_token,
        )


def text_to(to: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "Hoi"}}


async def test_a_signed_call_is_accepted_and_parsed(fake: FakeWhatsApp, receiver: Receiver) -> None:
    status, _ = await fake.post_webhook(receiver.url, hooks.text(KEES, "hallo", name="Kees"))
    assert status == 200
    [webhook] = receiver.accepted
    [message] = webhook.messages
    assert (message.inbound.external_id, message.inbound.text) == (KEES, "hallo")


@pytest.mark.parametrize(("secret", "signed"), [("not-the-app-secret", True), (None, False)])
async def test_a_forged_or_unsigned_call_is_refused(
    fake: FakeWhatsApp, receiver: Receiver, secret: str | None, signed: bool
) -> None:
    body = hooks.text(KEES, "hallo")
    status, _ = await fake.post_webhook(receiver.url, body, secret=secret, signed=signed)
    assert status == 403
    assert receiver.accepted == [] and receiver.refused == 1


async def test_the_handshake_over_http(fake: FakeWhatsApp, receiver: Receiver) -> None:
    assert await fake.verify_webhook(receiver.url, VERIFY_TOKEN, "8675309") == (200, "8675309")
    status, _ = await fake.verify_webhook(receiver.url, "guessed", "8675309")
    assert status == 403


async def test_writing_in_opens_the_window(
    fake: FakeWhatsApp, receiver: Receiver, client: WhatsAppClient
) -> None:
    with pytest.raises(WindowClosed):
        await client.send(text_to(KEES))
    await fake.post_webhook(receiver.url, hooks.text(KEES, "ik ben er weer"))
    assert fake.last_inbound[KEES] == NOW
    message_id = await client.send(text_to(KEES))
    assert [sent.message_id for sent in fake.sent_to(KEES)] == [message_id]
    assert fake.sent[0].kind == "text"


def list_message(sections: list[dict[str, Any]]) -> dict[str, Any]:
    action = {"button": "Kies", "sections": sections}
    content = {"type": "list", "body": {"text": "Kies maar"}, "action": action}
    return {
        "messaging_product": "whatsapp",
        "to": KEES,
        "type": "interactive",
        "interactive": content,
    }


def section(title: str | None, first: int, count: int) -> dict[str, Any]:
    rows = [{"id": f"r{n}", "title": f"Rij {n}"} for n in range(first, first + count)]
    return {"rows": rows} if title is None else {"title": title, "rows": rows}


async def test_lists_with_several_sections(fake: FakeWhatsApp, client: WhatsAppClient) -> None:
    fake.person(KEES, last_inbound=NOW)
    await client.send(list_message([section("Hoofd", 0, 5), section("Handen", 5, 5)]))
    assert fake.sent[-1].kind == "interactive.list"
    refused = [
        [section("Hoofd", 0, 5), section(None, 5, 5)],  # a second section needs a title
        [section("Hoofd", 0, 6), section("Handen", 6, 5)],  # 11 rows in all
        [section("Hoofd", 0, 2), section("Handen", 1, 2)],  # a row id twice
        [section("x" * 25, 0, 2)],  # a section title of 25
    ]
    for sections in refused:
        with pytest.raises(PermanentError):
            await client.send(list_message(sections))
    assert len(fake.sent) == 1 and len(fake.refused) == len(refused)


async def test_a_template_parameter_with_a_line_break_is_refused() -> None:
    async with FakeWhatsApp(templates={"meedoen_message_waiting": {"nl": 1}}) as wa:
        wa.person(KEES, last_inbound=None)
        async with aiohttp.ClientSession() as session:
            strict = WhatsAppClient(
                session,
                base_url=wa.url,
                phone_number_id=wa.phone_number_id,
                access_token=wa.access_token,
            )
            template: dict[str, Any] = {
                "name": "meedoen_message_waiting",
                "language": {"code": "nl"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "A\nB"}]}],
            }
            payload = {"messaging_product": "whatsapp", "to": KEES, "type": "template"}
            with pytest.raises(PermanentError) as raised:
                await strict.send({**payload, "template": template})
            assert raised.value.code == 131009
            template["components"][0]["parameters"][0]["text"] = "Kees"
            assert await strict.send({**payload, "template": template})
            with pytest.raises(WindowClosed):  # never wrote: only templates
                await strict.send(text_to(KEES))
