"""Matching: which initiatives and neighbours suit a resident, and why. Pure code, no I/O.

A *seeker* is the resident asking; a *candidate* (`storage.records.Candidate`) is an
initiative or a neighbour near them. `score` either rejects a candidate or returns a
`Suggestion` with a score and a `Reason` the bot can put into words; `rank` keeps the best.

Hard rules (a candidate failing one is never suggested):

* never the seeker themself, and never anyone or anything in their `Exclusions` (already
  introduced in any status, dismissed with "not for me", blocked in either direction);
* never further away than the seeker wants to go (`max_distance_m`, 2 km when unset), and
  never a neighbour further away than *that neighbour* wants to go;
* never an initiative without room (full for now);
* never a paid initiative for someone who asked for free activities only;
* never without a reason: at least one tag must meet. The seeker can help (their gifts meet
  what the candidate wants), the candidate offers what the seeker wishes, or both share an
  interest (the seeker's gifts meet what the candidate offers).

Weights (all in `Weights`; the module constant `WEIGHTS` holds the ones in use):

* fit in both directions: `help_fit` for the gifts the candidate wants, `receive_fit` for the
  wishes the candidate offers, `shared` for shared interests. Each list counts with
  diminishing returns: the first tag adds half its weight, every next tag half of what is
  left (1 - 0.5**n), so one good reason matters most and a long list cannot dominate.
* nearness: `distance` times exp(-d / `distance_scale_m`): next door scores it in full, at
  800 m about a third of it.
* times: `times` in full when some time of day fits both ("any" fits every time), nothing
  when none does, half when either side gave no times (unknown is neutral). It weighs about
  as much as being next door, so that someone who has time in the morning is offered
  morning things first.
* group preference: `group` in full when preferences fit, half when unknown, nothing when
  they clash: someone who wants one-to-one is offered neighbours before group activities.
  For a neighbour (met one to one) the two preferences fit when they are equal or either
  is "both"; an initiative is a group, which fits "group" and "both".
* fairness: the sum above is divided by 1 + `fairness` * log(1 + recent introductions), so
  that people and initiatives introduced often lately make room for others.

Where neighbours live stays private. An initiative is a public place and keeps its exact
distance. Between two residents every decision — in range or not, the score, and the words
("in je buurt", "ongeveer 2 km") — is taken on the centres of the ~1 km grid cells they
live in (`neighbour_distance_m`), never on their own points: moving one's pin over a grid
and asking again teaches nothing finer than the other's cell, whose size is the band's.

`rank` orders by score, best first, ties broken by (kind, id), so the same input always
gives the same suggestions.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass

from handlers.flow import TIMES
from storage.records import Candidate, Exclusions, Person

__all__ = [
    "DEFAULT_MAX_DISTANCE_M",
    "INITIATIVE",
    "NEIGHBOUR",
    "WEIGHTS",
    "Reason",
    "Seeker",
    "Suggestion",
    "Weights",
    "distance_band",
    "haversine_m",
    "neighbour_distance_m",
    "rank",
    "score",
    "seeker_from",
]

INITIATIVE = "initiative"
NEIGHBOUR = "neighbour"
DEFAULT_MAX_DISTANCE_M = 2000
EARTH_RADIUS_M = 6_371_008.8
ANY_TIME = "any"

_TIME_ORDER = {choice.key: index for index, choice in enumerate(TIMES)}

# The grid cells that hide where a neighbour lives: 0.01° of latitude by 0.016° of
# longitude, about 1.1 km by 1.1 km in the Netherlands. `CELL_DIAGONAL_M` bounds how far a
# point is from its cell's centre (storage pads its neighbour pre-filter by it).
CELL_LAT_DEG = 0.01
CELL_LON_DEG = 0.016
CELL_DIAGONAL_M = 1600

# Distance bands between residents, on cell centres: (up to metres, band key).
BANDS: tuple[tuple[float, str], ...] = (
    (1_600.0, "near"),  # the same cell or one next to it
    (2_600.0, "2km"),
    (3_600.0, "3km"),
    (5_600.0, "5km"),
    (math.inf, "far"),
)


@dataclass(frozen=True)
class Weights:
    """Every weight of the score in one place; see the module docstring."""

    help_fit: float = 3.0  # the seeker's gifts meet what the candidate wants
    receive_fit: float = 3.0  # the seeker's wishes meet what the candidate offers
    shared: float = 1.5  # the seeker's gifts meet what the candidate offers
    distance: float = 2.0  # nearness, in full next door
    distance_scale_m: float = 800.0  # nearness decays as exp(-d / scale)
    times: float = 2.0  # some time of day fits both
    group: float = 1.5  # one-to-one or group preferences fit
    fairness: float = 0.5  # divide by 1 + fairness * log(1 + recent introductions)


WEIGHTS = Weights()


@dataclass(frozen=True)
class Seeker:
    """The resident asking for suggestions, as matching needs them."""

    person_id: int
    latitude: float
    longitude: float
    max_distance_m: int
    gifts: frozenset[str]
    wishes: frozenset[str]
    times: frozenset[str]
    group_pref: str | None
    free_only: bool


@dataclass(frozen=True)
class Reason:
    """Why a candidate suits the seeker; tags are sorted, times in the order of the intake."""

    distance_m: int
    you_can_help: tuple[str, ...]  # the seeker's gifts that the candidate wants
    they_offer: tuple[str, ...]  # the seeker's wishes that the candidate offers
    shared: tuple[str, ...]  # the seeker's gifts that the candidate offers too (not above)
    common_times: tuple[str, ...]
    group: str | None = None  # "one" or "group": the seeker's own wish, and it fits

    @property
    def tags(self) -> tuple[str, ...]:
        """Every tag named in the reason; never empty for a suggestion."""
        return self.you_can_help + self.they_offer + self.shared


@dataclass(frozen=True)
class Suggestion:
    candidate: Candidate
    score: float
    reason: Reason


def seeker_from(person: Person) -> Seeker | None:
    """The person as a seeker; None when we do not know where they live."""
    if person.latitude is None or person.longitude is None:
        return None
    return Seeker(
        person_id=person.id,
        latitude=person.latitude,
        longitude=person.longitude,
        max_distance_m=(
            DEFAULT_MAX_DISTANCE_M if person.max_distance_m is None else person.max_distance_m
        ),
        gifts=frozenset(person.gifts),
        wishes=frozenset(person.wishes),
        times=frozenset(person.times),
        group_pref=person.group_pref,
        free_only=bool(person.free_only),
    )


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def cell_centre(latitude: float, longitude: float) -> tuple[float, float]:
    """The centre of the grid cell a point lies in."""
    return (
        (math.floor(latitude / CELL_LAT_DEG) + 0.5) * CELL_LAT_DEG,
        (math.floor(longitude / CELL_LON_DEG) + 0.5) * CELL_LON_DEG,
    )


def neighbour_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The distance between two residents as matching may use it: cell centre to centre."""
    return haversine_m(*cell_centre(lat1, lon1), *cell_centre(lat2, lon2))


