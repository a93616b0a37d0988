"""The tables. Only storage/ imports this module; everything else sees `storage.records`.

Data minimisation: a person is a first name, a 4-digit postcode (or a rounded location),
tags and a few preferences. Nothing is stored before consent: people, identities and
conversations only exist from the moment someone says "yes".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Ids are never reused: on SQLite a table without AUTOINCREMENT hands the id of a deleted
# row to the next one, and a button that names an erased person's row would act on a
# newcomer. PostgreSQL sequences never reuse an id.
NEVER_REUSE: dict[str, Any] = {"sqlite_autoincrement": True}

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class PersonRow(Base):
    __tablename__ = "people"
    __table_args__ = (Index("ix_people_lat_lon", "latitude", "longitude"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="resident")
    language: Mapped[str] = mapped_column(String(5), default="nl")
    first_name: Mapped[str | None] = mapped_column(String(64))
    postcode: Mapped[str | None] = mapped_column(String(4))
    area_name: Mapped[str | None] = mapped_column(String(80))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    gifts: Mapped[list[str]] = mapped_column(JSON, default=list)
    wishes: Mapped[list[str]] = mapped_column(JSON, default=list)
    times: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_distance_m: Mapped[int | None] = mapped_column(Integer)
    group_pref: Mapped[str | None] = mapped_column(String(8))
    free_only: Mapped[bool | None] = mapped_column(Boolean)
    intake_done_at: Mapped[datetime | None]
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    suggestions_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # May neighbours who fit be told about this person (first name and area only)? A choice
    # of its own, asked after the summary; no until the person says yes.
    neighbour_visible: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]
    # Blocked by a moderator: no suggestions or introductions (and not suggested to others).
    blocked_at: Mapped[datetime | None]


class IdentityRow(Base):
    """How a person is reached: one row per channel account."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(64))
    # False once the platform refused a message on this account (the person blocked the
    # bot); true again when they write. Other channels of the same person are unaffected.
    reachable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # When the person last wrote from this account: messages for them go to the account
    # they used last (see `queue_message`).
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsentRow(Base):
    __tablename__ = "consents"
    __table_args__ = NEVER_REUSE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    given_at: Mapped[datetime]
    text_version: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(5))


class ConversationRow(Base):
    """Where a person is in a flow. State lives here, never in process memory."""

    __tablename__ = "conversations"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(32))
    turn: Mapped[int] = mapped_column(Integer, default=0)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]
    # Answers in a row the bot did not understand (the third opens a ticket); kept beside the
    # conversation's state, which a misunderstood answer leaves exactly as it was.
    misunderstood: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class MessageLogRow(Base):
    __tablename__ = "message_log"
    __table_args__ = NEVER_REUSE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ProcessedUpdateRow(Base):
    """Platform update ids already handled; refers to nobody, so erasure leaves it."""

    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(index=True)


class AreaRow(Base):
    """A neighbourhood or village offered as a one-tap answer to "where do you live"."""

    __tablename__ = "areas"
    __table_args__ = NEVER_REUSE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    postcode: Mapped[str] = mapped_column(String(4))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class PostcodeRow(Base):
    """Centroid of a Dutch 4-digit postcode area (GeoNames, CC BY 4.0)."""

    __tablename__ = "postcodes"
    __table_args__ = (Index("ix_postcodes_lat_lon", "latitude", "longitude"),)

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    place: Mapped[str] = mapped_column(String(80))
    municipality: Mapped[str | None] = mapped_column(String(80))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


# -- suggestions and introductions -------------------------------------------------------


class OrganisationRow(Base):
    """A housing corporation, neighbourhood team or club; its data is kept apart."""

    __tablename__ = "organisations"
    __table_args__ = NEVER_REUSE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class OrganiserInviteRow(Base):
    __tablename__ = "organiser_invites"
    __table_args__ = NEVER_REUSE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    used_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # None: valid until used


