"""Suggestions for one resident: storage finds who is near, `handlers.matching` decides.

`find_suggestions` is the one path to suggestions, for the chat and for the benchmark
(`python -m bot bench matching`) alike.
"""

from __future__ import annotations

from datetime import datetime

from handlers.matching import WEIGHTS, Suggestion, Weights, rank, seeker_from
from storage.records import Person
from storage.store import Store


async def find_suggestions(
    store: Store,
    person: Person,
    *,
    now: datetime,
    limit: int = 3,
    weights: Weights = WEIGHTS,
) -> list[Suggestion]:
    """The best `limit` suggestions for `person`, best first; none without a location."""
    seeker = seeker_from(person)
    if seeker is None or limit <= 0:
        return []
    candidates, exclusions = await store.list_match_candidates(
        person.id,
        latitude=seeker.latitude,
        longitude=seeker.longitude,
        radius_m=seeker.max_distance_m,
        now=now,
    )
    return rank(seeker, candidates, exclusions, limit=limit, weights=weights)
