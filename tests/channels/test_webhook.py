"""Webhook mode end to end: Telegram posts updates to the bot's web server, which checks the
secret, stores each update before answering 200, and answers through the outbox; /healthz
and /metrics on the same server. The fake Bot API server receives setWebhook and the bot's
messages; the tests post updates as Telegram does."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import App, open_app
from bot.runner import Running, serve_telegram
from bot.settings import Settings
from bot.web.telegram import SECRET_HEADER, WEBHOOK_PATH
from handlers.conversation import Conversations, Handled
from handlers.messages import Inbound
from storage.db import Database
from storage.inbox import InboxVerbs
from storage.models import InboxRow
from storage.store import Store
from tests.channels.fake_telegram import FakeTelegram

SECRET = "s3cret-token_for-tests"
PUBLIC_URL = "https://meedoen.example.org"
TIMEOUT = 10.0
_update_ids = itertools.count(500_001)


def text_update(user_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    """A message update as Telegram posts it to a webhook."""
    person = {"id": user_id, "is_bot": False, "first_name": "Anna", "language_code": "nl"}
    return {
        "update_id": update_id if update_id is not None else next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "from": person,
            "chat": {"id": user_id, "type": "private", "first_name": "Anna"},
            "date": 1_700_000_000,
            "text": text,
        },
    }


@asynccontextmanager
async def webhook_app(settings: Settings, **changes: Any) -> AsyncIterator[App]:
    configured = settings.model_copy(
        update={"telegram_webhook_url": PUBLIC_URL, "telegram_webhook_secret": SECRET, **changes}
    )
    async with open_app(configured) as app:
        yield app


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[App]:
    async with webhook_app(settings) as built:
        yield built


@pytest.fixture
async def running(app: App, tg: FakeTelegram) -> AsyncIterator[Running]:
    async with serve_telegram(app, base_url=tg.base_url, run_scheduler=False) as started:
        yield started


async def post(running: Running, update: dict[str, Any], secret: str | None = SECRET) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(running.web_url + WEBHOOK_PATH, json=update, headers=headers) as response,
    ):
        return response.status


async def stored(app: App) -> int:
    async with app.database.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(InboxRow)) or 0)


async def test_set_webhook_names_the_public_url_and_the_secret(
    tg: FakeTelegram, running: Running
) -> None:
    [call] = tg.webhook_calls
    assert call["url"] == PUBLIC_URL + WEBHOOK_PATH
    assert call["secret_token"] == SECRET
    assert tg.webhook_url == PUBLIC_URL + WEBHOOK_PATH


async def test_a_wrong_or_missing_secret_is_refused(
    app: App, tg: FakeTelegram, running: Running
) -> None:
    tg.user(4301, started=True)
    assert await post(running, text_update(4301, "hallo"), secret=None) == 403
    assert await post(running, text_update(4301, "hallo"), secret="guess") == 403
    assert await post(running, text_update(4301, "hallo"), secret=SECRET[:-1]) == 403
    assert await stored(app) == 0
    await tg.wait_until_idle()
    assert tg.calls_to("sendMessage") == []


async def test_a_failure_before_the_commit_is_answered_500_and_handled_once_on_retry(
    app: App, tg: FakeTelegram, running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = tg.user(4302, started=True)
    original = InboxVerbs.store_update
    failures = [RuntimeError("the database went away")]

    async def store_once_failing(self: InboxVerbs, *args: Any, **kwargs: Any) -> bool:
        if failures:
            raise failures.pop()
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(InboxVerbs, "store_update", store_once_failing)
    update = text_update(4302, "hallo")

    assert await post(running, update) == 500  # Telegram keeps it and sends it again
    assert await stored(app) == 0
    assert await post(running, update) == 200
    assert await post(running, update) == 200  # a retry after our 200 got lost: stored once

    [welcome] = await anna.wait_for_messages(1, timeout=TIMEOUT)
    assert welcome.buttons  # the consent question
    await tg.wait_until_idle()
    assert len(anna.messages()) == 1  # answered once
    assert await stored(app) == 1


async def unhandled(app: App) -> int:
    async with app.database.engine.connect() as connection:
        waiting = select(func.count()).select_from(InboxRow).where(InboxRow.handled_at.is_(None))
        return int(await connection.scalar(waiting) or 0)


def fail_handling(monkeypatch: pytest.MonkeyPatch, fails: Callable[[Inbound], bool]) -> None:
    """A fault in the conversation for the messages `fails` picks (after it wrote)."""
    original = Conversations._handle_in

    async def handle(self: Conversations, store: Store, msg: Inbound, **kw: Any) -> Handled:
        handled = await original(self, store, msg, **kw)
        if fails(msg):
            raise RuntimeError("a fault in a handler")
        return handled

    monkeypatch.setattr(Conversations, "_handle_in", handle)


async def test_a_handler_that_fails_once_is_tried_again_and_answers_once(
    app: App, tg: FakeTelegram, running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = tg.user(4306, started=True)
    faults = [True]
    fail_handling(monkeypatch, lambda _msg: bool(faults) and faults.pop())

    assert await post(running, text_update(4306, "hallo")) == 200
    [welcome] = await anna.wait_for_messages(1, timeout=TIMEOUT)
    await tg.wait_until_idle()
    assert faults == []  # it did fail once
    assert welcome.buttons  # the consent question, not an apology
    assert len(anna.messages()) == 1
    assert await unhandled(app) == 0


async def test_a_message_that_keeps_failing_gets_one_apology_and_changes_nothing(
    app: App, tg: FakeTelegram, running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = tg.user(4307, started=True)
    assert await post(running, text_update(4307, "hallo")) == 200
    await anna.wait_for_messages(1, timeout=TIMEOUT)
    fail_handling(monkeypatch, lambda msg: msg.text == "ja")

    assert await post(running, text_update(4307, "ja")) == 200  # the consent: it fails
    [_, sorry] = await anna.wait_for_messages(2, timeout=TIMEOUT)
    assert sorry.text == app.texts("nl", "error.sorry")
    await tg.wait_until_idle()
    assert len(anna.messages()) == 2
    assert await unhandled(app) == 0  # set aside, not tried for ever
    async with app.database.unit_of_work() as store:  # the failed turn left no trace
        assert await store.find_person_by_identity("telegram", "4307") is None

    monkeypatch.undo()
    assert await post(running, text_update(4307, "ja")) == 200  # the next one works
    [*_, thanks] = await anna.wait_for_messages(3, timeout=TIMEOUT)
    async with app.database.unit_of_work() as store:
        assert await store.find_person_by_identity("telegram", "4307") is not None
    assert thanks.text != sorry.text


async def test_an_update_tried_again_counts_once_against_the_limit(
    settings: Settings, database: Database, tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        webhook_app(settings, throttle_per_minute=3) as app,
        serve_telegram(app, base_url=tg.base_url, run_scheduler=False) as running,
    ):
        anna = tg.user(4308, started=True)
        faults = [True, True]  # the third message fails twice, then goes through
        fail_handling(
            monkeypatch, lambda msg: msg.text == "bericht 2" and bool(faults) and faults.pop()
        )
        for n in range(3):
            assert await post(running, text_update(4308, f"bericht {n}")) == 200
            await anna.wait_for_messages(n + 1, timeout=TIMEOUT)
        await tg.wait_until_idle(timeout=TIMEOUT, quiet=0.5)
        assert faults == []
        texts = [m.text for m in anna.messages()]
        assert len(texts) == 3
        assert app.texts("nl", "error.slow_down") not in texts  # three messages, not five


async def test_health_and_metrics_show_what_the_bot_does(
    app: App, tg: FakeTelegram, running: Running
) -> None:
    anna = tg.user(4303, started=True)
    assert await post(running, text_update(4303, "hallo")) == 200
    await anna.wait_for_messages(1, timeout=TIMEOUT)
    await tg.wait_until_idle()
    async with aiohttp.ClientSession() as session:
        async with session.get(running.web_url + "/healthz") as response:
            health = await response.json()
            assert response.status == 200
        async with session.get(running.web_url + "/metrics") as response:
            metrics = await response.text()
    assert health["ok"] is True and health["database"] == "ok"
    assert (health["inbox_depth"], health["outbox_depth"]) == (0, 0)
    lines = set(metrics.splitlines())
    assert 'meedoen_updates_received_total{channel="telegram"} 1.0' in lines
    assert 'meedoen_updates_handled_total{channel="telegram"} 1.0' in lines
    assert 'meedoen_sends_total{channel="telegram",result="ok"} 1.0' in lines
    assert "meedoen_handling_seconds_count 1.0" in lines
    assert "meedoen_outbox_depth 0.0" in lines


async def test_someone_who_writes_too_fast_is_told_once_and_then_slowed(
    settings: Settings, database: Database, tg: FakeTelegram
) -> None:
    async with (
        webhook_app(settings, throttle_per_minute=3) as app,
        serve_telegram(app, base_url=tg.base_url, run_scheduler=False) as running,
    ):
        anna, bert = tg.user(4304, started=True), tg.user(4305, started=True)
        for n in range(6):
            assert await post(running, text_update(4304, f"bericht {n}")) == 200
        assert await post(running, text_update(4305, "hallo")) == 200
        # Bert is answered too (not held up behind Anna); then nothing more comes for Anna.
        await tg.wait_for(
            lambda: len(anna.messages()) >= 4 and len(bert.messages()) >= 1, timeout=TIMEOUT
        )
        await tg.wait_until_idle(timeout=TIMEOUT, quiet=1.0)
        slow_down = app.texts("nl", "error.slow_down")
        texts = [m.text for m in anna.messages()]
        assert len(texts) == 4  # three answers, then one kind word, then nothing
        assert texts[-1] == slow_down and slow_down not in texts[:-1]
        assert [m.text != slow_down for m in bert.messages()] == [True]
