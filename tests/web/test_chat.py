"""The web chat on the one web server: a newcomer talks to the bot in a browser-like client,
through the inbox and the outbox, and "vergeet mij" ends the chat's identity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App, open_app
from bot.settings import Settings
from bot.web import build_web_app
from bot.web.chat import COOKIE
from storage.db import Database
from storage.records import Person
from tests.harness import Resident, person_of, seed_places

Client = TestClient[Any, Any]


@pytest.fixture
async def chat_app(settings: Settings, database: Database) -> AsyncIterator[App]:
    plain = settings.model_copy(update={"chat_secure_cookie": False})  # http in the test
    async with open_app(plain, apply_migrations=False) as app:
        yield app


async def say(app: App, client: Client, **body: Any) -> list[dict[str, Any]]:
    response = await client.post("/chat/send", json=body)
    assert response.status == 200
    await app.inbox.handle_pending()
    answer = await client.get("/chat/messages")
    messages: list[dict[str, Any]] = (await answer.json())["messages"]
    return messages


def key_of(messages: list[dict[str, Any]], label: str) -> str:
    for message in messages:
        for option in message["options"]:
            if label.lower() in option["label"].lower():
                return str(option["key"])
    raise AssertionError(f"no button {label!r}")


async def test_a_newcomer_talks_in_the_web_chat_and_is_forgotten(chat_app: App) -> None:
    app = chat_app
    await seed_places(app)
    async with TestClient(TestServer(build_web_app(app))) as client:
        page = await client.get("/chat", allow_redirects=True)
        assert page.status == 200 and 'src="static/chat.js"' in await page.text()
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert "<script>" not in await page.text()  # one served script, nothing inline
        (set_cookie,) = page.headers.getall("Set-Cookie")
        assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
        chat_id = page.cookies[COOKIE].value
        assert (await client.get("/chat/static/chat.js")).status == 200

        welcome = await say(app, client, text="hallo")
        assert "Meedoen" in welcome[0]["text"]
        asked = await say(app, client, choice=key_of(welcome, "ja, ik doe mee"))
        assert any("noemen" in m["text"] for m in asked)
        person = await _person(app, chat_id)
        assert person is not None  # consented: from now on a person

        place = await say(app, client, text="Anna")
        assert any(m["location"] for m in place)  # "share my location" is offered
        await say(app, client, location={"latitude": 52.3549, "longitude": 6.6676})
        shared = await _person(app, chat_id)
        assert shared is not None and shared.latitude is not None
        await say(app, client, text="vergeet mij")
        sure = await client.get("/chat/messages")
        assert (await sure.json())["messages"] == []  # everything was read already
        bye = await say(app, client, text="ja")
        assert any("gewist" in m["text"] for m in bye)
        assert await _person(app, chat_id) is None
        again = await client.get("/chat/messages")  # the chat's identity ends
        assert again.cookies[COOKIE].value != chat_id
        assert (await again.json())["forgotten"] is True  # the page forgets it too


async def test_a_second_hello_gets_a_short_answer_not_the_whole_welcome(chat_app: App) -> None:
    app = chat_app
    async with TestClient(TestServer(build_web_app(app))) as client:
        await client.get("/chat/")
        welcome = await say(app, client, text="hallo")
        assert "Meedoen" in welcome[0]["text"] and key_of(welcome, "ja, ik doe mee")
        again = await say(app, client, text="goeiemiddag")
        assert len(again) == 1 and "Meedoen, de buurtbot" not in again[0]["text"]
        assert "Wil je meedoen?" in again[0]["text"]
        asked = await say(app, client, choice=key_of(again, "ja, ik doe mee"))
        assert any("noemen" in m["text"] for m in asked)


async def test_an_erasure_between_two_reads_of_a_poll_still_shows_its_last_reply(
    chat_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poll reads who the chat belongs to and what waits for it in two transactions; the
    "vergeet mij" that commits between them must not end the chat before its reply is read."""
    app = chat_app
    await seed_places(app)
    async with TestClient(TestServer(build_web_app(app))) as client:
        page = await client.get("/chat/")
        chat_id = page.cookies[COOKIE].value
        welcome = await say(app, client, text="hallo")
        await say(app, client, choice=key_of(welcome, "ja, ik doe mee"))
        await say(app, client, text="vergeet mij")
        assert (await client.post("/chat/send", json={"text": "ja"})).status == 200

        opened = app.database.unit_of_work
        reads = 0

        @asynccontextmanager
        async def erasure_after_the_first_read() -> AsyncIterator[Any]:
            nonlocal reads
            async with opened() as store:
                yield store
            reads += 1
            if reads == 1:  # the inbox erases her and queues the goodbye, right now
                await app.inbox.handle_pending()

        monkeypatch.setattr(app.database, "unit_of_work", erasure_after_the_first_read)
        first = await (await client.get("/chat/messages")).json()
        monkeypatch.setattr(app.database, "unit_of_work", opened)
        assert await _person(app, chat_id) is None
        second = await (await client.get("/chat/messages")).json()
        shown = [m["text"] for m in first["messages"] + second["messages"]]
        assert any("gewist" in text for text in shown), shown
        assert first["forgotten"] is False


async def test_a_message_without_a_chat_cookie_is_refused(chat_app: App) -> None:
    async with TestClient(TestServer(build_web_app(chat_app))) as client:
        response = await client.post("/chat/send", json={"text": "hallo"})
        assert response.status == 403


async def _person(app: App, chat_id: str) -> Person | None:
    return await person_of(
        app.database, Resident(app.conversations, external_id=chat_id, channel="web")
    )
