"""One-to-one or in a group, in any words: "liefst met 1 persoon", "geen groepen",
"gezellig met een paar mensen", "mij om het even"."""

from __future__ import annotations

from handlers.answers.words import Clause, clauses, has_phrase, mended, words

ONE, GROUP, BOTH = "one", "group", "both"

_PHRASES: tuple[tuple[str, str], ...] = (
    ("met 1 persoon", ONE), ("met een persoon", ONE), ("1 persoon", ONE),
    ("een persoon", ONE), ("een op een", ONE), ("1 op 1", ONE), ("een iemand", ONE),
    ("1 iemand", ONE), ("met zn tweeen", ONE), ("met z n tweeen", ONE), ("tweeen", ONE),
    ("samen met iemand", ONE), ("een ander", ONE), ("met iemand", ONE), ("one to one", ONE),
    ("one on one", ONE),
    ("one person", ONE), ("just one", ONE), ("someone", ONE), ("maatje", ONE),
    ("met zn tweetjes", ONE), ("tweetjes", ONE), ("onder vier ogen", ONE),
    ("onder 4 ogen", ONE), ("one other", ONE), ("two of us", ONE), ("een andere persoon", ONE),
    ("1 andere persoon", ONE), ("alleen met iemand", ONE), ("individueel", ONE),
    ("meerdere mensen", GROUP), ("meerdere personen", GROUP), ("meer personen", GROUP),
    ("met een paar", GROUP), ("met velen", GROUP), ("others", GROUP),
    ("several people", GROUP), ("a few people", GROUP), ("more people", GROUP),
    ("team", GROUP), ("samen met anderen", GROUP),
    ("groep", GROUP), ("groepje", GROUP), ("groepen", GROUP), ("groepjes", GROUP),
    ("club", GROUP), ("clubje", GROUP), ("meer mensen", GROUP), ("paar mensen", GROUP),
    ("met anderen", GROUP), ("paar anderen", GROUP), ("met zn allen", GROUP), ("met z n allen",
    GROUP),
    ("vereniging", GROUP), ("group", GROUP), ("groups", GROUP), ("other people", GROUP),
    ("allebei", BOTH), ("beide", BOTH), ("beiden", BOTH), ("maakt niet uit", BOTH),
    ("maakt me niet uit", BOTH), ("maakt mij niet uit", BOTH), ("maakt mij niks uit", BOTH),
    ("maakt niks uit", BOTH), ("om het even", BOTH), ("both", BOTH), ("either", BOTH),
    ("doesnt matter", BOTH), ("dont mind", BOTH), ("geen voorkeur", BOTH),
    ("no preference", BOTH), ("whatever", BOTH), ("het liefst allebei", BOTH),
)  # fmt: skip
_LONGEST_FIRST = sorted(_PHRASES, key=lambda item: -len(item[0]))
_KNOWN = frozenset(word for phrase, _ in _PHRASES for word in phrase.split()) | {"maakt", "uit"}
# In a clause about groups these turn it around too: "groepen vind ik te druk".
_DISLIKE = ("te druk", "niks voor mij", "niet voor mij", "hekel aan", "too busy", "too loud")

EXAMPLES: tuple[tuple[str, str | None], ...] = (
    ("liefst met 1 persoon", ONE),
    ("één op één", ONE),
    ("niet in een groep", ONE),
    ("alleen met iemand, groepen vind ik te druk", ONE),
    ("een klein groepje", GROUP),
    ("gezellig met een paar mensen", GROUP),
    ("mij om het even", BOTH),
    ("allebij", BOTH),
    ("met z'n tweetjes", ONE),
    ("met meerdere mensen", GROUP),
    ("met één persoon of in een groep", BOTH),
    ("koffie", None),
)


def read_group(text: str) -> str | None:
    """ "one", "group" or "both"; None when the text says neither."""
    said_words = [mended(word, _KNOWN) for word in words(text)]
    liked: set[str] = set()
    disliked: set[str] = set()
    for clause in clauses(text):
        clause = Clause(tuple(mended(word, _KNOWN) for word in clause.words), clause.negated)
        said = list(clause.words)
        found: set[str] = set()
        for phrase, key in _LONGEST_FIRST:
            if has_phrase(said, phrase):
                found.add(key)
                size = len(phrase.split())
                said = [w for i, w in enumerate(said) if not _inside(said, phrase, i, size)]
        turned = clause.negated or any(has_phrase(clause.words, p) for p in _DISLIKE)
        if turned and BOTH not in found:
            disliked.update(found)
        else:
            liked.update(found)
    if not liked and ({"maakt", "uit"} <= set(said_words) or "whatever" in said_words):
        return BOTH
    if BOTH in liked or {ONE, GROUP} <= liked:
        return BOTH
    if liked - disliked:
        return (liked - disliked).pop()
    if disliked == {GROUP}:
        return ONE
    if disliked == {ONE}:
        return GROUP
    return None


def _inside(said: list[str], phrase: str, index: int, size: int) -> bool:
    """Is word `index` part of an occurrence of `phrase`?"""
    wanted = phrase.split()
    return any(
        said[start : start + size] == wanted for start in range(max(0, index - size + 1), index + 1)
    )
