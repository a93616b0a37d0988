"""The intake end to end through `Conversations`, on the real database."""

from __future__ import annotations

from bot.app import App
from tests.harness import assert_free_text_profile, person_of, seeded, state_of


async def test_buttons_only_intake_takes_at_most_twelve_taps(app: App) -> None:
    """Sanne taps: two gifts, two wishes, one time of day; no "Klaar" needed anywhere.

    Counted from "hallo" to the menu, the name button included: twelve taps, the
    neighbours' question among them. After the distance she leaves the rest to us."""
    anna = await seeded(app, community=True)
    await anna.send("hallo")
    assert await person_of(app.database, anna) is None  # nothing stored before yes
    await anna.tap("ja, ik doe mee")
    await anna.tap("Anna")
    await anna.tap("Almelo centrum")
    await anna.tap("Koken")  # moves on to the wishes at once ...
    assert "Wat zou je graag willen?" in anna.text
    await anna.tap_on_screen("Wat doe je graag", "Bakken")  # ... the gifts still take a tick
    await anna.tap_on_screen("Wat zou je graag willen", "Wandelen")
    await anna.tap_on_screen("Wat zou je graag willen", "Koffie")
    await anna.tap_on_screen("Wanneer", "Ochtend")
    await anna.tap("800 m")
    assert "Doe je dingen liever" in anna.text
    await anna.tap("De rest maakt niet uit")
    said = anna.text  # what was filled in, said back, and the summary with all of it
    assert "Voor de rest noteer ik dit:" in said
    filled = said.split("noteer ik dit:\n")[1].split("\nJe kunt alles")[0]
    assert filled == "• met één persoon of in een groep\n• een kleine bijdrage mag"
    assert "Klopt dit?" in said
    await anna.tap("dit klopt")
    assert "Mogen buren" in anna.text  # a choice of its own, after the summary
    await anna.tap("Nee, liever niet")
    assert anna.text.endswith("Wat wil je nu doen?")
    assert anna.taps == 12
    person = await person_of(app.database, anna)
    assert person is not None
    assert person.first_name == "Anna"
    assert person.postcode == "7607"
    assert person.gifts == ("cooking", "baking")
    assert person.wishes == ("walking", "company")
    assert person.times == ("morning",)
    assert person.max_distance_m == 800
    assert person.group_pref == "both"
    assert person.free_only is False
    assert person.intake_done_at is not None
    assert person.neighbour_visible is False
    state = await state_of(app.database, anna)
    assert state is not None and state.step == "done"
    assert "live" not in state.context


async def test_the_shortest_intake_by_buttons(app: App) -> None:
    """One gift, one wish, and the rest left to us: eight taps from hello to the menu."""
    anna = await seeded(app)
    await anna.send("hallo")
    for label in ("ja, ik doe mee", "Anna", "Almelo centrum", "Koken", "Wandelen"):
        await anna.tap(label)
    assert "Wanneer heb je meestal tijd?" in anna.text
    await anna.tap("De rest maakt niet uit")
    assert "• wanneer het uitkomt\n• in je buurt (800 m)\n" in anna.text
    await anna.tap("dit klopt")
    await anna.tap("Nee, liever niet")
    assert anna.taps == 8 <= 9
    person = await person_of(app.database, anna)
    assert person is not None and person.intake_done_at is not None
    assert person.times == ("any",)
    assert (person.max_distance_m, person.group_pref, person.free_only) == (800, "both", False)


async def test_the_rest_in_words(app: App) -> None:
    """Typed at the distance question, "de rest maakt me niet uit" is the same as the button."""
    anna = await seeded(app)
    await anna.send("hallo")
    for label in ("ja, ik doe mee", "Anna", "Almelo centrum", "Koken", "Wandelen", "Avond"):
        await anna.tap(label)
    await anna.send("de rest maakt me niet uit")
    assert "• in je buurt (800 m)\n• met één persoon of in een groep\n" in anna.text
    assert "Klopt dit?" in anna.text
    person = await person_of(app.database, anna)
    assert person is not None and person.times == ("evening",)
    assert (person.max_distance_m, person.group_pref, person.free_only) == (800, "both", False)


