"""Fires due jobs (reminders, expiries, follow-ups) exactly once, also after a restart.

Each job fires in its own unit of work: the job is taken (and held), its handler runs with
that same store, and the job is marked done, so the handler's effects and "done" commit
together. A handler that raises rolls its whole transaction back; the failure is counted in
a separate, short transaction and the job is tried again later (ever later), never dropped;
after `max_attempts` failures it is reported as failing. A scheduler takes only the kinds it
has handlers for: a job of another kind stays pending for a worker that knows it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from storage.records import Job
from storage.store import Store
from storage.verbs import utcnow

log = logging.getLogger(__name__)

JobHandler = Callable[[Store, Job, datetime], Awaitable[None]]
UnitOfWork = Callable[[], AbstractAsyncContextManager[Store]]
Clock = Callable[[], datetime]

MAX_ATTEMPTS = 3


class Scheduler:
    """Runs the handler of every due job; `run_forever` keeps doing so every interval."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        handlers: Mapping[str, JobHandler],
        *,
        on_fired: Callable[[], None] | None = None,
        clock: Clock = utcnow,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._unit_of_work = unit_of_work
        self._handlers = dict(handlers)
        self._on_fired = on_fired
        self._clock = clock
        self._max_attempts = max_attempts

    async def run_due(self, now: datetime | None = None) -> int:
        """Fire every job due at `now` (default: the clock); returns how many fired.

        A job whose handler fails is not tried again in the same run. Errors outside a job
        (the database is unreachable) propagate.
        """
        moment = now if now is not None else self._clock()
        fired = 0
        tried: set[int] = set()
        while True:
            job: Job | None = None
            handler: JobHandler | None = None
            try:
                async with self._unit_of_work() as store:
                    job = await store.next_due_job(
                        moment, exclude=tried, kinds=self._handlers.keys()
                    )
                    if job is None:
                        return fired
                    tried.add(job.id)
                    handler = self._handlers[job.kind]
                    await handler(store, job, moment)
                    await store.finish_job(job.id, moment)
            except Exception as error:
                if job is None:
                    raise
                log.exception("job %d (%s) failed", job.id, job.kind)
                await self._count_failure(job, moment, error)
                continue
            fired += 1
            log.info("job %d (%s) fired", job.id, job.kind)
            self._notify()

    async def run_forever(self, interval: float = 30.0) -> None:
        """Run due jobs now and then every `interval` seconds, until cancelled."""
        log.info("scheduler started; looking for due jobs every %.0f s", interval)
        try:
            while True:
                try:
                    await self.run_due()
                except Exception:
                    log.exception("could not run due jobs; trying again in %.0f s", interval)
                await asyncio.sleep(interval)
        finally:
            log.info("scheduler stopped")

    async def _count_failure(self, job: Job, now: datetime, error: Exception) -> None:
        try:
            async with self._unit_of_work() as store:
                failures = await store.record_job_failure(
                    job.id, now, give_up_after=self._max_attempts, error=type(error).__name__
                )
        except Exception:
            log.exception("could not record the failure of job %d", job.id)
            return
        if failures >= self._max_attempts:
            log.error(
                "job %d (%s) failed %d times; it keeps being tried, later each time",
                job.id,
                job.kind,
                failures,
            )
        elif failures:
            log.warning(
                "job %d (%s) failed %d of %d times; it is tried again on a later run",
                job.id,
                job.kind,
                failures,
                self._max_attempts,
            )

    def _notify(self) -> None:
        if self._on_fired is None:
            return
        try:
            self._on_fired()
        except Exception:
            log.exception("the on_fired callback failed")
