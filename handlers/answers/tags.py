"""Gifts and wishes in a sentence, with its "niet", "geen", "niet meer" and "maar".

What someone says they can no longer do is not a gift: "ik kan niet meer zo goed lopen
maar ik luister graag naar mensen" is listening, not walking. Words are also read in their
dictionary form (simplemma: "breide" → "breien", "taartje" → "taart") and with the common
"ij"/"ei" slip ("brij" → "brei"); the taxonomy reads the typos.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from handlers.answers.words import Clause, clauses, has_phrase, lemma
from handlers.taxonomy import Taxonomy, tokenise

# For a wish, "lukt niet goed" asks for help: it is no reason to drop the wish.
_HELP_WANTED = ("niet goed", "niet zo goed", "niet alleen", "niet meer alleen", "hulp", "help")


@dataclass(frozen=True)
class TagReading:
    found: tuple[str, ...]  # tags meant
    dropped: tuple[str, ...]  # tags named but turned around ("niet meer", "geen")


EXAMPLES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("gift", "ik kook graag", ("cooking",), ()),
    ("gift", "ik brij graag en bak wel eens een taartje", ("sewing", "baking"), ()),
    ("gift", "ik haak", ("sewing",), ()),
    ("gift", "ik teken", ("painting",), ()),
    ("gift", "ik kan nederlandse les geven", ("dutch",), ()),
    ("gift", "ik kan niet meer zo goed lopen maar ik luister graag naar mensen",
     ("company",), ("walking",)),
    ("gift", "vroeger fietste ik veel maar nu niet meer", (), ("cycling",)),
    ("gift", "geen koken hoor, maar wel bakken", ("baking",), ("cooking",)),
    ("wish", "boodschappen doen lukt me niet goed", ("shopping",), ()),
    ("wish", "wandelen lukt niet meer, maar koffie drinken wel", ("company",), ("walking",)),
)  # fmt: skip


@functools.cache
def _known_words(taxonomy: Taxonomy, kind: str) -> frozenset[str]:
    known: set[str] = set()
    for tag in taxonomy.for_kind(kind):
        for phrases in (*tag.synonyms.values(), tuple(tag.labels.values())):
            for phrase in phrases:
                known.update(tokenise(phrase))
    return frozenset(known)


def _as_known(word: str, known: frozenset[str]) -> str:
    """The word, or its dictionary form or "ij"/"ei" twin when that is a word we know."""
    if word in known:
        return word
    for form in (lemma(word, "nl"), lemma(word, "en")):
        if form in known:
            return form
    for a, b in (("ij", "ei"), ("ei", "ij")):
        twin = word.replace(a, b)
        if twin != word and (twin in known or lemma(twin, "nl") in known):
            return twin if twin in known else lemma(twin, "nl")
    return word


def _negated(clause: Clause, kind: str) -> bool:
    if not clause.negated:
        return False
    return not (kind == "wish" and any(has_phrase(clause.words, p) for p in _HELP_WANTED))


def read_tags(taxonomy: Taxonomy, text: str, kind: str, lang: str = "nl") -> TagReading:
    """The tags of `kind` meant in `text`, and those named but turned around."""
    known = _known_words(taxonomy, kind)
    found: dict[str, None] = {}
    dropped: dict[str, None] = {}
    for clause in clauses(text):
        said = " ".join(_as_known(word, known) for word in clause.words)
        tags = taxonomy.read(said, kind, lang)
        (dropped if _negated(clause, kind) else found).update(dict.fromkeys(tags))
    return TagReading(
        found=tuple(tag for tag in found if tag not in dropped), dropped=tuple(dropped)
    )
