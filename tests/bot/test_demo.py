"""The demo data: complete, plausible, and the same however often it is seeded."""

from __future__ import annotations

import math

from sqlalchemy import func, select

from bot.demo import (
    DEMO_INITIATIVES,
    DEMO_ORGANISERS,
    DEMO_POSTCODES,
    DEMO_RESIDENTS,
    seed_demo,
)
from handlers.flow import GROUP, TIMES
from handlers.taxonomy import Taxonomy
from storage.db import Database
from storage.models import InitiativeRow, OrganisationRow, PersonRow
from storage.store import Store

GIFTS = {tag.id for tag in Taxonomy.load().for_kind("gift")}
WISHES = {tag.id for tag in Taxonomy.load().for_kind("wish")}
TIME_KEYS = {choice.key for choice in TIMES}
GROUP_KEYS = {choice.key for choice in GROUP}
CENTROIDS = {p.code: (p.latitude, p.longitude) for p in DEMO_POSTCODES}


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    north = (a[0] - b[0]) * 111_320
    east = (a[1] - b[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(north, east)


async def table_counts(store: Store) -> dict[str, int]:
    session = store._session
    return {
        name: int(await session.scalar(select(func.count()).select_from(model)) or 0)
        for name, model in (
            ("people", PersonRow),
            ("initiatives", InitiativeRow),
            ("organisations", OrganisationRow),
        )
    }


async def test_seeding_twice_gives_the_same_data(database: Database) -> None:
    async with database.unit_of_work() as store:
        first = await seed_demo(store)
    async with database.unit_of_work() as store:
        rows_first = await table_counts(store)
        second = await seed_demo(store)
    async with database.unit_of_work() as store:
        rows_second = await table_counts(store)
    assert first == second
    assert first["organisations"] == 2
    assert first["initiatives"] == 12
    assert first["residents"] == 30
    assert first["organisers"] == len(DEMO_ORGANISERS)
    assert rows_first == rows_second
    assert rows_first == {
        "people": first["residents"] + first["organisers"],
        "initiatives": first["initiatives"],
        "organisations": first["organisations"],
    }


async def test_initiatives_are_approved_near_their_postcode_and_organised(
    database: Database,
) -> None:
    async with database.unit_of_work() as store:
        await seed_demo(store)
    async with database.unit_of_work() as store:
        initiatives = await store.list_initiatives()
        organisers = {i.id: await store.list_organiser_ids(i.id) for i in initiatives}
        almelo = await store.get_organisation("buurtteam-demo")
        strijen = await store.get_organisation("dorpsteam-demo")
        people = {p: await store.get_person(p) for ids in organisers.values() for p in ids}
    assert almelo is not None and almelo.name == "Buurtteam Almelo"
    assert strijen is not None and strijen.name == "Dorpsteam Strijen"
    assert len(initiatives) == len(DEMO_INITIATIVES) == 12
    assert {i.organisation_id for i in initiatives} == {almelo.id, strijen.id}
    assert {i.free for i in initiatives} == {True, False}
    assert {i.wheelchair for i in initiatives} == {True, False}
    for initiative in initiatives:
        assert initiative.status == "approved"
        assert initiative.latitude is not None and initiative.longitude is not None
        assert initiative.postcode in CENTROIDS
        spot = (initiative.latitude, initiative.longitude)
        assert metres(spot, CENTROIDS[initiative.postcode]) < 800, initiative.title
        assert set(initiative.offers) <= WISHES and initiative.offers, initiative.title
        assert set(initiative.needs) <= GIFTS and initiative.needs, initiative.title
        assert set(initiative.times) <= TIME_KEYS and initiative.times
        assert initiative.capacity > 0 and initiative.description
        assert organisers[initiative.id], initiative.title
    for person in people.values():
        assert person is not None and person.role == "organiser"
        assert person.intake_done_at is not None


async def test_everyone_can_log_in_in_the_terminal(database: Database) -> None:
    async with database.unit_of_work() as store:
        await seed_demo(store)
    names = [p.name for p in DEMO_ORGANISERS + DEMO_RESIDENTS]
    assert len({name.lower() for name in names}) == len(names)
    assert "anna" not in {name.lower() for name in names}  # `chat` starts as a new Anna

    async with database.unit_of_work() as store:
        for demo in DEMO_ORGANISERS + DEMO_RESIDENTS:
            person = await store.find_person_by_identity("terminal", demo.name.lower())
            assert person is not None, demo.name
            expected_role = "organiser" if demo in DEMO_ORGANISERS else "resident"
            assert person.role == expected_role
            assert person.first_name == demo.name
            assert person.intake_done_at is not None
            conversation = await store.get_conversation(person.id)
            assert conversation is not None and conversation.step == "done"
            export = await store.export_person(person.id)
            assert export is not None and len(export.consents) == 1
        henk = await store.find_person_by_identity("terminal", "henk")
        assert henk is not None
        assert [i.title for i in await store.list_initiatives_of(henk.id)] == [
            "Moestuin De Groene Hoek",
            "Eettafel Noord: samen koken en eten",
        ]


async def test_residents_have_varied_complete_profiles(database: Database) -> None:
    async with database.unit_of_work() as store:
        await seed_demo(store)
    async with database.unit_of_work() as store:
        residents = [
            await store.find_person_by_identity("terminal", demo.name.lower())
            for demo in DEMO_RESIDENTS
        ]
    assert len(residents) == 30
    places = set()
    for person in residents:
        assert person is not None
        assert person.postcode in CENTROIDS
        assert person.latitude is not None and person.longitude is not None
        assert metres((person.latitude, person.longitude), CENTROIDS[person.postcode]) < 800
        assert round(person.latitude, 3) == person.latitude  # about 100 m, no finer
        assert person.area_name
        assert person.gifts and set(person.gifts) <= GIFTS
        assert person.wishes and set(person.wishes) <= WISHES
        assert person.times and set(person.times) <= TIME_KEYS
        assert person.max_distance_m is not None and 800 <= person.max_distance_m <= 5000
        assert person.group_pref in GROUP_KEYS
        assert person.free_only is not None
        places.add(person.area_name)
    assert {"Almelo", "Strijen"} <= places
    assert {p.group_pref for p in residents if p} == GROUP_KEYS
    assert {p.free_only for p in residents if p} == {True, False}
    assert {p.language for p in residents if p} == {"nl", "en"}


async def test_someone_who_already_chats_as_a_demo_name_is_left_alone(
    database: Database,
) -> None:
    async with database.unit_of_work() as store:
        gerda = await store.create_person_with_consent(
            channel="terminal",
            external_id="gerda",
            username=None,
            language="nl",
            consent_version="test",
        )
    async with database.unit_of_work() as store:
        await seed_demo(store)
    async with database.unit_of_work() as store:
        found = await store.find_person_by_identity("terminal", "gerda")
        counts = await table_counts(store)
    assert found == gerda  # not overwritten
    assert counts["people"] == len(DEMO_ORGANISERS) + len(DEMO_RESIDENTS)
