"""Erasure ("vergeet mij"): the person goes, and nothing that identifies them stays.

In one transaction:

1. Lock every introduction the person is part of, then the person, then look again: the
   same row locks every change of an introduction takes (`change_introduction`), so no
   answer that commits meanwhile can bring back what erasure removes, and no request made
   meanwhile is missed.
2. Cancel, by reference (never by matching text), every message still to be sent that
   belongs to one of those introductions or names the person (`mentions`).
3. Redact every logged text of someone else that names them.
4. Anonymise their introductions: every person reference and contact detail cleared, open
   ones closed; the rows stay for the impact counts, with the requester's neighbourhood
   (postcode, its name, organisation) kept so that they still count where they belong.
   Who was waiting on the other side is returned, to be told kindly. An initiative left
   without organisers is paused (it shows up for the moderators, `list-initiatives
   --status paused`), and requests to it close; its most recent requester is returned
   too, for a ticket (see `Erasure.orphaned`).
5. Delete every row of theirs, every table named, so nothing depends on cascades: their
   tickets with every line in them too. The audit log keeps its lines (who looked, when)
   without the reference to the person, and so do the marks that they were shown
   suggestions in a month (`suggestion_marks`, counted in the impact figures).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from storage.inbox import InboxVerbs
from storage.models import (
    AuditRow,
    BlockRow,
    ConsentRow,
    ConversationRow,
    DismissalRow,
    IdentityRow,
    InitiativeOrganiserRow,
    InitiativeRow,
    IntroductionRow,
    JobRow,
    LinkCodeRow,
    MentionRow,
    MessageLogRow,
    OrganiserInviteRow,
    OutboxRow,
    PersonRow,
    SuggestionMarkRow,
    TicketMessageRow,
    TicketRow,
)
from storage.verbs import utcnow

REDACTED = "[verwijderd]"
OPEN = ("requested", "accepted")


@dataclass(frozen=True)
class Erasure:
    """What erasing someone left to do: tell these people, kindly and without naming them,
    that a request or conversation of theirs stopped."""

    tell: tuple[int, ...] = ()
    # (initiative, its most recent requester) for each initiative paused for want of an
    # organiser; the caller opens a `no_organiser` ticket for that person in the same
    # transaction. A ticket stays about a person, so it keeps the scoping, pages and
    # actions every ticket has, and no change of the tickets table is needed.
    orphaned: tuple[tuple[int, int], ...] = ()


class ErasureVerbs(InboxVerbs):
    async def _lock_introductions(self, person_id: int) -> list[IntroductionRow]:
        """Lock their introductions, after those introductions' pending timers: the order
        in which the scheduler and `change_introduction` take them too."""
        theirs = or_(
            IntroductionRow.requester_id == person_id,
            IntroductionRow.neighbour_id == person_id,
            IntroductionRow.answered_by_id == person_id,
        )
        await self._session.execute(
            select(JobRow.id)
            .where(
                JobRow.done_at.is_(None),
                JobRow.introduction_id.in_(select(IntroductionRow.id).where(theirs)),
            )
            .with_for_update()
        )
        rows = await self._session.scalars(
            select(IntroductionRow)
            .where(theirs)
            .order_by(IntroductionRow.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return list(rows)

    async def erase_person(self, person_id: int, *, now: datetime | None = None) -> Erasure:
        """Remove the person and everything that identifies them; see the module doc."""
        moment = now or utcnow()
        session = self._session
        await self._lock_introductions(person_id)
        await session.execute(
            select(PersonRow.id).where(PersonRow.id == person_id).with_for_update()
        )
        intros = await self._lock_introductions(person_id)  # and any made meanwhile
        # The updates they sent and the replies waiting for their accounts, found by those
        # accounts: before their identities go.
        await self.forget_inbox_of(person_id)

        organised = list(
            await session.scalars(
                select(InitiativeOrganiserRow.initiative_id).where(
                    InitiativeOrganiserRow.person_id == person_id
                )
            )
        )
        await session.execute(
            delete(InitiativeOrganiserRow).where(InitiativeOrganiserRow.person_id == person_id)
        )
        orphaned = await self._pause_orphaned(organised, moment)
        asked_last = await self._last_requesters(orphaned, but=person_id)
        if orphaned:  # requests to an initiative nobody runs any more end as well
            intros += list(
                await session.scalars(
                    select(IntroductionRow)
                    .where(
                        IntroductionRow.initiative_id.in_(orphaned),
                        IntroductionRow.status == "requested",
                        IntroductionRow.anonymised_at.is_(None),
                    )
                    .with_for_update()
                )
            )
        tell: list[int] = []
        for row in {row.id: row for row in intros}.values():
            if row.anonymised_at is None and row.status in OPEN:
                tell += [p for p in self._waiting(row, person_id) if p not in tell]
        ids = sorted({row.id for row in intros})

        named = select(MentionRow.outbox_id).where(
            MentionRow.person_id == person_id, MentionRow.outbox_id.is_not(None)
        )
        await session.execute(
            delete(OutboxRow).where(
                or_(OutboxRow.introduction_id.in_(ids), OutboxRow.id.in_(named))
            )
        )
        await session.execute(
            update(MessageLogRow)
            .where(
                MessageLogRow.id.in_(
                    select(MentionRow.message_log_id).where(
                        MentionRow.person_id == person_id,
                        MentionRow.message_log_id.is_not(None),
                    )
                )
            )
            .values(body=REDACTED)
        )
        await session.execute(delete(JobRow).where(JobRow.introduction_id.in_(ids)))
        await self.anonymise_introductions(ids, now=moment)
        await self._delete_rows_of(person_id)
        return Erasure(tell=tuple(p for p in tell if p != person_id), orphaned=asked_last)

    @staticmethod
    def _waiting(row: IntroductionRow, person_id: int) -> list[int]:
        """Who is left waiting in this open introduction when `person_id` goes."""
        if row.requester_id == person_id:
            # The other side only waits once it said yes (a relay, a follow-up).
            other = row.neighbour_id if row.neighbour_id is not None else row.answered_by_id
            return [other] if row.status == "accepted" and other is not None else []
        return [row.requester_id] if row.requester_id is not None else []

    async def _pause_orphaned(self, initiative_ids: Collection[int], now: datetime) -> list[int]:
        """Pause the initiatives among these that have no organiser left."""
        if not initiative_ids:
            return []
        still_run = select(InitiativeOrganiserRow.initiative_id).where(
            InitiativeOrganiserRow.initiative_id.in_(list(initiative_ids))
        )
        orphaned = list(
            await self._session.scalars(
                select(InitiativeRow.id).where(
                    InitiativeRow.id.in_(list(initiative_ids)),
                    InitiativeRow.id.not_in(still_run),
                )
            )
        )
        if orphaned:
            await self._session.execute(
                update(InitiativeRow)
                .where(InitiativeRow.id.in_(orphaned), InitiativeRow.status != "archived")
                .values(status="paused", updated_at=now)
            )
        return orphaned

    async def _last_requesters(
        self, initiative_ids: Collection[int], *, but: int
    ) -> tuple[tuple[int, int], ...]:
        """Per initiative, the person who asked for an introduction to it most recently
        (not `but`); initiatives nobody asked about, and archived ones, are left out."""
        found: list[tuple[int, int]] = []
        archived = set(
            await self._session.scalars(
                select(InitiativeRow.id).where(
                    InitiativeRow.id.in_(list(initiative_ids)), InitiativeRow.status == "archived"
                )
            )
        )
        for initiative_id in sorted(set(initiative_ids) - archived):
            requester = await self._session.scalar(
                select(IntroductionRow.requester_id)
                .where(
                    IntroductionRow.initiative_id == initiative_id,
                    IntroductionRow.requester_id.is_not(None),
                    IntroductionRow.requester_id != but,
                )
                .order_by(IntroductionRow.created_at.desc(), IntroductionRow.id.desc())
                .limit(1)
            )
            if requester is not None:
                found.append((initiative_id, requester))
        return tuple(found)

    async def anonymise_introductions(self, ids: Collection[int], *, now: datetime) -> int:
        """Clear every person reference and contact detail of these introductions; close
        the open ones. Their jobs and unsent messages go too. The rows stay, for counts."""
        if not ids:
            return 0
        ids = list(ids)
        await self._session.execute(delete(JobRow).where(JobRow.introduction_id.in_(ids)))
        await self._session.execute(delete(OutboxRow).where(OutboxRow.introduction_id.in_(ids)))
        await self._session.execute(
            update(IntroductionRow)
            .where(IntroductionRow.id.in_(ids), IntroductionRow.status.in_(OPEN))
            .values(status="closed", ended_at=now)
        )

        def of_requester(column: Any) -> Any:
            return (
                select(column).where(PersonRow.id == IntroductionRow.requester_id).scalar_subquery()
            )

        await self._session.execute(  # where it counts once nobody is named in it
            update(IntroductionRow)
            .where(IntroductionRow.id.in_(ids), IntroductionRow.requester_id.is_not(None))
            .values(
                area_postcode=of_requester(PersonRow.postcode),
                area_name=of_requester(PersonRow.area_name),
                area_organisation_id=of_requester(PersonRow.organisation_id),
            )
            .execution_options(synchronize_session=False)
        )
        result = await self._session.execute(
            update(IntroductionRow)
            .where(IntroductionRow.id.in_(ids))
            .values(
                requester_id=None,
                neighbour_id=None,
                answered_by_id=None,
                requester_route=None,
                requester_contact=None,
                target_route=None,
                target_contact=None,
                relay_open=False,
                anonymised_at=func.coalesce(IntroductionRow.anonymised_at, now),
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    # -- retention ---------------------------------------------------------------------

    async def forget_logged_messages_before(self, moment: datetime) -> int:
        """Delete message logs (relayed texts included) written before `moment`."""
        old = select(MessageLogRow.id).where(MessageLogRow.created_at < moment)
        await self._session.execute(delete(MentionRow).where(MentionRow.message_log_id.in_(old)))
        result = await self._session.execute(
            delete(MessageLogRow).where(MessageLogRow.created_at < moment)
        )
        return int(getattr(result, "rowcount", 0))

    async def anonymise_introductions_ended_before(self, moment: datetime, *, now: datetime) -> int:
        """Anonymise introductions that ended before `moment`; one accepted before it counts
        as ended then (the counts for impact figures stay)."""
        ids = list(
            await self._session.scalars(
                select(IntroductionRow.id).where(
                    IntroductionRow.anonymised_at.is_(None),
                    or_(
                        IntroductionRow.ended_at < moment,
                        (IntroductionRow.status == "accepted")
                        & (IntroductionRow.answered_at < moment),
                    ),
                )
            )
        )
        return await self.anonymise_introductions(ids, now=now)

    async def _delete_rows_of(self, person_id: int) -> None:
        session = self._session
        await session.execute(delete(JobRow).where(JobRow.person_id == person_id))
        await session.execute(
            delete(DismissalRow).where(
                or_(DismissalRow.person_id == person_id, DismissalRow.neighbour_id == person_id)
            )
        )
        await session.execute(
            delete(BlockRow).where(
                or_(BlockRow.person_id == person_id, BlockRow.blocked_id == person_id)
            )
        )
        await session.execute(
            update(OrganiserInviteRow)
            .where(OrganiserInviteRow.used_by_person_id == person_id)
            .values(used_by_person_id=None)
        )
        theirs_logged = select(MessageLogRow.id).where(MessageLogRow.person_id == person_id)
        theirs_queued = select(OutboxRow.id).where(OutboxRow.person_id == person_id)
        await session.execute(
            delete(MentionRow).where(
                or_(
                    MentionRow.person_id == person_id,
                    MentionRow.message_log_id.in_(theirs_logged),
                    MentionRow.outbox_id.in_(theirs_queued),
                )
            )
        )
        await session.execute(
            delete(TicketMessageRow).where(
                TicketMessageRow.ticket_id.in_(
                    select(TicketRow.id).where(TicketRow.person_id == person_id)
                )
            )
        )
        await session.execute(
            update(AuditRow).where(AuditRow.person_id == person_id).values(person_id=None)
        )
        await session.execute(
            update(SuggestionMarkRow)
            .where(SuggestionMarkRow.person_id == person_id)
            .values(person_id=None)
        )
        for model in (
            TicketRow,
            OutboxRow,
            MessageLogRow,
            ConsentRow,
            ConversationRow,
            LinkCodeRow,
            IdentityRow,
        ):
            await session.execute(delete(model).where(model.person_id == person_id))
        await session.execute(delete(PersonRow).where(PersonRow.id == person_id))
