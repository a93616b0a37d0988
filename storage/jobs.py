"""Timers that survive restarts (jobs) and the outbox of messages to other people.

A job is a row with a due time; it is done once `done_at` is set. Whoever takes a due job
(`next_due_job`) holds it for the rest of the transaction, so the job's effects and its
"done" commit together and two workers never fire the same job (PostgreSQL: SKIP LOCKED).
A worker asks only for the kinds it knows; other kinds stay pending for a worker that does.
A job that fails is tried again later and later (`record_job_failure`), never dropped;
after `give_up_after` failures it is flagged (`GAVE_UP`) and shown by `list_failing_jobs`.
A singleton job (the daily housekeeping) is unique in the database while pending.

An outbox message is written in the same transaction as the change that caused it. Platform
channels deliver it through `storage.outbox` (in order per chat, retried, never lost).
`claim_outbox` / `release_outbox` are the terminal's simple way: it shows one local person's
messages on the screen, where nothing can fail half-way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.models import IdentityRow, JobRow, MentionRow, OutboxRow, PersonRow
from storage.outbox import add_to_outbox
from storage.records import Identity, Job, OutboxMessage
from storage.verbs import Verbs, as_utc, aware, utcnow

MAX_OUTBOX_ATTEMPTS = 5
MAX_KIND_LENGTH = 24
FAILED_ATTEMPTS = "failed_attempts"  # payload key: how often the job's handler raised
LAST_ERROR = "last_error"  # payload key: the class name of the latest failure
GAVE_UP = "gave_up"  # payload key: True once the job was finished without having fired


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        due_at=as_utc(aware(row.due_at)),
        introduction_id=row.introduction_id,
        person_id=row.person_id,
        payload=dict(row.payload or {}),
    )


def _message(row: OutboxRow) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        person_id=row.person_id or 0,  # claims join the person: always set
        text=row.text,
        options=tuple((str(key), str(label)) for key, label in row.options or ()),
    )


class JobVerbs(Verbs):
    # -- jobs ----------------------------------------------------------------------------

    async def schedule_job(
        self,
        kind: str,
        due_at: datetime,
        *,
        introduction_id: int | None = None,
        person_id: int | None = None,
        payload: dict[str, Any] | None = None,
        singleton: bool = False,
    ) -> int:
        """Write a timer that fires `kind` at `due_at`; returns the job's id.

        `singleton`: at most one such job may be pending; see `schedule_singleton`."""
        if not kind or len(kind) > MAX_KIND_LENGTH:
            raise ValueError(f"a job kind has 1 to {MAX_KIND_LENGTH} characters: {kind!r}")
        row = JobRow(
            kind=kind,
            due_at=as_utc(due_at),
            introduction_id=introduction_id,
            person_id=person_id,
            payload=dict(payload or {}),
            created_at=utcnow(),
            singleton=kind if singleton else None,
        )
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def schedule_singleton(self, kind: str, due_at: datetime) -> bool:
        """Plan `kind` unless one is pending already (also when another worker plans it at
        the same moment: the unique key decides). True when this call planned it."""
        insert = pg_insert if self._postgres else sqlite_insert
        statement = (
            insert(JobRow)
            .values(
                kind=kind,
                due_at=as_utc(due_at),
                payload={},
                created_at=utcnow(),
                singleton=kind,
            )
            .on_conflict_do_nothing()
        )
        result = await self._session.execute(statement)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def next_due_job(
        self,
        now: datetime,
        *,
        exclude: Collection[int] = (),
        kinds: Collection[str] | None = None,
    ) -> Job | None:
        """The oldest job that is due and not done, held until this transaction ends.

        On PostgreSQL the row is locked and jobs that another transaction holds are skipped;
        SQLite transactions hold the database's write lock from their first statement.
        `exclude` leaves out jobs the caller already tried in this round.
        """
        statement = (
            select(JobRow)
            .where(JobRow.done_at.is_(None), JobRow.due_at <= as_utc(now))
            .order_by(JobRow.due_at, JobRow.id)
            .limit(1)
        )
        if exclude:
            statement = statement.where(JobRow.id.not_in(list(exclude)))
        if kinds is not None:
            statement = statement.where(JobRow.kind.in_(list(kinds)))
        if self._postgres:
            statement = statement.with_for_update(skip_locked=True)
        row = await self._session.scalar(statement)
        return _job(row) if row is not None else None

    async def finish_job(self, job_id: int, now: datetime) -> None:
        """Mark a job done; a job that is done already keeps its first `done_at`. A done
        singleton lets the next one be planned."""
        await self._session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.done_at.is_(None))
            .values(done_at=as_utc(now), singleton=None)
        )

    async def record_job_failure(
        self, job_id: int, now: datetime, *, give_up_after: int, error: str = ""
    ) -> int:
        """Count a failed attempt of a job that is not done and plan the next try, later
        each time (1, 2, 4 ... minutes, at most a day). After `give_up_after` failures the
        job is flagged as failing (`GAVE_UP`, shown by `list_failing_jobs`), still tried.

        Returns the number of failed attempts so far, or 0 when the job is done or gone (for
        example because another worker fired it in the meantime).
        """
        statement = select(JobRow).where(JobRow.id == job_id, JobRow.done_at.is_(None))
        if self._postgres:
            statement = statement.with_for_update()
        row = await self._session.scalar(statement)
        if row is None:
            return 0
        payload = dict(row.payload or {})
        failures = int(payload.get(FAILED_ATTEMPTS, 0)) + 1
        payload[FAILED_ATTEMPTS] = failures
        if error:
            payload[LAST_ERROR] = error[:80]
        if failures >= give_up_after:
            payload[GAVE_UP] = True
        row.payload = payload  # a new dict, so the JSON column is written
        row.due_at = as_utc(now) + min(timedelta(days=1), timedelta(minutes=2 ** (failures - 1)))
        await self._session.flush()
        return failures

    async def list_failing_jobs(self) -> list[Job]:
        """Jobs that keep failing (flagged `GAVE_UP`), for an operator to look at."""
        rows = await self._session.scalars(
            select(JobRow).where(JobRow.done_at.is_(None)).order_by(JobRow.id)
        )
        return [_job(row) for row in rows if (row.payload or {}).get(GAVE_UP)]

    async def job_lag(self, now: datetime) -> tuple[int, float]:
        """Jobs due and not done, and how late the oldest of them is (seconds)."""
        count, oldest = (
            await self._session.execute(
                select(func.count(JobRow.id), func.min(JobRow.due_at)).where(
                    JobRow.done_at.is_(None), JobRow.due_at <= as_utc(now)
                )
            )
        ).one()
        late = (as_utc(now) - aware(oldest)).total_seconds() if oldest is not None else 0.0
        return int(count or 0), max(0.0, late)

    async def cancel_jobs(
        self, *, introduction_id: int, kinds: Sequence[str] | None = None, now: datetime
    ) -> int:
        """Mark an introduction's pending jobs (of `kinds`, or all) done; returns how many."""
        statement = update(JobRow).where(
            JobRow.introduction_id == introduction_id, JobRow.done_at.is_(None)
        )
        if kinds is not None:
            statement = statement.where(JobRow.kind.in_(list(kinds)))
        result = await self._session.execute(statement.values(done_at=as_utc(now)))
        return int(getattr(result, "rowcount", 0))

    async def list_pending_jobs(self, *, introduction_id: int | None = None) -> list[Job]:
        """Jobs that are not done, soonest first."""
        statement = select(JobRow).where(JobRow.done_at.is_(None))
        if introduction_id is not None:
            statement = statement.where(JobRow.introduction_id == introduction_id)
        rows = await self._session.scalars(statement.order_by(JobRow.due_at, JobRow.id))
        return [_job(row) for row in rows]

    # -- outbox --------------------------------------------------------------------------

    async def queue_message(
        self,
        person_id: int,
        text: str,
        options: Sequence[tuple[str, str]] = (),
        *,
        introduction_id: int | None = None,
        about: Collection[int] = (),
    ) -> int:
        """A message for `person_id`, sent by their channel after this transaction commits.

        `options` are buttons as (key, label). `introduction_id` is the introduction it
        belongs to and `about` the people it names or whose contact details it carries:
        erasing any of them, or anonymising the introduction, cancels it. Returns its id.
        """
        # Addressed to the reachable account the person last wrote from (a person may link
        # WhatsApp and Telegram); without one, to the oldest account.
        account = (
            await self._session.execute(
                select(IdentityRow.channel, IdentityRow.external_id)
                .where(IdentityRow.person_id == person_id)
                .order_by(
                    IdentityRow.reachable.desc(),
                    IdentityRow.last_seen_at.is_(None),
                    IdentityRow.last_seen_at.desc(),
                    IdentityRow.id,
                )
                .limit(1)
            )
        ).first()
        row = OutboxRow(
            person_id=person_id,
            channel=account[0] if account else None,
            external_id=account[1] if account else None,
            text=text,
            options=[[key, label] for key, label in options],
            extra={},
            created_at=utcnow(),
            sent_at=None,
            attempts=0,
            parts_sent=0,
            introduction_id=introduction_id,
        )
        return await add_to_outbox(self._session, row, about)

    async def claim_outbox(
        self,
        channel: str,
        *,
        now: datetime,
        limit: int = 50,
        external_id: str | None = None,
    ) -> list[tuple[OutboxMessage, Identity]]:
        """Take up to `limit` unsent messages for reachable people on `channel`, oldest first.

        They are marked sent (`sent_at = now`) in this transaction; on PostgreSQL messages
        that another transaction is claiming are skipped, so no two deliverers get the same
        message. `external_id` narrows the claim to one account on the channel. A person with
        several accounts on the channel gets each message once, on their oldest account.
        """
        statement = (
            select(OutboxRow, IdentityRow)
            .join(PersonRow, PersonRow.id == OutboxRow.person_id)
            .join(IdentityRow, IdentityRow.person_id == OutboxRow.person_id)
            .where(
                OutboxRow.sent_at.is_(None),
                OutboxRow.failed_at.is_(None),
                OutboxRow.attempts < MAX_OUTBOX_ATTEMPTS,
                PersonRow.reachable.is_(True),
                IdentityRow.channel == channel,
            )
            .order_by(OutboxRow.created_at, OutboxRow.id, IdentityRow.id)
            .limit(limit)
        )
        if external_id is not None:
            statement = statement.where(IdentityRow.external_id == external_id)
        if self._postgres:
            statement = statement.with_for_update(of=OutboxRow, skip_locked=True)
        claimed: dict[int, tuple[OutboxMessage, Identity]] = {}
        for message, identity in await self._session.execute(statement):
            if message.id not in claimed:
                claimed[message.id] = (
                    _message(message),
                    Identity(identity.channel, identity.external_id, identity.username),
                )
        if claimed:
            await self._session.execute(
                update(OutboxRow).where(OutboxRow.id.in_(list(claimed))).values(sent_at=as_utc(now))
            )
        return list(claimed.values())

    async def release_outbox(self, message_id: int, *, count_attempt: bool = True) -> None:
        """A claimed message was not sent: offer it again, counting a failed attempt.

        `count_attempt=False` hands back a message that was never tried (a deliverer that
        stops halfway through its batch).
        """
        values: dict[str, Any] = {"sent_at": None}
        if count_attempt:
            values["attempts"] = OutboxRow.attempts + 1
        await self._session.execute(
            update(OutboxRow).where(OutboxRow.id == message_id).values(**values)
        )

    async def count_pending_outbox(self, person_id: int | None = None) -> int:
        """Messages not sent yet that may still be (unsent, fewer than the maximum attempts)."""
        statement = select(func.count(OutboxRow.id)).where(
            OutboxRow.sent_at.is_(None),
            OutboxRow.failed_at.is_(None),
            OutboxRow.attempts < MAX_OUTBOX_ATTEMPTS,
        )
        if person_id is not None:
            statement = statement.where(OutboxRow.person_id == person_id)
        return int(await self._session.scalar(statement) or 0)

    async def forget_sent_outbox_before(self, moment: datetime) -> int:
        """Delete messages delivered before `moment`, and those given up on before it:
        the outbox need not keep their text (which may hold someone's contact details)."""
        gone = or_(
            and_(OutboxRow.sent_at.is_not(None), OutboxRow.sent_at < moment),
            and_(OutboxRow.failed_at.is_not(None), OutboxRow.failed_at < moment),
        )
        await self._session.execute(
            delete(MentionRow).where(MentionRow.outbox_id.in_(select(OutboxRow.id).where(gone)))
        )
        result = await self._session.execute(delete(OutboxRow).where(gone))
        return int(getattr(result, "rowcount", 0))

    async def forget_finished_jobs_before(self, moment: datetime) -> int:
        """Delete timers that fired (or were cancelled) before `moment`."""
        result = await self._session.execute(
            delete(JobRow).where(JobRow.done_at.is_not(None), JobRow.done_at < moment)
        )
        return int(getattr(result, "rowcount", 0))

    async def has_pending_job(self, kind: str) -> bool:
        found = await self._session.scalar(
            select(JobRow.id).where(JobRow.kind == kind, JobRow.done_at.is_(None)).limit(1)
        )
        return found is not None
