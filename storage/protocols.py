"""Narrow views of the store, one per capability: who gets a `Store` sees only these verbs.

The dashboard works through `DashboardStore`: it reads people, tickets and figures within
a moderator's scope and acts on tickets and initiatives; it never sees `erase_person`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from storage.records import (
    AuditEntry,
    ImpactFacts,
    Initiative,
    Moderator,
    Person,
    ReportedThing,
    Scope,
    StoppedRelay,
    StoppedRequest,
    Ticket,
    TicketMessage,
)


class MessageQueue(Protocol):
    """Puts a message for a person in the outbox (`Store.queue_message`)."""

    async def queue_message(
        self,
        person_id: int,
        text: str,
        options: Sequence[tuple[str, str]] = (),
        *,
        introduction_id: int | None = None,
        about: Collection[int] = (),
    ) -> int: ...


class TicketActions(MessageQueue, Protocol):
    """What a moderator's action on a ticket needs."""

    async def assign_ticket(self, scope: Scope, ticket_id: int, moderator_id: int) -> bool: ...

    async def close_ticket(self, scope: Scope, ticket_id: int, *, now: datetime) -> bool: ...

    async def add_ticket_message(
        self,
        ticket_id: int,
        *,
        kind: str,
        body: str,
        now: datetime,
        moderator_id: int | None = None,
    ) -> None: ...

    async def get_person_in_scope(self, scope: Scope, person_id: int) -> Person | None: ...


class BlockActions(MessageQueue, Protocol):
    """What stopping a blocked person's waiting requests and conversations needs."""

    async def close_requests_of(self, person_id: int, *, now: datetime) -> list[StoppedRequest]: ...

    async def close_relays_of(self, person_id: int) -> list[StoppedRelay]: ...


class DashboardStore(TicketActions, BlockActions, Protocol):
    """Everything the moderators' dashboard may ask of storage."""

    async def get_moderator(self, moderator_id: int) -> Moderator | None: ...

    async def find_moderator_by_email(self, email: str) -> Moderator | None: ...

    async def set_moderator_password(
        self, moderator_id: int, password_hash: str, *, must_change: bool = False
    ) -> None: ...

    async def locked_until(self, key: str, now: datetime) -> datetime | None: ...

    async def record_login_failure(
        self, key: str, *, now: datetime, limit: int, lock_for: timedelta
    ) -> None: ...

    async def clear_login_failures(self, key: str) -> None: ...

    async def list_tickets(
        self, scope: Scope, *, statuses: Collection[str] = ("open", "assigned")
    ) -> list[Ticket]: ...

    async def get_ticket(self, scope: Scope, ticket_id: int) -> Ticket | None: ...

    async def list_ticket_messages(self, scope: Scope, ticket_id: int) -> list[TicketMessage]: ...

    async def newest_ticket_id(self, scope: Scope) -> int: ...

    async def search_people(
        self, scope: Scope, *, name: str = "", area: str = "", tag: str = "", limit: int = 50
    ) -> list[Person]: ...

    async def list_logged_messages(self, person_id: int) -> list[tuple[str, str]]: ...

    async def record_audit(
        self,
        moderator: Moderator,
        *,
        action: str,
        now: datetime,
        person_id: int | None = None,
        detail: str = "",
    ) -> None: ...

    async def list_audit(
        self, *, person_id: int | None = None, moderator_id: int | None = None, limit: int = 200
    ) -> list[AuditEntry]: ...

    async def list_initiatives_in_scope(
        self, scope: Scope, *, status: str | None = None
    ) -> list[Initiative]: ...

    async def set_initiative_status_in_scope(
        self, scope: Scope, initiative_id: int, status: str, *, now: datetime
    ) -> Initiative | None: ...

    async def list_organiser_ids(self, initiative_id: int) -> list[int]: ...

    async def list_initiatives_of(self, person_id: int) -> list[Initiative]: ...

    async def create_invite(
        self, organisation_id: int, *, expires_at: datetime | None = None
    ) -> str: ...

    async def set_blocked(
        self, scope: Scope, person_id: int, *, blocked: bool, now: datetime
    ) -> Person | None: ...

    async def impact_facts(self, scope: Scope) -> ImpactFacts: ...

    async def describe_report(
        self, scope: Scope, ticket_id: int, introduction_id: int
    ) -> ReportedThing | None: ...
