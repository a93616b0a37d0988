"""When someone has time, written as people write it: "'s middags", "na het eten",
"doordeweeks", "dinsdagochtend", "niet in het weekend".

Also read in general ways: the hour of the clock ("na twaalven", "na 2 uur", "voor tienen",
"after six"), "maakt me niks uit" in any form, and a slip in a word of time ("ochtent",
"savons") when the word is no other Dutch or English word (simplemma knows which are).

Days are kept as the closest meaning the profile can hold: "op dinsdag" is not the
weekend, "zaterdagochtend" is the weekend. The reply says back what was noted.
"""

from __future__ import annotations

import functools
import re

import simplemma
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from handlers.answers.words import clauses, digits, has_phrase

DAY_PARTS = ("morning", "afternoon", "evening")
ALL = ("morning", "afternoon", "evening", "weekend")
ANY = "any"

# Phrases first (longest first), so that "na de middag" is not also "middag".
_PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("voor de middag", ("morning",)), ("voor de lunch", ("morning",)),
    ("na de middag", ("afternoon",)), ("na de lunch", ("afternoon",)),
    ("na het middageten", ("afternoon",)), ("na het eten", ("evening",)),
    ("na het avondeten", ("evening",)), ("na het journaal", ("evening",)),
    ("hele dag", ("morning", "afternoon")), ("de hele dag", ("morning", "afternoon")),
    ("door de week", ()), ("in the morning", ("morning",)),
    ("in the afternoon", ("afternoon",)), ("in the evening", ("evening",)),
    ("maakt niet uit", (ANY,)), ("maakt me niet uit", (ANY,)), ("maakt mij niet uit", (ANY,)),
    ("wanneer je wilt", (ANY,)), ("wanneer dan ook", (ANY,)), ("elk moment", (ANY,)),
    ("any time", (ANY,)), ("doesnt matter", (ANY,)), ("kan altijd", (ANY,)),
    ("wanneer het uitkomt", (ANY,)), ("als het uitkomt", (ANY,)), ("most days", (ANY,)),
    ("alle dagen", (ANY,)), ("elke dag", (ANY,)), ("iedere dag", (ANY,)), ("de hele week", (ANY,)),
    ("every day", (ANY,)), ("any day", (ANY,)), ("all week", (ANY,)),
    ("all day", ("morning", "afternoon")), ("the whole day", ("morning", "afternoon")),
    ("before lunch", ("morning",)), ("after lunch", ("afternoon",)),
    ("after dinner", ("evening",)), ("after supper", ("evening",)), ("after tea", ("evening",)),
    ("in de namiddag", ("afternoon",)),
    ("in de voormiddag", ("morning",)), ("at night", ("evening",)),
)  # fmt: skip
_WORDS: dict[str, tuple[str, ...]] = {
    "ochtend": ("morning",), "ochtends": ("morning",), "sochtends": ("morning",),
    "morgen": ("morning",), "morgens": ("morning",), "smorgens": ("morning",),
    "voormiddag": ("morning",), "ochtendje": ("morning",), "morning": ("morning",),
    "mornings": ("morning",), "middag": ("afternoon",), "middags": ("afternoon",),
    "smiddags": ("afternoon",), "namiddag": ("afternoon",), "afternoon": ("afternoon",),
    "afternoons": ("afternoon",), "avond": ("evening",), "avonds": ("evening",),
    "savonds": ("evening",), "avondje": ("evening",), "evening": ("evening",),
    "evenings": ("evening",), "night": ("evening",), "nights": ("evening",),
    "weekend": ("weekend",), "weekenden": ("weekend",), "weekends": ("weekend",),
    "zaterdag": ("weekend",), "zaterdags": ("weekend",), "zondag": ("weekend",),
    "zondags": ("weekend",), "saturday": ("weekend",), "sunday": ("weekend",),
    "saturdays": ("weekend",), "sundays": ("weekend",),
    "overdag": ("morning", "afternoon"), "daytime": ("morning", "afternoon"),
    "altijd": (ANY,), "anytime": (ANY,), "whenever": (ANY,), "always": (ANY,),
    "flexibel": (ANY,), "flexible": (ANY,), "ochtenden": ("morning",),
    "middagen": ("afternoon",), "avonden": ("evening",), "lunchtime": ("afternoon",),
}  # fmt: skip
# Days of the week and "doordeweeks": not the weekend, but no time of day.
_WEEKDAYS = (
    "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "doordeweeks", "weekdagen",
    "monday", "tuesday", "wednesday", "thursday", "friday", "weekdays", "weekday",
    "maandags", "dinsdags", "woensdags", "donderdags", "vrijdags", "werkdagen",
)  # fmt: skip
_PART_ENDINGS = (("ochtend", "morning"), ("morgen", "morning"), ("middag", "afternoon"),
                 ("avond", "evening"))  # fmt: skip

