"""JSON log lines: one object per record, with the message's arguments filled in."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonLines


def test_a_record_becomes_one_json_line() -> None:
    record = logging.LogRecord(
        "bot.inbox", logging.WARNING, __file__, 1, "update %s on %s failed", ("7", "tg"), None
    )
    line = JsonLines().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "WARNING",
        "bot.inbox",
        "update 7 on tg failed",
    )
    assert entry["time"].endswith("+00:00")
