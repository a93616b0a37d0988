"""Daily housekeeping, as a timer like any other: forget what is no longer needed.

Platform update ids are kept for a week (long enough to recognise a late duplicate). The
retention periods come from the settings (see README, Privacy): message logs and relayed
texts 90 days, and so are tickets once closed; finished timers and delivered or abandoned
messages 7 days; ended introductions are anonymised after 12 months, keeping their counts;
the audit log keeps 12 months as well.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.scheduler import JobHandler
from storage.db import Database
from storage.records import Job
from storage.store import Store

log = logging.getLogger(__name__)

HOUSEKEEPING = "housekeeping"
EVERY = timedelta(days=1)
KEEP_UPDATE_IDS = timedelta(days=7)


@dataclass(frozen=True)
class Retention:
    """How long each kind of thing is kept."""

    messages: timedelta = timedelta(days=90)
    finished: timedelta = timedelta(days=7)
    introductions: timedelta = timedelta(days=365)


def housekeeping(retention: Retention) -> JobHandler:
    """The housekeeping timer's handler, with these retention periods."""

    async def run(store: Store, job: Job, now: datetime) -> None:
        """Forget what is past its retention, then plan the next round."""
        updates = await store.forget_processed_updates_before(now - KEEP_UPDATE_IDS)
        sent = await store.forget_sent_outbox_before(now - retention.finished)
        jobs = await store.forget_finished_jobs_before(now - retention.finished)
        logged = await store.forget_logged_messages_before(now - retention.messages)
        anonymised = await store.anonymise_introductions_ended_before(
            now - retention.introductions, now=now
        )
        tickets = await store.forget_closed_tickets_before(now - retention.messages)
        audited = await store.forget_audit_before(now - retention.introductions)
        log.info(
            "housekeeping: forgot %d update ids, %d messages sent or given up, %d timers, "
            "%d logged messages; anonymised %d introductions",
            updates, sent, jobs, logged, anonymised,
        )  # fmt: skip
        log.info("housekeeping: forgot %d closed tickets, %d audit lines", tickets, audited)
        await store.schedule_job(HOUSEKEEPING, now + EVERY)

    return run


async def plan_housekeeping(database: Database, now: datetime) -> None:
    """Make sure one housekeeping round is planned (at start-up; idempotent)."""
    async with database.unit_of_work() as store:
        if not await store.has_pending_job(HOUSEKEEPING):
            await store.schedule_job(HOUSEKEEPING, now)
