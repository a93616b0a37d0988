"""Nothing within the distance someone chose: the bot says so, and offers to look a step
further with one tap, which changes the distance (said back) and shows what is there."""

from __future__ import annotations

from typing import Any

from bot.app import App
from handlers.i18n import Texts
from tests.handlers.test_flow_table import DONE_PROFILE, put_at
from tests.harness import Resident, person_of, seeded

TEXTS = Texts.load()
# Almelo centrum, baking to give and walking wished: nothing within 400 m in the demo,
# the coffee morning in the "buurtkamer" at about 1.3 km.
CLOSE_BY: dict[str, Any] = {
    **DONE_PROFILE,
    "gifts": ("baking",),
    "wishes": ("walking",),
    "times": ("any",),
    "max_distance_m": 400,
    "group_pref": "both",
}


def nl(key: str, **values: Any) -> str:
    return TEXTS("nl", key, **values)


async def test_nothing_close_by_offers_to_look_a_step_further(app: App) -> None:
    anna = Resident(app.conversations)
    await seeded(app, community=True)
    await put_at(app, anna, "done", profile=CLOSE_BY)
    await anna.send("ideeën")
    assert nl("ideas.none_within", wider="2 km") in anna.text
    assert nl("ideas.intro") not in anna.text
    person = await person_of(app.database, anna)
    assert person is not None and person.max_distance_m == 400  # nothing changed by asking

    await anna.tap("kijk verder")
    assert nl("ack.noted_items", items=nl("said.distance.2000")) in anna.text
    assert "Koffieochtend" in anna.text
    person = await person_of(app.database, anna)
    assert person is not None and person.max_distance_m == 2000


async def test_a_forged_distance_changes_nothing(app: App) -> None:
    anna = Resident(app.conversations)
    await seeded(app, community=True)
    await put_at(app, anna, "done", profile=CLOSE_BY)
    for forged in ("g:wider:99999", "g:wider:", "g:wider:-5", "g:wider:2000x"):
        await anna.press(forged)
        assert "Koffieochtend" not in anna.text
    person = await person_of(app.database, anna)
    assert person is not None and person.max_distance_m == 400


async def test_at_the_widest_distance_it_says_plainly_there_is_nothing(app: App) -> None:
    anna = Resident(app.conversations)
    await seeded(app, community=True)
    far = {**CLOSE_BY, "max_distance_m": 5000, "gifts": (), "wishes": ("bike_repair",)}
    await put_at(app, anna, "done", profile={**far, **{"latitude": 53.2, "longitude": 6.56}})
    await anna.send("ideeën")
    assert nl("ideas.none") in anna.text
    assert all(not option.key.startswith("g:wider") for r in anna.last for option in r.options)
