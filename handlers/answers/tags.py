"""Gifts and wishes in a sentence, with its "niet", "geen", "niet meer" and "maar".

What someone says they can no longer do is not a gift: "ik kan niet meer zo goed lopen
maar ik luister graag naar mensen" is listening, not walking. Words are also read in their
dictionary form (simplemma: "breide" → "breien", "taartje" → "taart") and with the common
"ij"/"ei" slip ("brij" → "brei"); the taxonomy reads the typos. A verb before its object
("ik repareer fietsen") is read as the phrase it names ("fietsen repareren"), and an English
doer as the doing ("a good listener" → "listen", "a keen gardener" → "garden").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from handlers.answers.words import Clause, clauses, has_phrase, lemma
from handlers.taxonomy import Taxonomy, tokenise

# For a wish, "lukt niet goed" asks for help: it is no reason to drop the wish.
_HELP_WANTED = ("niet goed", "niet zo goed", "niet alleen", "niet meer alleen", "hulp", "help")


# "Niks", "ik kan niet veel meer": nothing (or little) to name, said as such.
_NOTHING = frozenset({"niks", "niets", "nothing", "nergens", "nada", "noppes"})
_LITTLE = ("niet veel", "niet zoveel", "niet zo veel", "weinig", "not much", "not a lot",
           "nothing much", "cant do much", "dont do much")  # fmt: skip


def says_nothing(text: str) -> bool:
    """ "Niks", "ik kan niks meer", "niet veel, ik ben 85": no gift or wish named, and
    saying so (read when no tag was found)."""
    said = [lemma(word) for word in tokenise(text)]
    return bool(_NOTHING & set(said)) or any(has_phrase(said, phrase) for phrase in _LITTLE)


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
    ("gift", "ik repareer fietsen", ("bike_repair",), ()),
    ("gift", "I'm a good listener", ("company",), ()),
    ("wish", "boodschappen doen lukt me niet goed", ("shopping",), ()),
    ("wish", "wandelen lukt niet meer, maar koffie drinken wel", ("company",), ("walking",)),
    ("wish", "ik zou wel wat meer mensen willen leren kennen", ("company",), ()),
    ("wish", "wat vaker onder de mensen zijn", ("company",), ()),
    ("wish", "meet new people, maybe learn dutch", ("company", "dutch"), ()),
    ("wish", "ik wil de computer leren kennen", ("computers",), ()),
)  # fmt: skip


@functools.cache
def _pairs(taxonomy: Taxonomy, kind: str) -> frozenset[tuple[str, str]]:
    """The two-word phrases of `kind` ("fietsen repareren"), to read them in either order."""
    pairs: set[tuple[str, str]] = set()
    for tag in taxonomy.for_kind(kind):
        for phrases in tag.synonyms.values():
            for phrase in phrases:
                said = tokenise(phrase)
                if len(said) == 2:
                    pairs.add((said[0], said[1]))
    return frozenset(pairs)


def _in_phrase_order(said: list[str], pairs: frozenset[tuple[str, str]]) -> list[str]:
    """ "ik repareren fietsen" → "ik fietsen repareren": a main clause puts the verb first."""
    said = list(said)
    for i in range(len(said) - 1):
        if (said[i], said[i + 1]) in pairs:
            continue
        verb = next((v for v in (said[i], lemma(said[i])) if (said[i + 1], v) in pairs), None)
        if verb is not None:
            said[i], said[i + 1] = said[i + 1], verb
    return said


def _doing(word: str, known: frozenset[str]) -> str | None:
    """An English doer as the doing: "listener" → "listen", "baker" → "bake"."""
    for ending in ("ers", "er"):
        if word.endswith(ending) and len(word) > len(ending) + 3:
            stem = word[: -len(ending)]
            for form in (stem, stem + "e", stem[:-1], stem + "ing", stem + "e" + "ing"):
                if form in known:
                    return form
    return None


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
    return _doing(word, known) or word


def _negated(clause: Clause, kind: str) -> bool:
    if not clause.negated:
        return False
    return not (kind == "wish" and any(has_phrase(clause.words, p) for p in _HELP_WANTED))


def read_tags(taxonomy: Taxonomy, text: str, kind: str, lang: str = "nl") -> TagReading:
    """The tags of `kind` meant in `text`, and those named but turned around."""
    known = _known_words(taxonomy, kind)
    found: dict[str, None] = {}
    dropped: dict[str, None] = {}
    pairs = _pairs(taxonomy, kind)
    for clause in clauses(text):
        said = " ".join(_in_phrase_order([_as_known(w, known) for w in clause.words], pairs))
        tags = taxonomy.read(said, kind, lang)
        (dropped if _negated(clause, kind) else found).update(dict.fromkeys(tags))
    return TagReading(
        found=tuple(tag for tag in found if tag not in dropped), dropped=tuple(dropped)
    )