async def test_the_rest_is_not_offered_when_changing_one_answer(app: App) -> None:
    """From the summary one question is changed; "the rest" would change more than asked."""
    anna = await seeded(app)
    await anna.send("hallo")
    for label in ("ja, ik doe mee", "Anna", "Almelo centrum", "Koken", "Wandelen"):
        await anna.tap(label)
    await anna.tap("Ochtend")
    assert anna.find("De rest maakt niet uit")  # on the way through: offered
    await anna.tap("om de hoek")
    await anna.tap("De rest maakt niet uit")
    person = await person_of(app.database, anna)
    assert person is not None and person.max_distance_m == 400  # answered: kept
    assert person.group_pref == "both"
    await anna.tap("Afstand")  # change the distance from the summary
    assert "Hoe ver" in anna.text
    assert not [o for o in anna.options if "rest" in o.label]
    await anna.tap("800 m")
    assert "Klopt dit?" in anna.text


async def test_a_double_tap_is_ignored_and_never_undoes(app: App) -> None:
    anna = await seeded(app)
    await anna.send("hallo")
    await anna.tap("ja, ik doe mee")
    await anna.tap("Anna")
    await anna.tap("Almelo centrum")
    koken = anna.find("Koken")
    await anna.press(koken.key)
    assert "Wat zou je graag willen?" in anna.text
    assert await anna.press(koken.key) == []  # the same button again, a moment later
    person = await person_of(app.database, anna)
    assert person is not None and person.gifts == ("cooking",)
    state = await state_of(app.database, anna)
    assert state is not None and state.step == "wishes"
    await anna.tap_on_screen("Wat zou je graag willen", "Wandelen")
    await anna.tap_on_screen("Wanneer", "Ochtend")
    eight = anna.find("800 m")
    await anna.press(eight.key)
    assert await anna.press(eight.key) == []  # no "that button belongs to an earlier question"
    state = await state_of(app.database, anna)
    assert state is not None and state.step == "group"


async def test_numbers_out_of_range_and_two_numbers_at_a_single_question(app: App) -> None:
    anna = await seeded(app)
    await anna.send("hallo")
    await anna.tap("ja, ik doe mee")
    await anna.tap("Anna")
    await anna.tap("Almelo centrum")
    await anna.send("koken")
    await anna.send("wandelen")
    replies = await anna.send("1 2 3 99")  # at "when": three of them, and one not there
    assert "99 staat er niet bij." in anna.text
    person = await person_of(app.database, anna)
    assert person is not None and person.times == ("morning", "afternoon", "evening")
    assert "Hoe ver" in replies[-1].text
    await anna.send("1 3")  # two numbers at a one-answer question: which one?
    assert "Bedoel je om de hoek (400 m) of in mijn wijk of dorp (2 km)?" in anna.text
    assert [o.label for o in anna.options] == ["Om de hoek (400 m)", "In mijn wijk of dorp (2 km)"]
    await anna.send("2")  # the numbers now count these two
    person = await person_of(app.database, anna)
    assert person is not None and person.max_distance_m == 2000


async def test_free_text_only_intake(app: App) -> None:
    anna = await seeded(app, community=True)
    for line in (
        "hoi",
        "ja",
        "ik heet Anneke",
        "7607 AB",
        "ik kook graag en ben handig met klussen",
        "wandelen en koffie drinken",
        "'s ochtends en in het weekend",
        "1,5 km",
        "liefst in een groep",
        "ja",
        "ja",
        "nee",  # neighbours may not hear about her
    ):
        await anna.send(line)
    assert_free_text_profile(await person_of(app.database, anna))
    state = await state_of(app.database, anna)
    assert state is not None and state.step == "done"