class InitiativeRow(Base):
    """A vegetable garden, a walking group, a repair café: something people can join."""

    __tablename__ = "initiatives"
    __table_args__ = (
        Index("ix_initiatives_status_lat_lon", "status", "latitude", "longitude"),
        NEVER_REUSE,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    offers: Mapped[list[str]] = mapped_column(JSON, default=list)
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    postcode: Mapped[str | None] = mapped_column(String(4))
    place_name: Mapped[str | None] = mapped_column(String(80))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    times: Mapped[list[str]] = mapped_column(JSON, default=list)
    free: Mapped[bool] = mapped_column(Boolean, default=True)
    wheelchair: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int] = mapped_column(Integer, default=5)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class InitiativeOrganiserRow(Base):
    __tablename__ = "initiative_organisers"

    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class IntroductionRow(Base):
    """A double opt-in introduction: a resident to an initiative or to a neighbour.

    Contact routes are written only when that side says yes, and shown to the other side
    only once both did (status "accepted"). Its life is declared in
    `handlers.introduction_states`; every change of status is one conditional update.
    When it is anonymised (a party erased, or 12 months after it ended) every reference to
    a person and every contact detail is cleared; the row stays for the impact counts.
    """

    __tablename__ = "introductions"
    __table_args__ = (
        UniqueConstraint("requester_id", "initiative_id", name="uq_introductions_initiative"),
        UniqueConstraint("requester_id", "neighbour_id", name="uq_introductions_neighbour"),
        Index("ix_introductions_status_created", "status", "created_at"),
        NEVER_REUSE,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    neighbour_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(200), default="")
    requester_route: Mapped[str | None] = mapped_column(String(10))
    requester_contact: Mapped[str | None] = mapped_column(String(64))
    target_route: Mapped[str | None] = mapped_column(String(10))
    target_contact: Mapped[str | None] = mapped_column(String(64))
    requester_outcome: Mapped[str | None] = mapped_column(String(12))
    target_outcome: Mapped[str | None] = mapped_column(String(12))
    relay_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # The organiser who said yes for an initiative: from then on the only one on that side.
    # A plain id (no foreign key), cleared when that person is erased.
    answered_by_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]
    # A side said "yes, we saw each other again" to the question weeks after "we met".
    met_again_at: Mapped[datetime | None]
    # Where the requester lived, kept when the row is anonymised so that the impact figures
    # still count it in its neighbourhood (and for its organisation): no person in it.
    area_postcode: Mapped[str | None] = mapped_column(String(4))
    area_name: Mapped[str | None] = mapped_column(String(80))
    area_organisation_id: Mapped[int | None] = mapped_column(Integer)


class DismissalRow(Base):
    """ "Niet voor mij": never suggest this initiative or neighbour to this person again."""

    __tablename__ = "dismissals"
    __table_args__ = NEVER_REUSE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE")
    )
    neighbour_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]


class BlockRow(Base):
    """One person never wants contact with another; matching respects it both ways."""

    __tablename__ = "blocks"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime]


class JobRow(Base):
    """A timer that survives restarts: reminders, expiries and follow-ups, fired once."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_done_due", "done_at", "due_at"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[datetime]
    introduction_id: Mapped[int | None] = mapped_column(
        ForeignKey("introductions.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    # Set (to the kind) for a job of which at most one may be pending, such as the daily
    # housekeeping: unique, so two workers starting at once cannot both plan it.
    singleton: Mapped[str | None] = mapped_column(String(24), unique=True)


class OutboxRow(Base):
    """Every message the bot sends, written in the same transaction as the change that
    caused it and delivered by its channel afterwards, in order per chat.

    A message is addressed to a chat (`channel`, `external_id`); `person_id` is the person
    behind it when known (a reply to someone who has not consented yet has none).
    `introduction_id` and the `mentions` of a message say what and whom it is about, so
    that erasure cancels it by reference, never by matching its text. `parts_sent` counts
    the parts of a long message the platform accepted; `failed_at` marks a message given up
    on (kept, with `last_error`, for the moderators' view)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_sent_person", "sent_at", "person_id"),
        Index("ix_outbox_chat", "channel", "external_id", "id"),
        # The messages still to send, per chat in order: where a claim finds each chat's
        # next message, however many were sent (and kept for a day) before it.
        Index(
            "ix_outbox_unsent",
            "channel",
            "external_id",
            "id",
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
            sqlite_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
        NEVER_REUSE,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    channel: Mapped[str | None] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    # Channel hints: e.g. {"edit": <message id>} replaces a tapped message instead of
    # sending a new one, {"location": <label>} asks for a location.
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A reply to the chat's own message (True), or a message caused by someone else.
    is_reply: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(80))
    introduction_id: Mapped[int | None] = mapped_column(
        ForeignKey("introductions.id", ondelete="CASCADE"), index=True
    )
    # What the platform reported later (WhatsApp's status webhooks): when the person's
    # phone received the message, and when they read it.
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]


