"""Organisations, organiser invites, initiatives and their organisers.

An organisation (a neighbourhood team, a housing corporation, a club) hands out invite
codes; whoever redeems one becomes an organiser of that organisation. Organisers run
initiatives: a vegetable garden, a walking group, a repair café. A new initiative waits as
"pending" until a moderator approves it; only approved initiatives are suggested.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select, update

from storage.models import (
    InitiativeOrganiserRow,
    InitiativeRow,
    OrganisationRow,
    OrganiserInviteRow,
    PersonRow,
)
from storage.records import Initiative, Organisation
from storage.verbs import Verbs

INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L look-alikes
INVITE_LENGTH = 8
INITIATIVE_STATUSES = ("pending", "approved", "paused", "archived")
INITIATIVE_FIELDS = frozenset(
    {
        "organisation_id",
        "title",
        "description",
        "offers",
        "needs",
        "postcode",
        "place_name",
        "latitude",
        "longitude",
        "times",
        "free",
        "wheelchair",
        "capacity",
        "status",
    }
)
_LIST_FIELDS = frozenset({"offers", "needs", "times"})
_SPACES = re.compile(r"\s+")


def new_invite_code() -> str:
    """Eight characters that are easy to read aloud and type on a phone."""
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


def normalise_invite_code(code: str) -> str:
    """What a person typed, as it is stored: upper case, without spaces."""
    return _SPACES.sub("", code).upper()


def _check_status(status: str) -> None:
    if status not in INITIATIVE_STATUSES:
        raise ValueError(f"not an initiative status: {status!r}")


def _organisation(row: OrganisationRow) -> Organisation:
    return Organisation(id=row.id, slug=row.slug, name=row.name)


def _initiative(row: InitiativeRow) -> Initiative:
    return Initiative(
        id=row.id,
        title=row.title,
        description=row.description or "",
        offers=tuple(row.offers or ()),
        needs=tuple(row.needs or ()),
        postcode=row.postcode,
        place_name=row.place_name,
        latitude=row.latitude,
        longitude=row.longitude,
        times=tuple(row.times or ()),
        free=row.free,
        wheelchair=row.wheelchair,
        capacity=row.capacity,
        status=row.status,
        organisation_id=row.organisation_id,
    )


class InitiativeVerbs(Verbs):
    """Verbs for organisations, invites, initiatives and who organises them."""

    # -- organisations -------------------------------------------------------------------

    async def create_organisation(self, slug: str, name: str) -> Organisation:
        """A new organisation; the slug must not be in use yet."""
        row = OrganisationRow(slug=slug, name=name, created_at=datetime.now(UTC))
        self._session.add(row)
        await self._session.flush()
        return _organisation(row)

    async def get_organisation(self, slug: str) -> Organisation | None:
        """The organisation with this slug, if there is one."""
        row = await self._session.scalar(
            select(OrganisationRow).where(OrganisationRow.slug == slug)
        )
        return _organisation(row) if row else None

    # -- organiser invites ---------------------------------------------------------------

    async def create_invite(
        self, organisation_id: int, *, expires_at: datetime | None = None
    ) -> str:
        """A new single-use invite code for the organisation, valid until `expires_at`."""
        while True:
            code = new_invite_code()
            taken = await self._session.scalar(
                select(OrganiserInviteRow.id).where(OrganiserInviteRow.code == code)
            )
            if taken is None:
                break
        self._session.add(
            OrganiserInviteRow(
                code=code,
                organisation_id=organisation_id,
                created_at=datetime.now(UTC),
                expires_at=expires_at,
            )
        )
        await self._session.flush()
        return code

    async def redeem_invite(self, code: str, person_id: int, now: datetime) -> Organisation | None:
        """Use an invite: the person becomes an organiser of its organisation.

        Case and spaces do not matter. None when the code is unknown, expired or was used
        before; the code is claimed in one conditional update, so two people cannot both
        use it.
        """
        result = await self._session.execute(
            update(OrganiserInviteRow)
            .where(
                OrganiserInviteRow.code == normalise_invite_code(code),
                OrganiserInviteRow.used_at.is_(None),
                OrganiserInviteRow.used_by_person_id.is_(None),
                or_(OrganiserInviteRow.expires_at.is_(None), OrganiserInviteRow.expires_at > now),
            )
            .values(used_by_person_id=person_id, used_at=now)
            .returning(OrganiserInviteRow.organisation_id)
        )
        organisation_id = result.scalar_one_or_none()
        if organisation_id is None:
            return None
        person = await self._session.get(PersonRow, person_id)
        if person is None:
            raise LookupError(person_id)
        person.role = "organiser"
        person.organisation_id = organisation_id
        organisation = await self._session.get(OrganisationRow, organisation_id)
        await self._session.flush()
        return _organisation(organisation) if organisation else None

    # -- initiatives ---------------------------------------------------------------------

    async def create_initiative(
        self,
        *,
        organisation_id: int | None,
        organiser_ids: Sequence[int],
        title: str,
        description: str = "",
        offers: Sequence[str] = (),
        needs: Sequence[str] = (),
        postcode: str | None = None,
        place_name: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        times: Sequence[str] = (),
        free: bool = True,
        wheelchair: bool = False,
        capacity: int = 5,
        status: str = "pending",
        now: datetime,
    ) -> Initiative:
        """A new initiative with its organisers (pending until a moderator approves it)."""
        _check_status(status)
        row = InitiativeRow(
            organisation_id=organisation_id,
            title=title,
            description=description,
            offers=list(offers),
            needs=list(needs),
            postcode=postcode,
            place_name=place_name,
            latitude=latitude,
            longitude=longitude,
            times=list(times),
            free=free,
            wheelchair=wheelchair,
            capacity=capacity,
            status=status,
            created_at=now,
            updated_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        for person_id in dict.fromkeys(organiser_ids):  # once each, in the order given
            self._session.add(InitiativeOrganiserRow(initiative_id=row.id, person_id=person_id))
        await self._session.flush()
        return _initiative(row)

    async def update_initiative(
        self, initiative_id: int, changes: Mapping[str, Any], *, now: datetime
    ) -> Initiative:
        """Change some fields; ValueError for a field or status that does not exist."""
        unknown = set(changes) - INITIATIVE_FIELDS
        if unknown:
            raise ValueError(f"not an initiative field: {sorted(unknown)}")
        if "status" in changes:
            _check_status(changes["status"])
        row = await self._require(initiative_id)
        for name, value in changes.items():
            setattr(row, name, list(value) if name in _LIST_FIELDS else value)
        row.updated_at = now
        await self._session.flush()
        return _initiative(row)

    async def get_initiative(self, initiative_id: int) -> Initiative | None:
        """The initiative, if it exists."""
        row = await self._session.get(InitiativeRow, initiative_id)
        return _initiative(row) if row else None

    async def list_initiatives(
        self, *, status: str | None = None, organisation_id: int | None = None
    ) -> list[Initiative]:
        """Initiatives in the order they were created, optionally filtered."""
        query = select(InitiativeRow).order_by(InitiativeRow.id)
        if status is not None:
            _check_status(status)
            query = query.where(InitiativeRow.status == status)
        if organisation_id is not None:
            query = query.where(InitiativeRow.organisation_id == organisation_id)
        return [_initiative(row) for row in await self._session.scalars(query)]

    async def list_initiatives_of(self, person_id: int) -> list[Initiative]:
        """The initiatives this person organises."""
        rows = await self._session.scalars(
            select(InitiativeRow)
            .join(
                InitiativeOrganiserRow,
                and_(
                    InitiativeOrganiserRow.initiative_id == InitiativeRow.id,
                    InitiativeOrganiserRow.person_id == person_id,
                ),
            )
            .order_by(InitiativeRow.id)
        )
        return [_initiative(row) for row in rows]

    async def list_organiser_ids(self, initiative_id: int) -> list[int]:
        """The people who organise this initiative."""
        ids = await self._session.scalars(
            select(InitiativeOrganiserRow.person_id)
            .where(InitiativeOrganiserRow.initiative_id == initiative_id)
            .order_by(InitiativeOrganiserRow.person_id)
        )
        return list(ids)

    async def set_initiative_status(
        self, initiative_id: int, status: str, *, now: datetime
    ) -> Initiative:
        """Move an initiative to pending, approved, paused or archived."""
        _check_status(status)
        row = await self._require(initiative_id)
        row.status = status
        row.updated_at = now
        await self._session.flush()
        return _initiative(row)

    async def is_organiser_of(self, person_id: int, initiative_id: int) -> bool:
        """Whether this person organises this initiative."""
        row = await self._session.get(InitiativeOrganiserRow, (initiative_id, person_id))
        return row is not None

    async def _require(self, initiative_id: int) -> InitiativeRow:
        row = await self._session.get(InitiativeRow, initiative_id)
        if row is None:
            raise LookupError(initiative_id)
        return row
