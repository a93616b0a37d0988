"""Finding candidates for suggestions, pre-filtered by distance.

`list_match_candidates` answers with three queries, whatever the number of candidates:

1. the exclusions of the person: one UNION ALL over introductions (either way), dismissals,
   blocks (either way) and the initiatives they organise;
2. approved initiatives near the point, with their introductions of the last 30 days counted
   in correlated subqueries (index lookups per row, no extra round trips); an initiative
   one of whose organisers a moderator blocked is left out while the block lasts (a request
   would reach every organiser, the blocked one too);
3. available neighbours near the point, likewise with their recent introductions counted.

"Near" is decided in SQL by a bounding box on (latitude, longitude), which the indexes
`ix_initiatives_status_lat_lon` and `ix_people_lat_lon` serve, narrowed by a flat-earth
distance estimate (plain arithmetic, so it works on SQLite and PostgreSQL alike) against the
radius and, for a neighbour, against how far that neighbour wants to go. Both narrowings
are padded: they only drop what is surely too far; `handlers.matching.score` makes the
exact decision.

The statements are built once, with bound parameters, and run on the Core connection of the
unit of work: a request then pays for neither building SQL nor ORM bookkeeping.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from storage.models import Base
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
NEIGHBOUR_PADDING_M = 1_700.0
"""Matching decides on neighbours by the centres of ~1 km grid cells
(`handlers.matching.CELL_DIAGONAL_M`, 1.6 km at most from a point): the pre-filter on their
own points is padded by more than that, so that it never decides anything itself."""

_people = Base.metadata.tables["people"]
_initiatives = Base.metadata.tables["initiatives"]
_introductions = Base.metadata.tables["introductions"]
_dismissals = Base.metadata.tables["dismissals"]
_blocks = Base.metadata.tables["blocks"]
_organisers = Base.metadata.tables["initiative_organisers"]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# -- the statements ----------------------------------------------------------------------------


def _exclusions_statement() -> CompoundSelect[str, int | None]:
    me = bindparam("person_id", type_=Integer)
    intro, dismissal = _introductions.c, _dismissals.c
    return union_all(
        select(literal("i"), intro.initiative_id).where(
            intro.requester_id == me, intro.initiative_id.is_not(None)
        ),
        select(literal("p"), intro.neighbour_id).where(
            intro.requester_id == me, intro.neighbour_id.is_not(None)
        ),
        select(literal("p"), intro.requester_id).where(intro.neighbour_id == me),
        select(literal("i"), dismissal.initiative_id).where(
            dismissal.person_id == me, dismissal.initiative_id.is_not(None)
        ),
        select(literal("p"), dismissal.neighbour_id).where(
            dismissal.person_id == me, dismissal.neighbour_id.is_not(None)
        ),
        select(literal("p"), _blocks.c.blocked_id).where(_blocks.c.person_id == me),
        select(literal("p"), _blocks.c.person_id).where(_blocks.c.blocked_id == me),
        select(literal("i"), _organisers.c.initiative_id).where(_organisers.c.person_id == me),
    )


def _squared_m(latitude: Any, longitude: Any) -> Any:
    """Squared distance to the point (:lat0, :lon0) in m², flat-earth estimate."""
    dy = (latitude - bindparam("lat0", type_=Float)) * METRES_PER_DEGREE
    dx = (longitude - bindparam("lon0", type_=Float)) * bindparam("m_per_lon", type_=Float)
    return dy * dy + dx * dx


def _near(latitude: Any, longitude: Any, prefix: str = "") -> ColumnElement[bool]:
    """Within the padded box and circle of `near_parameters` (named with `prefix`)."""

    def bound(name: str) -> Any:
        return bindparam(prefix + name, type_=Float)

    return and_(
        latitude.between(bound("lat_min"), bound("lat_max")),
        longitude.between(bound("lon_min"), bound("lon_max")),
        _squared_m(latitude, longitude) <= bound("r2"),
    )


def _count_recent(*conditions: ColumnElement[bool]) -> Any:
    return (
        select(func.count(_introductions.c.id))
        .where(*conditions, _introductions.c.created_at >= bindparam("since"))
        .correlate_except(_introductions)
        .scalar_subquery()
    )


def _run_by_someone_blocked(initiative_id: Any) -> ColumnElement[bool]:
    """One of the initiative's organisers is blocked by a moderator."""
    organiser, person = _organisers.c, _people.c
    return exists().where(
        organiser.initiative_id == initiative_id,
        person.id == organiser.person_id,
        person.blocked_at.is_not(None),
    )


def _initiatives_statement(near: bool) -> Select[Any]:
    row, intro = _initiatives.c, _introductions.c
    query = select(
        row.id,
        row.latitude,
        row.longitude,
        row.offers,
        row.needs,
        row.times,
        row.free,
        row.capacity,
        _count_recent(intro.initiative_id == row.id),
        _count_recent(intro.initiative_id == row.id, intro.status.in_(OPEN_STATUSES)),
    ).where(row.status == "approved", ~_run_by_someone_blocked(row.id))
    if near:
        return query.where(_near(row.latitude, row.longitude))
    return query.where(row.latitude.is_not(None), row.longitude.is_not(None))


