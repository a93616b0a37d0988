"""Matching rules: tables of cases, and properties over seeded random seekers and candidates."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from handlers.matching import (
    CELL_LAT_DEG,
    CELL_LON_DEG,
    WEIGHTS,
    Seeker,
    Suggestion,
    haversine_m,
    rank,
    score,
    seeker_from,
)
from storage.records import Candidate, Exclusions, Person

LAT, LON = 52.0, 5.0
M_PER_DEG_LAT = 111_195.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT))
TAGS = ("cooking", "walking", "gardening", "computers", "music", "company", "diy", "reading")
TIME_KEYS = ("morning", "afternoon", "evening", "weekend", "any")
NOTHING = Exclusions()
NOT_I10 = Exclusions(initiative_ids=frozenset({10}))
NOT_P10 = Exclusions(person_ids=frozenset({10}))


def at(north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    return LAT + north_m / M_PER_DEG_LAT, LON + east_m / M_PER_DEG_LON


def make_seeker(**changes: object) -> Seeker:
    base = Seeker(
        person_id=1,
        latitude=LAT,
        longitude=LON,
        max_distance_m=2000,
        gifts=frozenset({"cooking"}),
        wishes=frozenset({"walking"}),
        times=frozenset({"morning"}),
        group_pref="both",
        free_only=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def make_candidate(
    kind: str = "initiative", id: int = 10, north_m: float = 300.0, **changes: object
) -> Candidate:
    latitude, longitude = at(north_m)
    base = Candidate(
        kind=kind,
        id=id,
        latitude=latitude,
        longitude=longitude,
        offers=frozenset({"walking"}),
        wants=frozenset(),
        times=frozenset({"morning"}),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- distance and seekers ------------------------------------------------------------------------


def test_haversine_knows_the_netherlands() -> None:
    assert haversine_m(LAT, LON, LAT, LON) == 0
    assert haversine_m(52.0, 5.0, 53.0, 5.0) == pytest.approx(111_195, rel=1e-3)
    amsterdam, utrecht = (52.3731, 4.8922), (52.0907, 5.1214)
    assert haversine_m(*amsterdam, *utrecht) == pytest.approx(34_800, rel=0.01)
    assert haversine_m(*amsterdam, *utrecht) == haversine_m(*utrecht, *amsterdam)


def test_seeker_from_a_person() -> None:
    person = Person(
        id=7,
        language="nl",
        latitude=52.1,
        longitude=5.2,
        gifts=("cooking", "diy"),
        wishes=("walking",),
        times=("any",),
        max_distance_m=800,
        group_pref="one",
        free_only=True,
    )
    seeker = seeker_from(person)
    assert seeker == Seeker(
        person_id=7,
        latitude=52.1,
        longitude=5.2,
        max_distance_m=800,
        gifts=frozenset({"cooking", "diy"}),
        wishes=frozenset({"walking"}),
        times=frozenset({"any"}),
        group_pref="one",
        free_only=True,
    )


def test_seeker_from_fills_in_the_defaults() -> None:
    seeker = seeker_from(Person(id=7, language="nl", latitude=52.1, longitude=5.2))
    assert seeker is not None
    assert seeker.max_distance_m == 2000
    assert seeker.free_only is False
    assert seeker.gifts == seeker.wishes == seeker.times == frozenset()


@pytest.mark.parametrize(
    "where", [{}, {"latitude": 52.1}, {"longitude": 5.2}], ids=["none", "no lon", "no lat"]
)
def test_no_seeker_without_a_location(where: dict[str, float]) -> None:
    assert seeker_from(Person(id=7, language="nl", **where)) is None  # type: ignore[arg-type]


# -- hard rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seeker", "candidate", "exclusions"),
    [
        (make_seeker(), make_candidate("neighbour", id=1), NOTHING),
        (
            make_seeker(),
            make_candidate("initiative", id=10),
            NOT_I10,
        ),
        (make_seeker(), make_candidate("neighbour", id=10), NOT_P10),
        (make_seeker(max_distance_m=400), make_candidate(north_m=450), NOTHING),
        (
            make_seeker(max_distance_m=5000),
            make_candidate("neighbour", north_m=1500, max_distance_m=800),
            NOTHING,
        ),
        (make_seeker(), make_candidate(has_room=False), NOTHING),
        (make_seeker(free_only=True), make_candidate(free=False), NOTHING),
        (make_seeker(), make_candidate(offers=frozenset({"music"})), NOTHING),
        (make_seeker(gifts=frozenset(), wishes=frozenset()), make_candidate(), NOTHING),
    ],
    ids=[
        "oneself",
        "excluded initiative",
        "excluded person",
        "too far for the seeker",
        "too far for the neighbour",
        "no room",
        "paid for free only",
        "no fit",
        "no tags at all",
    ],
)
def test_hard_rules(seeker: Seeker, candidate: Candidate, exclusions: Exclusions) -> None:
    assert score(seeker, candidate, exclusions) is None
    assert rank(seeker, [candidate], exclusions) == []


@pytest.mark.parametrize(
    ("seeker", "candidate", "exclusions"),
    [
        (make_seeker(), make_candidate("initiative", id=1), NOTHING),
        (
            make_seeker(),
            make_candidate("initiative", id=10),
            NOT_P10,
        ),
        (
            make_seeker(),
            make_candidate("neighbour", id=10),
            NOT_I10,
        ),
        (make_seeker(max_distance_m=400), make_candidate(north_m=399), NOTHING),
        (make_seeker(), make_candidate("neighbour", north_m=700, max_distance_m=800), NOTHING),
        (make_seeker(), make_candidate("neighbour", north_m=1900, max_distance_m=None), NOTHING),
        (make_seeker(free_only=True), make_candidate(free=True), NOTHING),
        (make_seeker(free_only=False), make_candidate(free=False), NOTHING),
    ],
    ids=[
        "initiative with the seeker's number",
        "person excluded, not the initiative",
        "initiative excluded, not the person",
        "just within reach",
        "within the neighbour's reach",
        "neighbour without a limit of their own",
        "free for free only",
        "paid is fine",
    ],
)
def test_allowed(seeker: Seeker, candidate: Candidate, exclusions: Exclusions) -> None:
    assert score(seeker, candidate, exclusions) is not None


def test_an_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="kind"):
        score(make_seeker(), make_candidate("club"), NOTHING)


# -- reasons -------------------------------------------------------------------------------------


def test_the_reason_names_every_direction_of_fit() -> None:
    seeker = make_seeker(
        gifts=frozenset({"cooking", "diy", "music"}), wishes=frozenset({"walking", "company"})
    )
    candidate = make_candidate(
        "neighbour",
        offers=frozenset({"walking", "music", "cooking"}),
        wants=frozenset({"diy", "cooking"}),
        north_m=420,
    )
    suggestion = score(seeker, candidate, NOTHING)
    assert suggestion is not None
    reason = suggestion.reason
    assert reason.you_can_help == ("cooking", "diy")
    assert reason.they_offer == ("walking",)
    assert reason.shared == ("music",)  # cooking is listed already
    # between two residents: the distance of their cells' centres, never their own points
    assert reason.distance_m == round(apart(seeker, candidate)) == 0
    initiative = replace(candidate, kind="initiative")  # a public place keeps its distance
    exact = score(seeker, initiative, NOTHING)
    assert exact is not None and exact.reason.distance_m == pytest.approx(420, abs=1)
    assert reason.tags == ("cooking", "diy", "walking", "music")


@pytest.mark.parametrize(
    ("mine", "theirs", "common"),
    [
        ({"morning", "evening"}, {"evening", "weekend"}, ("evening",)),
        ({"any"}, {"weekend", "morning"}, ("morning", "weekend")),
        ({"afternoon", "morning"}, {"any"}, ("morning", "afternoon")),
        ({"any"}, {"any"}, ("any",)),
        ({"morning"}, {"evening"}, ()),
        (set(), {"evening"}, ()),
        ({"morning"}, set(), ()),
    ],
)
def test_common_times(mine: set[str], theirs: set[str], common: tuple[str, ...]) -> None:
    seeker = make_seeker(times=frozenset(mine))
    suggestion = score(seeker, make_candidate(times=frozenset(theirs)), NOTHING)
    assert suggestion is not None
    assert suggestion.reason.common_times == common


# -- what weighs -----------------------------------------------------------------------------------


def ranked_ids(seeker: Seeker, candidates: list[Candidate], limit: int = 10) -> list[int]:
    return [s.candidate.id for s in rank(seeker, candidates, NOTHING, limit=limit)]


def test_nearer_ranks_higher() -> None:
    candidates = [make_candidate(id=i, north_m=d) for i, d in ((1, 1500), (2, 200), (3, 700))]
    assert ranked_ids(make_seeker(), candidates) == [2, 3, 1]


def test_a_fit_both_ways_beats_one_way() -> None:
    one_way = make_candidate(id=1, north_m=100)
    both_ways = make_candidate(id=2, north_m=600, wants=frozenset({"cooking"}))
    assert ranked_ids(make_seeker(), [one_way, both_ways]) == [2, 1]


def test_common_times_rank_higher_and_unknown_times_sit_between() -> None:
    candidates = [
        make_candidate(id=1, times=frozenset({"evening"})),
        make_candidate(id=2, times=frozenset()),
        make_candidate(id=3, times=frozenset({"any"})),
    ]
    assert ranked_ids(make_seeker(), candidates) == [3, 2, 1]


def test_group_preferences_fit_for_neighbours() -> None:
    seeker = make_seeker(group_pref="one")
    candidates = [
        make_candidate("neighbour", id=11, group_pref="group"),
        make_candidate("neighbour", id=12, group_pref="one"),
        make_candidate("neighbour", id=13, group_pref=None),
    ]
    assert ranked_ids(seeker, candidates) == [12, 13, 11]


def test_fairness_lowers_those_introduced_often() -> None:
    busy = make_candidate(id=1, recent_introductions=8)
    quiet = make_candidate(id=2, recent_introductions=0)
    assert ranked_ids(make_seeker(), [busy, quiet]) == [2, 1]
    scores = [
        score(make_seeker(), replace(quiet, recent_introductions=n), NOTHING) for n in range(6)
    ]
    values = [s.score for s in scores if s is not None]
    assert values == sorted(values, reverse=True) and len(set(values)) == len(values)


def test_weights_can_be_changed_in_one_place() -> None:
    near_no_time = make_candidate(id=1, north_m=50, times=frozenset({"evening"}))
    far_with_time = make_candidate(id=2, north_m=1800)
    assert ranked_ids(make_seeker(), [near_no_time, far_with_time]) == [2, 1]  # time counts
    nearness_first = replace(WEIGHTS, distance=4.0)
    found = rank(make_seeker(), [near_no_time, far_with_time], NOTHING, weights=nearness_first)
    assert [s.candidate.id for s in found] == [1, 2]


def test_mornings_and_one_to_one_come_before_a_nearer_weekend_group() -> None:
    """Riek has time in the morning and wants one-to-one: the weekend group is not first."""
    seeker = make_seeker(times=frozenset({"morning"}), group_pref="one")
    weekend_group = make_candidate("initiative", id=1, north_m=100, times=frozenset({"weekend"}))
    morning_neighbour = make_candidate(
        "neighbour", id=2, north_m=600, times=frozenset({"morning"}), group_pref="one"
    )
    found = rank(seeker, [weekend_group, morning_neighbour], NOTHING)
    assert [s.candidate.id for s in found] == [2, 1]
    assert found[0].reason.common_times == ("morning",)
    assert found[0].reason.group == "one"
    assert found[1].reason.group is None and found[1].reason.common_times == ()


def test_rank_keeps_the_limit_and_breaks_ties_by_kind_and_id() -> None:
    twins = [  # all at the seeker's own point: exact and cell distances are both 0
        make_candidate("neighbour", id=5, north_m=0),
        make_candidate("initiative", id=9, north_m=0),
        make_candidate("neighbour", id=2, north_m=0),
        make_candidate("initiative", id=3, north_m=0),
    ]
    found = rank(make_seeker(group_pref=None), twins, NOTHING, limit=3)
    assert [(s.candidate.kind, s.candidate.id) for s in found] == [
        ("initiative", 3),
        ("initiative", 9),
        ("neighbour", 2),
    ]
    assert rank(make_seeker(), twins, NOTHING, limit=0) == []


# -- properties over random worlds -------------------------------------------------------------


def random_tags(rng: random.Random, most: int) -> frozenset[str]:
    return frozenset(rng.sample(TAGS, rng.randint(0, most)))


def random_times(rng: random.Random) -> frozenset[str]:
    return frozenset(rng.sample(TIME_KEYS, rng.randint(0, 3)))


def random_seeker(rng: random.Random) -> Seeker:
    return Seeker(
        person_id=rng.randint(1, 40),
        latitude=LAT + rng.uniform(-0.01, 0.01),
        longitude=LON + rng.uniform(-0.01, 0.01),
        max_distance_m=rng.choice((400, 800, 2000, 5000)),
        gifts=random_tags(rng, 3),
        wishes=random_tags(rng, 3),
        times=random_times(rng),
        group_pref=rng.choice(("one", "group", "both", None)),
        free_only=rng.random() < 0.5,
    )


def random_candidate(rng: random.Random) -> Candidate:
    latitude, longitude = at(rng.uniform(-3000, 3000), rng.uniform(-3000, 3000))
    return Candidate(
        kind=rng.choice(("initiative", "neighbour")),
        id=rng.randint(1, 40),
        latitude=latitude,
        longitude=longitude,
        offers=random_tags(rng, 3),
        wants=random_tags(rng, 3),
        times=random_times(rng),
        free=rng.random() < 0.6,
        has_room=rng.random() < 0.85,
        max_distance_m=rng.choice((None, 400, 800, 2000, 5000)),
        group_pref=rng.choice(("one", "group", "both", None)),
        recent_introductions=rng.choice((0, 0, 1, 3, 10)),
    )


def random_exclusions(rng: random.Random) -> Exclusions:
    return Exclusions(
        initiative_ids=frozenset(rng.sample(range(1, 41), rng.randint(0, 8))),
        person_ids=frozenset(rng.sample(range(1, 41), rng.randint(0, 8))),
    )


def cell(latitude: float, longitude: float) -> tuple[float, float]:
    """The centre of the ~1 km cell a resident is placed in, computed here on its own."""
    return (
        (math.floor(latitude / CELL_LAT_DEG) + 0.5) * CELL_LAT_DEG,
        (math.floor(longitude / CELL_LON_DEG) + 0.5) * CELL_LON_DEG,
    )


def apart(seeker: Seeker, candidate: Candidate) -> float:
    """How far matching may take a candidate to be: exact for an initiative (a public
    place), cell centre to cell centre between two residents."""
    if candidate.kind == "neighbour":
        return haversine_m(
            *cell(seeker.latitude, seeker.longitude),
            *cell(candidate.latitude, candidate.longitude),
        )
    return haversine_m(seeker.latitude, seeker.longitude, candidate.latitude, candidate.longitude)


def allowed(seeker: Seeker, candidate: Candidate, exclusions: Exclusions) -> bool:
    """The hard rules, written out independently of the code under test."""
    distance = apart(seeker, candidate)
    if candidate.kind == "neighbour":
        if candidate.id == seeker.person_id or candidate.id in exclusions.person_ids:
            return False
        if candidate.max_distance_m is not None and distance > candidate.max_distance_m:
            return False
    elif candidate.id in exclusions.initiative_ids:
        return False
    fits = (
        seeker.gifts & candidate.wants
        or seeker.wishes & candidate.offers
        or seeker.gifts & candidate.offers
    )
    return (
        distance <= seeker.max_distance_m
        and candidate.has_room
        and (candidate.free or not seeker.free_only)
        and bool(fits)
    )


def check_suggestion(seeker: Seeker, suggestion: Suggestion, exclusions: Exclusions) -> None:
    candidate, reason = suggestion.candidate, suggestion.reason
    distance = apart(seeker, candidate)
    assert reason.distance_m == round(distance)
    assert distance <= seeker.max_distance_m
    assert reason.distance_m <= seeker.max_distance_m
    if candidate.kind == "neighbour":
        assert candidate.id != seeker.person_id
        assert candidate.id not in exclusions.person_ids
        if candidate.max_distance_m is not None:
            assert distance <= candidate.max_distance_m
    else:
        assert candidate.id not in exclusions.initiative_ids
    assert candidate.has_room
    assert candidate.free or not seeker.free_only
    assert reason.you_can_help or reason.they_offer or reason.shared
    assert set(reason.you_can_help) == seeker.gifts & candidate.wants
    assert set(reason.they_offer) == seeker.wishes & candidate.offers
    assert set(reason.shared) <= seeker.gifts & candidate.offers
    assert not set(reason.shared) & set(reason.you_can_help + reason.they_offer)
    assert suggestion.score > 0 and math.isfinite(suggestion.score)


@pytest.mark.parametrize("seed", range(25))
def test_properties_of_random_worlds(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(20):
        seeker = random_seeker(rng)
        ids = rng.sample(range(1, 41), rng.randint(0, 40))  # unique, so that order is total
        candidates = [replace(random_candidate(rng), id=i) for i in ids]
        exclusions = random_exclusions(rng)
        limit = rng.randint(1, 6)

        for candidate in candidates:
            suggestion = score(seeker, candidate, exclusions)
            assert (suggestion is not None) == allowed(seeker, candidate, exclusions)
            if suggestion is not None:
                check_suggestion(seeker, suggestion, exclusions)

        found = rank(seeker, candidates, exclusions, limit=limit)
        eligible = [c for c in candidates if allowed(seeker, c, exclusions)]
        assert len(found) == min(limit, len(eligible))
        for suggestion in found:
            check_suggestion(seeker, suggestion, exclusions)
        keys = [(-s.score, s.candidate.kind, s.candidate.id) for s in found]
        assert keys == sorted(keys)
        best = sorted(
            (-s.score, s.candidate.kind, s.candidate.id)
            for c in eligible
            if (s := score(seeker, c, exclusions)) is not None
        )
        assert keys == best[:limit]

        shuffled = list(candidates)
        rng.shuffle(shuffled)
        assert rank(seeker, shuffled, exclusions, limit=limit) == found


@pytest.mark.parametrize("seed", range(10))
def test_fairness_never_lifts_a_candidate(seed: int) -> None:
    rng = random.Random(1000 + seed)
    checked = 0
    while checked < 30:
        seeker = random_seeker(rng)
        candidate = replace(random_candidate(rng), recent_introductions=0)
        if not allowed(seeker, candidate, NOTHING):
            continue
        busy = replace(candidate, recent_introductions=rng.randint(1, 20))
        quiet_score = score(seeker, candidate, NOTHING)
        busy_score = score(seeker, busy, NOTHING)
        assert quiet_score is not None and busy_score is not None
        assert busy_score.score < quiet_score.score
        assert busy_score.reason == quiet_score.reason
        checked += 1
