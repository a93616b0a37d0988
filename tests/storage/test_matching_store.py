"""Finding match candidates in the database (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from handlers.suggest import find_suggestions
from storage.db import Database
from storage.models import Base
from storage.records import Candidate

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LAT, LON = 52.3549, 6.6676  # Almelo centrum
M_PER_DEG_LAT = 111_195.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT))
TABLES = Base.metadata.tables


def at(north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    return LAT + north_m / M_PER_DEG_LAT, LON + east_m / M_PER_DEG_LON


async def _insert(database: Database, table: str, **values: Any) -> int:
    async with database.engine.begin() as connection:
        statement = insert(TABLES[table]).values(**values)
        if "id" in TABLES[table].c:
            return int(
                (await connection.execute(statement.returning(TABLES[table].c.id))).scalar_one()
            )
        await connection.execute(statement)
        return 0


async def add_person(
    database: Database,
    north_m: float | None = 0.0,
    east_m: float = 0.0,
    **changes: Any,
) -> int:
    latitude, longitude = at(north_m, east_m) if north_m is not None else (None, None)
    values: dict[str, Any] = {
        "role": "resident",
        "language": "nl",
        "first_name": "Ans",
        "latitude": latitude,
        "longitude": longitude,
        "gifts": ["cooking"],
        "wishes": ["walking"],
        "times": ["morning"],
        "max_distance_m": 2000,
        "group_pref": "both",
        "free_only": False,
        "intake_done_at": NOW - timedelta(days=3),
        "reachable": True,
        "suggestions_paused": False,
        "neighbour_visible": True,
        "created_at": NOW - timedelta(days=3),
    }
    values.update(changes)
    return await _insert(database, "people", **values)


async def add_initiative(
    database: Database, north_m: float | None = 0.0, east_m: float = 0.0, **changes: Any
) -> int:
    latitude, longitude = at(north_m, east_m) if north_m is not None else (None, None)
    values: dict[str, Any] = {
        "title": "Moestuin",
        "description": "",
        "offers": ["gardening", "walking"],
        "needs": ["cooking"],
        "latitude": latitude,
        "longitude": longitude,
        "times": ["morning"],
        "free": True,
        "wheelchair": False,
        "capacity": 5,
        "status": "approved",
        "created_at": NOW - timedelta(days=60),
        "updated_at": NOW - timedelta(days=60),
    }
    values.update(changes)
    return await _insert(database, "initiatives", **values)


async def introduce(
    database: Database,
    requester: int,
    *,
    initiative: int | None = None,
    neighbour: int | None = None,
    status: str = "requested",
    days_ago: float = 1.0,
) -> int:
    return await _insert(
        database,
        "introductions",
        requester_id=requester,
        initiative_id=initiative,
        neighbour_id=neighbour,
        status=status,
        reason="",
        relay_open=False,
        created_at=NOW - timedelta(days=days_ago),
    )


async def candidates_of(
    database: Database,
    person_id: int,
    radius_m: int = 2000,
    kinds: tuple[str, ...] = ("initiative", "neighbour"),
) -> dict[tuple[str, int], Candidate]:
    async with database.unit_of_work() as store:
        found, _ = await store.list_match_candidates(
            person_id, latitude=LAT, longitude=LON, radius_m=radius_m, now=NOW, kinds=kinds
        )
    keyed = {(c.kind, c.id): c for c in found}
    assert len(keyed) == len(found)
    return keyed


# -- distance ----------------------------------------------------------------------------------


async def test_far_ones_are_left_out_and_none_within_reach_is_lost(database: Database) -> None:
    me = await add_person(database)
    within = set()
    for bearing in range(0, 360, 30):  # all around, the corners of the box included
        north = 1980 * math.cos(math.radians(bearing))
        east = 1980 * math.sin(math.radians(bearing))
        within.add(("initiative", await add_initiative(database, north, east)))
        within.add(("neighbour", await add_person(database, north, east, max_distance_m=5000)))
    far = {
        ("initiative", await add_initiative(database, 12_000)),
        ("initiative", await add_initiative(database, 0, -9_000)),
        ("initiative", await add_initiative(database, 1800, 1800)),  # in the box, not the circle
        # a neighbour's pre-filter is padded by the cells matching decides on (1.7 km)
        ("neighbour", await add_person(database, -4800, 0, max_distance_m=5000)),
        ("neighbour", await add_person(database, 3500, 3500, max_distance_m=5000)),
        ("initiative", await add_initiative(database, None)),  # no location
    }
    found = set(await candidates_of(database, me))
    assert within <= found
    assert not far & found


async def test_a_neighbour_who_would_not_come_this_far_is_left_out(database: Database) -> None:
    me = await add_person(database)
    # farther than 400 m plus the padding for the cells (1.7 km) that matching decides on
    homebody = await add_person(database, 2500, max_distance_m=400)
    traveller = await add_person(database, 2500, max_distance_m=2000)
    unlimited = await add_person(database, 2500, max_distance_m=None)
    found = await candidates_of(database, me)
    assert ("neighbour", homebody) not in found
    assert ("neighbour", traveller) in found
    assert ("neighbour", unlimited) in found


async def test_all_candidates_ignores_distance(database: Database) -> None:
    await add_person(database)
    far_person = await add_person(database, 80_000, max_distance_m=400)
    far_initiative = await add_initiative(database, -150_000)
    await add_initiative(database, None)
    async with database.unit_of_work() as store:
        everyone = await store.list_all_match_candidates(now=NOW)
    keys = {(c.kind, c.id) for c in everyone}
    assert ("neighbour", far_person) in keys
    assert ("initiative", far_initiative) in keys
    assert len(everyone) == 4 - 1  # the one without a location is not a candidate


# -- initiatives ---------------------------------------------------------------------------------


async def test_only_approved_initiatives(database: Database) -> None:
    me = await add_person(database)
    approved = await add_initiative(database, 100)
    others = [
        await add_initiative(database, 100, status=s) for s in ("pending", "paused", "archived")
    ]
    found = await candidates_of(database, me)
    assert ("initiative", approved) in found
    assert not {("initiative", i) for i in others} & set(found)


async def test_an_initiative_as_candidate(database: Database) -> None:
    me = await add_person(database)
    garden = await add_initiative(database, 300, times=["any"], free=False)
    candidate = (await candidates_of(database, me))[("initiative", garden)]
    assert candidate.offers == frozenset({"gardening", "walking"})
    assert candidate.wants == frozenset({"cooking"})
    assert candidate.times == frozenset({"any"})
    assert candidate.free is False
    assert candidate.has_room is True
    assert candidate.recent_introductions == 0
    assert candidate.latitude == at(300)[0]


async def test_room_counts_open_introductions_of_the_last_30_days(database: Database) -> None:
    me = await add_person(database)
    full = await add_initiative(database, 100, capacity=2)
    roomy = await add_initiative(database, 100, capacity=2)
    others = [await add_person(database, 5000 + i) for i in range(6)]
    await introduce(database, others[0], initiative=full, status="requested")
    await introduce(database, others[1], initiative=full, status="accepted", days_ago=29)
    await introduce(database, others[2], initiative=roomy, status="accepted")
    await introduce(database, others[3], initiative=roomy, status="declined")
    await introduce(database, others[4], initiative=roomy, status="expired", days_ago=2)
    await introduce(database, others[5], initiative=roomy, status="accepted", days_ago=31)
    found = await candidates_of(database, me, kinds=("initiative",))
    assert found[("initiative", full)].has_room is False
    assert found[("initiative", full)].recent_introductions == 2
    assert found[("initiative", roomy)].has_room is True
    assert found[("initiative", roomy)].recent_introductions == 3  # any status, last 30 days
    assert all(kind == "initiative" for kind, _ in found)


# -- neighbours ----------------------------------------------------------------------------------


async def test_only_available_residents_are_neighbours(database: Database) -> None:
    me = await add_person(database)
    ready = await add_person(database, 200, gifts=["diy", "music"], wishes=[], times=[])
    unavailable = [
        await add_person(database, 200, suggestions_paused=True),
        await add_person(database, 200, reachable=False),
        await add_person(database, 200, intake_done_at=None),
        await add_person(database, 200, role="organiser"),
        await add_person(database, None),
        await add_person(database, 200, neighbour_visible=False),  # did not say yes to it
    ]
    found = await candidates_of(database, me)
    neighbour = found[("neighbour", ready)]
    assert neighbour.offers == frozenset({"diy", "music"})
    assert neighbour.wants == frozenset()
    assert neighbour.times == frozenset()
    assert neighbour.max_distance_m == 2000
    assert neighbour.group_pref == "both"
    assert ("neighbour", me) not in found
    assert not {("neighbour", p) for p in unavailable} & set(found)


async def test_recent_introductions_of_a_neighbour_count_both_ways(database: Database) -> None:
    me = await add_person(database)
    busy = await add_person(database, 300)
    others = [await add_person(database, 9000 + i) for i in range(4)]
    garden = await add_initiative(database, 9000)
    await introduce(database, others[0], neighbour=busy)
    await introduce(database, busy, neighbour=others[1], status="declined")
    await introduce(database, busy, initiative=garden, status="accepted")
    await introduce(database, others[2], neighbour=busy, days_ago=45)
    found = await candidates_of(database, me, kinds=("neighbour",))
    assert found[("neighbour", busy)].recent_introductions == 3
    assert all(kind == "neighbour" for kind, _ in found)


# -- exclusions ----------------------------------------------------------------------------------


async def test_exclusions(database: Database) -> None:
    me = await add_person(database)
    asked, asked_me, dismissed, blocked, blocked_me, stranger = [
        await add_person(database, 100 * i) for i in range(1, 7)
    ]
    joined, declined, not_for_me, organised, open_ = [
        await add_initiative(database, 100 * i) for i in range(1, 6)
    ]
    await introduce(database, me, neighbour=asked, status="expired", days_ago=300)
    await introduce(database, asked_me, neighbour=me, status="declined")
    await introduce(database, me, initiative=joined, status="accepted")
    await introduce(database, me, initiative=declined, status="declined", days_ago=200)
    await _insert(database, "dismissals", person_id=me, initiative_id=not_for_me, created_at=NOW)
    await _insert(database, "dismissals", person_id=me, neighbour_id=dismissed, created_at=NOW)
    await _insert(database, "dismissals", person_id=stranger, neighbour_id=me, created_at=NOW)
    await _insert(database, "blocks", person_id=me, blocked_id=blocked, created_at=NOW)
    await _insert(database, "blocks", person_id=blocked_me, blocked_id=me, created_at=NOW)
    await _insert(database, "initiative_organisers", initiative_id=organised, person_id=me)
    # Others' introductions, dismissals and blocks do not exclude anything for me.
    await introduce(database, stranger, initiative=open_)
    await _insert(database, "blocks", person_id=stranger, blocked_id=asked, created_at=NOW)

    async with database.unit_of_work() as store:
        found, exclusions = await store.list_match_candidates(
            me, latitude=LAT, longitude=LON, radius_m=2000, now=NOW
        )
        assert await store.list_match_exclusions(me) == exclusions
    assert exclusions.initiative_ids == {joined, declined, not_for_me, organised}
    assert exclusions.person_ids == {me, asked, asked_me, dismissed, blocked, blocked_me}
    assert {("neighbour", stranger), ("initiative", open_)} <= {(c.kind, c.id) for c in found}


async def test_someone_new_has_only_themself_excluded(database: Database) -> None:
    me = await add_person(database)
    async with database.unit_of_work() as store:
        exclusions = await store.list_match_exclusions(me)
    assert exclusions.person_ids == {me}
    assert exclusions.initiative_ids == frozenset()


async def test_unknown_kinds_are_refused(database: Database) -> None:
    me = await add_person(database)
    async with database.unit_of_work() as store:
        try:
            await store.list_match_candidates(
                me, latitude=LAT, longitude=LON, radius_m=500, now=NOW, kinds=("club",)
            )
        except ValueError as error:
            assert "club" in str(error)
        else:
            raise AssertionError("expected a ValueError")


# -- end to end ----------------------------------------------------------------------------------


async def test_find_suggestions_end_to_end(database: Database) -> None:
    me = await add_person(database, gifts=["cooking"], wishes=["gardening"])
    garden = await add_initiative(database, 400)
    paid = await add_initiative(database, 200, free=False)
    done_before = await add_initiative(database, 100)
    cook = await add_person(database, 250, gifts=["gardening"], wishes=["cooking"])
    far_cook = await add_person(database, 4000, gifts=["gardening"], wishes=["cooking"])
    await add_person(database, 150, gifts=["music"], wishes=["dancing"])  # nothing in common
    await introduce(database, me, initiative=done_before, status="ended", days_ago=90)
    async with database.unit_of_work() as store:
        person = await store.get_person(me)
        assert person is not None
        person = await store.update_person(me, {"free_only": True})
        found = await find_suggestions(store, person, now=NOW, limit=5)
    keys = [(s.candidate.kind, s.candidate.id) for s in found]
    assert set(keys) == {("initiative", garden), ("neighbour", cook)}
    assert ("initiative", paid) not in keys and ("neighbour", far_cook) not in keys
    by_key = {(s.candidate.kind, s.candidate.id): s for s in found}
    assert by_key[("neighbour", cook)].reason.you_can_help == ("cooking",)
    assert by_key[("neighbour", cook)].reason.they_offer == ("gardening",)
    assert by_key[("initiative", garden)].reason.distance_m == 400


async def test_no_suggestions_without_a_location(database: Database) -> None:
    me = await add_person(database, None)
    await add_initiative(database, 100)
    async with database.unit_of_work() as store:
        person = await store.get_person(me)
        assert person is not None
        assert await find_suggestions(store, person, now=NOW) == []
