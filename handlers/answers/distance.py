"""How far someone would go: "500 meter", "twee kilometer", "10 minuten lopen", "niet te
ver", "om de hoek", "ik heb een fiets", "ik loop slecht"; "geen auto" is a short way.

A number with a unit wins; "een paar kilometer", "a few miles" count as three. Otherwise
every phrase found gives a distance, also in its dictionary form ("straten" is "straat");
"verder" after a street or a house is a short way ("een paar straten verder"). Readings close
to each other give the nearest (the safer one), readings far apart are asked about.
"""

from __future__ import annotations

import re

from handlers.answers import Either
from handlers.answers.words import clean, digits, has_phrase, lemma, words

WALK_M_PER_MIN = 80
CYCLE_M_PER_MIN = 250
LOWEST, HIGHEST = 100, 50_000

_PHRASES: tuple[tuple[str, int], ...] = (
    ("straat verder", 800), ("huis verder", 400), ("deur verder", 400),
    ("street away", 800), ("house away", 400), ("door away", 400),
    ("niet verder dan de wijk", 2000), ("niet verder dan het dorp", 2000),
    ("niet verder dan de buurt", 800), ("niet te ver", 800), ("niet zo ver", 800),
    ("niet ver", 800), ("not too far", 800), ("not far", 800),
    ("om de hoek", 400), ("straat", 400), ("street", 400), ("naast de deur", 400),
    ("hier vlakbij", 400), ("vlakbij", 400),
    ("loop slecht", 400), ("slecht ter been", 400), ("niet ver lopen", 400),
    ("niet goed lopen", 400), ("rollator", 400), ("around the corner", 400),
    ("slecht lopen", 400), ("moeilijk lopen", 400), ("loop moeilijk", 400),
    ("cant walk far", 400), ("cant walk", 400), ("cannot walk far", 400), ("walk badly", 400),
    ("walking frame", 400), ("zimmer frame", 400), ("next door", 400),
    ("in my street", 400), ("bad legs", 400), ("slechte benen", 400), ("stok", 400),
    ("wandelstok", 400), ("walking stick", 400),
    ("neighbourhood", 800), ("neighborhood", 800), ("mobility scooter", 2000),
    ("wheelchair", 800), ("bicycle", 5000), ("by car", 10_000), ("drive", 10_000),
    ("public transport", 10_000), ("dont mind", 5000), ("maakt me niet uit", 5000),
    ("maakt mij niet uit", 5000), ("maakt niks uit", 5000), ("maakt mij niks uit", 5000),
    ("anywhere", 10_000), ("overal", 10_000), ("omgeving", 2000), ("area", 2000),
    ("dichtbij", 800), ("dicht bij", 800), ("buurt", 800), ("nearby", 800),
    ("te voet", 800), ("lopend", 800), ("lopen", 800), ("walking distance", 800),
    ("wandelafstand", 800), ("walk", 800), ("on foot", 800), ("close", 800),
    ("wijk", 2000), ("dorp", 2000), ("village", 2000), ("district", 2000),
    ("scootmobiel", 2000), ("rolstoel", 800),
    ("fiets", 5000), ("fietsen", 5000), ("fietst", 5000), ("ebike", 5000), ("cycle", 5000),
    ("bike", 5000), ("bus", 5000), ("stad", 5000), ("town", 5000),
    ("verder", 5000), ("ver mag", 5000), ("further", 5000), ("far", 5000),
    ("maakt niet uit", 5000), ("doesnt matter", 5000),
    ("auto", 10_000), ("car", 10_000), ("trein", 10_000), ("openbaar vervoer", 10_000),
)  # fmt: skip
# Transport someone does not have: a short way, unless they name what they do use
# ("geen auto, alleen een fiets" is the bike's distance).
_WITHOUT: tuple[tuple[str, int], ...] = (
    ("geen auto", 800), ("zonder auto", 800), ("geen fiets", 800), ("geen vervoer", 800),
    ("geen rijbewijs", 800), ("kan niet fietsen", 800), ("fiets niet meer", 800),
    ("no car", 800), ("dont have a car", 800), ("dont drive", 800), ("without a car", 800),
    ("no bike", 800), ("cant cycle", 800),
)  # fmt: skip
_LONGEST_FIRST = sorted(_PHRASES + _WITHOUT, key=lambda item: -len(item[0]))
_WITHOUT_PHRASES = frozenset(phrase for phrase, _ in _WITHOUT)
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_KM = re.compile(rf"{_NUMBER}\s*(km|kilometer|kilometers|kilometre|kilometres|kms)\b")
_KM_OR = re.compile(r"\b(?:km|kilometer) of (\d+)\b")  # "een kilometer of twee"
_M = re.compile(rf"{_NUMBER}\s*(m|meter|meters|metres|metre|mtr)\b")
_MILES = re.compile(rf"{_NUMBER}\s*(miles?)\b")
_MINUTES = re.compile(rf"{_NUMBER}\s*(min|mins|minuten|minuutjes|minuut|minutes)\b")
# "een paar kilometer", "a few miles", "enkele km": a few is three.
_FEW = re.compile(
    r"\b(?:(?:1|een|a) paar|paar|a few|few|enkele|a couple of|couple of|wat) "
    r"(km|kms|kilometers?|kilometres?|miles?)\b"
)
# "een paar honderd meter", "a few hundred metres": a few hundred is three hundred.
_FEW_HUNDRED = re.compile(
    r"\b(?:(?:1|een|a) paar|paar|a few|few|enkele|a couple of|couple of|wat) 100\b"
)
_HALF_UNIT = re.compile(
    r"\b(?:(?:1|een) halve?|half an?|half) (km|kilometers?|kilometres?|miles?)\b"
)
_ONE_UNIT = re.compile(r"\b(?:a|an|one|een) (km|kilometers?|kilometres?|miles?)\b")
_QUARTER = re.compile(r"\bkwartier(?:tje)?\b")
_HALF_HOUR = re.compile(r"\bhalf uur(?:tje)?\b|\bhalf an hour\b")

