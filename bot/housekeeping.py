"""Daily housekeeping, as a timer like any other: forget what is no longer needed.

Platform update ids are kept for a week (long enough to recognise a late duplicate);
handled inbox rows (their raw payload is dropped at once) and delivered outbox messages for
a day; messages given up on for 30 days (the moderators' view). The housekeeping job is a
singleton: unique in the database, so several workers plan it once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from storage.db import Database
from storage.records import Job
from storage.store import Store

log = logging.getLogger(__name__)

HOUSEKEEPING = "housekeeping"
EVERY = timedelta(days=1)
KEEP_UPDATE_IDS = timedelta(days=7)
KEEP_SENT_MESSAGES = timedelta(days=1)
KEEP_HANDLED_UPDATES = timedelta(days=1)
KEEP_FAILED_MESSAGES = timedelta(days=30)


async def housekeeping(store: Store, job: Job, now: datetime) -> None:
    """Forget old update ids, handled updates and delivered messages; plan the next round."""
    updates = await store.forget_processed_updates_before(now - KEEP_UPDATE_IDS)
    inbox = await store.forget_handled_inbox_before(now - KEEP_HANDLED_UPDATES)
    sent = await store.forget_sent_outbox_before(now - KEEP_SENT_MESSAGES)
    failed = await store.forget_failed_outbox_before(now - KEEP_FAILED_MESSAGES)
    log.info(
        "housekeeping: forgot %d update ids, %d handled updates, %d delivered and %d failed"
        " messages",
        updates,
        inbox,
        sent,
        failed,
    )
    await store.finish_job(job.id, now)  # frees the singleton for the next round
    await store.schedule_singleton(HOUSEKEEPING, now + EVERY)


async def plan_housekeeping(database: Database, now: datetime) -> None:
    """Make sure one housekeeping round is planned (at start-up; idempotent, also when
    several workers start at once)."""
    async with database.unit_of_work() as store:
        await store.schedule_singleton(HOUSEKEEPING, now)
