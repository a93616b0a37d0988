"""The daily housekeeping timer: what is past its retention period is forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.app import App, build_scheduler
from bot.housekeeping import HOUSEKEEPING, plan_housekeeping
from storage.models import Base, IntroductionRow, JobRow, OutboxRow, ProcessedUpdateRow

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
        for message_id, sent_at in ((old_sent, NOW - timedelta(days=8)), (new_sent, NOW)):
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


async def test_retention_periods_are_kept(app: App) -> None:
    """Logs after 90 days, finished timers and given-up messages after 7, ended
    introductions anonymised after 12 months — counted, not deleted."""
    async with app.database.unit_of_work() as store:
        anna = await store.create_person_with_consent(
            channel="test", external_id="anna", username=None, language="nl",
            consent_version="v1",
        )  # fmt: skip
        piet = await store.create_person_with_consent(
            channel="test", external_id="piet", username=None, language="nl",
            consent_version="v1",
        )  # fmt: skip
        await store.log_message(anna.id, direction="in", channel="test", body="oud")
        await store.log_message(anna.id, direction="in", channel="test", body="nieuw")
        old_job = await store.schedule_job("intro_reminder", NOW - timedelta(days=20))
        new_job = await store.schedule_job("intro_reminder", NOW - timedelta(days=2))
        await store.finish_job(old_job, NOW - timedelta(days=8))
        await store.finish_job(new_job, NOW - timedelta(days=1))
        given_up = await store.queue_message(anna.id, "Bel Piet: 0611111111")
        ended = await store.create_introduction(
            anna.id, neighbour_id=piet.id, reason="cooking", route="phone",
            contact="0612345678", now=NOW - timedelta(days=400),
        )  # fmt: skip
        recent = await store.create_introduction(
            piet.id, neighbour_id=anna.id, reason="walking", route="bot", contact=None,
            now=NOW - timedelta(days=30),
        )  # fmt: skip
    async with app.database.engine.begin() as connection:
        logs = Base.metadata.tables["message_log"]
        await connection.execute(
            update(logs).where(logs.c.body == "oud").values(created_at=NOW - timedelta(days=91))
        )
        await connection.execute(
            update(OutboxRow)
            .where(OutboxRow.id == given_up)
            .values(failed_at=NOW - timedelta(days=8), created_at=NOW - timedelta(days=8))
        )
        await connection.execute(
            update(IntroductionRow)
            .where(IntroductionRow.id == ended.id)
            .values(status="declined", ended_at=NOW - timedelta(days=366))
        )

    await plan_housekeeping(app.database, NOW)
    assert await build_scheduler(app).run_due(NOW) == 1

    async with app.database.unit_of_work() as store:
        assert await store.list_logged_messages(anna.id) == [("in", "nieuw")]
        assert await store.count_pending_outbox() == 0
        left = set(await store._session.scalars(select(OutboxRow.text)))
        assert left == set()
        jobs = set(await store._session.scalars(select(JobRow.id)))
        assert old_job not in jobs and new_job in jobs
        assert await store.get_introduction(ended.id) is None  # anonymised
        row = await store._session.get(IntroductionRow, ended.id)
        assert row is not None and row.status == "declined"  # still counted
        assert (row.requester_id, row.neighbour_id, row.requester_contact) == (None, None, None)
        assert await store.get_introduction(recent.id) is not None
