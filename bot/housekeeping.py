"""Daily housekeeping, as a timer like any other: forget what is no longer needed.

Platform update ids are kept for a week (long enough to recognise a late duplicate), and
delivered outbox messages for a day.
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


async def housekeeping(store: Store, job: Job, now: datetime) -> None:
    """Forget old update ids and delivered messages, then plan the next round."""
    updates = await store.forget_processed_updates_before(now - KEEP_UPDATE_IDS)
    sent = await store.forget_sent_outbox_before(now - KEEP_SENT_MESSAGES)
    log.info("housekeeping: forgot %d update ids and %d delivered messages", updates, sent)
    await store.schedule_job(HOUSEKEEPING, now + EVERY)


async def plan_housekeeping(database: Database, now: datetime) -> None:
    """Make sure one housekeeping round is planned (at start-up; idempotent)."""
    async with database.unit_of_work() as store:
        if not await store.has_pending_job(HOUSEKEEPING):
            await store.schedule_job(HOUSEKEEPING, now)
