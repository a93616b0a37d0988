"""Introductions, dismissals ("not for me") and blocks."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update

from storage.models import (
    BlockRow,
    DismissalRow,
    InitiativeOrganiserRow,
    IntroductionRow,
    JobRow,
)
from storage.records import Introduction
from storage.verbs import Verbs, aware

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

    async def get_introduction(self, introduction_id: int) -> Introduction | None:
        """The introduction, or None when there is none (or it was anonymised)."""
        row = await self._session.scalar(
            select(IntroductionRow).where(IntroductionRow.id == introduction_id, LIVE)
        )
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
            select(IntroductionRow)
            .where(
                LIVE,
                IntroductionRow.status == "accepted",
                IntroductionRow.relay_open.is_(True),
                or_(
                    IntroductionRow.requester_id == person_id,
                    IntroductionRow.neighbour_id == person_id,
                    IntroductionRow.answered_by_id == person_id,
                ),
            )
            .order_by(IntroductionRow.id)
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
