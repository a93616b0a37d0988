"""The intake end to end through `Conversations`, on the real database."""

from __future__ import annotations

from bot.app import App
from tests.harness import assert_free_text_profile, person_of, seeded, state_of


async def test_buttons_only_intake_takes_at_most_twelve_taps(app: App) -> None:
    anna = await seeded(app, community=True)
    await anna.send("hallo")
    assert await person_of(app.database, anna) is None  # nothing stored before yes
    await anna.tap("ja, ik doe mee")
    await anna.tap("Anna")
    await anna.tap("Almelo centrum")
    await anna.tap("Koken")
    await anna.tap("Klaar")
    await anna.tap("Wandelen")
    await anna.tap("Klaar")
    await anna.tap("Maakt niet uit")
    await anna.tap("800 m")
    await anna.tap("In een groep")
    await anna.tap("alleen gratis")
    assert "Klopt dit?" in anna.text
    await anna.tap("dit klopt")
    assert "Mogen buren" in anna.text  # a choice of its own, after the summary
    await anna.tap("Nee, liever niet")
    assert anna.taps <= 13
    person = await person_of(app.database, anna)
    assert person is not None
    assert person.first_name == "Anna"
    assert person.postcode == "7607"
    assert person.gifts == ("cooking",)
    assert person.wishes == ("walking",)
    assert person.times == ("any",)
    assert person.max_distance_m == 800
    assert person.group_pref == "group"
    assert person.free_only is True
    assert person.intake_done_at is not None
    assert person.neighbour_visible is False
    state = await state_of(app.database, anna)
    assert state is not None and state.step == "done"


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
