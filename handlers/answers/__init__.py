"""Reading each answer of the intake in the person's own words: one pure function per kind.

Every reader takes the text as typed (typos, capitals, Dutch or English, "maar" and "niet")
and returns what it understood, or `None` when it understood nothing. Each module keeps a
table of examples (`EXAMPLES`) beside its reader; `tests/handlers/test_answers.py` runs them
all, and the corpus test measures the readers on a larger set of realistic answers.

* `words`: the shared tools: normalised words, clauses with their negation, number words
  (text2num), Dutch lemmas (simplemma).
* `yes_no`, `names`, `places`, `tags`, `times`, `distance`, `group`, `free`, `summary`:
  the readers, one per kind of answer; `rest`: "de rest maakt niet uit", from the time
  question on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Either(Generic[T]):
    """Two or more readings remain: ask which one, never pick one at random."""

    readings: tuple[T, ...]


def warm_up() -> None:
    """Load the readers' data (word lists, places) now, at start, not during the first
    messages people send."""
    from handlers.answers import places, words

    words.warm_up()
    places.Gazetteer.load()
