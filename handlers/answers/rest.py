"""Leaving the remaining questions to us, in words: "de rest maakt me niet uit", "verder
maakt het niet uit", "I don't mind the rest". The same as the button "De rest maakt niet uit"."""

from __future__ import annotations

from handlers.answers.words import NEGATIONS, words

_REST = frozenset({"rest", "verder", "overige", "andere", "others", "else"})
_NOT = NEGATIONS | {"doesnt", "isnt", "wont"}
_NO_MATTER = frozenset({"uit", "mind", "matter", "care", "boeit", "maakt", "whatever", "egaal"})

EXAMPLES: tuple[tuple[str, bool], ...] = (
    ("de rest maakt niet uit", True),
    ("de rest maakt me niks uit", True),
    ("verder maakt het me niet uit", True),
    ("I don't mind the rest", True),
    ("the rest doesn't matter", True),
    ("maakt niet uit", False),  # this question only: "any time", not the rest
    ("de rest van de week", False),
    ("'s ochtends", False),
)


def read_rest(text: str) -> bool:
    """Does the text leave every remaining question to us?"""
    said = words(text)
    if not _REST & set(said) or not _NO_MATTER & set(said):
        return False
    return bool(_NOT & set(said)) or "whatever" in said or "egaal" in said