def distance_band(metres: float) -> str:
    """The band a distance between two residents falls in: "near", "2km", ..., "far"."""
    return next(key for limit, key in BANDS if metres <= limit)


def _distance(seeker: Seeker, candidate: Candidate) -> float:
    if candidate.kind == NEIGHBOUR:
        return neighbour_distance_m(
            seeker.latitude, seeker.longitude, candidate.latitude, candidate.longitude
        )
    return haversine_m(seeker.latitude, seeker.longitude, candidate.latitude, candidate.longitude)


def _excluded(seeker: Seeker, candidate: Candidate, exclusions: Exclusions) -> bool:
    if candidate.kind == NEIGHBOUR:
        return candidate.id == seeker.person_id or candidate.id in exclusions.person_ids
    if candidate.kind == INITIATIVE:
        return candidate.id in exclusions.initiative_ids
    raise ValueError(f"unknown candidate kind {candidate.kind!r}")


def _time_key(time: str) -> tuple[int, str]:
    return _TIME_ORDER.get(time, len(_TIME_ORDER)), time


def _common_times(mine: frozenset[str], theirs: frozenset[str]) -> tuple[str, ...]:
    """The times that suit both; "any" on one side means every time of the other side."""
    if not mine or not theirs:
        return ()
    if ANY_TIME in mine and ANY_TIME in theirs:
        return (ANY_TIME,)
    if ANY_TIME in mine:
        common = theirs
    elif ANY_TIME in theirs:
        common = mine
    else:
        common = mine & theirs
    return tuple(sorted(common, key=_time_key))


