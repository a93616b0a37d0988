"""The daily housekeeping timer: old update ids and delivered messages are forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.app import App, build_scheduler
from bot.housekeeping import HOUSEKEEPING, plan_housekeeping
from storage.models import OutboxRow, ProcessedUpdateRow

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


async def test_housekeeping_forgets_what_is_old_and_plans_the_next_round(app: App) -> None:
    async with app.database.unit_of_work() as store:
        anna = await store.create_person_with_consent(
            channel="test", external_id="anna", username=None, language="nl",
            consent_version="v1",
        )  # fmt: skip
        await store.mark_update_processed("telegram", "old")
        await store.mark_update_processed("telegram", "new")
        old_sent = await store.queue_message(anna.id, "Bel Henk: 0611111111")
        new_sent = await store.queue_message(anna.id, "Tot woensdag!")
        await store.queue_message(anna.id, "Nog niet verstuurd")
    async with app.database.engine.begin() as connection:
        await connection.execute(
            update(ProcessedUpdateRow)
            .where(ProcessedUpdateRow.update_id == "old")
            .values(processed_at=NOW - timedelta(days=8))
        )
        await connection.execute(
            update(ProcessedUpdateRow)
            .where(ProcessedUpdateRow.update_id == "new")
            .values(processed_at=NOW - timedelta(days=1))
        )
        for message_id, sent_at in ((old_sent, NOW - timedelta(days=2)), (new_sent, NOW)):
            await connection.execute(
                update(OutboxRow).where(OutboxRow.id == message_id).values(sent_at=sent_at)
            )

    await plan_housekeeping(app.database, NOW)
    await plan_housekeeping(app.database, NOW)  # planned once, however often we start
    scheduler = build_scheduler(app)
    assert await scheduler.run_due(NOW) == 1
    assert await scheduler.run_due(NOW) == 0

    async with app.database.engine.connect() as connection:
        ids = set(await connection.scalars(select(ProcessedUpdateRow.update_id)))
        texts = set(await connection.scalars(select(OutboxRow.text)))
    assert ids == {"new"}
    assert texts == {"Tot woensdag!", "Nog niet verstuurd"}
    async with app.database.unit_of_work() as store:
        pending = [job for job in await store.list_pending_jobs() if job.kind == HOUSEKEEPING]
    assert [job.due_at for job in pending] == [NOW + timedelta(days=1)]
