"""Storage verbs for one unit of work. Every method reads like what it does."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.orm.util import identity_key

from storage.delivery_status import DeliveryStatusVerbs
from storage.erasure import ErasureVerbs
from storage.impact import ImpactVerbs
from storage.inbox import InboxVerbs, sender_lock_key
from storage.initiatives import InitiativeVerbs
from storage.introductions import IntroductionVerbs
from storage.jobs import JobVerbs
from storage.linking import LinkingVerbs
from storage.matching import MatchingVerbs
from storage.models import (
    AreaRow,
    Base,
    ConsentRow,
    ConversationRow,
    IdentityRow,
    InitiativeOrganiserRow,
    InitiativeRow,
    MentionRow,
    MessageLogRow,
    PersonRow,
    PostcodeRow,
    ProcessedUpdateRow,
    SuggestionMarkRow,
    TicketRow,
)
from storage.moderation import ACTIVE, ModerationVerbs
from storage.outbox import OutboxVerbs
from storage.records import (
    Area,
    Consent,
    ConversationState,
    Identity,
    Person,
    PersonExport,
    Postcode,
    Sender,
)
from storage.verbs import aware, utcnow

_LOCK = text("SELECT pg_advisory_xact_lock(:key)")

# Built once: the statements every message runs.
_PEOPLE = cast(Table, PersonRow.__table__)
_IDENTITIES = cast(Table, IdentityRow.__table__)
_CONVERSATIONS = cast(Table, ConversationRow.__table__)
_CONSENTS = cast(Table, ConsentRow.__table__)
_TICKETS = cast(Table, TicketRow.__table__)
_LOAD_SENDER = (
    select(
        _PEOPLE,
        _IDENTITIES.c.last_seen_at.label("seen_at"),
        select(_CONSENTS.c.text_version)
        .where(_CONSENTS.c.person_id == _PEOPLE.c.id)
        .order_by(_CONSENTS.c.given_at.desc(), _CONSENTS.c.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("consent_version"),
        select(func.count())
        .select_from(_IDENTITIES.alias("each_identity"))
        .where(literal_column("each_identity.person_id") == _PEOPLE.c.id)
        .scalar_subquery()
        .label("identity_count"),
        exists()
        .where(_TICKETS.c.person_id == _PEOPLE.c.id, _TICKETS.c.status.in_(ACTIVE))
        .label("ticket_active"),
        _CONVERSATIONS.c.person_id,
        _CONVERSATIONS.c.flow,
        _CONVERSATIONS.c.step,
        _CONVERSATIONS.c.turn,
        _CONVERSATIONS.c.context,
        _CONVERSATIONS.c.stopped,
        _CONVERSATIONS.c.updated_at,
        _CONVERSATIONS.c.misunderstood,
    )
    .select_from(
        _PEOPLE.join(_IDENTITIES, _IDENTITIES.c.person_id == _PEOPLE.c.id).outerjoin(
            _CONVERSATIONS, _CONVERSATIONS.c.person_id == _PEOPLE.c.id
        )
    )
    .where(
        _IDENTITIES.c.channel == bindparam("channel"),
        _IDENTITIES.c.external_id == bindparam("external_id"),
    )
)


def _save_conversation(insert: Any) -> Any:
    statement = insert(_CONVERSATIONS)
    changed = ("flow", "step", "turn", "context", "stopped", "updated_at")
    return statement.on_conflict_do_update(
        index_elements=[_CONVERSATIONS.c.person_id],
        set_={name: statement.excluded[name] for name in changed},
    )


_SAVE_CONVERSATION_PG = _save_conversation(pg_insert)
_SAVE_CONVERSATION_SQLITE = _save_conversation(sqlite_insert)
_LOG_LINE = insert(cast(Table, MessageLogRow.__table__))

PROFILE_FIELDS = frozenset(
    {
        "language",
        "role",
        "first_name",
        "postcode",
        "area_name",
        "latitude",
        "longitude",
        "gifts",
        "wishes",
        "times",
        "max_distance_m",
        "group_pref",
        "free_only",
        "intake_done_at",
        "reachable",
        "suggestions_paused",
        "neighbour_visible",
    }
)


def _person(row: PersonRow | Row[Any]) -> Person:
    return Person(
        id=row.id,
        language=row.language,
        role=row.role,
        first_name=row.first_name,
        postcode=row.postcode,
        area_name=row.area_name,
        latitude=row.latitude,
        longitude=row.longitude,
        gifts=tuple(row.gifts or ()),
        wishes=tuple(row.wishes or ()),
        times=tuple(row.times or ()),
        max_distance_m=row.max_distance_m,
        group_pref=row.group_pref,
        free_only=row.free_only,
        intake_done_at=aware(row.intake_done_at),
        reachable=row.reachable,
        suggestions_paused=row.suggestions_paused,
        organisation_id=row.organisation_id,
        neighbour_visible=row.neighbour_visible,
        blocked=row.blocked_at is not None,
    )


def _conversation(row: ConversationRow | Row[Any]) -> ConversationState:
    return ConversationState(
        person_id=row.person_id,
        flow=row.flow,
        step=row.step,
        turn=row.turn,
        context=dict(row.context or {}),
        stopped=row.stopped,
        updated_at=aware(row.updated_at),
    )


class Store(
    MatchingVerbs,
    InitiativeVerbs,
    IntroductionVerbs,
    JobVerbs,
    ErasureVerbs,  # erasure forgets the inbox too: before InboxVerbs
    InboxVerbs,
    OutboxVerbs,
    DeliveryStatusVerbs,
    ModerationVerbs,
    ImpactVerbs,
    LinkingVerbs,
):
    """Verbs over one open transaction. Created by `Database.unit_of_work`.

    The verbs for people, conversations and places are here; the others live in their own
    modules (matching, initiatives, introductions, jobs, erasure, moderation, impact,
    linking)
    and are mixed in.
    """

    # -- ordering and exactly-once -------------------------------------------------------

    async def lock_sender(self, channel: str, external_id: str) -> None:
        """Serialise one sender's messages across workers (SQLite locks the whole file).
        A lock this transaction holds already (the inbox took it) is not asked for again."""
        if not self._postgres:
            return
        key = sender_lock_key(channel, external_id)
        if key not in self._held_locks:
            await self._session.execute(_LOCK, {"key": key})
            self._held_locks.add(key)

    async def mark_update_processed(self, channel: str, update_id: str) -> bool:
        """Record a platform update id; False when it was handled before."""
        values = {"channel": channel, "update_id": update_id, "processed_at": utcnow()}
        insert = pg_insert if self._postgres else sqlite_insert
        statement = insert(ProcessedUpdateRow).values(**values).on_conflict_do_nothing()
        result = await self._session.execute(statement)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def forget_processed_updates_before(self, moment: datetime) -> int:
        result = await self._session.execute(
            delete(ProcessedUpdateRow).where(ProcessedUpdateRow.processed_at < moment)
        )
        return int(getattr(result, "rowcount", 0))

    # -- people --------------------------------------------------------------------------

    async def load_sender(self, channel: str, external_id: str) -> Sender | None:
        """The person who owns this chat, with their conversation and what the turn
        checks first (consent version, tickets, misunderstood answers): one query."""
        row = (
            await self._session.execute(
                _LOAD_SENDER, {"channel": channel, "external_id": external_id}
            )
        ).first()
        if row is None:
            return None
        return Sender(
            person=_person(row),
            conversation=_conversation(row) if row.flow is not None else None,
            consent_version=row.consent_version,
            misunderstood=int(row.misunderstood or 0),
            ticket_active=bool(row.ticket_active),
            identities=int(row.identity_count or 0),
            last_seen_at=aware(row.seen_at),
        )

    async def find_person_by_identity(self, channel: str, external_id: str) -> Person | None:
        row = await self._session.scalar(
            select(PersonRow)
            .join(IdentityRow, IdentityRow.person_id == PersonRow.id)
            .where(IdentityRow.channel == channel, IdentityRow.external_id == external_id)
        )
        return _person(row) if row else None

    async def get_person(self, person_id: int) -> Person | None:
        row = await self._session.get(PersonRow, person_id)
        return _person(row) if row else None

    async def create_person_with_consent(
        self,
        *,
        channel: str,
        external_id: str,
        username: str | None,
        language: str,
        consent_version: str,
        role: str = "resident",
    ) -> Person:
        """The moment someone says yes: person, identity and consent are written together."""
        now = utcnow()
        row = PersonRow(language=language, role=role, created_at=now, gifts=[], wishes=[], times=[])
        self._session.add(row)
        await self._session.flush()
        self._session.add(
            IdentityRow(
                person_id=row.id, channel=channel, external_id=external_id, username=username
            )
        )
        self._session.add(
            ConsentRow(
                person_id=row.id, given_at=now, text_version=consent_version, language=language
            )
        )
        await self._session.flush()
        return _person(row)

    async def record_consent(self, person_id: int, *, version: str, language: str) -> None:
        """The person agreed to the consent text of `version` (kept with its moment)."""
        self._session.add(
            ConsentRow(
                person_id=person_id, given_at=utcnow(), text_version=version, language=language
            )
        )
        await self._session.flush()

    async def get_consent_version(self, person_id: int) -> str | None:
        """The version of the newest consent text the person agreed to."""
        return await self._session.scalar(
            select(ConsentRow.text_version)
            .where(ConsentRow.person_id == person_id)
            .order_by(ConsentRow.given_at.desc(), ConsentRow.id.desc())
            .limit(1)
        )

    async def update_person(self, person_id: int, changes: Mapping[str, Any]) -> Person:
        unknown = set(changes) - PROFILE_FIELDS
        if unknown:
            raise ValueError(f"not a profile field: {sorted(unknown)}")
        values = {n: list(v) if isinstance(v, tuple) else v for n, v in changes.items()}
        row = (
            await self._session.execute(
                update(_PEOPLE).where(_PEOPLE.c.id == person_id).values(values).returning(_PEOPLE)
            )
        ).first()
        if row is None:
            raise LookupError(person_id)
        # A person row this transaction loaded before is read afresh when used again.
        loaded = self._session.sync_session.identity_map.get(identity_key(PersonRow, person_id))
        if loaded is not None:
            self._session.expire(loaded)
        return _person(row)

    async def list_identities(self, person_id: int) -> list[Identity]:
        rows = await self._session.scalars(
            select(IdentityRow).where(IdentityRow.person_id == person_id).order_by(IdentityRow.id)
        )
        return [Identity(r.channel, r.external_id, r.username) for r in rows]

    async def export_person(self, person_id: int) -> PersonExport | None:
        person = await self.get_person(person_id)
        if person is None:
            return None
        consents = await self._session.scalars(
            select(ConsentRow).where(ConsentRow.person_id == person_id).order_by(ConsentRow.id)
        )
        count, first = (
            await self._session.execute(
                select(func.count(MessageLogRow.id), func.min(MessageLogRow.created_at)).where(
                    MessageLogRow.person_id == person_id
                )
            )
        ).one()
        return PersonExport(
            person=person,
            identities=tuple(await self.list_identities(person_id)),
            consents=tuple(
                Consent(aware(c.given_at) or c.given_at, c.text_version, c.language)
                for c in consents
            ),
            message_count=int(count),
            first_message_at=aware(first),
            rows=await self._count_rows_of(person_id),
            suggestion_months=tuple(
                await self._session.scalars(
                    select(SuggestionMarkRow.month)
                    .where(SuggestionMarkRow.person_id == person_id)
                    .order_by(SuggestionMarkRow.month)
                )
            ),
            introductions=tuple(await self.list_introductions_of(person_id)),
            organised=tuple(
                await self._session.scalars(
                    select(InitiativeRow.title)
                    .join(
                        InitiativeOrganiserRow,
                        InitiativeOrganiserRow.initiative_id == InitiativeRow.id,
                    )
                    .where(InitiativeOrganiserRow.person_id == person_id)
                    .order_by(InitiativeRow.title)
                )
            ),
        )

    async def _count_rows_of(self, person_id: int) -> dict[str, int]:
        """How many rows of each table refer to the person: found from the schema itself
        (every foreign key to people), so a new table with personal data is counted too."""
        counts: dict[str, int] = {}
        for table in Base.metadata.sorted_tables:
            columns = [
                column
                for column in table.columns
                if any(fk.column.table.name == "people" for fk in column.foreign_keys)
            ]
            if table.name == "people" or not columns:
                continue
            found = await self._session.scalar(
                select(func.count())
                .select_from(table)
                .where(or_(*(c == person_id for c in columns)))
            )
            counts[table.name] = int(found or 0)
        return counts

    # -- conversations -------------------------------------------------------------------

    async def get_conversation(self, person_id: int) -> ConversationState | None:
        row = await self._session.get(ConversationRow, person_id)
        return _conversation(row) if row else None

    async def save_conversation(self, state: ConversationState) -> ConversationState:
        now = utcnow()
        values = {
            "flow": state.flow,
            "step": state.step,
            "turn": state.turn,
            "context": dict(state.context),
            "stopped": state.stopped,
            "updated_at": now,
        }
        statement = _SAVE_CONVERSATION_PG if self._postgres else _SAVE_CONVERSATION_SQLITE
        await self._session.execute(
            statement, {"person_id": state.person_id, "misunderstood": 0, **values}
        )
        # A conversation row this transaction loaded before is read afresh when used again.
        loaded = self._session.sync_session.identity_map.get(
            identity_key(ConversationRow, state.person_id)
        )
        if loaded is not None:
            self._session.expire(loaded)
        return replace(state, updated_at=now)

    async def log_message(
        self,
        person_id: int,
        *,
        direction: str,
        channel: str,
        body: str,
        about: Collection[int] = (),
    ) -> None:
        """Keep one message in the person's log; `about` are the other people it names,
        whose erasure redacts it."""
        row = MessageLogRow(
            person_id=person_id,
            direction=direction,
            channel=channel,
            body=body,
            created_at=utcnow(),
        )
        self._session.add(row)
        others = sorted(set(about) - {person_id})
        if others:
            await self._session.flush()
            for named in others:
                self._session.add(MentionRow(person_id=named, message_log_id=row.id))

    async def log_lines(
        self,
        person_id: int,
        *,
        channel: str,
        lines: Iterable[tuple[str, str]],
        about: Collection[int] = (),
    ) -> None:
        """Keep a turn's messages (direction, body) in the person's log, in one statement
        when they name nobody else."""
        if set(about) - {person_id}:
            for direction, body in lines:
                await self.log_message(
                    person_id, direction=direction, channel=channel, body=body, about=about
                )
            return
        now = utcnow()
        rows = [
            {
                "person_id": person_id,
                "direction": direction,
                "channel": channel,
                "body": body,
                "created_at": now,
            }
            for direction, body in lines
        ]
        if rows:
            await self._session.execute(_LOG_LINE, rows)

    async def list_logged_messages(self, person_id: int) -> list[tuple[str, str]]:
        rows = await self._session.execute(
            select(MessageLogRow.direction, MessageLogRow.body)
            .where(MessageLogRow.person_id == person_id)
            .order_by(MessageLogRow.id)
        )
        return [(d, b) for d, b in rows]

    # -- places --------------------------------------------------------------------------

    async def list_areas(self) -> list[Area]:
        rows = await self._session.scalars(select(AreaRow).order_by(AreaRow.name))
        return [Area(r.slug, r.name, r.postcode, r.latitude, r.longitude) for r in rows]

    async def save_area(self, area: Area) -> None:
        row = await self._session.scalar(select(AreaRow).where(AreaRow.slug == area.slug))
        if row is None:
            row = AreaRow(slug=area.slug)
            self._session.add(row)
        row.name, row.postcode = area.name, area.postcode
        row.latitude, row.longitude = area.latitude, area.longitude
        await self._session.flush()

    async def get_postcode(self, code: str) -> Postcode | None:
        row = await self._session.get(PostcodeRow, code)
        if row is None:
            return None
        return Postcode(row.code, row.place, row.municipality, row.latitude, row.longitude)

    async def save_postcodes(self, postcodes: Iterable[Postcode]) -> int:
        """Insert or replace postcode centroids in bulk; returns how many codes were written."""
        rows = {
            pc.code: {
                "code": pc.code,
                "place": pc.place,
                "municipality": pc.municipality,
                "latitude": pc.latitude,
                "longitude": pc.longitude,
            }
            for pc in postcodes
        }
        insert = pg_insert if self._postgres else sqlite_insert
        values = list(rows.values())
        for start in range(0, len(values), 500):
            statement = insert(PostcodeRow).values(values[start : start + 500])
            excluded = statement.excluded
            await self._session.execute(
                statement.on_conflict_do_update(
                    index_elements=[PostcodeRow.code],
                    set_={
                        "place": excluded.place,
                        "municipality": excluded.municipality,
                        "latitude": excluded.latitude,
                        "longitude": excluded.longitude,
                    },
                )
            )
        return len(values)

    async def find_nearest_postcode(self, latitude: float, longitude: float) -> Postcode | None:
        """The postcode whose centroid is nearest, searched in a growing box."""
        scale = math.cos(math.radians(latitude))

        def distance(row: PostcodeRow) -> float:
            return math.hypot(row.latitude - latitude, (row.longitude - longitude) * scale)

        async def within(lat_span: float, lon_span: float) -> list[PostcodeRow]:
            return list(
                await self._session.scalars(
                    select(PostcodeRow).where(
                        PostcodeRow.latitude.between(latitude - lat_span, latitude + lat_span),
                        PostcodeRow.longitude.between(longitude - lon_span, longitude + lon_span),
                    )
                )
            )

        for span in (0.02, 0.05, 0.15, 0.5):
            rows = await within(span, 2 * span)
            if rows:
                best = min(rows, key=distance)
                reach = distance(best)
                if reach > min(span, 2 * span * scale):
                    # The box's corners reach farther than its sides: a nearer centroid may
                    # lie just outside it, so look again in the box around that circle.
                    best = min([best, *await within(reach, reach / scale)], key=distance)
                return Postcode(
                    best.code, best.place, best.municipality, best.latitude, best.longitude
                )
        return None
