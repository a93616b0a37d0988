"""Organisations, organiser invites, initiatives and their organisers; and that erasing a
person leaves no row that refers to them, in any table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.sql.schema import Column

from storage.db import Database
from storage.erasure import REDACTED
from storage.initiatives import INVITE_ALPHABET, INVITE_LENGTH
from storage.models import (
    Base,
    BlockRow,
    DismissalRow,
    IntroductionRow,
    JobRow,
    OrganiserInviteRow,
    OutboxRow,
    PersonRow,
)
from storage.records import ConversationState, Person, Scope
from storage.store import Store

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


async def make_person(store: Store, name: str) -> Person:
    person = await store.create_person_with_consent(
        channel="terminal",
        external_id=name.lower(),
        username=None,
        language="nl",
        consent_version="test",
    )
    return await store.update_person(person.id, {"first_name": name})


async def make_initiative(store: Store, organiser_ids: list[int], **fields: Any) -> int:
    initiative = await store.create_initiative(
        organisation_id=fields.pop("organisation_id", None),
        organiser_ids=organiser_ids,
        title=fields.pop("title", "Moestuin"),
        now=NOW,
        **fields,
    )
    return initiative.id


# -- organisations and invites -----------------------------------------------------------


async def test_organisations_are_found_by_slug(database: Database) -> None:
    async with database.unit_of_work() as store:
        created = await store.create_organisation("buurtteam-almelo", "Buurtteam Almelo")
    async with database.unit_of_work() as store:
        found = await store.get_organisation("buurtteam-almelo")
        missing = await store.get_organisation("nobody")
    assert found == created
    assert (found.slug, found.name) == ("buurtteam-almelo", "Buurtteam Almelo")
    assert missing is None


async def test_invite_codes_are_readable_and_different(database: Database) -> None:
    async with database.unit_of_work() as store:
        organisation = await store.create_organisation("team", "Team")
        codes = [await store.create_invite(organisation.id) for _ in range(20)]
    assert len(set(codes)) == 20
    for code in codes:
        assert len(code) == INVITE_LENGTH
        assert set(code) <= set(INVITE_ALPHABET)
    assert not set(INVITE_ALPHABET) & set("0O1IL")


async def test_an_invite_makes_an_organiser_once(database: Database) -> None:
    async with database.unit_of_work() as store:
        organisation = await store.create_organisation("team", "Team")
        code = await store.create_invite(organisation.id)
        henk = await make_person(store, "Henk")
        gerda = await make_person(store, "Gerda")
    assert henk.role == "resident"

    typed = f" {code[:4].lower()} {code[4:].lower()} "  # as someone types it on a phone
    async with database.unit_of_work() as store:
        assert await store.redeem_invite(typed, henk.id, NOW) == organisation
    async with database.unit_of_work() as store:
        assert await store.redeem_invite(code, gerda.id, NOW) is None  # single use
        assert await store.redeem_invite(code, henk.id, NOW) is None
        assert await store.redeem_invite("ABCDEFGH", gerda.id, NOW) is None  # unknown
        assert await store.redeem_invite("", gerda.id, NOW) is None
        henk_now = await store.get_person(henk.id)
        gerda_now = await store.get_person(gerda.id)
        invite = await store._session.scalar(
            select(OrganiserInviteRow).where(OrganiserInviteRow.code == code)
        )
        organisation_of_henk = await store._session.scalar(
            select(PersonRow.organisation_id).where(PersonRow.id == henk.id)
        )
    assert henk_now is not None and henk_now.role == "organiser"
    assert organisation_of_henk == organisation.id
    assert gerda_now is not None and gerda_now.role == "resident"
    assert invite is not None and invite.used_by_person_id == henk.id
    assert invite.used_at is not None and invite.created_at is not None


# -- initiatives -------------------------------------------------------------------------


async def test_create_and_read_an_initiative(database: Database) -> None:
    async with database.unit_of_work() as store:
        organisation = await store.create_organisation("team", "Team")
        henk = await make_person(store, "Henk")
        gerda = await make_person(store, "Gerda")
        created = await store.create_initiative(
            organisation_id=organisation.id,
            organiser_ids=[henk.id, gerda.id, henk.id],
            title="Moestuin De Groene Hoek",
            description="Samen groente kweken.",
            offers=("gardening", "company"),
            needs=["gardening"],
            postcode="7605",
            place_name="Almelo",
            latitude=52.35,
            longitude=6.65,
            times=("morning", "weekend"),
            free=False,
            wheelchair=True,
            capacity=8,
            now=NOW,
        )
    async with database.unit_of_work() as store:
        found = await store.get_initiative(created.id)
        organisers = await store.list_organiser_ids(created.id)
        missing = await store.get_initiative(created.id + 1000)
    assert found == created
    assert found.status == "pending"
    assert found.offers == ("gardening", "company") and found.needs == ("gardening",)
    assert found.times == ("morning", "weekend")
    assert (found.free, found.wheelchair, found.capacity) == (False, True, 8)
    assert (found.postcode, found.place_name) == ("7605", "Almelo")
    assert (found.latitude, found.longitude) == (52.35, 6.65)
    assert found.organisation_id == organisation.id
    assert organisers == sorted([henk.id, gerda.id])
    assert missing is None


async def test_create_refuses_an_unknown_status(database: Database) -> None:
    async with database.unit_of_work() as store:
        with pytest.raises(ValueError):
            await make_initiative(store, [], status="open")


async def test_update_changes_known_fields_only(database: Database) -> None:
    async with database.unit_of_work() as store:
        initiative_id = await make_initiative(store, [])
    async with database.unit_of_work() as store:
        updated = await store.update_initiative(
            initiative_id,
            {"title": "Moestuin Noord", "times": ("evening",), "capacity": 3, "free": False},
            now=NOW + timedelta(days=1),
        )
        with pytest.raises(ValueError):
            await store.update_initiative(initiative_id, {"owner": "Henk"}, now=NOW)
        with pytest.raises(ValueError):
            await store.update_initiative(initiative_id, {"status": "gone"}, now=NOW)
        with pytest.raises(LookupError):
            await store.update_initiative(initiative_id + 1000, {"title": "x"}, now=NOW)
    async with database.unit_of_work() as store:
        found = await store.get_initiative(initiative_id)
    assert found == updated
    assert (found.title, found.times, found.capacity, found.free) == (
        "Moestuin Noord",
        ("evening",),
        3,
        False,
    )


async def test_status_moves_and_lists_filter(database: Database) -> None:
    async with database.unit_of_work() as store:
        one = await store.create_organisation("one", "One")
        two = await store.create_organisation("two", "Two")
        garden = await make_initiative(store, [], title="Moestuin", organisation_id=one.id)
        walk = await make_initiative(store, [], title="Wandelgroep", organisation_id=two.id)
        choir = await make_initiative(store, [], title="Koor", organisation_id=one.id)
    async with database.unit_of_work() as store:
        approved = await store.set_initiative_status(garden, "approved", now=NOW)
        await store.set_initiative_status(walk, "paused", now=NOW)
        with pytest.raises(ValueError):
            await store.set_initiative_status(choir, "deleted", now=NOW)
        with pytest.raises(LookupError):
            await store.set_initiative_status(choir + 1000, "approved", now=NOW)
    assert approved.status == "approved"

    async with database.unit_of_work() as store:
        everything = await store.list_initiatives()
        only_approved = await store.list_initiatives(status="approved")
        only_pending = await store.list_initiatives(status="pending")
        of_one = await store.list_initiatives(organisation_id=one.id)
        pending_of_one = await store.list_initiatives(status="pending", organisation_id=one.id)
        with pytest.raises(ValueError):
            await store.list_initiatives(status="open")
    assert [i.id for i in everything] == [garden, walk, choir]
    assert [i.id for i in only_approved] == [garden]
    assert [i.id for i in only_pending] == [choir]
    assert [i.id for i in of_one] == [garden, choir]
    assert [i.id for i in pending_of_one] == [choir]


async def test_who_organises_what(database: Database) -> None:
    async with database.unit_of_work() as store:
        henk = await make_person(store, "Henk")
        truus = await make_person(store, "Truus")
        gerda = await make_person(store, "Gerda")
        coffee = await make_initiative(store, [truus.id], title="Koffieochtend")
        knitting = await make_initiative(store, [truus.id, henk.id], title="Breiclub")
        await make_initiative(store, [], title="Zonder organisator")
    async with database.unit_of_work() as store:
        assert [i.id for i in await store.list_initiatives_of(truus.id)] == [coffee, knitting]
        assert [i.id for i in await store.list_initiatives_of(henk.id)] == [knitting]
        assert await store.list_initiatives_of(gerda.id) == []
        assert await store.list_organiser_ids(knitting) == sorted([truus.id, henk.id])
        assert await store.is_organiser_of(truus.id, coffee)
        assert await store.is_organiser_of(henk.id, knitting)
        assert not await store.is_organiser_of(henk.id, coffee)
        assert not await store.is_organiser_of(gerda.id, knitting)


# -- erasure -----------------------------------------------------------------------------


def _person_columns() -> list[Column[Any]]:
    """Every column of every table that refers to a person."""
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "people" for fk in column.foreign_keys)
    ]


async def _rows_referring_to(store: Store, person_id: int) -> dict[str, int]:
    counts = {}
    for column in _person_columns():
        count = await store._session.scalar(
            select(func.count()).select_from(column.table).where(column == person_id)
        )
        counts[f"{column.table.name}.{column.name}"] = int(count or 0)
    people = await store._session.scalar(
        select(func.count()).select_from(PersonRow).where(PersonRow.id == person_id)
    )
    counts["people.id"] = int(people or 0)
    return counts


@pytest.fixture(params=["with cascades", "without cascades"])
async def erasable(request: pytest.FixtureRequest, database: Database) -> AsyncIterator[Database]:
    """The test database, and the same database with foreign key cascades switched off:
    erasure must not depend on them."""
    if request.param == "with cascades":
        yield database
        return
    plain = Database(database.url)
    if plain.is_sqlite:

        @event.listens_for(plain.engine.sync_engine, "connect")
        def _no_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.close()

    else:

        @event.listens_for(plain.engine.sync_engine, "begin")
        def _no_triggers(connection: Any) -> None:
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")

    yield plain
    await plain.dispose()


async def test_erase_person_leaves_no_row_that_refers_to_them(erasable: Database) -> None:
    database = erasable
    async with database.unit_of_work() as store:
        organisation = await store.create_organisation("team", "Team")
        code = await store.create_invite(organisation.id)
        ans = await make_person(store, "Ans")
        bert = await make_person(store, "Bert")
        cor = await make_person(store, "Cor")
        await store.redeem_invite(code, ans.id, NOW)
        shared = await make_initiative(store, [ans.id, bert.id], title="Moestuin")
        hers = await make_initiative(store, [ans.id], title="Breiclub")
        await store.save_conversation(ConversationState(ans.id, "intake", "done", 3))
        await store.log_message(ans.id, direction="in", channel="terminal", body="hoi")
        await store.log_message(bert.id, direction="in", channel="terminal", body="hallo")
        await store.log_message(
            bert.id, direction="out", channel="terminal", body="Ans wacht", about=[ans.id]
        )

        session = store._session
        asked = IntroductionRow(
            requester_id=ans.id, neighbour_id=bert.id, status="requested", created_at=NOW
        )
        was_asked = IntroductionRow(
            requester_id=cor.id, neighbour_id=ans.id, status="accepted", created_at=NOW
        )
        to_initiative = IntroductionRow(
            requester_id=ans.id, initiative_id=shared, status="requested", created_at=NOW
        )
        others = IntroductionRow(
            requester_id=bert.id, neighbour_id=cor.id, status="requested", created_at=NOW
        )
        session.add_all([asked, was_asked, to_initiative, others])
        await session.flush()
        session.add_all(
            [
                JobRow(kind="remind", due_at=NOW, introduction_id=was_asked.id, created_at=NOW),
                JobRow(kind="expire", due_at=NOW, introduction_id=asked.id, created_at=NOW),
                JobRow(kind="follow_up", due_at=NOW, person_id=ans.id, created_at=NOW),
                JobRow(kind="expire", due_at=NOW, introduction_id=others.id, created_at=NOW),
                JobRow(kind="follow_up", due_at=NOW, person_id=bert.id, created_at=NOW),
                DismissalRow(person_id=ans.id, initiative_id=hers, created_at=NOW),
                DismissalRow(person_id=cor.id, neighbour_id=ans.id, created_at=NOW),
                DismissalRow(person_id=bert.id, neighbour_id=cor.id, created_at=NOW),
                BlockRow(person_id=ans.id, blocked_id=cor.id, created_at=NOW),
                BlockRow(person_id=bert.id, blocked_id=ans.id, created_at=NOW),
                BlockRow(person_id=cor.id, blocked_id=bert.id, created_at=NOW),
                OutboxRow(person_id=ans.id, text="Bert wil kennismaken", created_at=NOW),
                OutboxRow(person_id=bert.id, text="Cor wil kennismaken", created_at=NOW),
            ]
        )
        await session.flush()
        await store.queue_message(bert.id, "Ans wil kennismaken", about=[ans.id])
        await store.queue_message(cor.id, "Je kunt Ans bellen", introduction_id=was_asked.id)
        await store.open_ticket(
            ans.id, reason="asked_for_human", priority=50, now=NOW, body="Ik wil iemand spreken"
        )
        moderator = await store.create_moderator(
            email="mo@example.org",
            name="Mo",
            organisation_id=organisation.id,
            role="moderator",
            password_hash="x",
            now=NOW,
        )
        await store.record_audit(moderator, action="view_profile", now=NOW, person_id=ans.id)
        await store.mark_suggestions_shown(ans, now=NOW)
        assert await store.save_link_code(ans.id, "123456", now=NOW)
        before = await _rows_referring_to(store, ans.id)
    for column in _person_columns():
        name = f"{column.table.name}.{column.name}"
        assert before[name] > 0, f"the test should put a row in {name}"

    async with database.unit_of_work() as store:
        await store.erase_person(ans.id)

    async with database.unit_of_work() as store:
        after = await _rows_referring_to(store, ans.id)
        assert after == dict.fromkeys(after, 0)
        # Her ticket is gone with every line in it; the audit line stays, naming nobody.
        assert await store.list_tickets(Scope(None), statuses=("open", "assigned", "closed")) == []
        assert [(e.action, e.person_id) for e in await store.list_audit()] == [
            ("view_profile", None)
        ]
        # Everybody else keeps what is theirs.
        assert await store.get_person(bert.id) is not None
        assert await store.get_person(cor.id) is not None
        # What named her in his log is redacted; what did not stays as it was.
        assert await store.list_logged_messages(bert.id) == [
            ("in", "hallo"),
            ("out", REDACTED),
        ]
        assert await store.list_organiser_ids(shared) == [bert.id]
        breiclub = await store.get_initiative(hers)  # nobody runs it now: paused
        assert breiclub is not None and breiclub.status == "paused"
        # Messages about her are cancelled, by reference; the others stay.
        texts = set(await store._session.scalars(select(OutboxRow.text)))
        assert texts == {"Cor wil kennismaken"}
        session = store._session
        remaining = await _rows_referring_to(store, bert.id)
        assert remaining["introductions.requester_id"] == 1
        assert remaining["jobs.person_id"] == 1
        assert remaining["blocks.person_id"] == 0 and remaining["blocks.blocked_id"] == 1
        assert remaining["dismissals.person_id"] == 1
        assert remaining["outbox.person_id"] == 1
        jobs = await session.scalar(select(func.count()).select_from(JobRow))
        assert jobs == 2  # Bert's own job and the one of his introduction
        # The invite stays used, without saying by whom.
        invite = await session.scalar(select(OrganiserInviteRow))
        assert invite is not None and invite.used_by_person_id is None
        assert invite.used_at is not None
        dave = await make_person(store, "Dave")
        assert await store.redeem_invite(code, dave.id, NOW) is None


async def test_erasure_anonymises_introductions_and_keeps_their_count(database: Database) -> None:
    async with database.unit_of_work() as store:
        ans = await make_person(store, "Ans")
        bert = await make_person(store, "Bert")
        intro = await store.create_introduction(
            ans.id, neighbour_id=bert.id, reason="cooking", route="phone",
            contact="0612345678", now=NOW,
        )  # fmt: skip
    async with database.unit_of_work() as store:
        erasure = await store.erase_person(bert.id, now=NOW)
        assert erasure.tell == (ans.id,)  # she was waiting for his answer
    async with database.unit_of_work() as store:
        assert await store.get_introduction(intro.id) is None  # gone for every button
        row = await store._session.get(IntroductionRow, intro.id)
        assert row is not None and row.status == "closed" and row.anonymised_at is not None
        assert (row.requester_id, row.neighbour_id, row.requester_contact) == (None, None, None)


async def test_erase_person_without_anything_else(database: Database) -> None:
    async with database.unit_of_work() as store:
        alone = await make_person(store, "Ans")
    async with database.unit_of_work() as store:
        await store.erase_person(alone.id)
        await store.erase_person(alone.id)  # twice is harmless
    async with database.unit_of_work() as store:
        assert await store.get_person(alone.id) is None
        assert await store.find_person_by_identity("terminal", "ans") is None


async def test_invite_used_by_nobody_cannot_be_stolen_after_erasure(database: Database) -> None:
    """An invite whose user was erased keeps its used_at, so it never works twice."""
    async with database.unit_of_work() as store:
        organisation = await store.create_organisation("team", "Team")
        code = await store.create_invite(organisation.id)
        await store._session.execute(
            update(OrganiserInviteRow).where(OrganiserInviteRow.code == code).values(used_at=NOW)
        )
        gerda = await make_person(store, "Gerda")
    async with database.unit_of_work() as store:
        assert await store.redeem_invite(code, gerda.id, NOW) is None
