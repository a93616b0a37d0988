"""The logs of a Telegram run at DEBUG: no bot token, and no word of someone who said no.

The real python-telegram-bot `Application` long-polls `FakeTelegram` with a token of the
real shape, while every logger speaks at DEBUG (the HTTP client too, as if the program's
quieting were undone): only the safety net that the composition root installs
(`bot.logs.protect_logs`) stands between the request URLs and the log records.
"""

from __future__ import annotations

import logging

import pytest

from bot.app import App
from bot.logs import REDACTED
from bot.settings import Settings
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.test_telegram_intake import (
    Chat,
    person_of,
    run_polling,
    start_with_buttons,
    where,
)
from tests.harness import seed_places

TOKEN = "7031234567:AAH" + "x9Kq2LmN4pR6sT8vW0yZ1bD3fH5jJ7_-"  # a bot id, then 35 characters
STRANGERS_WORDS = "Hallo, ik ben Kees Verborgen van de Lindenlaan 12"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        telegram_bot_token=TOKEN,
    )


def what_was_logged(records: list[logging.LogRecord]) -> list[str]:
    """Per record: its message, exception text, stack, and the line a handler would write."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    texts: list[str] = []
    for record in records:
        texts += [record.getMessage(), record.exc_text or "", record.stack_info or ""]
        texts.append(formatter.format(record))
    return texts


async def test_no_token_and_no_refused_words_in_the_logs_at_debug(
    app: App, tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A line with the URL for every request.
    caplog.set_level(logging.DEBUG, logger="bot.channels.telegram_http")
    await seed_places(app)
    async with run_polling(app, tg):
        kees = Chat(tg, tg.user(4301, first_name="Kees"))
        welcome = await kees.say(STRANGERS_WORDS, 1)  # hello and the consent, as one message
        assert welcome[-1].has_inline_keyboard  # the consent question
        [declined] = await kees.tap("Nee, liever niet", 1)
        assert declined.text == app.texts("nl", "consent.declined").strip()
        assert await person_of(app, kees.user) is None

        anna = Chat(tg, tg.user(4302, first_name="Anna"))
        await start_with_buttons(app, anna)  # consent, her name, her neighbourhood
        await anna.say("ik kook graag en ben handig met klussen", 1)
        await anna.say("wandelen en koffie drinken", 1)
        assert (await where(app, anna.user))[0] == "times"
        await tg.wait_until_idle()

    logged = what_was_logged(caplog.records)
    logged.append(caplog.text)
    secret_part = TOKEN.partition(":")[2]
    assert [text for text in logged if TOKEN in text or secret_part in text] == []
    assert [text for text in logged if "Verborgen" in text or "Lindenlaan" in text] == []
    # Not vacuous: the HTTP client did log every request, with the token taken out.
    requests = [r.getMessage() for r in caplog.records if r.name == "bot.channels.telegram_http"]
    assert any(f"/bot{REDACTED}/getUpdates" in line for line in requests), requests[:3]
    assert any(f"/bot{REDACTED}/sendMessage" in line for line in requests)
