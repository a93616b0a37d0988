"""The WhatsApp client against the strict fake Graph API on loopback, and the templates."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import App
from bot.channels.whatsapp.client import (
    NotAuthorised,
    PermanentError,
    RateLimited,
    TransientError,
    WhatsAppClient,
    WhatsAppError,
    WindowClosed,
)
from bot.channels.whatsapp.render import Labels, more_page, numbered, page_count, render
from bot.channels.whatsapp.templates import (
    FOLLOWUP,
    MESSAGE_WAITING,
    REMINDER,
    TEMPLATE_LANGUAGES,
    TEMPLATES,
    free_form_allowed,
    placeholders,
    preview,
    registration_text,
    template_message,
)
from handlers.i18n import LANGUAGES, Texts
from handlers.messages import MediaKind, Reply
from tests.harness import seeded

from .fake_whatsapp import FakeWhatsApp

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ANNA, KEES, NOBODY = "31612345678", "31687654321", "31600000000"
TEXTS = Texts.load()
README = Path(__file__).resolve().parents[2] / "README.md"


def registered() -> dict[str, dict[str, int]]:
    """The templates as registered at Meta: parameter counts read from the catalog texts."""
    return {
        template.name: {
            TEMPLATE_LANGUAGES[language]: len(placeholders(TEXTS(language, template.catalog_key)))
            for language in LANGUAGES
        }
        for template in TEMPLATES.values()
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp(templates=registered(), now=lambda: NOW) as wa:
        wa.person(ANNA, last_inbound=NOW - timedelta(minutes=5))
        wa.person(KEES, last_inbound=NOW - timedelta(hours=25))
        yield wa


def client_for(session: aiohttp.ClientSession, wa: FakeWhatsApp, **kw: Any) -> WhatsAppClient:
    settings = {"access_token": wa.access_token, "timeout": 5.0, **kw}
    return WhatsAppClient(
        session, base_url=wa.url, version=wa.version, phone_number_id=wa.phone_number_id, **settings
    )


@pytest.fixture
async def client(fake: FakeWhatsApp) -> AsyncIterator[WhatsAppClient]:
    async with aiohttp.ClientSession() as session:
        yield client_for(session, fake)


def text(to: str, body: str = "Hallo!") -> dict[str, Any]:
    return render(Reply(body), to=to, labels=Labels.load(TEXTS, "nl"))[0]


async def test_an_accepted_message_returns_its_id(
    client: WhatsAppClient, fake: FakeWhatsApp
) -> None:
    first = await client.send(text(ANNA))
    second = await client.send(text(ANNA, "Nog iets"))
    assert first.startswith("wamid.") and first != second
    assert [(s.to, s.message_id, s.payload["text"]["body"]) for s in fake.sent] == [
        (ANNA, first, "Hallo!"),
        (ANNA, second, "Nog iets"),
    ]


async def test_outside_the_window_a_template_goes_instead(
    client: WhatsAppClient, fake: FakeWhatsApp
) -> None:
    with pytest.raises(WindowClosed) as closed:
        await client.send(text(KEES))
    assert closed.value.code == 131047
    values = {"first_name": "Kees", "other": "Anna"}
    template = template_message(KEES, FOLLOWUP, language="nl", values=values)
    message_id = await client.send(template)
    assert [s.message_id for s in fake.sent_to(KEES)] == [message_id]
    assert preview(FOLLOWUP, TEXTS, "nl", values).startswith("Hallo Kees, een week geleden")


async def test_every_template_in_both_languages_is_accepted(
    client: WhatsAppClient, fake: FakeWhatsApp
) -> None:
    for language in LANGUAGES:
        for template in TEMPLATES.values():
            values = {name: "Repair Café\nAlmelo" for name in template.parameters}
            await client.send(template_message(KEES, template, language=language, values=values))
    assert len(fake.sent) == 2 * len(TEMPLATES)
    parameter = fake.sent[0].payload["template"]["components"][0]["parameters"][0]
    assert parameter == {"type": "text", "text": "Repair Café Almelo"}


async def test_template_mistakes_are_permanent(client: WhatsAppClient) -> None:
    payload = template_message(
        KEES, REMINDER, language="en", values={"first_name": "K", "initiative": "x"}
    )
    payload["template"]["components"][0]["parameters"].pop()
    with pytest.raises(PermanentError) as wrong_count:
        await client.send(payload)
    assert wrong_count.value.code == 132000
    payload["template"]["name"] = "meedoen_unknown"
    with pytest.raises(PermanentError) as unknown:
        await client.send(payload)
    assert unknown.value.code == 132001
    with pytest.raises(ValueError, match="missing"):
        template_message(KEES, MESSAGE_WAITING, language="nl", values={})


@pytest.mark.parametrize(
    ("code", "http_status", "kind"),
    [
        (130429, 400, RateLimited),
        (4, 429, RateLimited),
        (131026, 400, PermanentError),
        (131051, 400, PermanentError),
        (131000, 500, TransientError),
        (1, 503, TransientError),
        (190, 401, NotAuthorised),
    ],
)
async def test_graph_errors_become_typed_errors(
    client: WhatsAppClient,
    fake: FakeWhatsApp,
    code: int,
    http_status: int,
    kind: type[WhatsAppError],
) -> None:
    fake.fail_next(code, http_status=http_status, retry_after=7)
    with pytest.raises(kind) as raised:
        await client.send(text(ANNA))
    assert type(raised.value) is kind
    assert (raised.value.code, raised.value.http_status) == (code, http_status)
    assert raised.value.retry_after == 7.0
    assert fake.sent == []
    assert await client.send(text(ANNA))  # the next call goes through


async def test_an_unknown_recipient_is_undeliverable(client: WhatsAppClient) -> None:
    with pytest.raises(PermanentError) as raised:
        await client.send(text(NOBODY))
    assert raised.value.code == 131026


async def test_a_wrong_token_is_not_authorised(fake: FakeWhatsApp) -> None:
    async with aiohttp.ClientSession() as session:
        wrong = client_for(session, fake, access_token="EAAGwrong")
        with pytest.raises(NotAuthorised):
            await wrong.send(text(ANNA))
    assert "EAAG" not in repr(wrong)


async def test_a_slow_answer_is_transient(fake: FakeWhatsApp) -> None:
    fake.delay = 2.0
    async with aiohttp.ClientSession() as session:
        with pytest.raises(TransientError, match="timed out"):
            await client_for(session, fake, timeout=0.1).send(text(ANNA))


async def test_no_server_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with aiohttp.ClientSession() as session:
        nowhere = WhatsAppClient(
            session, base_url=f"http://127.0.0.1:{port}", phone_number_id="1", access_token="t"
        )
        with pytest.raises(TransientError, match="could not reach"):
            await nowhere.send(text(ANNA))


def button(n: int, title: str = "Ja") -> dict[str, Any]:
    return {"type": "reply", "reply": {"id": f"b{n}", "title": title}}


def rows(count: int, title: str = "Rij") -> list[dict[str, Any]]:
    return [{"id": f"r{n}", "title": f"{title} {n}"} for n in range(count)]


def interactive(kind: str, action: dict[str, Any], body: str = "Kies maar") -> dict[str, Any]:
    content = {"type": kind, "body": {"text": body}, "action": action}
    return {
        "messaging_product": "whatsapp",
        "to": ANNA,
        "type": "interactive",
        "interactive": content,
    }


BROKEN = {
    "four buttons": interactive("button", {"buttons": [button(n, f"J{n}") for n in range(4)]}),
    "a title of 21": interactive("button", {"buttons": [button(1, "x" * 21)]}),
    "the same title twice": interactive("button", {"buttons": [button(1), button(2)]}),
    "an empty body": interactive("button", {"buttons": [button(1)]}, body=" "),
    "a body of 1025": interactive("button", {"buttons": [button(1)]}, body="x" * 1025),
    "eleven rows": interactive("list", {"button": "Kies", "sections": [{"rows": rows(11)}]}),
    "a row title of 25": interactive(
        "list", {"button": "Kies", "sections": [{"rows": rows(1, "x" * 23)}]}
    ),
    "a list button of 21": interactive(
        "list", {"button": "x" * 21, "sections": [{"rows": rows(2)}]}
    ),
    "a text of 4097": {
        "messaging_product": "whatsapp",
        "to": ANNA,
        "type": "text",
        "text": {"body": "x" * 4097},
    },
    "no location action": interactive("location_request_message", {"name": "send"}),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
async def test_the_fake_refuses_what_whatsapp_refuses(
    client: WhatsAppClient, fake: FakeWhatsApp, name: str
) -> None:
    with pytest.raises(PermanentError) as raised:
        await client.send(BROKEN[name])
    assert raised.value.code in (100, 131009)
    assert fake.sent == [] and len(fake.refused) == 1


def test_the_24_hour_rule() -> None:
    assert not free_form_allowed(None, NOW)
    assert free_form_allowed(NOW - timedelta(hours=1), NOW)
    assert free_form_allowed(NOW - timedelta(hours=23, minutes=45), NOW)
    assert not free_form_allowed(NOW - timedelta(hours=23, minutes=55), NOW)  # the margin
    assert free_form_allowed(NOW - timedelta(hours=23, minutes=55), NOW, margin=timedelta())
    assert not free_form_allowed(NOW - timedelta(hours=25), NOW)
    with pytest.raises(ValueError, match="aware"):
        free_form_allowed(datetime(2026, 12, 1, 11, 0), NOW)


@pytest.mark.parametrize("language", LANGUAGES)
def test_template_texts_match_their_declaration(language: str) -> None:
    readme = README.read_text(encoding="utf-8")
    for template in TEMPLATES.values():
        catalog = TEXTS(language, template.catalog_key)
        assert placeholders(catalog) == template.parameters, template.name
        registration = registration_text(template, TEXTS, language)
        assert "{{1}}" in registration and "{first_name}" not in registration
        assert not registration.startswith("{{") and not registration.endswith("}}")
        assert registration in readme, f"README lacks {template.name} ({language})"


async def conversation_replies(app: App, language: str) -> list[Reply]:
    """Every reply of a whole intake, taking the longest path: all tags shown."""
    resident = await seeded(app, f"wa-{language}")
    resident.language_code = language
    replies = [*await resident.send("hallo"), *await resident.press(resident.options[0].key)]
    pressed_more = False
    pressed: set[str] = set()  # a button tapped twice in a row is taken as a double tap
    for _ in range(30):
        asking = [r for r in resident.last if r.options]  # the question asked last
        keys = {o.key.partition(":")[2]: o.key for o in (asking[-1].options if asking else ())}
        if "visible:no" in keys:
            replies += await resident.press(keys["visible:no"])
            break
        wanted: str | None = next((k for k in ("done", "confirm") if k in keys), None)
        if "more" in keys and not pressed_more:  # the longest path: all tags shown once
            wanted, pressed_more = "more", True
        elif wanted is None:
            fresh = [k for k in keys if keys[k] not in pressed]
            wanted = next((k for k in fresh if k not in ("skip", "more")), None)
            wanted = wanted or next((k for k in fresh if k in ("more", "skip")), None)
        if wanted is None:  # a question answered in words only
            raise AssertionError(f"no button to go on with: {resident.text!r}")
        pressed.add(keys[wanted])
        replies += await resident.press(keys[wanted])
    else:
        raise AssertionError("the intake did not end")
    for words in ("help", "mijn gegevens", "taal"):
        replies += await resident.send(words)
    replies += await resident.send_media(MediaKind.STICKER)
    return replies


@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_rendered_reply_of_the_intake_is_accepted(
    app: App, client: WhatsAppClient, fake: FakeWhatsApp, language: str
) -> None:
    labels = Labels.load(TEXTS, language)
    replies = [r for r in await conversation_replies(app, language) if r.to_person is None]
    payloads: list[dict[str, Any]] = []
    for reply in replies:
        for page in range(page_count(len(reply.options))):
            payloads += render(reply, to=ANNA, labels=labels, page=page)
        payloads += numbered(reply, to=ANNA, labels=labels)
    for payload in payloads:
        await client.send(payload)
    assert len(fake.sent) == len(payloads) and fake.refused == []
    kinds = {sent.kind for sent in fake.sent}
    assert kinds == {
        "text",
        "interactive.button",
        "interactive.list",
        "interactive.location_request_message",
    }
    more_rows = [
        row["id"]
        for sent in fake.sent
        if sent.kind == "interactive.list"
        for row in sent.payload["interactive"]["action"]["sections"][0]["rows"]
        if more_page(row["id"]) is not None
    ]
    assert more_rows, "the long list of tags should have pages"
