"""Introductions, dismissals ("not for me") and blocks."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import aliased

from storage.models import (
    BlockRow,
    DismissalRow,
    InitiativeOrganiserRow,
    InitiativeRow,
    IntroductionRow,
    JobRow,
    MentionRow,
    OutboxRow,
    PersonRow,
)
from storage.records import Introduction, StoppedRelay, StoppedRequest
from storage.verbs import Verbs, as_utc, aware

INTRODUCTION_FIELDS = frozenset(
    {
        "status",
        "requester_route",
        "requester_contact",
        "target_route",
        "target_contact",
        "requester_outcome",
        "target_outcome",
        "relay_open",
        "answered_at",
        "answered_by_id",
        "ended_at",
        "met_again_at",
    }
)


# Introductions the conversation may still act on: not anonymised (an anonymised row only
# counts for the impact figures, and no button finds it).
LIVE = and_(IntroductionRow.anonymised_at.is_(None), IntroductionRow.requester_id.is_not(None))


def _open_relays_of(person_id: int) -> tuple[Any, ...]:
    """The accepted introductions this person is a side of, their conversation through the
    bot still open."""
    return (
        LIVE,
        IntroductionRow.status == "accepted",
        IntroductionRow.relay_open.is_(True),
        or_(
            IntroductionRow.requester_id == person_id,
            IntroductionRow.neighbour_id == person_id,
            IntroductionRow.answered_by_id == person_id,
        ),
    )


def _introduction(row: IntroductionRow) -> Introduction:
    if row.requester_id is None:  # anonymised rows are counted, never handed out
        raise LookupError(f"introduction {row.id} is anonymised")
    return Introduction(
        id=row.id,
        requester_id=row.requester_id,
        initiative_id=row.initiative_id,
        neighbour_id=row.neighbour_id,
        status=row.status,
        reason=row.reason,
        requester_route=row.requester_route,
        requester_contact=row.requester_contact,
        target_route=row.target_route,
        target_contact=row.target_contact,
        requester_outcome=row.requester_outcome,
        target_outcome=row.target_outcome,
        relay_open=row.relay_open,
        answered_by_id=row.answered_by_id,
        created_at=aware(row.created_at),
        answered_at=aware(row.answered_at),
        ended_at=aware(row.ended_at),
        met_again_at=aware(row.met_again_at),
    )


class IntroductionVerbs(Verbs):
    async def create_introduction(
        self,
        requester_id: int,
        *,
        initiative_id: int | None = None,
        neighbour_id: int | None = None,
        reason: str,
        route: str,
        contact: str | None,
        now: datetime,
    ) -> Introduction:
        if (initiative_id is None) == (neighbour_id is None):
            raise ValueError("an introduction is to an initiative or to a neighbour")
        row = IntroductionRow(
            requester_id=requester_id,
            initiative_id=initiative_id,
            neighbour_id=neighbour_id,
            status="requested",
            reason=reason[:200],
            requester_route=route,
            requester_contact=contact,
            relay_open=False,
            created_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return _introduction(row)

    async def find_introduction(
        self,
        requester_id: int,
        *,
        initiative_id: int | None = None,
        neighbour_id: int | None = None,
    ) -> Introduction | None:
        row = await self._session.scalar(
            select(IntroductionRow).where(
                IntroductionRow.requester_id == requester_id,
                IntroductionRow.initiative_id == initiative_id
                if initiative_id is not None
                else IntroductionRow.neighbour_id == neighbour_id,
            )
        )
        return _introduction(row) if row else None

    async def get_introduction(
        self, introduction_id: int, *, hold: bool = False
    ) -> Introduction | None:
        """The introduction, or None when there is none (or it was anonymised).

        `hold`: on PostgreSQL, keep it from changing until this transaction ends (a shared
        row lock; a change in progress is waited for and then read). A message passed on
        through the bot holds it, so a relay stopped at that moment is either seen stopped
        or stops after the message is queued (and can then take it back)."""
        statement = select(IntroductionRow).where(IntroductionRow.id == introduction_id, LIVE)
        if hold and self._postgres:
            statement = statement.with_for_update(read=True)
        row = await self._session.scalar(statement)
        return _introduction(row) if row else None

    async def change_introduction(
        self,
        introduction_id: int,
        *,
        allowed: Collection[str],
        changes: Mapping[str, Any],
    ) -> Introduction | None:
        """Apply `changes` in one conditional update, only while the status is one of
        `allowed`; None when it is not (another answer won, or the row is gone).

        The update takes the row lock, and the condition is evaluated again after any wait
        for it: of two racing changes from the same state, exactly one wins. The locks of
        the introduction's pending timers are taken first, in the order the scheduler takes
        them (a timer, then its introduction), so that the two never deadlock.
        """
        unknown = set(changes) - INTRODUCTION_FIELDS
        if unknown:
            raise ValueError(f"not an introduction field: {sorted(unknown)}")
        await self._session.execute(
            select(JobRow.id)
            .where(JobRow.introduction_id == introduction_id, JobRow.done_at.is_(None))
            .with_for_update()
        )
        changed = await self._session.scalar(
            update(IntroductionRow)
            .where(
                IntroductionRow.id == introduction_id,
                IntroductionRow.status.in_(list(allowed)),
                LIVE,
            )
            .values(**changes)
            .returning(IntroductionRow.id)
            .execution_options(synchronize_session=False)
        )
        if changed is None:
            return None
        row = await self._session.get(IntroductionRow, changed, populate_existing=True)
        return _introduction(row) if row else None

    async def list_introductions_of(self, person_id: int) -> list[Introduction]:
        """Every introduction the person is part of: asked by them, to them as a neighbour,
        or answered by them for an initiative."""
        rows = await self._session.scalars(
            select(IntroductionRow)
            .where(
                LIVE,
                or_(
                    IntroductionRow.requester_id == person_id,
                    IntroductionRow.neighbour_id == person_id,
                    IntroductionRow.answered_by_id == person_id,
                ),
            )
            .order_by(IntroductionRow.id)
        )
        return [_introduction(r) for r in rows]

    async def list_open_relays_for(self, person_id: int) -> list[Introduction]:
        """Accepted introductions of this person whose conversation through the bot is open."""
        rows = await self._session.scalars(
            select(IntroductionRow).where(*_open_relays_of(person_id)).order_by(IntroductionRow.id)
        )
        return [_introduction(r) for r in rows]

    async def list_open_requests_for(self, person_id: int) -> list[Introduction]:
        """Requests waiting for this person's answer: as a neighbour, or as an organiser."""
        organised = select(InitiativeOrganiserRow.initiative_id).where(
            InitiativeOrganiserRow.person_id == person_id
        )
        rows = await self._session.scalars(
            select(IntroductionRow)
            .where(
                IntroductionRow.status == "requested",
                or_(
                    IntroductionRow.neighbour_id == person_id,
                    IntroductionRow.initiative_id.in_(organised),
                ),
            )
            .order_by(IntroductionRow.id)
        )
        return [_introduction(r) for r in rows]

    async def _change_where(
        self, conditions: tuple[Any, ...], values: Mapping[str, Any]
    ) -> list[int]:
        """Apply `values` to the live introductions that meet `conditions`, in one
        conditional update (re-checked after any wait for a row): the ids changed. The
        timers' locks are taken first, as `change_introduction` and the scheduler take them."""
        ids = list(await self._session.scalars(select(IntroductionRow.id).where(*conditions)))
        if not ids:
            return []
        await self._session.execute(
            select(JobRow.id)
            .where(JobRow.introduction_id.in_(ids), JobRow.done_at.is_(None))
            .with_for_update()
        )
        return list(
            await self._session.scalars(
                update(IntroductionRow)
                .where(IntroductionRow.id.in_(ids), *conditions)
                .values(**values)
                .returning(IntroductionRow.id)
                .execution_options(synchronize_session=False)
            )
        )

    async def close_requests_of(self, person_id: int, *, now: datetime) -> list[StoppedRequest]:
        """A moderator blocked this person: every request still waiting for an answer that
        involves them stops. That is a request asked by them, to them as a neighbour, or to
        an initiative they organise (which is no longer suggested either). Each is closed
        in one conditional update (an answer racing it either wins first or finds it
        closed); its timers are marked done and the request messages not yet sent are
        dropped. Returned with what the resident who asked needs to be told.

        Unblocking restores nothing: a closed request stays closed."""
        organised = select(InitiativeOrganiserRow.initiative_id).where(
            InitiativeOrganiserRow.person_id == person_id
        )
        waiting = (
            LIVE,
            IntroductionRow.status == "requested",
            or_(
                IntroductionRow.requester_id == person_id,
                IntroductionRow.neighbour_id == person_id,
                IntroductionRow.initiative_id.in_(organised),
            ),
        )
        closed = await self._change_where(waiting, {"status": "closed", "ended_at": now})
        if not closed:
            return []
        await self._session.execute(
            update(JobRow)
            .where(JobRow.introduction_id.in_(closed), JobRow.done_at.is_(None))
            .values(done_at=as_utc(now))
        )
        neighbour = aliased(PersonRow)
        rows = (
            await self._session.execute(
                select(IntroductionRow, PersonRow.language, InitiativeRow.title, neighbour)
                .join(PersonRow, PersonRow.id == IntroductionRow.requester_id)
                .outerjoin(InitiativeRow, InitiativeRow.id == IntroductionRow.initiative_id)
                .outerjoin(neighbour, neighbour.id == IntroductionRow.neighbour_id)
                .where(IntroductionRow.id.in_(closed))
                .order_by(IntroductionRow.id)
            )
        ).all()
        stopped: list[StoppedRequest] = []
        for intro, language, title, other in rows:
            asked_by = intro.requester_id if intro.requester_id != person_id else None
            await self._session.execute(  # the request (or its reminder) not delivered yet
                delete(OutboxRow).where(
                    OutboxRow.introduction_id == intro.id,
                    OutboxRow.sent_at.is_(None),
                    OutboxRow.failed_at.is_(None),
                    OutboxRow.person_id != intro.requester_id,
                )
            )
            named = (intro.requester_id, intro.neighbour_id, intro.answered_by_id)
            stopped.append(
                StoppedRequest(
                    introduction_id=intro.id,
                    requester_id=asked_by,
                    language=language,
                    other_side=title if other is None else other.first_name,
                    named=tuple(p for p in named if p),
                )
            )
        return stopped

    async def close_relays_of(self, person_id: int) -> list[StoppedRelay]:
        """A moderator blocked this person: their conversations through the bot stop. Each
        one closes in one conditional update (a message racing it is either passed on
        first or finds it closed), and what they wrote that was not delivered yet is
        dropped. Returned with what the other side needs to be told.

        Contact details already shared stay with the other side; unblocking opens
        nothing again."""
        closed = await self._change_where(_open_relays_of(person_id), {"relay_open": False})
        if not closed:
            return []
        rows = (
            await self._session.execute(
                select(IntroductionRow, InitiativeRow.title)
                .outerjoin(InitiativeRow, InitiativeRow.id == IntroductionRow.initiative_id)
                .where(IntroductionRow.id.in_(closed))
                .order_by(IntroductionRow.id)
            )
        ).all()
        sides = {
            intro.id: tuple(
                p for p in (intro.requester_id, intro.neighbour_id, intro.answered_by_id) if p
            )
            for intro, _ in rows
        }
        involved = {person_id}.union(*sides.values())
        people = {
            row.id: row
            for row in await self._session.scalars(
                select(PersonRow).where(PersonRow.id.in_(sorted(involved)))
            )
        }
        blocked = people.get(person_id)
        written_by_them = select(MentionRow.outbox_id).where(MentionRow.person_id == person_id)
        stopped: list[StoppedRelay] = []
        for intro, title in rows:
            if intro.requester_id == person_id:  # the other side knows them by first name
                other_id = intro.neighbour_id or intro.answered_by_id
                known_as = blocked.first_name if blocked else None
            else:  # the requester knows the neighbour by name, an initiative by its title
                other_id = intro.requester_id
                known_as = title
                if intro.neighbour_id is not None:
                    known_as = blocked.first_name if blocked else None
            other = people.get(other_id or 0)
            if other is None:
                continue
            await self._session.execute(  # their relayed words still on the way
                delete(OutboxRow).where(
                    OutboxRow.introduction_id == intro.id,
                    OutboxRow.person_id == other.id,
                    OutboxRow.sent_at.is_(None),
                    OutboxRow.failed_at.is_(None),
                    OutboxRow.id.in_(written_by_them),
                )
            )
            stopped.append(
                StoppedRelay(
                    introduction_id=intro.id,
                    person_id=other.id,
                    language=other.language,
                    other_side=known_as,
                    named=sides[intro.id],
                )
            )
        return stopped

    async def add_dismissal(
        self,
        person_id: int,
        *,
        initiative_id: int | None = None,
        neighbour_id: int | None = None,
        now: datetime,
    ) -> None:
        self._session.add(
            DismissalRow(
                person_id=person_id,
                initiative_id=initiative_id,
                neighbour_id=neighbour_id,
                created_at=now,
            )
        )
        await self._session.flush()

    async def add_block(self, person_id: int, blocked_id: int, *, now: datetime) -> None:
        if await self._session.get(BlockRow, (person_id, blocked_id)) is None:
            self._session.add(BlockRow(person_id=person_id, blocked_id=blocked_id, created_at=now))
            await self._session.flush()

    async def any_blocked_by_moderator(self, person_ids: Collection[int]) -> bool:
        """Whether a moderator blocks any of these people. On PostgreSQL their rows are held
        until this transaction ends: a block being saved is waited for, and one that comes
        later waits for this transaction (contact details swapped before it count as before)."""
        statement = select(PersonRow.id, PersonRow.blocked_at).where(
            PersonRow.id.in_(sorted(set(person_ids)))
        )
        if self._postgres:
            statement = statement.order_by(PersonRow.id).with_for_update(read=True)
        rows = (await self._session.execute(statement)).all()
        return any(blocked_at is not None for _, blocked_at in rows)

    async def is_blocked_between(self, person_id: int, other_ids: Collection[int]) -> bool:
        """Whether `person_id` blocked any of `other_ids`, or was blocked by one of them."""
        found = await self._session.scalar(
            select(BlockRow.person_id)
            .where(
                or_(
                    and_(BlockRow.person_id == person_id, BlockRow.blocked_id.in_(other_ids)),
                    and_(BlockRow.blocked_id == person_id, BlockRow.person_id.in_(other_ids)),
                )
            )
            .limit(1)
        )
        return found is not None