# "om tienen", "na twaalven", "na tweeën": the hour in its spoken form.
_SPOKEN_HOURS = {
    "eenen": 1, "tweeen": 2, "drieen": 3, "vieren": 4, "vijven": 5, "zessen": 6, "zevenen": 7,
    "achten": 8, "negenen": 9, "tienen": 10, "elven": 11, "twaalven": 12,
}  # fmt: skip
_HOUR = re.compile(
    r"\b(na|after|vanaf|from|voor|before|tot|until|om|at|rond|around|tussen|between)"
    r" (\d{1,2})(?:[.:]\d\d)?"
    r"(?: ?uur| ?u\b| ?h\b| ?o ?clock| ?am| ?pm)?"
)
_LATER = ("na", "after", "vanaf", "from")
_EARLIER = ("voor", "before", "tot", "until")
# "maakt me niks uit", "boeit me niet", "I don't mind": whenever.
_NO_MATTER = (("maakt", "uit"), ("boeit",), ("mind",), ("matter",), ("preference",))
_NO_MATTER_NEGATIONS = frozenset({"niet", "niks", "niets", "geen", "weinig", "not", "dont", "no",
                                  "doesnt", "nie"})  # fmt: skip

EXAMPLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("'s ochtends", ("morning",)),
    ("smiddags", ("afternoon",)),
    ("na de middag", ("afternoon",)),
    ("na het eten", ("evening",)),
    ("doordeweeks", DAY_PARTS),
    ("dinsdagochtend", ("morning",)),
    ("niet in het weekend", DAY_PARTS),
    ("liever niet 's avonds", ("morning", "afternoon", "weekend")),
    ("'s ochtends, maar niet in het weekend", ("morning",)),
    ("evenings and weekends", ("evening", "weekend")),
    ("maakt niet uit", (ANY,)),
    ("maakt mij echt niks uit", (ANY,)),
    ("na tweeën", ("afternoon",)),
    ("niet voor 10 uur", ("afternoon", "evening", "weekend")),
    ("after 7 pm", ("evening",)),
    ("savonts", ("evening",)),
    ("ik moet zorgen voor mijn man", ()),
    ("op dinsdag", DAY_PARTS),
    ("alle dagen", (ANY,)),
    ("after lunch", ("afternoon",)),
    ("evenings after 7", ("evening",)),
    ("alleen door de week", DAY_PARTS),
    ("tussen 10 en 12", ("morning",)),
    ("any day except sunday", DAY_PARTS),
    ("dinsdag en zaterdag", ALL),
    ("kopje koffie", ()),
)


def _part_of_day(hour: int, *, pm: bool = False) -> str | None:
    """The part of the day an hour falls in; "2 uur" is 14:00, nobody means the night."""
    if pm and hour < 12:
        hour += 12
    if 1 <= hour <= 5:
        hour += 12
    if 6 <= hour < 12:
        return "morning"
    if 12 <= hour < 18:
        return "afternoon"
    if 18 <= hour <= 23:
        return "evening"
    return None


def _clock(text: str) -> tuple[set[str], set[str]]:
    """The parts of the day an hour says, and those it rules out ("na 12" rules out the
    morning; "voor 10 uur" is the morning)."""
    said = " ".join(str(_SPOKEN_HOURS.get(word, word)) for word in text.split())
    found: set[str] = set()
    ruled_out: set[str] = set()
    evening = any(word in said for word in ("avond", "evening", "night"))  # "evenings after 7"
    for match in _HOUR.finditer(digits(said)):
        word, hour = match.group(1), int(match.group(2))
        part = _part_of_day(hour, pm=match.group(0).endswith("pm") or evening)
        if part is None:
            continue
        order = list(DAY_PARTS)
        if word in _LATER:
            found.add(part)
            ruled_out.update(order[: order.index(part)])
        elif word in _EARLIER:
            earlier = order[: order.index(part)] or [part]
            found.update(earlier)
        else:
            found.add(part)
    return found, ruled_out


