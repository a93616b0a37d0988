"""Where a neighbour lives stays private, and only those who said yes are suggested.

Trilateration: a resident who moves her own pin over a grid and asks for suggestions each
time learns, from everything matching gives away (whether the neighbour is suggested, the
distance in the reason, the words shown, the order), nothing finer than the neighbour's
~1 km cell: moving the neighbour anywhere inside that cell changes no observation at all.
"""

from __future__ import annotations

import math
from datetime import timedelta

from bot.app import App
from handlers.matching import cell_centre, haversine_m
from storage.records import Person
from storage.verbs import utcnow
from tests.harness import Resident, joined, seed_places

# Two points about 600 m apart, in the same grid cell.
HOME_A = (52.3512, 6.6570)
HOME_B = (52.3568, 6.6630)
STEP_M = 400.0
GRID = range(-6, 7)  # 13 x 13 pins, 4.8 km across


async def _resident(app: App, name: str, latitude: float, longitude: float, **more: object) -> int:
    _, person = await joined(app, name.lower(), name)
    async with app.database.unit_of_work() as store:
        await store.update_person(
            person.id,
            {
                "first_name": name, "postcode": "7607", "area_name": "Almelo",
                "latitude": latitude, "longitude": longitude, "gifts": ("cooking",),
                "wishes": ("walking",), "times": ("any",), "max_distance_m": 2000,
                "group_pref": "both", "intake_done_at": utcnow() - timedelta(days=1),
                **more,
            },
        )  # fmt: skip
    return person.id


Seen = tuple[tuple[float, float], int | None, int | None]  # pin, Piet's rank, his distance


async def _observe(app: App, mallory_id: int, piet_id: int) -> list[Seen]:
    """What Mallory can see of Piet from every pin of the grid."""
    from handlers.suggest import find_suggestions

    seen: list[Seen] = []
    lat0, lon0 = HOME_A
    per_lon = 111_195.0 * math.cos(math.radians(lat0))
    for north in GRID:
        for east in GRID:
            pin = (lat0 + north * STEP_M / 111_195.0, lon0 + east * STEP_M / per_lon)
            async with app.database.unit_of_work() as store:
                mallory = await store.update_person(
                    mallory_id, {"latitude": pin[0], "longitude": pin[1], "max_distance_m": 5000}
                )
                found = await find_suggestions(store, mallory, now=utcnow(), limit=10)
            rank = [s.candidate.id for s in found]
            piet = [
                s for s in found if s.candidate.kind == "neighbour" and s.candidate.id == piet_id
            ]
            seen.append(
                (
                    pin,
                    rank.index(piet_id) if piet else None,
                    piet[0].reason.distance_m if piet else None,
                )
            )
    return seen


async def _move(app: App, person_id: int, where: tuple[float, float]) -> Person:
    async with app.database.unit_of_work() as store:
        return await store.update_person(person_id, {"latitude": where[0], "longitude": where[1]})


async def test_moving_ones_pin_teaches_nothing_finer_than_the_cell(app: App) -> None:
    assert cell_centre(*HOME_A) == cell_centre(*HOME_B)
    assert haversine_m(*HOME_A, *HOME_B) > 500  # far enough apart to tell apart exactly
    await seed_places(app)
    piet = await _resident(app, "Piet", *HOME_A, neighbour_visible=True)
    mallory = await _resident(app, "Mallory", *HOME_A, gifts=("walking",), wishes=("cooking",))

    at_a = await _observe(app, mallory, piet)
    await _move(app, piet, HOME_B)
    at_b = await _observe(app, mallory, piet)

    assert any(rank is not None for _, rank, _ in at_a)  # Piet was suggested from some pins
    assert any(rank is None for _, rank, _ in at_a)  # and not from others
    assert at_a == at_b
    # The grid is fine enough to see the difference, were exact distances used.
    exact = [
        (round(haversine_m(*pin, *HOME_A)), round(haversine_m(*pin, *HOME_B))) for pin, _, _ in at_a
    ]
    assert sum(a != b for a, b in exact) > len(exact) // 2


async def test_a_resident_is_suggested_to_neighbours_only_after_saying_yes(app: App) -> None:
    from handlers.suggest import find_suggestions

    await seed_places(app)
    piet = await _resident(app, "Piet", *HOME_A)  # the default: no
    anna = await _resident(app, "Anna", *HOME_B, gifts=("walking",), wishes=("cooking",))
    async with app.database.unit_of_work() as store:
        person = await store.get_person(anna)
        assert person is not None
        assert not [
            s for s in await find_suggestions(store, person, now=utcnow()) if s.candidate.id == piet
        ]
        await store.update_person(piet, {"neighbour_visible": True})
        found = await find_suggestions(store, person, now=utcnow())
    assert [s.candidate.id for s in found if s.candidate.kind == "neighbour"] == [piet]


async def test_the_words_between_residents_are_a_band_and_initiatives_keep_metres(
    app: App,
) -> None:
    await seed_places(app)
    await _resident(app, "Piet", *HOME_A, neighbour_visible=True)
    await _resident(app, "Anna", *HOME_B, gifts=("walking",), wishes=("cooking",))
    anna = Resident(app.conversations, external_id="anna", first_name="Anna")
    replies = await anna.send("ideeën")
    piet = [r.text for r in replies if "Piet" in r.text]
    assert piet and "in je buurt" in piet[0]
    assert not any(ch.isdigit() for ch in piet[0].split("📍", 1)[1].split("—")[0])
