"""What may reach the logs: never a secret, never a chat platform's raw payload.

`configure_logging` is the program's logging setup (the CLI calls it): readable lines, or JSON
lines (LOG_FORMAT=json) for a log collector. Among other things it
keeps the HTTP client quiet: httpx logs every request at INFO, and every Bot API request URL
(`.../bot<token>/getUpdates`, several a second while polling) carries the bot token.

`protect_logs` is the safety net, installed by the composition root (`bot.app.build_app`), so
the program and the tests run with the same one:

* a log record factory that redacts the configured secrets, and anything shaped like a Bot API
  token, from every record as it is made: its message (formatted with its arguments first),
  its exception text and its stack. It works for any logger and whatever handler receives
  the record, including pytest's `caplog`.
* python-telegram-bot's and the SQLite driver's loggers held at INFO: at DEBUG they print
  whole updates, API payloads and statement parameters (the raw updates stored in the inbox),
  which hold the messages of everyone who writes to the bot, also of people who never
  consented.

Installing again only adds secrets; `unprotect_logs` undoes it (for tests).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6  # a shorter "secret" would redact ordinary words all over the logs
QUIET_LOGGERS = ("httpx", "httpcore")  # a line per request, the token in its URL
# python-telegram-bot prints updates and API payloads at DEBUG; the SQLite driver prints
# every statement with its parameters (raw updates in the inbox, message texts).
PAYLOAD_LOGGERS = ("telegram", "aiosqlite")

# A Bot API token ("<bot id>:<35 characters>"), and the token in a Bot API URL: /bot<token>/,
# also for short tokens that only a test would use.
_TOKEN_SHAPES = (r"\d{6,}:[A-Za-z0-9_-]{30,}", r"(?<=/bot)\d+:[^/\s?#'\"`]+")

RecordFactory = Callable[..., logging.LogRecord]


class Redactor:
    """Replaces secrets, and anything shaped like a Bot API token, in a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern = re.compile("|".join(_TOKEN_SHAPES))
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Redact these values too (also URL-encoded); very short ones are ignored."""
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                self._secrets.update({secret, quote(secret, safe="")})
        literal = [re.escape(s) for s in sorted(self._secrets, key=len, reverse=True)]
        self._pattern = re.compile("|".join([*literal, *_TOKEN_SHAPES]))

    def __call__(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text)


_exception_formatter = logging.Formatter()


def redact_record(record: logging.LogRecord, redact: Redactor) -> None:
    """Take the secrets out of a record: message and arguments, exception text, stack."""
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit: keep both, as the handler would report
        message = f"{record.msg} {record.args!r}"
    redacted = redact(message)
    if redacted != message:
        record.msg, record.args = redacted, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = _exception_formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingRecordFactory:
    """A log record factory that makes records with the previous one, then redacts them."""

    def __init__(self, previous: RecordFactory, redactor: Redactor) -> None:
        self.previous = previous
        self.redactor = redactor

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        redact_record(record, self.redactor)
        return record


@dataclass
class _Protection:
    factory: RedactingRecordFactory
    levels: dict[str, int]  # the payload loggers' own levels before


_protection: _Protection | None = None


def protect_logs(secrets: Iterable[str]) -> Redactor:
    """Install the safety net for these secrets; once installed, only add the secrets."""
    global _protection
    if _protection is not None:
        _protection.factory.redactor.add(secrets)
        return _protection.factory.redactor
    factory = RedactingRecordFactory(logging.getLogRecordFactory(), Redactor(secrets))
    levels = {name: logging.getLogger(name).level for name in PAYLOAD_LOGGERS}
    logging.setLogRecordFactory(factory)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(max(level, logging.INFO))
    _protection = _Protection(factory, levels)
    return factory.redactor


def unprotect_logs() -> None:
    """Remove the safety net: the previous record factory and logger levels come back."""
    global _protection
    if _protection is None:
        return
    if logging.getLogRecordFactory() is not _protection.factory:
        raise RuntimeError("another log record factory was installed over the redacting one")
    logging.setLogRecordFactory(_protection.factory.previous)
    for name, level in _protection.levels.items():
        logging.getLogger(name).setLevel(level)
    _protection = None


class JsonLines(logging.Formatter):
    """One JSON object per record (LOG_FORMAT=json), for a log collector: time, level,
    logger, message and exception. The record was redacted when it was made."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int, style: str = "text", *, verbose: bool = False) -> None:
    """The program's logging: one line per record on stderr (readable, or JSON lines), the
    chatty libraries quieter."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if style == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if not verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)