def _neighbours_statement(near: bool) -> Select[Any]:
    row, intro = _people.c, _introductions.c
    query = select(
        row.id,
        row.latitude,
        row.longitude,
        row.gifts,
        row.wishes,
        row.times,
        row.max_distance_m,
        row.group_pref,
        _count_recent(intro.neighbour_id == row.id) + _count_recent(intro.requester_id == row.id),
    ).where(
        row.role == "resident",
        row.intake_done_at.is_not(None),
        row.reachable == true(),
        row.suggestions_paused == false(),
        row.neighbour_visible == true(),
    )
    if not near:
        return query.where(row.latitude.is_not(None), row.longitude.is_not(None))
    # Within the radius, within how far the neighbour wants to go themself, not the person.
    reach = row.max_distance_m * PADDING + NEIGHBOUR_PADDING_M
    return query.where(
        _near(row.latitude, row.longitude, "n_"),
        or_(
            row.max_distance_m.is_(None),
            _squared_m(row.latitude, row.longitude) <= reach * reach,
        ),
        row.id != bindparam("person_id", type_=Integer),
    )


EXCLUSIONS = _exclusions_statement()
INITIATIVES_NEAR = _initiatives_statement(near=True)
NEIGHBOURS_NEAR = _neighbours_statement(near=True)
ALL_INITIATIVES = _initiatives_statement(near=False)
ALL_NEIGHBOURS = _neighbours_statement(near=False)


def near_parameters(latitude: float, longitude: float, radius_m: float) -> dict[str, float]:
    """The bound values of "within about radius_m of the point": a box and a circle, padded.

    Metres per degree of longitude shrink with the cosine of the latitude; the box takes the
    latitude of its edge nearest to a pole, so that it never cuts off a point in range.
    """
    radius = max(0.0, float(radius_m)) * PADDING + PADDING_M
    dlat = radius / METRES_PER_DEGREE
    widest = min(89.0, abs(latitude) + dlat)
    dlon = min(180.0, radius / (METRES_PER_DEGREE * math.cos(math.radians(widest))))
    return {
        "lat_min": latitude - dlat,
        "lat_max": latitude + dlat,
        "lon_min": longitude - dlon,
        "lon_max": longitude + dlon,
        "lat0": latitude,
        "lon0": longitude,
        "m_per_lon": METRES_PER_DEGREE * math.cos(math.radians(latitude)),
        "r2": radius * radius,
    }


# -- rows to records ---------------------------------------------------------------------------


def _initiative_candidates(rows: Iterable[Sequence[Any]]) -> list[Candidate]:
    return [
        Candidate(
            kind="initiative",
            id=id_,
            latitude=latitude,
            longitude=longitude,
            offers=frozenset(offers or ()),
            wants=frozenset(needs or ()),
            times=frozenset(times or ()),
            free=bool(free),
            has_room=capacity > open_,
            recent_introductions=recent,
        )
        for id_, latitude, longitude, offers, needs, times, free, capacity, recent, open_ in rows
    ]


def _neighbour_candidates(rows: Iterable[Sequence[Any]]) -> list[Candidate]:
    return [
        Candidate(
            kind="neighbour",
            id=id_,
            latitude=latitude,
            longitude=longitude,
            offers=frozenset(gifts or ()),
            wants=frozenset(wishes or ()),
            times=frozenset(times or ()),
            max_distance_m=max_distance,
            group_pref=group_pref,
            recent_introductions=recent,
        )
        for id_, latitude, longitude, gifts, wishes, times, max_distance, group_pref, recent in rows
    ]


class MatchingVerbs(Verbs):
    async def list_match_exclusions(self, person_id: int) -> Exclusions:
        """Whom never to suggest to this person: everyone and everything they were introduced
        to (in any status, either way), dismissed, blocked or were blocked by, the
        initiatives they organise, and they themself."""
        connection = await self._session.connection()
        initiatives: set[int] = set()
        people: set[int] = {person_id}
        for kind, target in await connection.execute(EXCLUSIONS, {"person_id": person_id}):
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

        An initiative has room while fewer of its introductions of the last 30 days are
        requested or accepted than its capacity. A neighbour is a resident who finished the
        intake, is reachable and has not paused suggestions. The distance filter here is a
        generous pre-filter; the exact one is matching's.
        """
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown candidate kinds: {sorted(unknown)}")
        exclusions = await self.list_match_exclusions(person_id)
        connection = await self._session.connection()
        parameters: dict[str, Any] = near_parameters(latitude, longitude, radius_m)
        wide = near_parameters(latitude, longitude, radius_m + NEIGHBOUR_PADDING_M)
        parameters.update({f"n_{name}": value for name, value in wide.items()})
        parameters.update(since=_utc(now) - RECENT, person_id=person_id)
        candidates: list[Candidate] = []
        if "initiative" in kinds:
            rows = (await connection.execute(INITIATIVES_NEAR, parameters)).all()
            candidates += _initiative_candidates(rows)
        if "neighbour" in kinds:
            rows = (await connection.execute(NEIGHBOURS_NEAR, parameters)).all()
            candidates += _neighbour_candidates(rows)
        return candidates, exclusions

    async def list_all_match_candidates(self, *, now: datetime) -> list[Candidate]:
        """Every candidate wherever it is, as `list_match_candidates` describes them.

        For measurements and for checks of the pre-filtered path, not for the chat.
        """
        connection = await self._session.connection()
        parameters = {"since": _utc(now) - RECENT}
        initiatives = (await connection.execute(ALL_INITIATIVES, parameters)).all()
        neighbours = (await connection.execute(ALL_NEIGHBOURS, parameters)).all()
        return _initiative_candidates(initiatives) + _neighbour_candidates(neighbours)
