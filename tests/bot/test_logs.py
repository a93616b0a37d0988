"""The log safety net (`bot.logs`): secrets are redacted from every record, whoever logs it.

Records are made by real loggers and read through pytest's `caplog`, a handler the program
knows nothing about: what it captures is what any handler would get.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from bot.app import App
from bot.logs import (
    REDACTED,
    RedactingRecordFactory,
    configure_logging,
    protect_logs,
    unprotect_logs,
)
from bot.settings import Settings
from tests.harness import person_of, seeded

TOKEN = "7031234567:AAH" + "x9Kq2LmN4pR6sT8vW0yZ1bD3fH5jJ7_-"  # the real shape: id, 35 more
TEST_TOKEN = "123456:TEST-token"  # the tests' configured token: too short for the shape
BOT_URL = f"https://api.telegram.org/bot{TEST_TOKEN}/getUpdates"
log = logging.getLogger(__name__)


@pytest.fixture
def protected(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The safety net as the composition root installs it, for the test token only."""
    unprotect_logs()  # whatever earlier tests' apps installed
    protect_logs([TEST_TOKEN])
    caplog.set_level(logging.DEBUG)
    yield
    unprotect_logs()


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Each record's message, exception and stack, and the handler's formatted output."""
    parts = [caplog.text]
    for record in caplog.records:
        parts += [record.getMessage(), record.exc_text or "", record.stack_info or ""]
    return "\n".join(parts)


def test_a_configured_secret_in_the_message_is_redacted(
    protected: None, caplog: pytest.LogCaptureFixture
) -> None:
    log.warning("the token is " + TEST_TOKEN + ", do not tell")
    [record] = caplog.records
    assert record.getMessage() == f"the token is {REDACTED}, do not tell"
    assert TEST_TOKEN not in everything_logged(caplog)


def test_a_secret_in_the_arguments_is_redacted_after_formatting(
    protected: None, caplog: pytest.LogCaptureFixture
) -> None:
    log.info("calling %s (%d)", BOT_URL, 1)
    [record] = caplog.records
    assert record.getMessage() == f"calling https://api.telegram.org/bot{REDACTED}/getUpdates (1)"
    assert record.args == ()
    assert TEST_TOKEN not in everything_logged(caplog)


def test_a_record_without_secrets_keeps_its_arguments(
    protected: None, caplog: pytest.LogCaptureFixture
) -> None:
    log.info("job %d (%s) fired", 7, "reminder")
    [record] = caplog.records
    assert (record.msg, record.args) == ("job %d (%s) fired", (7, "reminder"))


def test_a_secret_in_an_exception_is_redacted(
    protected: None, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        raise ConnectionError(f"could not reach {BOT_URL}")
    except ConnectionError:
        log.exception("polling failed")
    [record] = caplog.records
    assert record.exc_text is not None
    assert "ConnectionError: could not reach" in record.exc_text
    assert f"/bot{REDACTED}/getUpdates" in record.exc_text
    assert "ConnectionError" in caplog.text
    assert TEST_TOKEN not in everything_logged(caplog)


def test_a_secret_in_the_stack_is_redacted(
    protected: None, caplog: pytest.LogCaptureFixture
) -> None:
    log.info("where are we", stack_info=True)  # a source line that shows 123456:TEST-token
    [record] = caplog.records
    assert record.stack_info is not None
    assert f"a source line that shows {REDACTED}" in record.stack_info
    assert TEST_TOKEN not in everything_logged(caplog)


def test_the_http_clients_request_line_is_redacted(
    protected: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")  # what httpx logs for every request
    url = httpx.URL(f"http://127.0.0.1:8081/bot{TEST_TOKEN}/getUpdates")
    logging.getLogger("httpx").info(
        'HTTP Request: %s %s "%s %d %s"', "POST", url, "HTTP/1.1", 200, "OK"
    )
    [record] = caplog.records
    assert record.name == "httpx"
    assert record.getMessage() == (
        f'HTTP Request: POST http://127.0.0.1:8081/bot{REDACTED}/getUpdates "HTTP/1.1 200 OK"'
    )


def test_anything_shaped_like_a_bot_token_is_redacted_even_unconfigured(
    protected: None, caplog: pytest.LogCaptureFixture
) -> None:
    log.info("token %s; url %s", TOKEN, "https://x.test/file/bot42:short/photo.jpg")
    [record] = caplog.records
    assert (
        record.getMessage() == f"token {REDACTED}; url https://x.test/file/bot{REDACTED}/photo.jpg"
    )
    log.info("at 12:30, order 1234567:abc and see /bots/list")  # not a token
    assert caplog.records[1].getMessage() == "at 12:30, order 1234567:abc and see /bots/list"


def test_installing_twice_adds_secrets_without_wrapping_twice(
    protected: None, caplog: pytest.LogCaptureFixture
) -> None:
    factory = logging.getLogRecordFactory()
    assert isinstance(factory, RedactingRecordFactory)
    protect_logs(["webhook-secret-42"])
    assert logging.getLogRecordFactory() is factory
    assert not isinstance(factory.previous, RedactingRecordFactory)
    log.info("%s and %s", TEST_TOKEN, "webhook-secret-42")
    assert caplog.records[0].getMessage() == f"{REDACTED} and {REDACTED}"


def test_unprotecting_restores_the_factory_and_the_levels(caplog: pytest.LogCaptureFixture) -> None:
    unprotect_logs()
    original = logging.getLogRecordFactory()
    payloads = logging.getLogger("telegram")
    before = payloads.level
    protect_logs([TEST_TOKEN])
    assert logging.getLogRecordFactory() is not original
    assert payloads.level >= logging.INFO
    unprotect_logs()
    assert logging.getLogRecordFactory() is original
    assert payloads.level == before
    caplog.set_level(logging.INFO)
    log.info("plain %s", TEST_TOKEN)
    assert caplog.records[0].getMessage() == f"plain {TEST_TOKEN}"  # the net is really gone


def test_telegram_payloads_stay_out_even_at_debug(
    protected: None, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("telegram.Bot", "telegram.ext.Application", "telegram.ext.Updater"):
        logging.getLogger(name).debug("Processing update %s", "{'text': 'mijn geheim'}")
        logging.getLogger(name).info("Application started")
    assert [r.getMessage() for r in caplog.records] == ["Application started"] * 3


def test_settings_name_their_secrets() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="postgresql://meedoen:p%40ss-w0rd@db.example/meedoen",
        telegram_bot_token=TOKEN,
    )
    assert set(settings.secrets()) == {TOKEN, "p%40ss-w0rd", "p@ss-w0rd"}
    sqlite = Settings(_env_file=None, database_url="sqlite:///x.db")  # type: ignore[call-arg]
    assert sqlite.secrets() == ()


def test_the_programs_logging_quiets_the_http_client() -> None:
    root = logging.getLogger()
    root_before = (root.level, root.handlers[:])
    loggers = [logging.getLogger(name) for name in ("httpx", "httpcore", "alembic")]
    before = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.NOTSET)
        configure_logging(logging.DEBUG, verbose=True)
        assert [logger.getEffectiveLevel() for logger in loggers[:2]] == [logging.WARNING] * 2
        assert loggers[2].level == logging.NOTSET  # verbose: the migrations may speak
    finally:
        root.setLevel(root_before[0])
        root.handlers[:] = root_before[1]
        for logger, level in zip(loggers, before, strict=True):
            logger.setLevel(level)


# -- the composition root installs it, and strangers' words stay out ------------------------


@pytest.fixture
def unprotected() -> None:
    """No safety net yet: whatever a test sees next, its app installed."""
    unprotect_logs()


async def test_the_app_installs_the_net_for_its_settings(
    unprotected: None, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(logging.getLogRecordFactory(), RedactingRecordFactory)
    caplog.set_level(logging.DEBUG)
    log.info("configured: %s", app.settings.telegram_bot_token)
    assert caplog.records[0].getMessage() == f"configured: {REDACTED}"


async def test_a_strangers_words_are_not_logged_even_at_debug(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stranger = await seeded(app, "kees")
    words = "Ik ben Kees Verborgen van de Lindenlaan, maar ik wil niet meedoen"
    await stranger.send(words)
    await stranger.tap("Nee, liever niet")
    assert await person_of(app.database, stranger) is None
    # the bot did log, at DEBUG, about every message it handled
    assert [r for r in caplog.records if r.name == "handlers.conversation"]
    assert "Verborgen" not in everything_logged(caplog)
