"""Promises to residents: "mijn gegevens" shows every kind of row; ids are never reused;
a new consent text is asked again; the log keeps no phone numbers or invite codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from bot.app import App
from handlers import privacy
from handlers.flow import CONSENT_VERSION, DONE
from storage.models import Base, MessageLogRow
from tests.handlers.test_introductions import nl
from tests.harness import Resident, joined, known, seed_places, state_of
from tests.storage.test_store import RowFactory, count_rows, people_references

OLD = "2026-11-v1"  # the consent text before neighbours became a choice of its own

# The line of the overview that shows each kind of row (the catalog keys it starts from).
SHOWN_BY = {
    "identities": "data.channel",
    "consents": "data.consent",
    "conversations": "data.conversation",
    "message_log": "data.messages",
    "introductions": "data.introductions",
    "initiative_organisers": "data.organiser",
    "organiser_invites": "data.invite",
    "dismissals": "data.count.dismissals",
    "blocks": "data.count.blocks",
    "jobs": "data.count.jobs",
    "outbox": "data.count.outbox",
    "mentions": "data.count.mentions",
    "tickets": "data.count.tickets",
    "audit_log": "data.looked_at",
    "link_codes": "data.count.link_codes",
}


def test_every_table_that_refers_to_a_person_is_in_the_overview() -> None:
    """A new table with a reference to people fails here until "mijn gegevens" shows it."""
    referring = {
        table.name
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "people" for fk in column.foreign_keys)
    }
    assert referring == set(privacy.OVERVIEW_TABLES) == set(SHOWN_BY)


def _opening(key: str) -> str:
    """The words of a catalog text before its first placeholder."""
    return nl(key, **{n: "\x00" for n in ("count", "date", "titles", "channel")}).split("\x00")[0]


async def test_my_data_shows_a_line_for_every_kind_of_row_she_has(app: App) -> None:
    await seed_places(app)
    anna, person = await joined(app, "anna", "Anna")
    _, bert = await joined(app, "bert", "Bert")
    async with app.database.engine.begin() as connection:
        rows = RowFactory(connection, anyone=bert.id)
        for column in people_references():
            if column.table.name == "people":
                continue
            if not await count_rows(connection, column, person.id):
                await rows.insert(column.table, {column.name: person.id})
    async with app.database.unit_of_work() as store:
        await store.update_person(person.id, {"role": "organiser", "first_name": "Anna"})
        export = await store.export_person(person.id)
    assert export is not None
    assert set(export.rows) == set(SHOWN_BY)
    assert all(export.rows.values()), export.rows  # the test put a row in every table

    shown = (await anna.send("mijn gegevens"))[0].text
    for table, key in SHOWN_BY.items():
        assert _opening(key) in shown, (table, key)
    assert "tekst" not in shown and "v1" not in shown  # no version numbers


async def test_my_data_shows_the_months_she_was_shown_ideas(app: App) -> None:
    await seed_places(app)
    anna, person = await joined(app, "anna", "Anna")
    async with app.database.unit_of_work() as store:
        for month in (11, 12, 12):  # once per month, however often
            await store.mark_suggestions_shown(person, now=datetime(2026, month, 3, tzinfo=UTC))
    shown = (await anna.send("mijn gegevens"))[0].text
    assert nl("data.suggestion_months", months="11-2026, 12-2026") in shown


async def test_my_data_lists_introductions_with_what_she_shared(app: App) -> None:
    await seed_places(app)
    anna, anna_person = await joined(app, "anna", "Anna")
    _, piet_person = await joined(app, "piet", "Piet")
    async with app.database.unit_of_work() as store:
        await store.update_person(piet_person.id, {"first_name": "Piet"})
        await store.create_introduction(
            anna_person.id, neighbour_id=piet_person.id, reason="cooking", route="phone",
            contact="0612345678", now=datetime.now(UTC),
        )  # fmt: skip
    shown = (await anna.send("mijn gegevens"))[0].text
    line = nl(
        "data.introduction",
        name="Piet",
        status=nl("data.status.requested"),
        shared=nl("data.shared.phone", contact="0612345678"),
    )
    assert line in shown
    assert anna.find("Buren").key == "g:neighbours"  # and she can change who hears of her


async def test_ids_are_never_handed_out_twice(app: App) -> None:
    """Erase, create anew: no new row gets an id an old button may still carry."""
    if app.database.is_sqlite:
        async with app.database.engine.connect() as connection:
            tables: dict[str, str] = dict(
                (await connection.execute(text("SELECT name, sql FROM sqlite_master"))).all()
            )
        for name in ("people", "introductions", "initiatives", "outbox", "jobs", "identities"):
            assert "AUTOINCREMENT" in tables[name], name
    await seed_places(app)
    henk, organiser = await joined(app, "henk", "Henk")
    async with app.database.unit_of_work() as store:
        initiative = await store.create_initiative(
            organisation_id=None, organiser_ids=[organiser.id], title="Soep", description="",
            offers=("eat_together",), needs=(), postcode="7607", place_name="Almelo",
            latitude=52.35, longitude=6.66, times=("any",), free=True, capacity=5,
            status="approved", now=datetime.now(UTC),
        )  # fmt: skip
    old_ids: list[tuple[int, int]] = []
    for name in ("anna", "bea"):  # two residents ask, then leave
        resident, person = await joined(app, name, name.title())
        async with app.database.unit_of_work() as store:
            intro = await store.create_introduction(
                person.id, initiative_id=initiative.id, reason="", route="bot", contact=None,
                now=datetime.now(UTC),
            )  # fmt: skip
        old_ids.append((person.id, intro.id))
        await resident.send("vergeet mij")
        await resident.tap("wis alles")
    _, cor = await joined(app, "cor", "Cor")
    async with app.database.unit_of_work() as store:
        fresh = await store.create_introduction(
            cor.id, initiative_id=initiative.id, reason="", route="bot", contact=None,
            now=datetime.now(UTC),
        )  # fmt: skip
    assert cor.id not in {p for p, _ in old_ids} and cor.id > max(p for p, _ in old_ids)
    assert fresh.id not in {i for _, i in old_ids}

    for _, intro_id in old_ids:  # Henk's buttons from the messages about Anna and Bea
        for action in ("decline", "accept"):
            replies = await henk.press(f"x:{intro_id}:{action}")
            assert replies[0].text == nl("intro.gone")
    async with app.database.unit_of_work() as store:
        still = await store.get_introduction(fresh.id)
    assert still is not None and still.status == "requested"


async def test_who_agreed_to_an_older_text_is_asked_again(app: App) -> None:
    await seed_places(app)
    anna = Resident(app.conversations, external_id="anna")
    person_id = await known(
        app, "anna", consent_version=OLD, turn=4,
        profile={"first_name": "Anna", "intake_done_at": datetime.now(UTC)},
    )  # fmt: skip

    replies = await anna.send("hoi")  # answered first, then the new question
    assert nl("welcome.back", name_sep=", Anna") in replies[0].text
    assert nl("consent.changed") in anna.text
    assert nl("visibility.question") in replies[-1].text
    await anna.tap("Ja, dat mag")
    assert nl("visibility.yes") in anna.text
    assert nl("menu.question") in anna.text  # back where she was
    async with app.database.unit_of_work() as store:
        assert await store.get_consent_version(person_id) == CONSENT_VERSION
        again = await store.get_person(person_id)
    assert again is not None and again.neighbour_visible is True
    await anna.send("hoi")  # asked once only
    assert nl("consent.changed") not in anna.text
    state = await state_of(app.database, anna)
    assert state is not None and state.step == DONE


async def test_commands_work_before_the_new_question(app: App) -> None:
    anna = Resident(app.conversations, external_id="anna")
    await known(app, "anna", consent_version=OLD, step="name")
    await anna.send("vergeet mij")
    assert anna.last[0].text == nl("forget.confirm")
    assert nl("consent.changed") not in anna.text  # her question goes first
    await anna.tap("wis alles")
    assert anna.last[0].text == nl("forget.done")


async def test_a_tap_is_not_lost_to_the_new_question(app: App) -> None:
    await seed_places(app)
    anna = Resident(app.conversations, external_id="anna")
    person_id = await known(app, "anna", consent_version=OLD, step="group", turn=7)
    await anna.press("7:pick:group")
    async with app.database.unit_of_work() as store:
        saved = await store.get_person(person_id)
    assert saved is not None and saved.group_pref == "group"
    assert nl("visibility.question") in anna.last[-1].text
    await anna.tap("Nee, liever niet")
    assert nl("ask.free") in anna.text  # and on with the intake


@pytest.mark.parametrize("said", ["weet ik nog niet", "misschien later", "I'm not sure"])
async def test_not_sure_whether_neighbours_may_hear_is_a_no_for_now(app: App, said: str) -> None:
    await seed_places(app)
    anna = Resident(app.conversations, external_id="anna")
    person_id = await known(app, "anna", consent_version=OLD, step="group", turn=7)
    await anna.press("7:pick:group")
    assert nl("visibility.question") in anna.last[-1].text
    await anna.send(said)
    assert anna.last[0].text == nl("visibility.not_yet")
    assert nl("ask.free") in anna.text  # and on with the intake
    async with app.database.unit_of_work() as store:
        saved = await store.get_person(person_id)
        assert await store.get_consent_version(person_id) == CONSENT_VERSION
    assert saved is not None and saved.neighbour_visible is False


async def test_the_log_keeps_no_phone_numbers_or_invite_codes(app: App) -> None:
    await seed_places(app)
    anna, person = await joined(app, "anna", "Anna")
    await anna.send("Anna, bel me op 06-1234 5678 of mail anna@example.nl")
    await anna.send("organisator K7MX2PQA")
    async with app.database.engine.connect() as connection:
        bodies = list(
            await connection.scalars(
                select(MessageLogRow.body).where(MessageLogRow.person_id == person.id)
            )
        )
    blob = "\n".join(bodies)
    assert "1234" not in blob and "anna@example.nl" not in blob and "K7MX2PQA" not in blob
    assert "[telefoonnummer]" in blob and "[code]" in blob  # the lines are kept, scrubbed