class SentPartRow(Base):
    """The platform's id of one part of an outbox message it accepted (WhatsApp's "wamid"),
    so that a status reported later (delivered, read, failed) finds its message. Goes with
    its outbox row."""

    __tablename__ = "sent_parts"
    __table_args__ = (UniqueConstraint("channel", "platform_id"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    platform_id: Mapped[str] = mapped_column(String(128))
    part: Mapped[int] = mapped_column(Integer)  # counting from 0


class InboxRow(Base):
    """One way in: every platform update, stored raw before it is acknowledged.

    Unique per (channel, update id), so a redelivered update is stored once. `sender` is
    the platform's id of the person who sent it (their chat). Handling takes one sender's
    rows in id order and marks each handled in the transaction of its conversation change;
    the raw payload (names, texts) is dropped then, and handled rows are deleted after a
    day (housekeeping). Erasure deletes a person's rows."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "update_id"),
        Index("ix_inbox_pending", "handled_at", "channel", "sender", "id"),
        NEVER_REUSE,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    update_id: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class MentionRow(Base):
    """A logged or queued text names a person (or carries their contact details): when that
    person is erased, the logged text is redacted and the queued message cancelled."""

    __tablename__ = "mentions"
    __table_args__ = NEVER_REUSE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    message_log_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_log.id", ondelete="CASCADE"), index=True
    )
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE"), index=True
    )


# -- moderation ---------------------------------------------------------------------------


class OrganisationAreaRow(Base):
    """A neighbourhood (4-digit postcode) an organisation looks after: its residents,
    tickets and figures are that organisation's to see."""

    __tablename__ = "organisation_areas"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    postcode: Mapped[str] = mapped_column(String(4), primary_key=True, index=True)


class ModeratorRow(Base):
    """An account of the dashboard: a moderator of one organisation, or an admin of all."""

    __tablename__ = "moderators"
    __table_args__ = NEVER_REUSE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10), default="moderator")
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class LoginFailureRow(Base):
    """Failed logins per account ("account:<email>") and per address ("address:<ip>")."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class TicketRow(Base):
    """A resident who needs a person: asked for one, was not understood, shows distress."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_priority", "status", "priority"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderators.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]
    first_answer_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class TicketMessageRow(Base):
    """A line of a ticket: the resident's words, a moderator's reply, or an internal note."""

    __tablename__ = "ticket_messages"
    __table_args__ = NEVER_REUSE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # resident, reply, note, event
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderators.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuditRow(Base):
    """Who of which organisation looked at or acted on whose data, and when. Erasing the
    person clears the reference; the line stays without it."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderators.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime]


class SuggestionMarkRow(Base):
    """A resident was shown suggestions in this month: one row per person and month, for
    the impact figures. Where they lived then is kept with it; erasing the person clears
    the reference, and the row counts on without anyone in it."""

    __tablename__ = "suggestion_marks"
    __table_args__ = (UniqueConstraint("person_id", "month"), NEVER_REUSE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A plain id (no foreign key), cleared by erasure (`storage.erasure`).
    person_id: Mapped[int | None] = mapped_column(Integer)
    month: Mapped[str] = mapped_column(String(7))  # "2026-12"
    postcode: Mapped[str | None] = mapped_column(String(4), index=True)
    area_name: Mapped[str | None] = mapped_column(String(80))
    organisation_id: Mapped[int | None] = mapped_column(Integer)


class LinkCodeRow(Base):
    """A one-time code that adds another chat to a person ("koppel"). Only the hash of the
    code is kept; it is valid for a short while and once."""

    __tablename__ = "link_codes"
    __table_args__ = NEVER_REUSE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LinkAttemptRow(Base):
    """A wrong link code typed in a chat: counted per chat (by a hash of channel and platform
    id, never the id itself) to stop guessing. Rows older than an hour no longer count."""

    __tablename__ = "link_attempts"
    __table_args__ = NEVER_REUSE

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