@functools.lru_cache(maxsize=2048)
def _slip(word: str) -> str | None:
    """A word of time with a typing slip ("ochtent", "savons"), when it is no other word."""
    if len(word) < 5 or word in _WORDS:
        return None
    if simplemma.is_known(word, lang="nl") or simplemma.is_known(word, lang="en"):
        return None
    allowed = 1 if len(word) < 8 else 2
    best = process.extractOne(
        word, list(_WORDS), scorer=Levenshtein.distance, score_cutoff=allowed
    )
    return str(best[0]) if best is not None else None


def _no_matter(said: list[str]) -> bool:
    """ "maakt me niks uit", "boeit niet", "I don't mind", "no preference"."""
    if not _NO_MATTER_NEGATIONS & set(said):
        return False
    return any(all(word in said for word in words) for words in _NO_MATTER)


def _read_clause(said: list[str]) -> tuple[set[str], bool]:
    """The times a clause names, and whether it names a weekday."""
    found: set[str] = set()
    weekday = has_phrase(said, "door de week")  # before the phrases blank it out
    for phrase, keys in _PHRASES:
        if has_phrase(said, phrase):
            found.update(keys)
            size = len(phrase.split())
            for i in range(len(said) - size + 1):
                if said[i : i + size] == phrase.split():
                    said = said[:i] + ["_"] * size + said[i + size :]
    if _no_matter(said):
        found.add(ANY)
    weekday = weekday or any(w in _WEEKDAYS for w in said)
    for word in said:
        word = _slip(word) or word
        if word in _WORDS:
            found.update(_WORDS[word])
            continue
        for ending, key in _PART_ENDINGS:
            if word.endswith(ending) and any(word.startswith(d) for d in _WEEKDAYS):
                found.add(key)
                weekday = True
            elif word.endswith(ending + "s") and word[: -len(ending) - 1] in ("zaterdag", "zondag"):
                found.add("weekend")
        if word.startswith(("zaterdag", "zondag")) and word not in _WORDS:
            found.add("weekend")
    return found, weekday


_DAYS = (
    ("monday", ("maandag", "monday")), ("tuesday", ("dinsdag", "tuesday")),
    ("wednesday", ("woensdag", "wednesday")), ("thursday", ("donderdag", "thursday")),
    ("friday", ("vrijdag", "friday")), ("saturday", ("zaterdag", "saturday")),
    ("sunday", ("zondag", "sunday")),
)  # fmt: skip
WEEKEND_DAYS = ("saturday", "sunday")


def named_days(text: str) -> tuple[str, ...]:
    """The days of the week someone named as days they have time ("op dinsdag",
    "maandagochtend"), in week order. The profile keeps parts of the day and the weekend,
    not single days: the reply says so, and what it noted instead."""
    named: set[str] = set()
    for clause in clauses(text):
        if clause.negated:
            continue
        for word in clause.words:
            for day, forms in _DAYS:
                if word.startswith(forms):
                    named.add(day)
    return tuple(day for day, _ in _DAYS if day in named)


def read_times(text: str) -> tuple[str, ...]:
    """The times of day meant, in the order of the question; ("any",) for whenever."""
    wanted: set[str] = set()
    unwanted: set[str] = set()
    weekdays_only = False
    for clause in clauses(text):
        found, weekday = _read_clause(list(clause.words))
        hours, ruled_out = _clock(clause.text)
        if clause.negated and ANY not in found:
            unwanted.update(found | hours)
            wanted.update(ruled_out)  # "niet voor 10 uur": later is fine
        else:
            wanted.update(found | hours)
            unwanted.update(ruled_out - found)
            weekdays_only = weekdays_only or (weekday and "weekend" not in found)
            if weekday and "weekend" in found and not (found | hours) & set(DAY_PARTS):
                wanted.update(DAY_PARTS)  # "dinsdag en zaterdag": any time on those days
    if ANY in wanted and not (wanted - {ANY}) and not unwanted:
        return (ANY,)
    wanted.discard(ANY)
    if weekdays_only:
        unwanted.add("weekend")
        if not wanted & set(DAY_PARTS):
            wanted.update(DAY_PARTS)
    if unwanted and not wanted:
        wanted = set(ALL)
    return tuple(key for key in ALL if key in wanted and key not in unwanted)
