"""A message that shows a one-time link code is flagged when it is queued; once delivered
(or given up), its stored text no longer holds the code. Other messages keep their text."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.db import Database
from storage.models import OutboxRow
from storage.outbox import CODE_MASK, MASK_WHEN_SENT
from storage.verbs import utcnow

CODE_TEXT = "Je code om te koppelen is: 123 456\nStuur deze code binnen 10 minuten."


async def _texts(database: Database) -> dict[int, str]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(select(OutboxRow.id, OutboxRow.text))
        return {number: text for number, text in rows}


async def test_the_code_is_masked_once_every_part_is_sent(database: Database) -> None:
    async with database.unit_of_work() as store:
        flagged = await store.queue_reply("test", "a", CODE_TEXT, extra={MASK_WHEN_SENT: True})
        plain = await store.queue_reply("test", "b", "Bel 123 456 voor de soep.")
    async with database.unit_of_work() as store:
        claimed = await store.claim_deliveries(
            "test", now=utcnow(), limit=10, lease=timedelta(seconds=30)
        )
        assert {m.id for m in claimed} == {flagged, plain}
        assert next(m.text for m in claimed if m.id == flagged) == CODE_TEXT
        await store.record_part_sent(flagged, 1, done=False)
    assert (await _texts(database))[flagged] == CODE_TEXT  # one part still to go
    async with database.unit_of_work() as store:
        await store.record_part_sent(flagged, 2, done=True)
        await store.record_part_sent(plain, 1, done=True)
    texts = await _texts(database)
    assert texts[flagged] == CODE_TEXT.replace("123 456", CODE_MASK)
    assert "10 minuten" in texts[flagged]  # only the code is masked
    assert texts[plain] == "Bel 123 456 voor de soep."  # not flagged: untouched


async def test_a_code_message_given_up_is_masked_too(database: Database) -> None:
    async with database.unit_of_work() as store:
        flagged = await store.queue_reply("test", "a", CODE_TEXT, extra={MASK_WHEN_SENT: True})
    async with database.unit_of_work() as store:
        assert await store.fail_delivery(flagged, now=utcnow(), error="refused") is None
    assert "123" not in (await _texts(database))[flagged]
