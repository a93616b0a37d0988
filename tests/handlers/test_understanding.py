"""The issue's examples end to end: Riek types everything, Sanne taps, both are understood."""

from __future__ import annotations

from typing import Any

from bot.app import App
from handlers.i18n import Texts
from tests.handlers.test_flow_table import DONE_PROFILE, put_at
from tests.handlers.test_introductions import World, through_the_bot, world
from tests.harness import Resident, person_of, seeded, state_of

TEXTS = Texts.load()
__all__ = ["world"]  # the fixture of a small neighbourhood with introductions


def nl(key: str, **values: Any) -> str:
    return TEXTS("nl", key, **values)


RIEK = (
    "goeiemiddag",
    "ja hoor dat is goed",
    "ik ben Riek",
    "ik woon in Almelo",
    "ik brij graag en bak wel eens een taartje",
    "ik kan niet meer zo goed lopen maar een kopje koffie met iemand lijkt me fijn",
    "'s ochtends, maar niet in het weekend",
    "niet te ver, ik loop slecht",
    "liefst met 1 persoon",
    "ik heb niet veel geld",
    "ja dat klopt",
)


async def test_riek_finishes_the_intake_typing_only_and_the_summary_says_what_she_meant(
    app: App,
) -> None:
    riek = await seeded(app, community=True)
    said: list[str] = []
    for line in RIEK:
        await riek.send(line)
        said.append(riek.text)
    assert len(RIEK) <= 12
    assert nl("welcome.hello") in said[0]  # a greeting gets the welcome
    assert nl("consent.thanks") in said[1]  # "ja hoor dat is goed" is a yes
    assert nl("ack.noted_items", items="bakken en handwerken") in said[4]
    assert nl("ack.noted_items", items="een praatje bij de koffie") in said[5]
    assert nl("ack.not_noted", items="wandelen") in said[5]
    assert nl("ack.noted_items", items=nl("said.times.morning")) in said[6]
    assert nl("ack.noted_items", items=nl("said.distance.400")) in said[7]
    assert nl("ack.noted_items", items=nl("said.group.one")) in said[8]
    summary = said[9]
    assert nl("summary.distance", value=nl("said.distance.400")) in summary
    assert nl("summary.free", value=nl("said.free.free")) in summary
    assert nl("done.thanks", name_sep=", Riek") in said[10]
    person = await person_of(app.database, riek)
    assert person is not None
    assert (person.first_name, person.postcode) == ("Riek", "7607")  # Almelo, from the list
    assert set(person.gifts) == {"sewing", "baking"}
    assert "company" in person.wishes and "walking" not in person.wishes
    assert person.times == ("morning",)
    assert (person.max_distance_m, person.group_pref, person.free_only) == (400, "one", True)


async def start(app: App, *, community: bool = False) -> Resident:
    resident = await seeded(app, community=community)
    await resident.send("hallo")
    await resident.tap("ja, ik doe mee")
    await resident.tap("Anna")
    return resident


async def test_a_words_answer_can_be_undone_with_one_tap(app: App) -> None:
    anna = await start(app)
    await anna.send("Strijen")
    assert nl("ack.place", place="Strijen") in anna.text
    await anna.send("ik kook graag")
    await anna.tap("Dat klopt niet")
    assert nl("ack.undo") in anna.text and nl("ask.gifts") in anna.text
    state = await state_of(app.database, anna)
    assert state is not None and state.step == "gifts"


async def test_every_dutch_postcode_and_place_works_without_an_import(app: App) -> None:
    anna = Resident(app.conversations)  # no postcodes in the database at all
    await anna.send("hallo")
    await anna.tap("ja, ik doe mee")
    await anna.tap("Anna")
    await anna.send("9401")
    assert nl("ack.place", place="Assen") in anna.text
    await anna.send("terug")
    await anna.send("ik woon in Vriezenveen")
    person = await person_of(app.database, anna)
    assert person is not None and person.area_name == "Vriezenveen"
    assert person.postcode is not None and person.latitude is not None


async def test_two_readings_far_apart_are_asked_about(app: App) -> None:
    anna = await start(app)
    for line in ("7607", "koken", "wandelen", "ochtend"):
        await anna.send(line)
    await anna.send("om de hoek, of met de auto")
    assert "Bedoel je om de hoek (400 m) of tot 10 km?" in anna.text
    await anna.tap("Tot 10 km")
    person = await person_of(app.database, anna)
    assert person is not None and person.max_distance_m == 10_000


