"""The benchmark's synthetic rows: bulk insert, refusal of a database in use, and a clean-up
that removes only its own rows (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from storage import synthetic
from storage.db import Database
from storage.records import Person, Postcode
from storage.synthetic import (
    IdRanges,
    SyntheticInitiative,
    SyntheticPerson,
    SyntheticSet,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ALMELO = Postcode("7607", "Almelo", "Almelo", 52.3549, 6.6676)
KLAASWAAL = Postcode("3286", "Klaaswaal", "Hoeksche Waard", 51.7695, 4.4460)


def _person(person_id: int, number: int) -> SyntheticPerson:
    return {
        "id": person_id,
        "role": "resident",
        "language": "nl",
        "first_name": f"{synthetic.PERSON_MARK}{number}",
        "postcode": ALMELO.code,
        "area_name": ALMELO.place,
        "latitude": ALMELO.latitude + number / 10_000,
        "longitude": ALMELO.longitude,
        "gifts": ["cooking"],
        "wishes": ["walking"],
        "times": ["any"],
        "max_distance_m": 2000,
        "group_pref": "both",
        "free_only": False,
        "intake_done_at": NOW - timedelta(days=3),
        "reachable": True,
        "suggestions_paused": False,
        "neighbour_visible": True,
        "organisation_id": None,
        "created_at": NOW - timedelta(days=3),
    }


def _initiative(initiative_id: int, number: int) -> SyntheticInitiative:
    return {
        "id": initiative_id,
        "organisation_id": None,
        "title": f"{synthetic.INITIATIVE_MARK}{number}",
        "description": "",
        "offers": ["walking"],
        "needs": [],
        "postcode": ALMELO.code,
        "place_name": ALMELO.place,
        "latitude": ALMELO.latitude,
        "longitude": ALMELO.longitude,
        "times": ["any"],
        "free": True,
        "wheelchair": False,
        "capacity": 5,
        "status": "approved",
        "created_at": NOW - timedelta(days=10),
        "updated_at": NOW - timedelta(days=10),
    }


def tiny_set(ids: IdRanges) -> SyntheticSet:
    """Three residents, two initiatives, and links of every kind between them."""
    first, second, third = ids.people[:3]
    soup, walk = ids.initiatives[:2]
    return SyntheticSet(
        ids=ids,
        people=[_person(pid, n) for n, pid in enumerate(ids.people, 1)],
        initiatives=[_initiative(iid, n) for n, iid in enumerate(ids.initiatives, 1)],
        introductions=[
            {
                "requester_id": first,
                "initiative_id": soup,
                "neighbour_id": None,
                "status": "accepted",
                "reason": "",
                "relay_open": False,
                "created_at": NOW - timedelta(days=2),
                "answered_at": NOW - timedelta(days=1),
            },
            {
                "requester_id": second,
                "initiative_id": None,
                "neighbour_id": third,
                "status": "requested",
                "reason": "",
                "relay_open": False,
                "created_at": NOW - timedelta(days=1),
                "answered_at": None,
            },
        ],
        dismissals=[
            {"person_id": third, "initiative_id": walk, "neighbour_id": None, "created_at": NOW},
            {"person_id": first, "initiative_id": None, "neighbour_id": second, "created_at": NOW},
        ],
        blocks=[{"person_id": first, "blocked_id": third, "created_at": NOW}],
    )


async def _someone(database: Database, external_id: str, first_name: str) -> Person:
    async with database.unit_of_work() as store:
        person = await store.create_person_with_consent(
            channel="test",
            external_id=external_id,
            username=None,
            language="nl",
            consent_version="v1",
        )
        return await store.update_person(person.id, {"first_name": first_name})


async def test_a_synthetic_set_goes_in_and_only_it_comes_out(database: Database) -> None:
    # Real people: one whose name looks like the mark, numbered before the synthetic ids,
    # and one numbered inside the range that the clean-up is given below.
    lookalike = await _someone(database, "1", f"{synthetic.PERSON_MARK}Marieke")
    anna = await _someone(database, "2", "Anna")
    ids = await synthetic.next_ids(database, people=4, initiatives=2)
    assert ids.people.start > anna.id > lookalike.id
    assert len(ids.people) == 4 and len(ids.initiatives) == 2

    written = await synthetic.insert_set(database, tiny_set(ids))
    await synthetic.analyze(database)
    expected = {"people": 4, "initiatives": 2, "introductions": 2, "dismissals": 2, "blocks": 1}
    assert written == expected
    assert await synthetic.count_rows(database) == {**expected, "people": 6}

    wider = IdRanges(range(anna.id, ids.people.stop), ids.initiatives)
    removed = await synthetic.remove(database, wider)
    assert removed == expected
    assert await synthetic.count_rows(database) == {
        "people": 2,
        "initiatives": 0,
        "introductions": 0,
        "dismissals": 0,
        "blocks": 0,
    }
    async with database.unit_of_work() as store:
        kept = await store.export_person(anna.id)
        assert await store.get_person(lookalike.id) == lookalike
    assert kept is not None and kept.person == anna
    assert len(kept.identities) == 1 and len(kept.consents) == 1

    # Nothing left to remove: a second clean-up is harmless.
    assert sum((await synthetic.remove(database, wider)).values()) == 0


async def test_unmarked_rows_and_links_to_others_are_refused(database: Database) -> None:
    anna = await _someone(database, "1", "Anna")
    ids = await synthetic.next_ids(database, people=3, initiatives=2)
    data = tiny_set(ids)
    unmarked = replace(data, people=[{**data.people[0], "first_name": "Anna"}, *data.people[1:]])
    outside = replace(data, people=[*data.people, _person(ids.people.stop, 99)])
    untitled = replace(data, initiatives=[{**data.initiatives[0], "title": "Soep"}])
    to_anna = replace(
        data, blocks=[{"person_id": ids.people.start, "blocked_id": anna.id, "created_at": NOW}]
    )
    for refused in (unmarked, outside, untitled, to_anna):
        with pytest.raises(ValueError, match="not a synthetic row"):
            await synthetic.insert_set(database, refused)
    assert (await synthetic.count_rows(database))["people"] == 1


async def test_a_database_in_use_is_refused_unless_reset(database: Database) -> None:
    async with database.unit_of_work() as store:
        await store.save_postcodes([KLAASWAAL, ALMELO])
    await synthetic.require_empty(database)  # postcodes alone are no data in use
    assert await synthetic.list_postcodes(database) == [KLAASWAAL, ALMELO]

    anna = await _someone(database, "1", "Anna")
    with pytest.raises(synthetic.DatabaseNotEmpty) as refused:
        await synthetic.require_empty(database)
    assert refused.value.held == {"people": 1, "initiatives": 0}
    assert synthetic.describe(refused.value.held) == "1 people, 0 initiatives"
    async with database.unit_of_work() as store:
        assert await store.get_person(anna.id) == anna

    await synthetic.reset(database)
    await synthetic.require_empty(database)
    assert (await synthetic.count_rows(database))["people"] == 0
    assert await synthetic.list_postcodes(database) == [KLAASWAAL, ALMELO]


async def test_kept_rows_leave_room_for_new_people(database: Database) -> None:
    """With --keep the rows stay; people created afterwards must get fresh ids."""
    await _someone(database, "1", "Anna")
    ids = await synthetic.next_ids(database, people=3, initiatives=2)
    await synthetic.insert_set(database, tiny_set(ids))
    await synthetic.advance_id_sequences(database)
    later = await _someone(database, "2", "Bert")
    assert later.id >= ids.people.stop
    assert (await synthetic.next_ids(database, people=1, initiatives=1)).people.start > later.id