EXAMPLES: tuple[tuple[str, int | Either[int] | None], ...] = (
    ("500 meter", 500),
    ("1,5 km", 1500),
    ("twee kilometer", 2000),
    ("een kilometer of twee", 2000),
    ("10 minuten lopen", 800),
    ("een kwartiertje fietsen", 3750),
    ("niet te ver, ik loop slecht", 400),
    ("niet te ver, in mijn buurt", 800),
    ("om de hoek", 400), ("straat", 400), ("street", 400),
    ("ik heb een fiets", 5000),
    ("niet te ver ik heb geen auto", 800),
    ("I don't have a car", 800),
    ("ik fiets niet meer", 800),
    ("ik heb geen auto, alleen een fiets", 5000),
    ("niet verder dan de wijk", 2000),
    ("om de hoek of met de auto", Either((400, 10_000))),
    ("een paar kilometer", 3000),
    ("twee straten verder", 800),
    ("a few houses away", 400),
    ("een paar honderd meter", 300),
    ("I can't walk far", 400),
    ("not more than a kilometre", 1000),
    ("een halve kilometer", 500),
    ("half a mile", 805),
    ("koffie", None),
)


def _number(written: str) -> float:
    if re.fullmatch(r"\d{1,3}\.\d{3}", written):
        written = written.replace(".", "")  # "1.000 meter": a Dutch thousands point
    return float(written.replace(",", "."))


def _measured(text: str) -> int | None:
    """A distance given as a number: kilometres, metres, miles or minutes of travel."""
    if match := _KM_OR.search(text):
        return int(match.group(1)) * 1000
    if match := _FEW.search(text):
        return 3 * (1609 if match.group(1).startswith("mile") else 1000)
    if _FEW_HUNDRED.search(text):
        return 300
    if match := _HALF_UNIT.search(text):  # "een halve kilometer", "half a mile"
        return 805 if match.group(1).startswith("mile") else 500
    if match := _ONE_UNIT.search(text):  # "not more than a kilometre", "a mile"
        return 1609 if match.group(1).startswith("mile") else 1000
    if match := _KM.search(text):
        return round(_number(match.group(1)) * 1000)
    if match := _M.search(text):
        return round(_number(match.group(1)))
    if match := _MILES.search(text):
        return round(_number(match.group(1)) * 1609)
    minutes = None
    if match := _MINUTES.search(text):
        minutes = _number(match.group(1))
    elif _QUARTER.search(text):
        minutes = 15
    elif _HALF_HOUR.search(text):
        minutes = 30
    if minutes is None:
        return None
    cycling = any(w in text for w in ("fiets", "cycl", "bike", "scootmobiel"))
    return round(minutes * (CYCLE_M_PER_MIN if cycling else WALK_M_PER_MIN))


_KNOWN = frozenset(word for phrase, _ in _PHRASES + _WITHOUT for word in phrase.split())


def _base(word: str) -> str:
    """The word as the phrases hold it: as written, or its dictionary form if that is there."""
    if word in _KNOWN:
        return word
    for lang in ("nl", "en"):
        if (form := lemma(word, lang)) in _KNOWN:
            return form
    return word


def read_distance(text: str) -> int | Either[int] | None:
    """Metres (kept within 100 m and 50 km), or the readings to ask about, or None."""
    written = digits(clean(text).replace("'", "")).lower()
    measured = _measured(written)
    if measured is not None:
        return min(max(measured, LOWEST), HIGHEST)
    said = [_base(word) for word in words(written)]
    joined = " ".join(said)
    found: list[int] = []
    without: list[int] = []
    for phrase, metres in _LONGEST_FIRST:
        if has_phrase(said, phrase):
            (without if phrase in _WITHOUT_PHRASES else found).append(metres)
            joined = joined.replace(phrase, "_")
            said = joined.split()
    found = found or without
    if not found:
        return None
    nearest, farthest = min(found), max(found)
    if farthest <= 2.5 * nearest:
        return nearest
    return Either((nearest, farthest))
