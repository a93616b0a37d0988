"""The answer to "Klopt dit?": yes, no, or which item to change ("de tijd klopt niet").

A word of an item ("tijd", "afstand") asks to change that item; common words such as "goed"
or "alleen" never do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from handlers.answers.words import has_phrase, words
from handlers.answers.yes_no import read_yes_no

EXAMPLE_ITEMS: Mapping[str, Sequence[str]] = {
    "name": ("naam", "voornaam"),
    "times": ("tijd", "tijden", "wanneer"),
    "group": ("groep", "alleen of groep"),
}
EXAMPLES: tuple[tuple[str, bool | str | None], ...] = (
    ("ja dat klopt", True),
    ("ja dit klopt", True),
    ("goed", True),
    ("prima zo", True),
    ("nee", False),
    ("niet helemaal", False),
    ("de tijd klopt niet", "times"),
    ("mijn naam is fout", "name"),
    ("alleen de tijd aanpassen", "times"),
    ("nee, ik wil liever in een groep", "group"),
    ("banaan", None),
)
_CHANGE = ("verander", "veranderen", "aanpassen", "wijzigen", "anders", "fout", "change", "edit")


def read_summary(text: str, items: Mapping[str, Sequence[str]]) -> bool | str | None:
    """True to confirm, False to change (which not said), an item's name, or None.

    `items` holds the words that name each item, in the person's language."""
    said = words(text)
    named = [
        name
        for name, phrases in items.items()
        if any(has_phrase(said, " ".join(words(phrase))) for phrase in phrases)
    ]
    if len(named) == 1:
        return named[0]
    if named:
        return False
    answer = read_yes_no(text)
    if answer is None and any(word in _CHANGE for word in said):
        return False
    return answer
