"""When someone has time, written as people write it: "'s middags", "na het eten",
"doordeweeks", "dinsdagochtend", "niet in het weekend"."""

from __future__ import annotations

from handlers.answers.words import clauses, has_phrase

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
}  # fmt: skip
# Days of the week and "doordeweeks": not the weekend, but no time of day.
_WEEKDAYS = (
    "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "doordeweeks", "weekdagen",
    "monday", "tuesday", "wednesday", "thursday", "friday", "weekdays", "weekday",
    "maandags", "dinsdags", "woensdags", "donderdags", "vrijdags", "werkdagen",
)  # fmt: skip
_PART_ENDINGS = (("ochtend", "morning"), ("morgen", "morning"), ("middag", "afternoon"),
                 ("avond", "evening"))  # fmt: skip

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
    ("kopje koffie", ()),
)


def _read_clause(said: list[str]) -> tuple[set[str], bool]:
    """The times a clause names, and whether it names a weekday."""
    found: set[str] = set()
    for phrase, keys in _PHRASES:
        if has_phrase(said, phrase):
            found.update(keys)
            size = len(phrase.split())
            for i in range(len(said) - size + 1):
                if said[i : i + size] == phrase.split():
                    said = said[:i] + ["_"] * size + said[i + size :]
    weekday = has_phrase(said, "door de week") or any(w in _WEEKDAYS for w in said)
    for word in said:
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


def read_times(text: str) -> tuple[str, ...]:
    """The times of day meant, in the order of the question; ("any",) for whenever."""
    wanted: set[str] = set()
    unwanted: set[str] = set()
    weekdays_only = False
    for clause in clauses(text):
        found, weekday = _read_clause(list(clause.words))
        if clause.negated and ANY not in found:
            unwanted.update(found)
        else:
            wanted.update(found)
            weekdays_only = weekdays_only or (weekday and "weekend" not in found)
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
