"""The seeded synthetic data set of the matching benchmark (`python -m bot bench matching`).

Residents with completed profiles and approved initiatives, spread uniformly over the given
postcodes (each point jittered by about 300 m around its centroid), plus introductions,
dismissals and blocks, mostly between people of one postcode, so that exclusions and fairness
have work to do. The same seed, postcodes and ids give the same rows; `storage.synthetic`
writes them.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from handlers.flow import DISTANCES, GROUP, TIMES
from handlers.taxonomy import Taxonomy
from storage.records import Postcode
from storage.synthetic import (
    INITIATIVE_MARK,
    PERSON_MARK,
    IdRanges,
    SyntheticBlock,
    SyntheticDismissal,
    SyntheticInitiative,
    SyntheticIntroduction,
    SyntheticPerson,
    SyntheticSet,
)

JITTER_M = 300.0
METRES_PER_DEGREE = 111_195.0
INTRODUCTION_STATUSES = (
    ("requested", 0.3),
    ("accepted", 0.4),
    ("declined", 0.15),
    ("expired", 0.15),
)


def generate(
    seed: int, postcodes: Sequence[Postcode], now: datetime, ids: IdRanges
) -> SyntheticSet:
    """The data set: one resident per id in `ids.people`, one initiative per id in
    `ids.initiatives`, and links between them; all times up to `now`."""
    generator = _Generator(seed, postcodes, now)
    residents = generator.residents(ids.people.start, len(ids.people))
    initiatives = generator.initiatives(ids.initiatives.start, len(ids.initiatives))
    introductions, dismissals, blocks = generator.links(residents, initiatives)
    return SyntheticSet(ids, residents, initiatives, introductions, dismissals, blocks)


class _Generator:
    """Seeded rows for residents, initiatives, introductions, dismissals and blocks."""

    def __init__(self, seed: int, postcodes: Sequence[Postcode], now: datetime) -> None:
        self.rng = random.Random(seed)
        self.postcodes = list(postcodes)
        self.now = now
        taxonomy = Taxonomy.load()
        self.gift_tags = [tag.id for tag in taxonomy.for_kind("gift")]
        self.wish_tags = [tag.id for tag in taxonomy.for_kind("wish")]
        self.day_times = [c.key for c in TIMES if c.key != "any"]
        self.distances = [int(c.stored) for c in DISTANCES]
        self.groups = [c.key for c in GROUP]

    def _place(self) -> tuple[Postcode, float, float]:
        rng = self.rng
        postcode = rng.choice(self.postcodes)
        latitude = postcode.latitude + rng.gauss(0.0, JITTER_M) / METRES_PER_DEGREE
        scale = METRES_PER_DEGREE * math.cos(math.radians(postcode.latitude))
        longitude = postcode.longitude + rng.gauss(0.0, JITTER_M) / scale
        return postcode, round(latitude, 6), round(longitude, 6)

    def _times(self) -> list[str]:
        if self.rng.random() < 0.25:
            return ["any"]
        chosen = set(self.rng.sample(self.day_times, self.rng.randint(1, 3)))
        return [key for key in self.day_times if key in chosen]

    def _ago(self, days: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(0.0, days))

    def residents(self, first_id: int, count: int) -> list[SyntheticPerson]:
        rng = self.rng
        rows: list[SyntheticPerson] = []
        for number in range(count):
            postcode, latitude, longitude = self._place()
            done = self._ago(365)
            rows.append(
                {
                    "id": first_id + number,
                    "role": "resident",
                    "language": "nl" if rng.random() < 0.85 else "en",
                    "first_name": f"{PERSON_MARK}{number + 1}",
                    "postcode": postcode.code,
                    "area_name": postcode.place,
                    "latitude": latitude,
                    "longitude": longitude,
                    "gifts": rng.sample(self.gift_tags, rng.randint(1, 4)),
                    "wishes": rng.sample(self.wish_tags, rng.randint(1, 3)),
                    "times": self._times(),
                    "max_distance_m": rng.choice(self.distances),
                    "group_pref": rng.choice(self.groups),
                    "free_only": rng.random() < 0.4,
                    "intake_done_at": done,
                    "reachable": rng.random() >= 0.02,
                    "suggestions_paused": rng.random() < 0.03,
                    # about half say neighbours may hear about them
                    "neighbour_visible": rng.random() < 0.5,
                    "organisation_id": None,
                    "created_at": done - timedelta(minutes=10),
                }
            )
        return rows

    def initiatives(self, first_id: int, count: int) -> list[SyntheticInitiative]:
        rng = self.rng
        rows: list[SyntheticInitiative] = []
        for number in range(count):
            postcode, latitude, longitude = self._place()
            created = self._ago(720)
            rows.append(
                {
                    "id": first_id + number,
                    "organisation_id": None,
                    "title": f"{INITIATIVE_MARK}{number + 1}",
                    "description": "",
                    "offers": rng.sample(self.wish_tags, rng.randint(1, 3)),
                    "needs": rng.sample(self.gift_tags, rng.randint(0, 2)),
                    "postcode": postcode.code,
                    "place_name": postcode.place,
                    "latitude": latitude,
                    "longitude": longitude,
                    "times": self._times(),
                    "free": rng.random() < 0.7,
                    "wheelchair": rng.random() < 0.5,
                    "capacity": rng.randint(2, 15),
                    "status": "approved",
                    "created_at": created,
                    "updated_at": created,
                }
            )
        return rows

    def links(
        self,
        residents: Sequence[SyntheticPerson],
        initiatives: Sequence[SyntheticInitiative],
    ) -> tuple[list[SyntheticIntroduction], list[SyntheticDismissal], list[SyntheticBlock]]:
        """Introductions, dismissals and blocks, mostly between people of one postcode."""
        rng = self.rng
        people_at: dict[str, list[int]] = defaultdict(list)
        initiatives_at: dict[str, list[int]] = defaultdict(list)
        for resident in residents:
            people_at[resident["postcode"]].append(resident["id"])
        for initiative in initiatives:
            initiatives_at[initiative["postcode"]].append(initiative["id"])
        people: list[int] = [row["id"] for row in residents]
        postcode_of: dict[int, str] = {row["id"]: row["postcode"] for row in residents}
        all_initiatives: list[int] = [row["id"] for row in initiatives]
        statuses = [s for s, _ in INTRODUCTION_STATUSES]
        weights = [w for _, w in INTRODUCTION_STATUSES]

        def near_person(person: int) -> int:
            local = people_at[postcode_of[person]]
            other = rng.choice(local if len(local) > 1 else people)
            return other if other != person else rng.choice(people)

        def near_initiative(person: int) -> int | None:
            local = initiatives_at.get(postcode_of[person]) or all_initiatives
            return rng.choice(local) if local else None

        introductions: list[SyntheticIntroduction] = []
        seen: set[tuple[int, str, int]] = set()
        for _ in range(len(residents) // 5):
            requester = rng.choice(people)
            to_initiative = rng.random() < 0.6
            target = near_initiative(requester) if to_initiative else near_person(requester)
            if target is None or target == requester:
                continue
            key = (requester, "i" if to_initiative else "p", target)
            if key in seen:
                continue
            seen.add(key)
            status = rng.choices(statuses, weights)[0]
            created = self._ago(60)
            introductions.append(
                {
                    "requester_id": requester,
                    "initiative_id": target if to_initiative else None,
                    "neighbour_id": None if to_initiative else target,
                    "status": status,
                    "reason": "",
                    "relay_open": False,
                    "created_at": created,
                    "answered_at": None if status == "requested" else created,
                }
            )
        dismissals: list[SyntheticDismissal] = []
        for _ in range(len(residents) // 50):
            person = rng.choice(people)
            to_initiative = rng.random() < 0.5
            target = near_initiative(person) if to_initiative else near_person(person)
            if target is None or target == person:
                continue
            dismissals.append(
                {
                    "person_id": person,
                    "initiative_id": target if to_initiative else None,
                    "neighbour_id": None if to_initiative else target,
                    "created_at": self._ago(90),
                }
            )
        blocks: list[SyntheticBlock] = []
        blocked: set[tuple[int, int]] = set()
        for _ in range(len(residents) // 100):
            person = rng.choice(people)
            other = near_person(person)
            if other == person or (person, other) in blocked:
                continue
            blocked.add((person, other))
            blocks.append({"person_id": person, "blocked_id": other, "created_at": self._ago(90)})
        return introductions, dismissals, blocks
