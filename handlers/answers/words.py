"""The shared tools of the readers: words, clauses with their negation, numbers, lemmas.

Nothing here downloads anything: simplemma ships its Dutch and English data inside the
package, and text2num is pure code.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import simplemma
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from text_to_num import alpha2digit

from handlers.taxonomy import normalise

# Words that turn a clause around: "niet", "geen", "niet meer", "not", "no longer".
NEGATIONS = frozenset(
    {"niet", "geen", "nooit", "niets", "niks", "not", "no", "never", "nothing", "dont",
     "cant", "anymore", "nimmer", "nergens"}
)  # fmt: skip
# Words that start a new clause: "..., maar ...", "... but ...", "wel ...".
_BREAKS = frozenset(
    {"maar", "but", "wel", "behalve", "except", "excluding", "uitgezonderd", "alleen", "though",
     "however"}
)  # fmt: skip
# A clause that starts with these names what is left out.
_EXCEPT = frozenset({"behalve", "except", "excluding", "uitgezonderd"})
_PUNCTUATION = re.compile(r"[.,;:!?()\n]+|\s-\s")
# A clause that is only "niet meer" ("dat gaat nu niet meer") turns the one before around.
_ONLY_NEGATION = frozenset(
    {"niet", "meer", "nu", "dat", "gaat", "lukt", "kan", "ik", "het", "helaas", "not",
     "anymore", "no", "longer", "any", "more", "now", "that", "doe", "deed", "ook", "want",
     "zo", "goed", "jammer", "genoeg", "i", "can", "do", "it", "dont", "cant", "maar", "but"}
)  # fmt: skip


@dataclass(frozen=True)
class Clause:
    """A part of a sentence, in normalised words, and whether it is turned around."""

    words: tuple[str, ...]
    negated: bool

    @property
    def text(self) -> str:
        return " ".join(self.words)


# A terminal escape sequence ("\x1b[31m") goes as a whole: its tail "[31m" would read as 31 m.
_ESCAPE = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f]")


def clean(text: str | None) -> str:
    """Strip control and invisible characters and fold white space; keep emoji."""
    if not text:
        return ""
    text = _ESCAPE.sub(" ", text)
    text = _CONTROL.sub(" ", text.replace("\n", " ").replace("\t", " "))
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """The normalised words: lower case, no accents, apostrophes dropped ("'s ochtends")."""
    return normalise(text.replace("-", " ")).split()


def clauses(text: str) -> list[Clause]:
    """The clauses of `text`, split at punctuation and at "maar"/"but"/"wel".

    A clause with "niet", "geen", "not", ... is negated. A clause that says no more than
    "nu niet meer" negates the clause before it instead ("vroeger fietste ik, nu niet meer").
    """
    parts: list[list[str]] = []
    for piece in _PUNCTUATION.split(text.replace("’", "'")):
        current: list[str] = []
        for word in words(piece):
            if word in _BREAKS and current:
                parts.append(current)
                current = []
            current.append(word)
        if current:
            parts.append(current)
    parts = [part for part in parts if not set(part) <= _BREAKS]
    found: list[Clause] = []
    for part in parts:
        negated = any(word in NEGATIONS for word in part) or "used to" in " ".join(part)
        negated = negated or part[0] in _EXCEPT  # "alles behalve koken", "except sundays"
        if negated and found and set(part) <= _ONLY_NEGATION:
            found[-1] = Clause(found[-1].words, True)
            continue
        if "used to" in " ".join(part) and "anymore" not in part and "not" not in part:
            negated = False
        found.append(Clause(tuple(part), negated))
    return found


def digits(text: str) -> str:
    """Number words as digits: "twee kilometer" → "2 kilometer", "anderhalve" → "1,5"."""
    text = re.sub(r"\banderhalve?\b", "1,5", text, flags=re.IGNORECASE)
    text = re.sub(r"\ba mile and a half\b", "2,4 km", text, flags=re.IGNORECASE)
    for lang in ("nl", "en"):
        try:
            text = alpha2digit(text, lang, threshold=0)
        except (ValueError, IndexError):  # text2num gives up on some odd input; keep it
            continue
    return text


@functools.lru_cache(maxsize=4096)
def lemma(word: str, lang: str = "nl") -> str:
    """The dictionary form of a word: "breide" → "breien", "taartje" → "taart"."""
    return str(simplemma.lemmatize(word, lang=lang)).lower()


def warm_up() -> None:
    """Load the word lists now (about a second), not during someone's first message."""
    for lang in ("nl", "en"):
        lemma("warm", lang)


def has_phrase(text_words: list[str] | tuple[str, ...], phrase: str) -> bool:
    """Does the phrase (normalised words) occur in the words, as whole words?"""
    wanted = phrase.split()
    size = len(wanted)
    return any(list(text_words[i : i + size]) == wanted for i in range(len(text_words)))


@functools.lru_cache(maxsize=8192)
def mended(word: str, known: frozenset[str]) -> str:
    """The word, or the known word it is a typing slip of: the "ij"/"ei" twin ("allebij"),
    or one letter off in a word of six or more ("tweetjse") that is no Dutch or English
    word itself. `known` is built once per reader; the answer is cached per word."""
    if word in known or not word.isalpha():
        return word
    for a, b in (("ij", "ei"), ("ei", "ij")):
        if a in word and (twin := word.replace(a, b)) in known:
            return twin
    if len(word) < 6 or simplemma.is_known(word, lang="nl") or simplemma.is_known(word, lang="en"):
        return word
    best = process.extractOne(word, sorted(known), scorer=Levenshtein.distance, score_cutoff=1)
    return str(best[0]) if best is not None else word
