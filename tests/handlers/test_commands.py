"""Words that work at every step: help, back, stop, my data, forget me, language, /commands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App, open_app
from bot.settings import Settings
from handlers.flow import CONSENT_VERSION, INTAKE
from handlers.i18n import Texts
from handlers.messages import Reply
from storage.db import Database
from storage.models import Base
from storage.records import ConversationState, Person
from tests.harness import Resident, person_of, row_counts, seeded, snapshot, text_of

TEXTS = Texts.load()
TURN = 10


def nl(key: str, **values: Any) -> str:
    return TEXTS("nl", key, **values)


def en(key: str, **values: Any) -> str:
    return TEXTS("en", key, **values)


QUESTION = {step.name: step.question for step in INTAKE} | {"done": "menu.question"}
FULL: dict[str, Any] = {
    "first_name": "Anna",
    "postcode": "7607",
    "area_name": "Almelo",
    "latitude": 52.3549,
    "longitude": 6.6676,
    "gifts": ("cooking",),
    "wishes": ("walking",),
    "times": ("morning",),
    "max_distance_m": 800,
    "group_pref": "group",
    "free_only": True,
}
DONE_PROFILE = {**FULL, "intake_done_at": datetime(2026, 11, 1, 9, 30, tzinfo=UTC)}
SOME_STEPS = ("name", "place", "gifts", "summary", "done")


def at_steps(words: Sequence[str], steps: Sequence[str] = SOME_STEPS) -> list[Any]:
    """(step, word) cases: the first two words (a word and its /command) at every step, the
    other synonyms once each, spread over the steps."""
    pairs = [(step, word) for word in words[:2] for step in steps]
    pairs += [(steps[i % len(steps)], word) for i, word in enumerate(words[2:])]
    return [pytest.param(step, word, id=f"{step}-{word}") for step, word in pairs]


async def put_at(app: App, resident: Resident, step: str, *, turn: int = TURN) -> None:
    """A person who said yes, with a profile that fits `step`, standing there."""
    async with app.database.unit_of_work() as store:
        person = await store.create_person_with_consent(
            channel=resident.channel,
            external_id=resident.external_id,
            username=None,
            language="nl",
            consent_version=CONSENT_VERSION,
        )
        await store.update_person(person.id, DONE_PROFILE if step == "done" else FULL)
        await store.save_conversation(ConversationState(person.id, "intake", step, turn))
        await store.log_message(person.id, direction="in", channel=resident.channel, body="ja")


def asks(replies: list[Reply], step: str, language: str = "nl") -> bool:
    """Whether the last reply asks the question of `step` (in `language`)."""
    question = TEXTS(language, "ask.place_list" if step == "place" else QUESTION[step])
    return bool(replies) and question in replies[-1].text and bool(replies[-1].options)


def person_columns() -> list[tuple[str, str]]:
    """(table, column) of every column that refers to a person."""
    found = [("people", "id")]
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            refers = any(fk.column.table.name == "people" for fk in column.foreign_keys)
            if refers or column.name == "person_id":
                found.append((table.name, column.name))
    return found


async def rows_referring_to(database: Database, person_id: int) -> dict[str, int]:
    tables = {table.name: table for table in Base.metadata.sorted_tables}
    counts: dict[str, int] = {}
    async with database.engine.connect() as connection:
        for table_name, column_name in person_columns():
            table = tables[table_name]
            statement = select(func.count()).where(table.c[column_name] == person_id)
            count = (await connection.execute(statement)).scalar_one()
            counts[f"{table_name}.{column_name}"] = count
    return counts


# -- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("step", "word"), at_steps(["help", "/help", "hulp", "?"]))
async def test_help_explains_and_asks_the_same_question(app: App, step: str, word: str) -> None:
    anna = await seeded(app)
    await put_at(app, anna, step)
    before = await snapshot(app.database, anna)

    replies = await anna.send(word)

    assert nl("help.menu" if step == "done" else "help.text") in text_of(replies)
    assert asks(replies, step)
    assert await snapshot(app.database, anna) == before


# -- back -----------------------------------------------------------------------------------


BACK = {
    "place": "name",
    "gifts": "place",
    "times": "wishes",
    "free": "group",
    "summary": "free",
    "done": "summary",
}


@pytest.mark.parametrize(("step", "word"), at_steps(["terug", "/terug", "back", "vorige"], [*BACK]))
async def test_back_goes_to_the_previous_question(app: App, step: str, word: str) -> None:
    previous = BACK[step]
    anna = await seeded(app)
    await put_at(app, anna, step)
    person_before, _ = await snapshot(app.database, anna)

    replies = await anna.send(word)

    person, state = await snapshot(app.database, anna)
    assert (state.step, state.turn) == (previous, TURN + 1)
    assert asks(replies, previous)
    assert person == person_before


async def test_back_at_the_first_question_says_so(app: App) -> None:
    anna = await seeded(app)
    await put_at(app, anna, "name")

    replies = await anna.send("terug")

    assert nl("back.first") in text_of(replies)
    assert asks(replies, "name")
    _, state = await snapshot(app.database, anna)
    assert (state.step, state.turn) == ("name", TURN)


# -- stop, and coming back ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "comeback"),
    at_steps(
        ["hallo", "verder", "Jan", "/start", "ik wil verder", "Hoi!", "klaar"],
        ["name", "gifts", "distance", "summary", "done"],
    ),
)
async def test_stop_then_resume_welcomes_back_at_the_same_question(
    app: App, step: str, comeback: str
) -> None:
    anna = await seeded(app)
    await put_at(app, anna, step)
    person_before, _ = await snapshot(app.database, anna)

    stopped = await anna.send("stop")

    assert nl("stop.done") in text_of(stopped)
    _, state = await snapshot(app.database, anna)
    assert (state.step, state.turn, state.stopped) == (step, TURN, True)

    replies = await anna.send(comeback)

    assert nl("welcome.back", name_sep=", Anna") in text_of(replies)
    assert asks(replies, step)
    person, state = await snapshot(app.database, anna)
    assert (state.step, state.turn, state.stopped) == (step, TURN, False)
    assert person == person_before  # the first message back is not taken as an answer


async def test_a_stopped_person_can_tap_the_current_question(app: App) -> None:
    anna = await seeded(app)
    await put_at(app, anna, "distance")
    await anna.send("/stop")

    await anna.press(f"{TURN}:pick:400")

    person, state = await snapshot(app.database, anna)
    assert (state.step, state.stopped) == ("group", False)
    assert person.max_distance_m == 400


# -- my data ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "word"), at_steps(["mijn gegevens", "/gegevens", "gegevens", "my data"])
)
async def test_my_data_shows_everything_and_does_not_move(app: App, step: str, word: str) -> None:
    anna = await seeded(app)
    await put_at(app, anna, step)
    before = await snapshot(app.database, anna)

    replies = await anna.send(word)

    shown = replies[0].text
    assert nl("data.title") in shown
    assert nl("summary.name", value="Anna") in shown
    assert "7607" in shown
    async with app.database.unit_of_work() as store:
        export = await store.export_person(before[0].id)
    assert export is not None and len(export.consents) == 1
    given_at = export.consents[0].given_at
    assert given_at.date() == datetime.now(UTC).date()
    assert nl("data.consent", date=given_at.strftime("%d-%m-%Y")) in shown
    assert CONSENT_VERSION not in shown and "tekst" not in shown  # no version numbers
    assert nl("data.visible_no") in shown  # neighbours hear nothing unless she says so
    assert nl("data.retention") in shown
    assert nl("data.rights") in shown
    assert asks(replies, step)
    assert await snapshot(app.database, anna) == before


async def test_my_data_counts_the_logged_messages(app: App) -> None:
    anna = await seeded(app)
    await anna.send("ja")  # logged: "ja" and three replies
    await anna.send("Anna")  # logged: "Anna" and two replies
    person = await person_of(app.database, anna)
    assert person is not None
    async with app.database.unit_of_work() as store:
        logged = len(await store.list_logged_messages(person.id))

    replies = await anna.send("mijn gegevens")

    assert nl("data.messages", count=logged) in replies[0].text


# -- forget me ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("step", "word"), at_steps(["vergeet mij", "/vergeet", "forget me"]))
async def test_forget_me_then_no_keeps_everything(app: App, step: str, word: str) -> None:
    anna = await seeded(app)
    await put_at(app, anna, step)
    person_before, _ = await snapshot(app.database, anna)
    assert person_before is not None

    asked = await anna.send(word)

    assert nl("forget.confirm") in asked[-1].text
    assert [o.key for o in asked[-1].options] == [f"{TURN + 1}:forget:yes", f"{TURN + 1}:forget:no"]
    _, state = await snapshot(app.database, anna)
    assert state.step == "confirm_forget"
    referring = await rows_referring_to(app.database, person_before.id)

    replies = await anna.send("nee")

    assert nl("forget.kept") in text_of(replies)
    assert asks(replies, step)
    person, state = await snapshot(app.database, anna)
    assert person == person_before
    assert state.step == step
    after = await rows_referring_to(app.database, person_before.id)
    logged = referring["message_log.person_id"] + 1 + len(replies)  # "nee" and the replies
    assert after == referring | {"message_log.person_id": logged}


@pytest.mark.parametrize(("step", "answer"), at_steps(["ja", "tap"]))
async def test_forget_me_then_yes_erases_every_row(app: App, step: str, answer: str) -> None:
    anna = await seeded(app)
    await put_at(app, anna, step)
    person, _ = await snapshot(app.database, anna)
    referring = await rows_referring_to(app.database, person.id)
    assert referring["people.id"] == 1
    assert referring["identities.person_id"] == referring["consents.person_id"] == 1
    assert referring["conversations.person_id"] == 1
    assert referring["message_log.person_id"] > 0
    counts = await row_counts(app.database)

    await anna.send("vergeet mij")
    if answer == "tap":
        replies = await anna.tap("wis alles")
    else:
        replies = await anna.send(answer)

    assert nl("forget.done") in text_of(replies)
    left = await rows_referring_to(app.database, person.id)
    assert left == dict.fromkeys(left, 0)
    assert await person_of(app.database, anna) is None
    after = await row_counts(app.database)
    assert after["processed_updates"] == counts["processed_updates"] + 2  # refers to nobody
    assert after["areas"] == counts["areas"] and after["postcodes"] == counts["postcodes"]

    welcome = await anna.send("hallo")  # a stranger again

    assert nl("welcome.hello") in text_of(welcome)
    assert nl("welcome.consent") in welcome[-1].text
    assert await person_of(app.database, anna) is None


def test_the_erasure_check_knows_the_person_tables() -> None:
    columns = person_columns()
    for needed in ("identities", "consents", "conversations", "message_log"):
        assert (needed, "person_id") in columns


async def test_forget_me_not_understood_asks_again(app: App) -> None:
    anna = await seeded(app)
    await put_at(app, anna, "gifts")
    await anna.send("vergeet mij")

    replies = await anna.send("misschien")

    assert nl("forget.not_understood") in text_of(replies)
    assert nl("forget.confirm") in replies[-1].text
    _, state = await snapshot(app.database, anna)
    assert state.step == "confirm_forget"
    assert await person_of(app.database, anna) is not None


# -- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("step", "word"), at_steps(["taal", "/taal", "language"]))
async def test_switching_to_english(app: App, step: str, word: str) -> None:
    anna = await seeded(app)
    await put_at(app, anna, step)

    asked = await anna.send(word)

    assert nl("language.question") in asked[-1].text
    replies = await anna.tap("English")

    assert en("language.changed") in text_of(replies)
    assert asks(replies, step, "en")
    person, state = await snapshot(app.database, anna)
    assert person.language == "en"
    assert state.step == step
    assert {k: getattr(person, k) for k in FULL} == FULL


async def test_english_words_work_after_switching(app: App) -> None:
    anna = await seeded(app)
    await put_at(app, anna, "gifts")
    await anna.send("english")  # straight to English

    back = await anna.send("back")
    assert asks(back, "place", "en")
    assert en("ask.place") in back[-2].text

    data = await anna.send("my data")
    assert en("data.title") in data[0].text
    assert en("summary.name", value="Anna") in data[0].text
    assert asks(data, "place", "en")

    helped = await anna.send("help")
    assert en("help.text") in text_of(helped)

    forget = await anna.send("forget me")
    assert en("forget.confirm") in forget[-1].text
    kept = await anna.send("no")
    assert en("forget.kept") in text_of(kept)
    assert asks(kept, "place", "en")

    skipped = await anna.send("skip")
    assert en("ack.skipped") in text_of(skipped)
    assert asks(skipped, "gifts", "en")

    dutch = await anna.send("nederlands")
    assert nl("language.changed") in text_of(dutch)
    assert asks(dutch, "gifts")
    person, _ = await snapshot(app.database, anna)
    assert person.language == "nl"


async def test_english_from_the_welcome(app: App) -> None:
    anna = await seeded(app)
    await anna.send("hello")
    replies = await anna.tap("English")
    assert en("welcome.consent") in replies[-1].text
    replies = await anna.tap("Yes")
    assert en("consent.thanks") in text_of(replies)
    assert en("ask.name") in replies[-1].text
    person = await person_of(app.database, anna)
    assert person is not None and person.language == "en"


# -- declining --------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["nee", "nee, bedankt", "no", "stop", "vergeet mij", "tap"])
async def test_declining_stores_nothing(app: App, how: str) -> None:
    anna = await seeded(app)
    await anna.send("hallo")
    before = await row_counts(app.database)

    replies = await anna.tap("liever niet") if how == "tap" else await anna.send(how)

    assert nl("consent.declined") in text_of(replies)
    assert await person_of(app.database, anna) is None
    after = await row_counts(app.database)
    assert after == before | {"processed_updates": before["processed_updates"] + 1}


# -- changing one item from the summary -------------------------------------------------------


INTAKE_IN_WORDS = (
    "ja",
    "Anna",
    "7607",
    "koken",
    "wandelen",
    "'s ochtends",
    "om de hoek",
    "in een groep",
    "ja",
)


async def _at_summary(app: App) -> tuple[Resident, Person]:
    anna = await seeded(app)
    for line in INTAKE_IN_WORDS:
        await anna.send(line)
    person, state = await snapshot(app.database, anna)
    assert state.step == "summary"
    return anna, person


async def test_changing_one_item_returns_to_the_summary(app: App) -> None:
    anna, before = await _at_summary(app)

    asked = await anna.tap("Tijd")
    assert asks(asked, "times")
    replies = await anna.tap("Avond")  # ticks evening next to morning, and goes back

    person, state = await snapshot(app.database, anna)
    assert state.step == "summary"
    assert set(state.context) == {"last_tap"}
    assert person.times == ("morning", "evening")
    assert person == Person(**{**vars(before), "times": ("morning", "evening")})
    times = f"{nl('said.times.morning')}{nl('ideas.and')}{nl('said.times.evening')}"
    shown = nl("summary.times", value=times)
    assert shown in replies[-1].text
    assert nl("summary.distance", value=nl("said.distance.400")) in replies[-1].text


async def test_changing_an_item_in_words_returns_to_the_summary(app: App) -> None:
    anna, before = await _at_summary(app)

    asked = await anna.send("afstand")
    assert asks(asked, "distance")
    replies = await anna.send("2 km")

    person, state = await snapshot(app.database, anna)
    assert state.step == "summary"
    assert person == Person(**{**vars(before), "max_distance_m": 2000})
    assert nl("summary.distance", value=nl("said.distance.2000")) in replies[-1].text
    assert nl("summary.name", value="Anna") in replies[-1].text


async def test_a_change_can_be_skipped_and_keeps_the_old_value(app: App) -> None:
    anna, before = await _at_summary(app)

    await anna.tap("Naam")
    replies = await anna.send("overslaan")

    person, state = await snapshot(app.database, anna)
    assert state.step == "summary"
    assert person == before
    assert nl("summary.name", value="Anna") in replies[-1].text


async def test_back_from_a_change_returns_to_the_summary(app: App) -> None:
    anna, before = await _at_summary(app)

    await anna.tap("Woonplek")
    replies = await anna.send("terug")

    person, state = await snapshot(app.database, anna)
    assert state.step == "summary"
    assert asks(replies, "summary")
    assert person == before


# -- an interrupted intake resumes after a restart -------------------------------------------


async def test_an_interrupted_intake_resumes_in_a_new_app(app: App, settings: Settings) -> None:
    anna = await seeded(app, community=True)  # the whole demo, as `make demo` has it
    for line in ("ja", "Anna", "7607"):
        await anna.send(line)
    _, state = await snapshot(app.database, anna)
    assert state.step == "gifts"

    async with open_app(settings) as restarted:
        again = Resident(restarted.conversations, external_id=anna.external_id)
        replies = await again.send("hallo")

        assert nl("welcome.back", name_sep=", Anna") in text_of(replies)
        assert asks(replies, "gifts")
        await again.send("koken")
        await again.send("overslaan")
        person, state = await snapshot(restarted.database, again)

    assert state.step == "times"
    assert (person.first_name, person.postcode, person.gifts) == ("Anna", "7607", ("cooking",))


async def test_a_stopped_intake_resumes_in_a_new_app(app: App, settings: Settings) -> None:
    anna = await seeded(app)
    for line in ("ja", "Anna", "stop"):
        await anna.send(line)

    async with open_app(settings) as restarted:
        again = Resident(restarted.conversations, external_id=anna.external_id)
        replies = await again.send("hoi")
        _, state = await snapshot(restarted.database, again)

    assert nl("welcome.back", name_sep=", Anna") in text_of(replies)
    assert asks(replies, "place")
    assert (state.step, state.stopped) == ("place", False)


@pytest.mark.parametrize(("word", "tag"), [("Engels", "languages"), ("Nederlands", "dutch")])
async def test_a_language_name_at_the_gifts_question_is_an_answer(
    app: App, word: str, tag: str
) -> None:
    anna = await seeded(app)
    await put_at(app, anna, "gifts")
    replies = await anna.send(word)
    person, state = await snapshot(app.database, anna)
    assert tag in person.gifts
    assert person.language == "nl"
    assert state.step == "wishes"
    assert asks(replies, "wishes")


@pytest.mark.parametrize(
    ("typed", "consents"),
    [("Ja, ik doe mee", True), ("✅ Ja, ik doe mee", True), ("Nee, liever niet", False)],
)
async def test_typing_a_consent_button_works_like_tapping_it(
    app: App, typed: str, consents: bool
) -> None:
    anna = Resident(app.conversations)
    await anna.send("hallo")
    replies = await anna.send(typed)
    assert (await person_of(app.database, anna) is not None) is consents
    assert (nl("consent.thanks") in text_of(replies)) is consents