def _group_fit(seeker_pref: str | None, candidate: Candidate) -> float:
    if candidate.kind == INITIATIVE:
        if seeker_pref is None:
            return 0.5
        return 1.0 if seeker_pref in ("group", "both") else 0.0
    theirs = candidate.group_pref
    if seeker_pref is None or theirs is None:
        return 0.5
    return 1.0 if seeker_pref == theirs or "both" in (seeker_pref, theirs) else 0.0


def _diminishing(count: int) -> float:
    return 1.0 - 0.5**count


def score(
    seeker: Seeker,
    candidate: Candidate,
    exclusions: Exclusions,
    weights: Weights = WEIGHTS,
) -> Suggestion | None:
    """The candidate as a suggestion for the seeker, or None when a hard rule forbids it."""
    if _excluded(seeker, candidate, exclusions) or not candidate.has_room:
        return None
    if seeker.free_only and not candidate.free:
        return None
    distance = _distance(seeker, candidate)
    if distance > seeker.max_distance_m:
        return None
    if (
        candidate.kind == NEIGHBOUR
        and candidate.max_distance_m is not None
        and distance > candidate.max_distance_m
    ):
        return None
    you_can_help = seeker.gifts & candidate.wants
    they_offer = seeker.wishes & candidate.offers
    shared = (seeker.gifts & candidate.offers) - you_can_help - they_offer
    if not (you_can_help or they_offer or shared):
        return None

    common_times = _common_times(seeker.times, candidate.times)
    group_fit = _group_fit(seeker.group_pref, candidate)
    known_times = bool(seeker.times and candidate.times)
    time_fit = (1.0 if common_times else 0.0) if known_times else 0.5
    total = (
        weights.help_fit * _diminishing(len(you_can_help))
        + weights.receive_fit * _diminishing(len(they_offer))
        + weights.shared * _diminishing(len(shared))
        + weights.distance * math.exp(-distance / weights.distance_scale_m)
        + weights.times * time_fit
        + weights.group * group_fit
    )
    total /= 1.0 + weights.fairness * math.log1p(max(0, candidate.recent_introductions))
    reason = Reason(
        distance_m=round(distance),
        you_can_help=tuple(sorted(you_can_help)),
        they_offer=tuple(sorted(they_offer)),
        shared=tuple(sorted(shared)),
        common_times=common_times,
        group=seeker.group_pref if seeker.group_pref in ("one", "group") and group_fit else None,
    )
    return Suggestion(candidate=candidate, score=total, reason=reason)


def _order(suggestion: Suggestion) -> tuple[float, str, int]:
    return -suggestion.score, suggestion.candidate.kind, suggestion.candidate.id


def rank(
    seeker: Seeker,
    candidates: Iterable[Candidate],
    exclusions: Exclusions,
    *,
    limit: int = 3,
    weights: Weights = WEIGHTS,
) -> list[Suggestion]:
    """The best `limit` suggestions, best first; equal scores in the order of (kind, id)."""
    if limit <= 0:
        return []
    suggestions = (score(seeker, candidate, exclusions, weights) for candidate in candidates)
    return heapq.nsmallest(limit, (s for s in suggestions if s is not None), key=_order)
