"""Finding candidates for suggestions, pre-filtered by distance.

`list_match_candidates` answers with three queries, whatever the number of candidates:

1. the exclusions of the person (one UNION ALL over introductions, dismissals, blocks and
   the initiatives they organise);
2. approved initiatives near the point, with their introductions of the last 30 days counted
   in correlated subqueries (index lookups per initiative, no extra round trips);
3. neighbours near the point, likewise with their recent introductions counted.

"Near" is decided in SQL by a bounding box on (latitude, longitude), which the indexes
`ix_initiatives_status_lat_lon` and `ix_people_lat_lon` serve, narrowed by a flat-earth
distance estimate (plain arithmetic, so it works on SQLite and PostgreSQL alike) against the
radius and, for a neighbour, against how far that neighbour wants to go. Both narrowings
are padded: they only drop what is surely too far, and `handlers.matching.score` makes the
exact decision.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from storage.models import (
    BlockRow,
    DismissalRow,
    InitiativeOrganiserRow,
    InitiativeRow,
    IntroductionRow,
    PersonRow,
)
from storage.records import Candidate, Exclusions
from storage.verbs import Verbs

RECENT = timedelta(days=30)
"""Introductions younger than this count for fairness and take a place in an initiative."""

OPEN_STATUSES = ("requested", "accepted")
"""Introductions in these states take a place in an initiative."""

KINDS = ("initiative", "neighbour")

METRES_PER_DEGREE = 111_195.0  # along a meridian, on a sphere of 6371 km
PADDING = 1.02  # the flat estimate errs by far less than 2% within tens of kilometres
PADDING_M = 25.0


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class _Near:
    """The SQL side of "within radius_m of a point": a box and a flat distance estimate."""

    def __init__(self, latitude: float, longitude: float, radius_m: int) -> None:
        self.latitude = latitude
        self.longitude = longitude
        self.radius_m = max(0.0, float(radius_m)) * PADDING + PADDING_M
        # Metres per degree of longitude shrink with the cosine of the latitude; take the
        # widest latitude inside the box so that the box never cuts off a point in range.
        self.dlat = self.radius_m / METRES_PER_DEGREE
        widest = min(89.0, abs(latitude) + self.dlat)
        self.scale_lon = METRES_PER_DEGREE * math.cos(math.radians(widest))
        self.dlon = min(180.0, self.radius_m / self.scale_lon)
        # For the estimate itself, the scale at the point (the padding covers the rest).
        self.point_scale_lon = METRES_PER_DEGREE * math.cos(math.radians(latitude))

    def box(self, latitude: Any, longitude: Any) -> ColumnElement[bool]:
        return and_(
            latitude.between(self.latitude - self.dlat, self.latitude + self.dlat),
            longitude.between(self.longitude - self.dlon, self.longitude + self.dlon),
        )

    def squared_m(self, latitude: Any, longitude: Any) -> Any:
        """Squared distance in m², flat-earth estimate; plain arithmetic for any database."""
        dy = (latitude - self.latitude) * METRES_PER_DEGREE
        dx = (longitude - self.longitude) * self.point_scale_lon
        return dy * dy + dx * dx

    def within(self, latitude: Any, longitude: Any) -> ColumnElement[bool]:
        return and_(
            self.box(latitude, longitude),
            self.squared_m(latitude, longitude) <= self.radius_m**2,
        )


def _count_recent(*conditions: ColumnElement[bool]) -> Any:
    return (
        select(func.count(IntroductionRow.id))
        .where(*conditions)
        .correlate_except(IntroductionRow)
        .scalar_subquery()
    )


class MatchingVerbs(Verbs):
    async def list_match_exclusions(self, person_id: int) -> Exclusions:
        """Whom never to suggest to this person: everyone and everything they were introduced
        to (in any status, either way), dismissed, blocked or were blocked by, the
        initiatives they organise, and they themself."""
        intro = IntroductionRow
        parts: CompoundSelect[str, int | None] = union_all(
            select(literal("i"), intro.initiative_id).where(
                intro.requester_id == person_id, intro.initiative_id.is_not(None)
            ),
            select(literal("p"), intro.neighbour_id).where(
                intro.requester_id == person_id, intro.neighbour_id.is_not(None)
            ),
            select(literal("p"), intro.requester_id).where(intro.neighbour_id == person_id),
            select(literal("i"), DismissalRow.initiative_id).where(
                DismissalRow.person_id == person_id, DismissalRow.initiative_id.is_not(None)
            ),
            select(literal("p"), DismissalRow.neighbour_id).where(
                DismissalRow.person_id == person_id, DismissalRow.neighbour_id.is_not(None)
            ),
            select(literal("p"), BlockRow.blocked_id).where(BlockRow.person_id == person_id),
            select(literal("p"), BlockRow.person_id).where(BlockRow.blocked_id == person_id),
            select(literal("i"), InitiativeOrganiserRow.initiative_id).where(
                InitiativeOrganiserRow.person_id == person_id
            ),
        )
        initiatives: set[int] = set()
        people: set[int] = {person_id}
        for kind, target in await self._session.execute(parts):
            if target is not None:
                (initiatives if kind == "i" else people).add(target)
        return Exclusions(initiative_ids=frozenset(initiatives), person_ids=frozenset(people))

    async def list_match_candidates(
        self,
        person_id: int,
        *,
        latitude: float,
        longitude: float,
        radius_m: int,
        now: datetime,
        kinds: tuple[str, ...] = KINDS,
    ) -> tuple[list[Candidate], Exclusions]:
        """Approved initiatives and available neighbours within about `radius_m` of the
        point, and whom this person must never be suggested (see `list_match_exclusions`).

        The distance filter here is a generous pre-filter; the exact one is matching's.
        """
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown candidate kinds: {sorted(unknown)}")
        since = _utc(now) - RECENT
        near = _Near(latitude, longitude, radius_m)
        exclusions = await self.list_match_exclusions(person_id)
        candidates: list[Candidate] = []
        if "initiative" in kinds:
            candidates += await self._initiatives(near, since)
        if "neighbour" in kinds:
            candidates += await self._neighbours(near, since, person_id)
        return candidates, exclusions

    async def list_all_match_candidates(self, *, now: datetime) -> list[Candidate]:
        """Every candidate wherever it is, as `list_match_candidates` describes them.

        For measurements and checks against the pre-filtered path, not for the chat.
        """
        since = _utc(now) - RECENT
        return [*await self._initiatives(None, since), *await self._neighbours(None, since, None)]

    async def _initiatives(self, near: _Near | None, since: datetime) -> list[Candidate]:
        row = InitiativeRow
        recent = IntroductionRow.initiative_id == row.id, IntroductionRow.created_at >= since
        query = select(
            row.id,
            row.latitude,
            row.longitude,
            row.offers,
            row.needs,
            row.times,
            row.free,
            row.capacity,
            _count_recent(*recent),
            _count_recent(*recent, IntroductionRow.status.in_(OPEN_STATUSES)),
        ).where(row.status == "approved")
        if near is None:
            query = query.where(row.latitude.is_not(None), row.longitude.is_not(None))
        else:
            query = query.where(near.within(row.latitude, row.longitude))
        return [
            Candidate(
                kind="initiative",
                id=id_,
                latitude=lat,
                longitude=lon,
                offers=frozenset(offers or ()),
                wants=frozenset(needs or ()),
                times=frozenset(times or ()),
                free=bool(free),
                has_room=capacity > open_,
                recent_introductions=recent_,
            )
            for id_, lat, lon, offers, needs, times, free, capacity, recent_, open_ in (
                await self._session.execute(query)
            )
        ]

    async def _neighbours(
        self, near: _Near | None, since: datetime, person_id: int | None
    ) -> list[Candidate]:
        row = PersonRow
        recent = IntroductionRow.created_at >= since
        query = select(
            row.id,
            row.latitude,
            row.longitude,
            row.gifts,
            row.wishes,
            row.times,
            row.max_distance_m,
            row.group_pref,
            _count_recent(IntroductionRow.neighbour_id == row.id, recent)
            + _count_recent(IntroductionRow.requester_id == row.id, recent),
        ).where(
            row.role == "resident",
            row.intake_done_at.is_not(None),
            row.reachable == true(),
            row.suggestions_paused == false(),
        )
        if person_id is not None:
            query = query.where(row.id != person_id)
        if near is None:
            query = query.where(row.latitude.is_not(None), row.longitude.is_not(None))
        else:
            # Within the radius, and within how far the neighbour wants to go themself.
            reach = PADDING * row.max_distance_m + PADDING_M
            query = query.where(
                near.within(row.latitude, row.longitude),
                or_(
                    row.max_distance_m.is_(None),
                    near.squared_m(row.latitude, row.longitude) <= reach * reach,
                ),
            )
        return [
            Candidate(
                kind="neighbour",
                id=id_,
                latitude=lat,
                longitude=lon,
                offers=frozenset(gifts or ()),
                wants=frozenset(wishes or ()),
                times=frozenset(times or ()),
                max_distance_m=max_distance,
                group_pref=group_pref,
                recent_introductions=recent_,
            )
            for id_, lat, lon, gifts, wishes, times, max_distance, group_pref, recent_ in (
                await self._session.execute(query)
            )
        ]
