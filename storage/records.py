"""Plain values that storage hands out: no lazy ORM rows leave storage/."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Person:
    id: int
    language: str
    role: str = "resident"
    first_name: str | None = None
    postcode: str | None = None
    area_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    gifts: tuple[str, ...] = ()
    wishes: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    max_distance_m: int | None = None
    group_pref: str | None = None
    free_only: bool | None = None
    intake_done_at: datetime | None = None
    reachable: bool = True
    suggestions_paused: bool = False
    organisation_id: int | None = None
    neighbour_visible: bool = False
    blocked: bool = False  # by a moderator: no suggestions or introductions


@dataclass(frozen=True)
class ConversationState:
    person_id: int
    flow: str
    step: str
    turn: int
    context: dict[str, Any] = field(default_factory=dict)
    stopped: bool = False
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Sender:
    """Someone who wrote, and what their turn needs to know first, read in one query."""

    person: Person
    conversation: ConversationState | None
    consent_version: str | None  # of the newest consent text they agreed to
    misunderstood: int  # answers in a row the bot did not understand
    ticket_active: bool  # an open or assigned ticket of theirs exists
    identities: int  # how many chats (channels) are theirs
    last_seen_at: datetime | None  # when they last wrote from this chat

    def needs_seen_mark(self) -> bool:
        """Whether to note that they wrote from this chat: only where it decides which of
        several chats messages go to (or it was never noted)."""
        return self.identities > 1 or self.last_seen_at is None


@dataclass(frozen=True)
class Identity:
    channel: str
    external_id: str
    username: str | None = None


@dataclass(frozen=True)
class LinkedIdentity:
    """One of a person's chats, as "mijn gegevens" lists it."""

    id: int
    channel: str
    external_id: str
    reachable: bool
    last_seen_at: datetime | None


@dataclass(frozen=True)
class Consent:
    given_at: datetime
    text_version: str
    language: str


@dataclass(frozen=True)
class Area:
    slug: str
    name: str
    postcode: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Postcode:
    code: str
    place: str
    municipality: str | None
    latitude: float
    longitude: float


@dataclass(frozen=True)
class PersonExport:
    """Everything stored about one person, for "my data"."""

    person: Person
    identities: tuple[Identity, ...]
    consents: tuple[Consent, ...]
    message_count: int
    first_message_at: datetime | None
    # Rows that refer to the person, per table (every table with a reference to people):
    # the overview must show each of them.
    rows: dict[str, int] = field(default_factory=dict)
    introductions: tuple[Introduction, ...] = ()
    organised: tuple[str, ...] = ()  # titles of the initiatives they organise
    suggestion_months: tuple[str, ...] = ()  # "2026-12": months they were shown ideas


@dataclass(frozen=True)
class Organisation:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class Initiative:
    id: int
    title: str
    description: str = ""
    offers: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    postcode: str | None = None
    place_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    times: tuple[str, ...] = ()
    free: bool = True
    wheelchair: bool = False
    capacity: int = 5
    status: str = "pending"  # pending, approved, paused, archived
    organisation_id: int | None = None


@dataclass(frozen=True)
class Introduction:
    """A double opt-in introduction. `target` is an initiative or a neighbour, never both."""

    id: int
    requester_id: int
    initiative_id: int | None
    neighbour_id: int | None
    status: str  # see handlers.introduction_states
    reason: str = ""
    requester_route: str | None = None
    requester_contact: str | None = None
    target_route: str | None = None
    target_contact: str | None = None
    requester_outcome: str | None = None
    target_outcome: str | None = None
    relay_open: bool = False
    answered_by_id: int | None = None
    created_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    met_again_at: datetime | None = None  # a side said they saw each other again


@dataclass(frozen=True)
class StoppedRequest:
    """A waiting request stopped by a moderator's block, as the resident who asked is told:
    their language, and the other side as they know it (an initiative's title or a
    neighbour's first name; None when unknown). `requester_id` is None when the blocked
    person asked it themselves: nobody is waiting on it."""

    introduction_id: int
    requester_id: int | None
    language: str
    other_side: str | None
    named: tuple[int, ...]


