"""Verbs for moderation: tickets, moderators, lock-out and the audit log.

Every query the dashboard makes takes a `Scope`: a moderator sees only the people (and
their tickets) who live in a neighbourhood of their own organisation, or who belong to it;
an admin's scope is everyone. The filter is part of the SQL, never of a template.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, true, update

from storage.initiatives import _initiative
from storage.models import (
    AuditRow,
    ConversationRow,
    InitiativeOrganiserRow,
    InitiativeRow,
    IntroductionRow,
    LoginFailureRow,
    MentionRow,
    MessageLogRow,
    ModeratorRow,
    OrganisationAreaRow,
    OrganisationRow,
    PersonRow,
    TicketMessageRow,
    TicketRow,
)
from storage.records import (
    AuditEntry,
    Initiative,
    Moderator,
    Organisation,
    Person,
    ReportedThing,
    Scope,
    Ticket,
    TicketMessage,
)
from storage.verbs import Verbs, aware

ACTIVE = ("open", "assigned")


def people_in(scope: Scope) -> ColumnElement[bool]:
    """The SQL condition on `people` for the residents this scope may see."""
    if scope.organisation_id is None:
        return true()
    areas = select(OrganisationAreaRow.postcode).where(
        OrganisationAreaRow.organisation_id == scope.organisation_id
    )
    return or_(
        PersonRow.organisation_id == scope.organisation_id,
        PersonRow.postcode.in_(areas),
    )


def initiatives_in(scope: Scope) -> ColumnElement[bool]:
    """The SQL condition on `initiatives` this scope may see: the organisation's own, and
    those in its neighbourhoods."""
    if scope.organisation_id is None:
        return true()
    areas = select(OrganisationAreaRow.postcode).where(
        OrganisationAreaRow.organisation_id == scope.organisation_id
    )
    return or_(
        InitiativeRow.organisation_id == scope.organisation_id,
        InitiativeRow.postcode.in_(areas),
    )


def _moderator(row: ModeratorRow, organisation: str) -> Moderator:
    return Moderator(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,
        organisation_id=row.organisation_id,
        organisation_name=organisation,
        password_hash=row.password_hash,
        must_change_password=row.must_change_password,
    )


def _ticket(row: TicketRow, person: PersonRow, assignee: str | None) -> Ticket:
    return Ticket(
        id=row.id,
        person_id=row.person_id,
        reason=row.reason,
        priority=row.priority,
        status=row.status,
        created_at=aware(row.created_at),
        assignee_id=row.assignee_id,
        assignee_name=assignee,
        first_name=person.first_name,
        area_name=person.area_name or person.postcode,
        first_answer_at=aware(row.first_answer_at),
        closed_at=aware(row.closed_at),
    )


class ModerationVerbs(Verbs):
    # -- organisations and accounts ----------------------------------------------------

    async def add_organisation_area(self, organisation_id: int, postcode: str) -> None:
        """The organisation looks after the residents of this 4-digit postcode."""
        exists = await self._session.get(OrganisationAreaRow, (organisation_id, postcode))
        if exists is None:
            self._session.add(
                OrganisationAreaRow(organisation_id=organisation_id, postcode=postcode)
            )
            await self._session.flush()

    async def list_organisation_areas(self, organisation_id: int) -> list[str]:
        rows = await self._session.scalars(
            select(OrganisationAreaRow.postcode)
            .where(OrganisationAreaRow.organisation_id == organisation_id)
            .order_by(OrganisationAreaRow.postcode)
        )
        return list(rows)

    async def get_organisation_by_id(self, organisation_id: int) -> Organisation | None:
        row = await self._session.get(OrganisationRow, organisation_id)
        return Organisation(row.id, row.slug, row.name) if row else None

    async def create_moderator(
        self,
        *,
        email: str,
        name: str,
        organisation_id: int,
        role: str,
        password_hash: str,
        now: datetime,
    ) -> Moderator:
        row = ModeratorRow(
            email=email.strip().lower(),
            name=name,
            organisation_id=organisation_id,
            role=role,
            password_hash=password_hash,
            must_change_password=True,
            created_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        moderator = await self.get_moderator(row.id)
        assert moderator is not None
        return moderator

    async def _find_moderator(self, condition: ColumnElement[bool]) -> Moderator | None:
        found = (
            await self._session.execute(
                select(ModeratorRow, OrganisationRow.name)
                .join(OrganisationRow, OrganisationRow.id == ModeratorRow.organisation_id)
                .where(condition)
            )
        ).first()
        return _moderator(found[0], found[1]) if found else None

    async def get_moderator(self, moderator_id: int) -> Moderator | None:
        return await self._find_moderator(ModeratorRow.id == moderator_id)

    async def find_moderator_by_email(self, email: str) -> Moderator | None:
        return await self._find_moderator(ModeratorRow.email == email.strip().lower())

    async def set_moderator_password(
        self, moderator_id: int, password_hash: str, *, must_change: bool = False
    ) -> None:
        await self._session.execute(
            update(ModeratorRow)
            .where(ModeratorRow.id == moderator_id)
            .values(password_hash=password_hash, must_change_password=must_change)
        )

    # -- lock-out ----------------------------------------------------------------------

    async def locked_until(self, key: str, now: datetime) -> datetime | None:
        """When the lock on this account or address ends, or None when there is none."""
        row = await self._session.get(LoginFailureRow, key)
        until = aware(row.locked_until) if row else None
        return until if until is not None and until > now else None

    async def record_login_failure(
        self, key: str, *, now: datetime, limit: int, lock_for: timedelta
    ) -> None:
        """Count a failed login; the `limit`-th failure within `lock_for` of the one
        before locks the key for `lock_for`."""
        row = await self._session.get(LoginFailureRow, key)
        if row is None:
            row = LoginFailureRow(key=key, failures=0, updated_at=now)
            self._session.add(row)
        elif aware(row.updated_at) < now - lock_for:
            row.failures = 0
        row.failures += 1
        row.updated_at = now
        if row.failures >= limit:
            row.locked_until = now + lock_for
            row.failures = 0
        await self._session.flush()

    async def clear_login_failures(self, key: str) -> None:
        await self._session.execute(delete(LoginFailureRow).where(LoginFailureRow.key == key))

    # -- tickets, from the conversation --------------------------------------------------

    async def count_misunderstood(self, person_id: int) -> int:
        """One more answer in a row the bot did not understand; returns how many now
        (0 when the person has no conversation saved yet)."""
        await self._session.execute(
            update(ConversationRow)
            .where(ConversationRow.person_id == person_id)
            .values(misunderstood=ConversationRow.misunderstood + 1)
        )
        count = await self._session.scalar(
            select(ConversationRow.misunderstood).where(ConversationRow.person_id == person_id)
        )
        return int(count or 0)

    async def forget_misunderstood(self, person_id: int) -> None:
        """The bot understood them: the count starts again."""
        await self._session.execute(
            update(ConversationRow)
            .where(ConversationRow.person_id == person_id, ConversationRow.misunderstood != 0)
            .values(misunderstood=0)
        )

    async def get_active_ticket(self, person_id: int) -> Ticket | None:
        """The person's open or assigned ticket, if any."""
        found = await self._tickets(
            and_(TicketRow.person_id == person_id, TicketRow.status.in_(ACTIVE)), Scope(None)
        )
        return found[0] if found else None

    async def open_ticket(
        self, person_id: int, *, reason: str, priority: int, now: datetime, body: str = ""
    ) -> tuple[Ticket, bool]:
        """Open a ticket, or add to the one still active (raising its priority when this
        reason is more urgent). Returns the ticket and whether it is new."""
        active = await self._session.scalar(
            select(TicketRow)
            .where(TicketRow.person_id == person_id, TicketRow.status.in_(ACTIVE))
            .order_by(TicketRow.id)
            .limit(1)
        )
        created = active is None
        if active is None:
            active = TicketRow(
                person_id=person_id, reason=reason, priority=priority, status="open", created_at=now
            )
            self._session.add(active)
            await self._session.flush()
        elif priority > active.priority:
            active.reason, active.priority = reason, priority
        if body:
            await self.add_ticket_message(active.id, kind="resident", body=body, now=now)
        ticket = await self.get_active_ticket(person_id)
        assert ticket is not None
        return ticket, created

    async def add_ticket_message(
        self,
        ticket_id: int,
        *,
        kind: str,
        body: str,
        now: datetime,
        moderator_id: int | None = None,
    ) -> None:
        self._session.add(
            TicketMessageRow(
                ticket_id=ticket_id, kind=kind, body=body, moderator_id=moderator_id, created_at=now
            )
        )
        if kind == "reply":
            await self._session.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.first_answer_at.is_(None))
                .values(first_answer_at=now)
            )
        await self._session.flush()

    async def forget_closed_tickets_before(self, moment: datetime) -> int:
        """Delete tickets (with every line in them) closed before `moment`."""
        old = select(TicketRow.id).where(TicketRow.closed_at < moment)
        await self._session.execute(
            delete(TicketMessageRow).where(TicketMessageRow.ticket_id.in_(old))
        )
        result = await self._session.execute(delete(TicketRow).where(TicketRow.closed_at < moment))
        return int(getattr(result, "rowcount", 0))

    async def forget_audit_before(self, moment: datetime) -> int:
        result = await self._session.execute(delete(AuditRow).where(AuditRow.at < moment))
        return int(getattr(result, "rowcount", 0))

    # -- tickets, for the dashboard ------------------------------------------------------

    async def _tickets(self, condition: ColumnElement[bool], scope: Scope) -> list[Ticket]:
        rows = await self._session.execute(
            select(TicketRow, PersonRow, ModeratorRow.name)
            .join(PersonRow, PersonRow.id == TicketRow.person_id)
            .outerjoin(ModeratorRow, ModeratorRow.id == TicketRow.assignee_id)
            .where(condition, people_in(scope))
            .order_by(TicketRow.priority.desc(), TicketRow.created_at, TicketRow.id)
        )
        return [_ticket(t, p, name) for t, p, name in rows]

    async def list_tickets(
        self, scope: Scope, *, statuses: Collection[str] = ACTIVE
    ) -> list[Ticket]:
        """Tickets in these statuses, most urgent first, then oldest first."""
        return await self._tickets(TicketRow.status.in_(list(statuses)), scope)

    async def get_ticket(self, scope: Scope, ticket_id: int) -> Ticket | None:
        found = await self._tickets(TicketRow.id == ticket_id, scope)
        return found[0] if found else None

    async def list_ticket_messages(self, scope: Scope, ticket_id: int) -> list[TicketMessage]:
        rows = await self._session.execute(
            select(TicketMessageRow, ModeratorRow.name)
            .join(TicketRow, TicketRow.id == TicketMessageRow.ticket_id)
            .join(PersonRow, PersonRow.id == TicketRow.person_id)
            .outerjoin(ModeratorRow, ModeratorRow.id == TicketMessageRow.moderator_id)
            .where(TicketMessageRow.ticket_id == ticket_id, people_in(scope))
            .order_by(TicketMessageRow.id)
        )
        return [TicketMessage(m.kind, m.body, aware(m.created_at), name) for m, name in rows]

    async def _organises(self, person_id: int, initiative_id: int | None) -> bool:
        if initiative_id is None:
            return False
        row = await self._session.get(InitiativeOrganiserRow, (initiative_id, person_id))
        return row is not None

    async def describe_report(
        self, scope: Scope, ticket_id: int, introduction_id: int
    ) -> ReportedThing | None:
        """What the report in this ticket was about: None unless the ticket is in scope and
        its resident is a side of that introduction."""
        ticket = await self.get_ticket(scope, ticket_id)
        intro = await self._session.get(IntroductionRow, introduction_id)
        if ticket is None or intro is None:
            return None
        reporter = ticket.person_id
        title = None
        if intro.initiative_id is not None:
            title = await self._session.scalar(
                select(InitiativeRow.title).where(InitiativeRow.id == intro.initiative_id)
            )
        if intro.requester_id is None:  # anonymised: the other side is gone, or long ago
            return ReportedThing(introduction_id, initiative_title=title)
        if intro.requester_id == reporter:
            other = intro.neighbour_id if intro.neighbour_id is not None else intro.answered_by_id
        elif reporter in (intro.neighbour_id, intro.answered_by_id) or (
            await self._organises(reporter, intro.initiative_id)
        ):
            other = intro.requester_id
        else:
            return None
        name = None
        words = None
        if other is not None:
            name = await self._session.scalar(
                select(PersonRow.first_name).where(PersonRow.id == other)
            )
            words = await self._session.scalar(
                select(MessageLogRow.body)
                .where(
                    MessageLogRow.person_id == other,
                    MessageLogRow.direction == "in",
                    ~MessageLogRow.body.startswith("["),  # a tap, a photo: no words
                    MessageLogRow.id.in_(
                        select(MentionRow.message_log_id).where(MentionRow.person_id == reporter)
                    ),
                )
                .order_by(MessageLogRow.id.desc())
                .limit(1)
            )
        return ReportedThing(
            introduction_id,
            initiative_title=title,
            other_id=other,
            other_name=name,
            last_words=words,
        )

    async def assign_ticket(self, scope: Scope, ticket_id: int, moderator_id: int) -> bool:
        """Take a ticket that is open (or already this moderator's); False otherwise."""
        ticket = await self.get_ticket(scope, ticket_id)
        if ticket is None:
            return False
        result = await self._session.execute(
            update(TicketRow)
            .where(
                TicketRow.id == ticket_id,
                or_(
                    TicketRow.status == "open",
                    and_(TicketRow.status == "assigned", TicketRow.assignee_id == moderator_id),
                ),
            )
            .values(status="assigned", assignee_id=moderator_id)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def close_ticket(self, scope: Scope, ticket_id: int, *, now: datetime) -> bool:
        """Close an active ticket; the bot takes the conversation back."""
        ticket = await self.get_ticket(scope, ticket_id)
        if ticket is None:
            return False
        result = await self._session.execute(
            update(TicketRow)
            .where(TicketRow.id == ticket_id, TicketRow.status.in_(ACTIVE))
            .values(status="closed", closed_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def newest_ticket_id(self, scope: Scope) -> int:
        """The highest ticket id in scope (0 when none): the inbox polls it for news."""
        newest = await self._session.scalar(
            select(func.max(TicketRow.id))
            .join(PersonRow, PersonRow.id == TicketRow.person_id)
            .where(people_in(scope))
        )
        return int(newest or 0)

    # -- people, for the dashboard -------------------------------------------------------

    async def search_people(
        self, scope: Scope, *, name: str = "", area: str = "", tag: str = "", limit: int = 50
    ) -> list[Person]:
        from storage.store import _person  # the one place that turns a row into a Person

        conditions: list[ColumnElement[bool]] = [people_in(scope)]
        if name:
            conditions.append(func.lower(PersonRow.first_name).contains(name.strip().lower()))
        if area:
            wanted = area.strip().lower()
            conditions.append(
                or_(PersonRow.postcode == wanted, func.lower(PersonRow.area_name).contains(wanted))
            )
        rows = list(
            await self._session.scalars(
                select(PersonRow).where(*conditions).order_by(PersonRow.first_name, PersonRow.id)
            )
        )
        people = [_person(row) for row in rows]
        if tag:  # tags are JSON lists: compared here, after the scoped query
            people = [p for p in people if tag in p.gifts or tag in p.wishes]
        return people[:limit]

    async def get_person_in_scope(self, scope: Scope, person_id: int) -> Person | None:
        from storage.store import _person

        row = await self._session.scalar(
            select(PersonRow).where(PersonRow.id == person_id, people_in(scope))
        )
        return _person(row) if row else None

    async def set_blocked(
        self, scope: Scope, person_id: int, *, blocked: bool, now: datetime
    ) -> Person | None:
        """Block a person (no suggestions, no introductions, not suggested to others) or
        unblock them; None when the scope may not see them. Blocking pauses suggestions,
        which also keeps them out of other people's; unblocking resumes them."""
        row = await self._session.scalar(
            select(PersonRow).where(PersonRow.id == person_id, people_in(scope))
        )
        if row is None:
            return None
        row.blocked_at = now if blocked else None
        row.suggestions_paused = blocked
        await self._session.flush()
        return await self.get_person_in_scope(scope, person_id)

    # -- the audit log -----------------------------------------------------------------

    async def record_audit(
        self,
        moderator: Moderator,
        *,
        action: str,
        now: datetime,
        person_id: int | None = None,
        detail: str = "",
    ) -> None:
        self._session.add(
            AuditRow(
                moderator_id=moderator.id,
                organisation_id=moderator.organisation_id,
                person_id=person_id,
                action=action,
                detail=detail[:200],
                at=now,
            )
        )
        await self._session.flush()

    async def list_audit(
        self, *, person_id: int | None = None, moderator_id: int | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """The newest lines of the audit log (admins only): all, or those about one person,
        or those of one moderator (or both)."""
        statement: Any = (
            select(AuditRow, ModeratorRow.name, OrganisationRow.name)
            .outerjoin(ModeratorRow, ModeratorRow.id == AuditRow.moderator_id)
            .outerjoin(OrganisationRow, OrganisationRow.id == AuditRow.organisation_id)
            .order_by(AuditRow.at.desc(), AuditRow.id.desc())
            .limit(limit)
        )
        if person_id is not None:
            statement = statement.where(AuditRow.person_id == person_id)
        if moderator_id is not None:
            statement = statement.where(AuditRow.moderator_id == moderator_id)
        rows = await self._session.execute(statement)
        return [
            AuditEntry(
                aware(a.at), a.action, who, organisation, a.person_id, a.detail, a.moderator_id
            )
            for a, who, organisation in rows
        ]

    # -- initiatives, for the dashboard --------------------------------------------------

    async def list_initiatives_in_scope(
        self, scope: Scope, *, status: str | None = None
    ) -> list[Initiative]:
        statement = select(InitiativeRow).where(initiatives_in(scope))
        if status is not None:
            statement = statement.where(InitiativeRow.status == status)
        rows = await self._session.scalars(statement.order_by(InitiativeRow.id))
        return [_initiative(row) for row in rows]

    async def set_initiative_status_in_scope(
        self, scope: Scope, initiative_id: int, status: str, *, now: datetime
    ) -> Initiative | None:
        """Move an initiative this scope may see; None when it may not (or is not there)."""
        row = await self._session.scalar(
            select(InitiativeRow).where(InitiativeRow.id == initiative_id, initiatives_in(scope))
        )
        if row is None:
            return None
        row.status, row.updated_at = status, now
        await self._session.flush()
        return _initiative(row)
