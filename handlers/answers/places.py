"""Where someone lives: a postcode, or a village or town from the shipped postcode list.

`Gazetteer.load()` reads `handlers/data/postcodes.tsv`, the 4-digit postcode centroids
derived from GeoNames (geonames.org, CC BY 4.0), so every Dutch postcode and place name
works from the first start. A place stands for the postcode nearest its middle.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from importlib import resources

import simplemma
from rapidfuzz import fuzz, process

from handlers.answers.words import clean, words

_POSTCODE = re.compile(r"(?<!\d)([1-9]\d{3})\s?(?:[a-zA-Z]{2})?(?!\d)")
_LEADS = ("ik woon in", "woon in", "ik woon", "i live in", "in", "te", "bij", "uit", "from")
_ALIASES = {"den haag": "'s-Gravenhage", "the hague": "'s-Gravenhage", "den bosch":
            "'s-Hertogenbosch"}  # fmt: skip


@dataclass(frozen=True)
class Place:
    """One 4-digit postcode area and its centroid."""

    code: str
    name: str
    municipality: str
    latitude: float
    longitude: float


def _key(name: str) -> str:
    """A place name as it is compared: "'s-Gravendeel" and "s Gravendeel" → "gravendeel"."""
    folded = " ".join(words(name))
    return folded.removeprefix("s ").removeprefix("t ")


class Gazetteer:
    """Postcodes and place names; pure data, read once."""

    def __init__(self, places: list[Place]) -> None:
        self.by_code = {place.code: place for place in places}
        grouped: dict[str, list[Place]] = defaultdict(list)
        for place in places:
            grouped[_key(place.name)].append(place)
        # A municipality named after none of its places ("Hoeksche Waard") stands for its
        # villages: which one is asked (`villages`), its middle may be far from any of them.
        self._villages: dict[str, tuple[str, ...]] = {}
        for place in places:
            town = _key(place.municipality)
            if town and town not in grouped:
                grouped[town].extend(p for p in places if p.municipality == place.municipality)
                counted = Counter(p.name for p in grouped[town])
                if len(counted) > 1:
                    self._villages[town] = tuple(name for name, _ in counted.most_common())
        self.by_name = {key: _middle(found) for key, found in grouped.items() if key}
        self._names = list(self.by_name)

    @classmethod
    def load(cls) -> Gazetteer:
        return _load_packaged()

    @classmethod
    def from_lines(cls, lines: list[str]) -> Gazetteer:
        places = []
        for line in lines:
            if line.startswith("#") or not line.strip():
                continue
            code, name, municipality, latitude, longitude = line.rstrip("\n").split("\t")
            places.append(Place(code, name, municipality, float(latitude), float(longitude)))
        return cls(places)

    def nearest(self, latitude: float, longitude: float) -> Place | None:
        """The postcode whose centroid is nearest, within about 10 km; None elsewhere."""
        scale = math.cos(math.radians(latitude))

        def degrees(place: Place) -> float:
            return math.hypot(place.latitude - latitude, (place.longitude - longitude) * scale)

        best = min(self.by_code.values(), key=degrees, default=None)
        return best if best is not None and degrees(best) < 0.09 else None

    def find(self, name: str) -> Place | None:
        """The place called `name`, typos allowed; None when no name is close enough."""
        key = self._resolve(name)
        return self.by_name[key] if key else None

    def villages(self, name: str) -> tuple[str, ...]:
        """The villages of a municipality that `name` names and no place is called after
        ("Hoeksche Waard": Oud-Beijerland, Strijen, ...), the largest first; else none."""
        key = self._resolve(name)
        return self._villages.get(key, ()) if key else ()

    def _resolve(self, name: str) -> str | None:
        key = _key(_ALIASES.get(" ".join(words(name)), name))
        if not key:
            return None
        if key in self.by_name:
            return key
        if len(key) < 4:
            return None
        best = process.extractOne(key, self._names, scorer=fuzz.ratio, score_cutoff=84)
        return str(best[0]) if best else None


def _middle(places: list[Place]) -> Place:
    """The postcode nearest the middle of a place (the larger place when a name is twice)."""
    by_town: dict[str, list[Place]] = defaultdict(list)
    for place in places:
        by_town[place.municipality].append(place)
    biggest = max(by_town.values(), key=len)
    lat = sum(p.latitude for p in biggest) / len(biggest)
    lon = sum(p.longitude for p in biggest) / len(biggest)
    return min(biggest, key=lambda p: math.hypot(p.latitude - lat, p.longitude - lon))


@functools.cache
def _load_packaged() -> Gazetteer:
    resource = resources.files("handlers").joinpath("data", "postcodes.tsv")
    return Gazetteer.from_lines(resource.read_text(encoding="utf-8").splitlines())


EXAMPLES: tuple[tuple[str, str | None], ...] = (
    ("7607", "7607"),
    ("7607 AB", "7607"),
    ("mijn postcode is 3291", "3291"),
    ("ik woon in almelo", "Almelo"),
    ("Amelo", "Almelo"),
    ("s-Gravendeel", "'s-Gravendeel"),
    ("Oud Beijerland", "Oud-Beijerland"),
    ("Den Haag", "'s-Gravenhage"),
    ("weet ik veel", None),
    ("ik woon in de wijk hasseler es in hengelo", "Hengelo"),
    ("ik woon in almelo bij de markt", "Almelo"),
    ("ik woon in de Hoeksche Waard", None),  # which of its villages is asked
)


def read_postcode(text: str) -> str | None:
    """The 4 digits of a Dutch postcode ("7607", "7607 AB", "7607ab")."""
    match = _POSTCODE.search(clean(text))
    return match.group(1) if match else None


def read_place_name(text: str) -> str:
    """The place name in "ik woon in Strijen": what follows the words before it."""
    said = " ".join(words(text.split(",")[0]))
    for lead in _LEADS:
        if said.startswith(lead + " "):
            return said[len(lead) + 1 :]
    return said


def read_place(text: str, gazetteer: Gazetteer) -> str | None:
    """A postcode, or the name of a place in the list: what the example table shows."""
    code = read_postcode(text)
    if code is not None:
        return code
    if villages_named(text, gazetteer):
        return None  # which village is asked first
    place = find_place(text, gazetteer)
    return place.name if place else None


def find_place(text: str, gazetteer: Gazetteer) -> Place | None:
    """The place a message names: "Strijen", "ik woon in Amelo" (typos allowed), or a name
    inside a longer sentence ("ik woon in almelo bij de markt")."""
    return gazetteer.find(read_place_name(text)) or _named_inside(text, gazetteer)


def villages_named(text: str, gazetteer: Gazetteer) -> tuple[str, ...]:
    """The villages to choose from when the message names a municipality of several
    ("ik woon in de Hoeksche Waard"); none when it names one place."""
    return gazetteer.villages(read_place_name(text))


def _named_inside(text: str, gazetteer: Gazetteer) -> Place | None:
    """A place named anywhere in a sentence: "in het centrum van Almelo" (no typos here).

    When several are named, a name that is no everyday phrase wins over one that is
    ("ik woon in de wijk Hasseler Es in Hengelo": Hengelo, not De Wijk), then the last."""
    said = words(text)
    found: list[tuple[bool, int, Place]] = []
    taken: set[int] = set()
    for size in (3, 2, 1):
        for start in range(len(said) - size + 1):
            span = set(range(start, start + size))
            key = _key(" ".join(said[start : start + size]))
            if len(key) >= 3 and key in gazetteer.by_name and not span & taken:
                taken |= span
                everyday = all(_everyday(word) for word in said[start : start + size])
                found.append((not everyday, start, gazetteer.by_name[key]))
    return max(found, key=lambda item: item[:2])[2] if found else None


@functools.lru_cache(maxsize=4096)
def _everyday(word: str) -> bool:
    return bool(simplemma.is_known(word, lang="nl"))
