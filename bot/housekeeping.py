"""Daily housekeeping, as a timer like any other: forget what is no longer needed.

Platform update ids are kept for a week (long enough to recognise a late duplicate), handled
inbox rows (their raw payload is dropped at once) for a day. The other retention periods come
from the settings (see README, Privacy): message logs and relayed texts 90 days, and so are
tickets once closed; finished timers and delivered or given-up messages 7 days (long enough
for the moderators' view of what failed); ended introductions are anonymised after 12
months, keeping their counts; the audit log keeps 12 months as well. Link codes go once
expired or used, wrong-code counts after an hour. The housekeeping job is
a singleton: unique in the database, so several workers plan it once.
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
KEEP_HANDLED_UPDATES = timedelta(days=1)


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
        inbox = await store.forget_handled_inbox_before(now - KEEP_HANDLED_UPDATES)
        sent = await store.forget_sent_outbox_before(now - retention.finished)
        jobs = await store.forget_finished_jobs_before(now - retention.finished)
        logged = await store.forget_logged_messages_before(now - retention.messages)
        anonymised = await store.anonymise_introductions_ended_before(
            now - retention.introductions, now=now
        )
        tickets = await store.forget_closed_tickets_before(now - retention.messages)
        audited = await store.forget_audit_before(now - retention.introductions)
        await store.forget_link_codes(now=now)
        log.info(
            "housekeeping: forgot %d update ids, %d handled updates, %d messages sent or "
            "given up, %d timers, %d logged messages; anonymised %d introductions",
            updates, inbox, sent, jobs, logged, anonymised,
        )  # fmt: skip
        log.info("housekeeping: forgot %d closed tickets, %d audit lines", tickets, audited)
        await store.finish_job(job.id, now)  # frees the singleton for the next round
        await store.schedule_singleton(HOUSEKEEPING, now + EVERY)

    return run


async def plan_housekeeping(database: Database, now: datetime) -> None:
    """Make sure one housekeeping round is planned (at start-up; idempotent, also when
    several workers start at once)."""
    async with database.unit_of_work() as store:
        await store.schedule_singleton(HOUSEKEEPING, now)