async def test_a_day_of_the_week_is_noted_as_the_closest_meaning_and_said_so(app: App) -> None:
    """The profile keeps parts of the day and the weekend, not days: said back honestly."""
    anna = await start(app)
    for line in ("7607", "koken", "wandelen"):
        await anna.send(line)
    await anna.send("op dinsdag")
    assert "Genoteerd: 's ochtends, 's middags en 's avonds." in anna.text
    assert "Een vaste dag kan ik nog niet bewaren." in anna.text
    assert "Daarom noteer ik: door de week, niet in het weekend." in anna.text
    person = await person_of(app.database, anna)
    assert person is not None and person.times == ("morning", "afternoon", "evening")
    await anna.send("terug")
    await anna.send("zaterdagochtend")
    assert "Daarom noteer ik: in het weekend." in anna.text
    person = await person_of(app.database, anna)
    assert person is not None and person.times == ("weekend",)
    await anna.send("terug")
    await anna.send("'s middags")  # no day named: nothing about days
    assert "vaste dag" not in anna.text


async def test_the_summary_takes_everyday_yes_and_never_reads_goed_as_a_change(app: App) -> None:
    anna = Resident(app.conversations)
    await seeded(app)
    await put_at(app, anna, "summary", profile={**DONE_PROFILE, "intake_done_at": None})
    await anna.send("alleen de tijd aanpassen")
    state = await state_of(app.database, anna)
    assert state is not None and state.step == "times"
    await put_at_summary_again(app, anna)
    await anna.send("ja dit klopt")
    state = await state_of(app.database, anna)
    assert state is not None and state.step == "neighbours"  # a choice of its own follows
    await anna.send("nee hoor")
    state = await state_of(app.database, anna)
    assert state is not None and state.step == "done"


async def put_at_summary_again(app: App, anna: Resident) -> None:
    await anna.send("terug")  # from the change back to the summary
    assert nl("ask.summary") in anna.text


REPAIR_FAN = {**DONE_PROFILE, "gifts": ("diy", "bike_repair"), "times": ("weekend",)}


async def test_typed_words_after_the_suggestions(app: App) -> None:
    anna = Resident(app.conversations)
    await seeded(app, community=True)
    await put_at(app, anna, "done", profile=REPAIR_FAN)
    await anna.send("ideeën")
    assert "Repair Café Almelo" in anna.text
    first = [r.text for r in anna.last]
    for _ in range(3):  # "ideeën" again and again: the next ones, or plainly the best again
        await anna.send("ideeën")
        assert nl("ideas.intro") in anna.text or nl("ideas.again") in anna.text
        assert nl("ideas.none") not in anna.text
    assert any(text in anna.text for text in first[1:])  # the best ones came round again
    await anna.send("stel me voor bij de repair cafe")
    assert nl("intro.route_question") in anna.text


async def test_after_writing_through_the_bot_typed_words_are_passed_on(world: World) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    await anna.press(f"x:{intro.id}:write")
    await anna.send("Hallo! Ik kook graag mee.")
    assert nl("relay.sent") in anna.text
    assert nl("menu.relay") in [o.label for o in anna.options]  # the way back to it
    await world.take(henk)
    await anna.send("Tot woensdag!")  # typed at the menu: passed on, not "not understood"
    assert nl("relay.sent") in anna.text
    (to_henk,) = await world.take(henk)
    assert to_henk.text == nl("relay.message", name="Anna", text="Tot woensdag!")
    await anna.tap("Nog een bericht sturen")
    assert nl("relay.write_again") in anna.text


async def test_nee_right_after_an_answer_was_said_back_asks_it_again(app: App) -> None:
    anna = await start(app)
    for line in ("7607", "koken", "wandelen", "ochtend"):
        await anna.send(line)
    await anna.send("verder mag ook")
    assert nl("ack.noted_items", items=nl("said.distance.5000")) in anna.text
    await anna.send("nee")  # at "one-to-one or a group?", where "nee" is no answer
    assert nl("ack.undo") in anna.text and nl("ask.distance") in anna.text
    await anna.send("niet te ver")
    person = await person_of(app.database, anna)
    assert person is not None and person.max_distance_m == 800