@dataclass(frozen=True)
class StoppedRelay:
    """A conversation through the bot stopped by a moderator's block, as the other side is
    told: who that is (`person_id`), their language, and the blocked side as they know it
    (a first name, or an initiative's title; None when unknown)."""

    introduction_id: int
    person_id: int
    language: str
    other_side: str | None
    named: tuple[int, ...]


@dataclass(frozen=True)
class Candidate:
    """Someone or something that might suit a resident, as matching needs it.

    For an initiative, `offers` is what it offers and `wants` the help it needs; for a
    neighbour they are their gifts and their wishes.
    """

    kind: str  # "initiative" or "neighbour"
    id: int
    latitude: float
    longitude: float
    offers: frozenset[str]
    wants: frozenset[str]
    times: frozenset[str] = frozenset()
    free: bool = True
    has_room: bool = True
    max_distance_m: int | None = None
    group_pref: str | None = None
    recent_introductions: int = 0


@dataclass(frozen=True)
class Exclusions:
    """Who must never be suggested to a resident: already introduced, declined, dismissed,
    blocked (both ways), and the resident themself."""

    initiative_ids: frozenset[int] = frozenset()
    person_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    due_at: datetime
    introduction_id: int | None = None
    person_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    person_id: int
    text: str
    options: tuple[tuple[str, str], ...] = ()  # (key, label)


@dataclass(frozen=True)
class InboxUpdate:
    """A stored platform update, waiting to be handled."""

    id: int
    channel: str
    update_id: str
    sender: str | None
    payload: dict[str, Any]
    attempts: int = 0


@dataclass(frozen=True)
class Outgoing:
    """A message the deliverer holds: to a chat, with the parts already accepted counted."""

    id: int
    channel: str
    external_id: str
    text: str
    options: tuple[tuple[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    parts_sent: int = 0
    attempts: int = 0
    created_at: datetime | None = None
# -- moderation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose data a dashboard query may return: one organisation's, or (None) everyone's."""

    organisation_id: int | None


@dataclass(frozen=True)
class Moderator:
    id: int
    email: str
    name: str
    role: str  # admin or moderator
    organisation_id: int
    organisation_name: str
    password_hash: str
    must_change_password: bool

    @property
    def scope(self) -> Scope:
        return Scope(None if self.role == "admin" else self.organisation_id)


@dataclass(frozen=True)
class Ticket:
    id: int
    person_id: int
    reason: str
    priority: int
    status: str  # open, assigned, closed
    created_at: datetime
    assignee_id: int | None = None
    assignee_name: str | None = None
    first_name: str | None = None
    area_name: str | None = None
    first_answer_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class TicketMessage:
    kind: str  # resident, reply, note, event
    body: str
    created_at: datetime
    moderator_name: str | None = None


@dataclass(frozen=True)
class ReportedThing:
    """What a report ("Melden") was about, read when a moderator opens the ticket: the
    introduction, the initiative or neighbour on the other side, and the first words of
    the last message that side passed on through the bot. `other_id` is None once that
    side has been erased (the introduction is anonymised then, and nothing is shown)."""

    introduction_id: int
    initiative_title: str | None = None
    other_id: int | None = None
    other_name: str | None = None
    last_words: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: str
    moderator_name: str | None
    organisation_name: str | None
    person_id: int | None
    detail: str = ""
    moderator_id: int | None = None


@dataclass(frozen=True)
class ResidentFacts:
    """One resident as the impact figures count them: no name, no id."""

    area: str
    consented_at: datetime
    intake_done_at: datetime | None
    gifts: tuple[str, ...]
    wishes: tuple[str, ...]


@dataclass(frozen=True)
class IntroductionFacts:
    area: str
    requested_at: datetime
    introduced_at: datetime | None
    met: bool
    met_again: bool = False


@dataclass(frozen=True)
class ImpactFacts:
    residents: tuple[ResidentFacts, ...]
    introductions: tuple[IntroductionFacts, ...]
    first_answers: tuple[tuple[datetime, datetime], ...]  # (ticket opened, first reply)
    offered: frozenset[str]  # what approved initiatives in scope offer
    suggested: tuple[tuple[str, str], ...] = ()  # (area, "2026-12"): one per person-month
