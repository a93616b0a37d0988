"""The storage verbs, on the session's database (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Integer, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.demo import DEMO_POSTCODES
from storage.db import Database
from storage.models import Base, ProcessedUpdateRow
from storage.records import Area, ConversationState, Person, Postcode

PEOPLE_ID = Base.metadata.tables["people"].c.id


async def new_person(
    database: Database, external_id: str, *, channel: str = "test", version: str = "v1"
) -> Person:
    async with database.unit_of_work() as store:
        return await store.create_person_with_consent(
            channel=channel,
            external_id=external_id,
            username=f"@{external_id}",
            language="nl",
            consent_version=version,
        )


# -- exactly-once ----------------------------------------------------------------------------


async def test_an_update_is_marked_processed_once_per_channel(database: Database) -> None:
    async with database.unit_of_work() as store:
        assert await store.mark_update_processed("telegram", "42") is True
    async with database.unit_of_work() as store:
        assert await store.mark_update_processed("telegram", "42") is False
        assert await store.mark_update_processed("whatsapp", "42") is True
        assert await store.mark_update_processed("telegram", "43") is True


async def test_a_rolled_back_mark_is_not_kept(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as store:
            assert await store.mark_update_processed("telegram", "7") is True
            raise RuntimeError("handling failed")
    async with database.unit_of_work() as store:
        assert await store.mark_update_processed("telegram", "7") is True


async def test_forget_processed_updates_before_a_moment(database: Database) -> None:
    async with database.unit_of_work() as store:
        for update_id in ("old-1", "old-2", "new"):
            await store.mark_update_processed("telegram", update_id)
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    async with database.engine.begin() as connection:
        await connection.execute(
            update(ProcessedUpdateRow)
            .where(ProcessedUpdateRow.update_id.like("old-%"))
            .values(processed_at=two_days_ago)
        )

    a_day_ago = datetime.now(UTC) - timedelta(days=1)
    async with database.unit_of_work() as store:
        assert await store.forget_processed_updates_before(a_day_ago) == 2
    async with database.unit_of_work() as store:
        assert await store.forget_processed_updates_before(a_day_ago) == 0
        assert await store.mark_update_processed("telegram", "old-1") is True  # forgotten
        assert await store.mark_update_processed("telegram", "new") is False  # still known


# -- people ----------------------------------------------------------------------------------


async def test_create_person_with_consent_writes_person_identity_and_consent(
    database: Database,
) -> None:
    before = datetime.now(UTC)
    person = await new_person(database, "anna", version="consent-2026-11")
    after = datetime.now(UTC)

    assert person.id > 0
    assert (person.language, person.role, person.first_name) == ("nl", "resident", None)
    assert (person.gifts, person.wishes, person.times) == ((), (), ())
    async with database.unit_of_work() as store:
        assert await store.find_person_by_identity("test", "anna") == person
        assert await store.find_person_by_identity("test", "bram") is None
        assert await store.find_person_by_identity("telegram", "anna") is None
        export = await store.export_person(person.id)
    assert export is not None
    assert [(i.channel, i.external_id, i.username) for i in export.identities] == [
        ("test", "anna", "@anna")
    ]
    [consent] = export.consents
    assert consent.text_version == "consent-2026-11"
    assert consent.language == "nl"
    assert consent.given_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= consent.given_at <= after + timedelta(seconds=1)


async def test_update_person_changes_profile_fields(database: Database) -> None:
    person = await new_person(database, "anna")
    done = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    async with database.unit_of_work() as store:
        updated = await store.update_person(
            person.id,
            {
                "first_name": "Anna",
                "postcode": "7607",
                "gifts": ("cooking", "walking"),
                "wishes": ["music"],
                "max_distance_m": 800,
                "free_only": True,
                "intake_done_at": done,
            },
        )
    assert updated.gifts == ("cooking", "walking")
    async with database.unit_of_work() as store:
        again = await store.get_person(person.id)
    assert again == updated
    assert again is not None
    assert (again.first_name, again.postcode, again.wishes) == ("Anna", "7607", ("music",))
    assert (again.max_distance_m, again.free_only, again.intake_done_at) == (800, True, done)


async def test_update_person_rejects_unknown_fields_and_changes_nothing(
    database: Database,
) -> None:
    person = await new_person(database, "anna")
    async with database.unit_of_work() as store:
        with pytest.raises(ValueError, match="phone"):
            await store.update_person(person.id, {"first_name": "Anna", "phone": "0612345678"})
        with pytest.raises(ValueError, match="id"):
            await store.update_person(person.id, {"id": 99})
        with pytest.raises(LookupError):
            await store.update_person(person.id + 1000, {"first_name": "Nobody"})
    async with database.unit_of_work() as store:
        assert await store.get_person(person.id) == person


async def test_export_person(database: Database) -> None:
    person = await new_person(database, "anna")
    async with database.unit_of_work() as store:
        empty = await store.export_person(person.id)
        assert await store.export_person(person.id + 1000) is None
    assert empty is not None
    assert (empty.message_count, empty.first_message_at) == (0, None)

    before = datetime.now(UTC)
    async with database.unit_of_work() as store:
        await store.update_person(person.id, {"first_name": "Anna", "postcode": "3291"})
        await store.log_message(person.id, direction="in", channel="test", body="hallo")
        await store.log_message(person.id, direction="out", channel="test", body="Hoi Anna!")
    async with database.unit_of_work() as store:
        export = await store.export_person(person.id)
        logged = await store.list_logged_messages(person.id)
    assert export is not None
    assert (export.person.first_name, export.person.postcode) == ("Anna", "3291")
    assert export.message_count == 2
    assert export.first_message_at is not None
    assert export.first_message_at.tzinfo is not None
    assert export.first_message_at >= before - timedelta(seconds=1)
    assert logged == [("in", "hallo"), ("out", "Hoi Anna!")]


# -- erasure ---------------------------------------------------------------------------------


def people_references() -> list[Column[Any]]:
    """Every column, in every table, that refers to a person (by foreign key or by name)."""
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.name == "person_id" or any(key.column is PEOPLE_ID for key in column.foreign_keys)
    ]


class RowFactory:
    """Inserts a minimal valid row into any table, creating the rows it must refer to."""

    def __init__(self, connection: AsyncConnection, *, anyone: int) -> None:
        self.connection = connection
        self.anyone = anyone  # the person other required references point to
        self.numbers = itertools.count(1)

    def _value(self, column: Column[Any]) -> Any:
        number = next(self.numbers)
        python_type = column.type.python_type
        if python_type is str:
            return str(number)[: getattr(column.type, "length", None) or 10]
        if python_type is bool:
            return False
        if python_type is int:
            return number
        if python_type is float:
            return 52.0
        if python_type is datetime:
            return datetime.now(UTC)
        if python_type in (dict, list):
            return []
        raise AssertionError(f"no test value for {column} ({column.type})")

    async def insert(self, table: Table, fixed: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        generated = [
            c
            for c in table.primary_key.columns
            if len(table.primary_key.columns) == 1
            and isinstance(c.type, Integer)
            and not c.foreign_keys
        ]
        for column in table.columns:
            if column.name in fixed:
                values[column.name] = fixed[column.name]
            elif column in generated or column.nullable or column.default is not None:
                continue
            elif column.foreign_keys:
                target = next(iter(column.foreign_keys)).column
                if target is PEOPLE_ID:
                    values[column.name] = self.anyone
                else:
                    referred = await self.insert(target.table, {})
                    values[column.name] = referred[target.name]
            else:
                values[column.name] = self._value(column)
        result = await self.connection.execute(table.insert().values(**values))
        if generated:
            assert result.inserted_primary_key is not None
            values[generated[0].name] = result.inserted_primary_key[0]
        return values


async def count_rows(connection: AsyncConnection, column: Column[Any], value: int) -> int:
    count = await connection.scalar(
        select(func.count()).select_from(column.table).where(column == value)
    )
    return int(count or 0)


async def count_references(database: Database, person_id: int) -> dict[str, int]:
    """For every column that refers to a person: how many rows refer to this one."""
    async with database.engine.connect() as connection:
        return {
            f"{column.table.name}.{column.name}": await count_rows(connection, column, person_id)
            for column in people_references()
        }


async def test_erase_person_removes_every_row_that_refers_to_them(database: Database) -> None:
    erased = await new_person(database, "erased")
    kept = await new_person(database, "kept")
    helper = await new_person(database, "helper")
    async with database.unit_of_work() as store:
        for person in (erased, kept):
            await store.update_person(person.id, {"first_name": "X", "postcode": "7607"})
            await store.save_conversation(ConversationState(person.id, "intake", "gifts", 3))
            await store.log_message(person.id, direction="in", channel="test", body="hoi")
            await store.mark_update_processed("test", f"update-{person.id}")
    # And a row through every other column that refers to a person, tables added later too.
    async with database.engine.begin() as connection:
        rows = RowFactory(connection, anyone=helper.id)
        for column in people_references():
            for person in (erased, kept):
                if not await count_rows(connection, column, person.id):
                    await rows.insert(column.table, {column.name: person.id})

    references_before = await count_references(database, erased.id)
    kept_before = await count_references(database, kept.id)
    assert {"identities.person_id", "consents.person_id", "conversations.person_id"} <= set(
        references_before
    )
    assert all(references_before.values()), references_before
    assert kept_before == references_before

    async with database.unit_of_work() as store:
        await store.erase_person(erased.id)

    assert await count_references(database, erased.id) == dict.fromkeys(references_before, 0)
    assert await count_references(database, kept.id) == kept_before
    async with database.unit_of_work() as store:
        assert await store.get_person(erased.id) is None
        assert await store.export_person(erased.id) is None
        assert await store.find_person_by_identity("test", "erased") is None
        assert await store.get_conversation(erased.id) is None
        assert await store.list_logged_messages(erased.id) == []
        assert await store.find_person_by_identity("test", "kept") is not None
        assert await store.get_person(helper.id) is not None
        kept_export = await store.export_person(kept.id)
        # Update ids refer to nobody: erasure keeps them, so a replay is still refused.
        assert await store.mark_update_processed("test", f"update-{erased.id}") is False
    assert kept_export is not None
    assert kept_export.message_count == 1
    assert len(kept_export.consents) == 1


# -- conversations ---------------------------------------------------------------------------


async def test_conversation_round_trip_with_json_context(database: Database) -> None:
    person = await new_person(database, "anna")
    context: dict[str, Any] = {
        "resume": "gifts",
        "return_to": "summary",
        "picked": ["cooking", "walking"],
        "nested": {"n": 3, "ok": True, "none": None},
        "text": "café – ü ✓",
    }
    async with database.unit_of_work() as store:
        assert await store.get_conversation(person.id) is None
        saved = await store.save_conversation(
            ConversationState(person.id, "intake", "gifts", 4, context)
        )
    assert saved.updated_at is not None
    async with database.unit_of_work() as store:
        loaded = await store.get_conversation(person.id)
    assert loaded is not None
    assert (loaded.flow, loaded.step, loaded.turn, loaded.stopped) == ("intake", "gifts", 4, False)
    assert loaded.context == context
    assert loaded.updated_at is not None
    assert loaded.updated_at.tzinfo is not None
    assert abs(loaded.updated_at - saved.updated_at) < timedelta(milliseconds=1)

    async with database.unit_of_work() as store:
        await store.save_conversation(
            replace(loaded, step="wishes", turn=5, stopped=True, context={"picked": []})
        )
    async with database.unit_of_work() as store:
        again = await store.get_conversation(person.id)
    assert again is not None
    assert (again.step, again.turn, again.stopped) == ("wishes", 5, True)
    assert again.context == {"picked": []}


# -- places ----------------------------------------------------------------------------------


async def test_save_postcodes_inserts_then_updates(database: Database) -> None:
    async with database.unit_of_work() as store:
        assert await store.get_postcode("7607") is None
        assert await store.save_postcodes(DEMO_POSTCODES) == len(DEMO_POSTCODES)
    async with database.unit_of_work() as store:
        assert await store.get_postcode("7607") == Postcode(
            "7607", "Almelo", "Almelo", 52.3549, 6.6676
        )
        assert await store.get_postcode("0000") is None
        moved = Postcode("7607", "Almelo-Centrum", None, 52.35, 6.66)
        assert await store.save_postcodes([moved, Postcode("1011", "Amsterdam", None, 52.37, 4.9)])
    async with database.unit_of_work() as store:
        assert await store.get_postcode("7607") == moved
        assert await store.get_postcode("3291") == DEMO_POSTCODES[9]
    async with database.engine.connect() as connection:
        table = Base.metadata.tables["postcodes"]
        count = await connection.scalar(select(func.count()).select_from(table))
    assert count == len(DEMO_POSTCODES) + 1


CAPE = Postcode("1781", "Den Helder", "Den Helder", 52.9563, 4.7608)


async def test_find_nearest_postcode(database: Database) -> None:
    async with database.unit_of_work() as store:
        assert await store.find_nearest_postcode(52.356, 6.665) is None  # nothing imported yet
        await store.save_postcodes([*DEMO_POSTCODES, CAPE])
    async with database.unit_of_work() as store:
        # Inside Almelo, a few hundred metres from the centroid of 7607.
        almelo = await store.find_nearest_postcode(52.3561, 6.6652)
        assert almelo is not None
        assert (almelo.code, almelo.place) == ("7607", "Almelo")
        # In Strijen, and a point between two codes picks the nearer one.
        assert (await store.find_nearest_postcode(51.745, 4.552)) == DEMO_POSTCODES[9]
        assert (await store.find_nearest_postcode(51.719, 4.58)) == DEMO_POSTCODES[10]
        # The North Sea 20 km off Den Helder: the search box grows and finds the coast ...
        assert await store.find_nearest_postcode(52.95, 4.45) == CAPE
        # ... but far out at sea nothing is near enough (the box stops at ±0.5°/±1°).
        assert await store.find_nearest_postcode(54.8, 3.0) is None
        assert await store.find_nearest_postcode(52.956, 4.7608 - 1.2) is None


async def test_find_nearest_postcode_is_the_nearest_not_just_the_first_in_the_box(
    database: Database,
) -> None:
    """The first search box is 0.02° high and 0.04° wide; a centroid in its corner can be
    farther away than one just above the box."""
    corner = Postcode("1111", "Hoek", None, 52.019, 5.039)  # inside the box, ~3.4 km away
    above = Postcode("2222", "Boven", None, 52.021, 5.0)  # outside the box, ~2.3 km away
    async with database.unit_of_work() as store:
        await store.save_postcodes([corner, above])
    async with database.unit_of_work() as store:
        assert await store.find_nearest_postcode(52.0, 5.0) == above


async def test_list_areas_and_save_area_upserts_by_slug(database: Database) -> None:
    async with database.unit_of_work() as store:
        assert await store.list_areas() == []
        await store.save_area(Area("strijen", "Strijen", "3291", 51.7445, 4.5511))
        await store.save_area(Area("almelo-noord", "Almelo noord", "7608", 52.3784, 6.6802))
    async with database.unit_of_work() as store:
        assert [a.name for a in await store.list_areas()] == ["Almelo noord", "Strijen"]
        await store.save_area(Area("strijen", "Strijen dorp", "3292", 51.7168, 4.5841))
    async with database.unit_of_work() as store:
        assert await store.list_areas() == [
            Area("almelo-noord", "Almelo noord", "7608", 52.3784, 6.6802),
            Area("strijen", "Strijen dorp", "3292", 51.7168, 4.5841),
        ]
