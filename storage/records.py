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
class Identity:
    channel: str
    external_id: str
    username: str | None = None


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
