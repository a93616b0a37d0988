"""Channel-neutral messages: what comes in from a person and what goes back out.

Every channel (Telegram, WhatsApp, the terminal, tests) turns a platform update into an
`Inbound` and renders each `Reply` in its own way. Nothing here knows about a platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MediaKind(StrEnum):
    """Kinds of non-text content a person can send; the bot reads none of them."""

    PHOTO = "photo"
    STICKER = "sticker"
    VOICE = "voice"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    CONTACT = "contact"
    OTHER = "other"


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Inbound:
    """One message from one person, as any channel delivers it.

    `choice` is the opaque key of a tapped button (it may be stale or forged: the core checks
    it). `update_id` is the platform's id for exactly-once handling; `None` means the channel
    has none (the terminal), and the message is always handled. `welcomed`: a channel that
    keeps no outbox (the terminal) says the consent question is what it showed last; the
    others are looked up in the outbox.
    """

    channel: str
    external_id: str
    update_id: str | None = None
    text: str | None = None
    choice: str | None = None
    location: Location | None = None
    media: MediaKind | None = None
    first_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    welcomed: bool = False


@dataclass(frozen=True)
class Option:
    """A button: `key` comes back as `Inbound.choice` when tapped, `label` is shown."""

    key: str
    label: str


@dataclass(frozen=True)
class Reply:
    """One message out.

    `to_person` is None for a reply to the sender; otherwise the id of another person (an
    organiser, a neighbour) whom the channel layer reaches on their own channel.
    `edit_in_place` asks channels that can to replace the message whose button was just
    tapped (a multi-select keyboard gaining a tick) instead of sending a new one.
    `request_location`, when set, is the label of a "share my location" button for channels
    that have one. `about` names the other people the text names or whose contact details
    it carries, and `introduction_id` the introduction it belongs to: erasing one of them
    cancels it if it was not sent yet, and redacts it in the logs. `secret` marks a text
    that shows a one-time code ("koppel"): once delivered, the stored copy keeps it masked.
    """

    text: str
    options: tuple[Option, ...] = ()
    request_location: str | None = None
    edit_in_place: bool = False
    to_person: int | None = None
    columns: int = 1
    about: tuple[int, ...] = ()
    introduction_id: int | None = None
    secret: bool = False
