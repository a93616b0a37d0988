"""The curated taxonomy of gifts and wishes, and a forgiving reader for free text.

A *gift* is what someone enjoys or is good at ("I cook", "I am handy"); a *wish* is what
someone would like ("walk together", "help with my phone"). Many topics are both, so that
one person's gift can meet another person's wish. Gifts sit in one of three groups: "head"
(knows, can teach), "hands" (can do) and "heart" (cares about).

The tags live in the packaged data file `handlers/data/taxonomy.toml`. `Taxonomy.read` finds
tags in what a person typed on a phone, in Dutch or English, with typos:

* Text is normalised: lowercased, accents stripped, punctuation and emoji dropped.
* Synonyms of both languages are matched, as single words and as phrases of up to three words;
  the longest phrase at a position wins ("fietsen maken" is bike repair, "fietsen" cycling).
* A word that is no known word may be a typo of a word of the person's language: words of
  5–7 letters allow one edit, words of 8 or more two. Shorter words must match exactly.
  An edit is a slip on a phone keyboard (`typo_cost`): a missing, extra or swapped letter,
  a neighbouring key or a sound-alike letter; any other wrong letter counts double. A typo
  keeps its first letter, and a typo equally close to words of two tags reads as nothing.
* Stop words ("ik", "graag", "the", ...) never match on their own and are never taken for a
  typo. Neither are the common words that the data file lists under `[reader] not_typos`,
  which sit one slip away from a synonym ("zoeken" is not "zieken", "soort" not "sport").

Missing a tag costs less than a wrong one: the person can still tap a button.
"""

from __future__ import annotations

import functools
import itertools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

__all__ = [
    "DEFAULT_LANG",
    "GROUPS",
    "KINDS",
    "LANGS",
    "MAX_PHRASE_WORDS",
    "STOP_WORDS",
    "Tag",
    "Taxonomy",
    "max_edits",
    "normalise",
    "tokenise",
    "typo_cost",
]

KINDS: tuple[str, ...] = ("gift", "wish")
GROUPS: tuple[str, ...] = ("head", "hands", "heart")
LANGS: tuple[str, ...] = ("nl", "en")
DEFAULT_LANG = "nl"
MAX_PHRASE_WORDS = 3

_DATA_PACKAGE = "handlers"
_DATA_PATH = ("data", "taxonomy.toml")

_STOP_WORDS_NL = """
    aan al alle alles als bedankt beetje ben bent bij da daar dag dan dank dat de deze die dit
    doe doei door dus echt een eens en enz er erg even ga gaan gaat geen goed graag groetjes
    had hallo heb hebben hebt heeft heel hele het hier hij hoe hoi hun iets ik in is ja je jij
    jou jouw jullie kan kun kunnen kunt leuk maar me mee meer met mij mijn misschien moet
    mogen na naar nee niet nog nu of ok oke om ons onze ook op over prima s samen soms t te
    toch tot u uit uw van veel vind vindt voor waar wat wel wie wij wil willen wilt word
    worden wordt zal ze zeer zich zij zijn zo zoals zou
"""
_STOP_WORDS_EN = """
    a about also am an and any are as at be been being but by can could do does don dont
    enjoy enjoys for from get good got great had has have he hello hey hi how i id if im in
    into is it its ive just like likes lot lots love loves me more much my no not of on or
    our please really she so some something thank thanks that the their them then there they
    this to too up us very want wants was we well were what when where which who will with
    would yes you your
"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS_NL.split() + _STOP_WORDS_EN.split())
"""Words that never match on their own and are never taken for a typo."""

_APOSTROPHES = str.maketrans("", "", "'’‘`´")
_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """Lowercase `text`, strip accents and turn punctuation and emoji into spaces."""
    folded = text.casefold()
    if not folded.isascii():
        folded = "".join(
            char
            for char in unicodedata.normalize("NFKD", folded)
            if not unicodedata.combining(char)
        )
    return " ".join(_WORD.findall(folded.translate(_APOSTROPHES)))


def tokenise(text: str) -> list[str]:
    """The normalised words of `text`, in order."""
    return normalise(text).split()


# A word ending in a consonant and "n": perhaps an "-en" with its "e" left out.
_DROPPED_E = re.compile(r"[^aeiouyn\W\d]n$")


def max_edits(length: int) -> int:
    """How many edits a typo of a word of `length` letters may have."""
    if length >= 8:
        return 2
    if length >= 5:
        return 1
    return 0


def _near_keys() -> frozenset[tuple[str, str]]:
    rows = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    pairs: set[tuple[str, str]] = set()
    for row, keys in enumerate(rows):
        for col, key in enumerate(keys):
            near = [keys[col + 1]] if col + 1 < len(keys) else []
            if row + 1 < len(rows):
                below = rows[row + 1]
                near += [below[c] for c in (col - 1, col) if 0 <= c < len(below)]
            for other in near:
                pairs.update({(key, other), (other, key)})
    # Letters that sound alike in Dutch and English spelling.
    for a, b in ("dt", "sz", "fv", "ck", "iy", "gh"):
        pairs.update({(a, b), (b, a)})
    return frozenset(pairs)


_NEAR_KEYS = _near_keys()


def typo_cost(typed: str, word: str) -> int:
    """How far `typed` is from `word` as a slip on a phone keyboard.

    A missing, extra or swapped letter costs 1, and so does a letter swapped for a
    neighbouring key (QWERTY) or a sound-alike ("d"/"t", "s"/"z", "f"/"v", ...). Any other
    wrong letter costs 2: "kopen" is not a typo of "lopen", "houden" not one of "honden".
    """
    rows = len(typed) + 1
    cols = len(word) + 1
    table = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        table[i][0] = i
    for j in range(cols):
        table[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            a, b = typed[i - 1], word[j - 1]
            change = 0 if a == b else 1 if (a, b) in _NEAR_KEYS else 2
            cost = min(
                table[i - 1][j] + 1,
                table[i][j - 1] + 1,
                table[i - 1][j - 1] + change,
            )
            if i > 1 and j > 1 and a == word[j - 2] and typed[i - 2] == b:
                cost = min(cost, table[i - 2][j - 2] + 1)
            table[i][j] = cost
    return table[-1][-1]


@dataclass(frozen=True)
class Tag:
    """One gift or wish. Tags compare and hash by `id`, `kinds` and `group`."""

    id: str
    kinds: frozenset[str]
    group: str | None
    labels: Mapping[str, str] = field(compare=False)
    synonyms: Mapping[str, tuple[str, ...]] = field(compare=False)

    def label(self, lang: str = DEFAULT_LANG) -> str:
        """The button label in `lang`, or in Dutch when there is none in `lang`."""
        return self.labels.get(lang) or self.labels[DEFAULT_LANG]


Phrase = tuple[str, ...]


class _Index:
    """Everything `Taxonomy.read` needs for one kind, built once."""

    def __init__(self, tags: Sequence[Tag], never_typos: frozenset[str]) -> None:
        # Words only ever read as written, such as the synonyms of the other kind.
        self.never_typos = never_typos
        self.phrases: dict[Phrase, str] = {}
        self.word_langs: dict[str, set[str]] = {}
        for tag in tags:
            for lang, phrase in _phrases(tag):
                owner = self.phrases.setdefault(phrase, tag.id)
                if owner != tag.id:
                    raise ValueError(
                        f"synonym {' '.join(phrase)!r} belongs to both {owner!r} and {tag.id!r}"
                    )
                for word in phrase:
                    self.word_langs.setdefault(word, set()).add(lang)
        # Typo targets per language, by (first letter, length): a typo keeps its first letter.
        self.buckets: dict[str, dict[tuple[str, int], list[str]]] = {lang: {} for lang in LANGS}
        for word, langs in sorted(self.word_langs.items()):
            if len(word) >= 5 and word not in STOP_WORDS and word.isalpha():
                for lang in langs:
                    self.buckets[lang].setdefault((word[0], len(word)), []).append(word)

    def candidates(self, token: str, lang: str) -> tuple[str, ...]:
        """Known words that `token` is, or is the closest typo of in `lang`; empty if none.

        A Dutch "-en" typed without its "e" ("kokn", "wandeln") is read as written out
        when it is not a typo of anything itself."""
        found = self._candidates(token, lang)
        if found or not _DROPPED_E.search(token) or token in STOP_WORDS:
            return found
        if token in self.never_typos:
            return ()
        return self._candidates(f"{token[:-1]}en", lang)

    def _candidates(self, token: str, lang: str) -> tuple[str, ...]:
        if token in self.word_langs:
            return (token,)
        size = len(token)
        if size < 5 or token in STOP_WORDS or token in self.never_typos or not token.isalpha():
            return ()
        buckets = self.buckets[lang if lang in self.buckets else DEFAULT_LANG]
        best: list[str] = []
        best_distance = max_edits(size) + 1
        for length in range(size - 2, size + 3):
            allowed = min(max_edits(min(size, length)), best_distance)
            if allowed == 0 or abs(size - length) > allowed:
                continue
            words = buckets.get((token[0], length))
            if not words:
                continue
            # rapidfuzz narrows the field fast; the few left get the phone-aware cost.
            for word, _, _ in process.extract(
                token, words, scorer=OSA.distance, score_cutoff=allowed, limit=None
            ):
                cost = typo_cost(token, word)
                if cost > allowed:
                    continue
                if cost < best_distance:
                    best, best_distance = [word], cost
                elif cost == best_distance:
                    best.append(word)
        return tuple(best)

    def lookup(self, window: Sequence[tuple[str, ...]]) -> str | None:
        """The one tag that some reading of `window` names; `None` if none or ambiguous."""
        found = {
            tag_id
            for phrase in itertools.product(*window)
            if (tag_id := self.phrases.get(phrase)) is not None
        }
        return found.pop() if len(found) == 1 else None

    def read(self, tokens: Sequence[str], lang: str) -> list[str]:
        """Tag ids in `tokens`, left to right, the longest phrase first at each word."""
        seen: dict[str, tuple[str, ...]] = {}
        options: list[tuple[str, ...]] = []
        for token in tokens:
            if token not in seen:
                seen[token] = self.candidates(token, lang)
            options.append(seen[token])
        found: dict[str, None] = {}
        start = 0
        while start < len(options):
            step = 1
            for size in range(min(MAX_PHRASE_WORDS, len(options) - start), 0, -1):
                window = options[start : start + size]
                if not all(window):
                    continue
                tag_id = self.lookup(window)
                if tag_id is not None:
                    found.setdefault(tag_id, None)
                    step = size
                    break
            start += step
        return list(found)


def _phrases(tag: Tag) -> Iterator[tuple[str, Phrase]]:
    """(language, normalised phrase) for every synonym of `tag` and its labels."""
    for lang, synonyms in tag.synonyms.items():
        for synonym in synonyms:
            phrase = tuple(tokenise(synonym))
            if not phrase or len(phrase) > MAX_PHRASE_WORDS:
                raise ValueError(f"{tag.id}: synonym {synonym!r} must have 1 to 3 words")
            if all(word in STOP_WORDS for word in phrase):
                raise ValueError(f"{tag.id}: synonym {synonym!r} has only stop words")
            yield lang, phrase
    for lang, label in tag.labels.items():
        phrase = tuple(tokenise(label))
        if phrase and len(phrase) <= MAX_PHRASE_WORDS:
            yield lang, phrase


class Taxonomy:
    """The tags, in file order, with a reader per kind.

    `not_typos` are common words that `read` must never take for a typo of a synonym.
    """

    def __init__(self, tags: Sequence[Tag], not_typos: Iterable[str] = ()) -> None:
        self._tags: dict[str, Tag] = {}
        for tag in tags:
            if tag.id in self._tags:
                raise ValueError(f"duplicate tag id {tag.id!r}")
            self._tags[tag.id] = tag
        self.not_typos = frozenset(normalise(word) for word in not_typos)
        synonym_words = {word for tag in tags for _, phrase in _phrases(tag) for word in phrase}
        never_typos = self.not_typos | synonym_words
        self._indexes = {
            kind: _Index([tag for tag in tags if kind in tag.kinds], never_typos) for kind in KINDS
        }

    @classmethod
    def load(cls) -> Taxonomy:
        """The taxonomy from the packaged data file, parsed once per process."""
        return _load_packaged()

    @classmethod
    def from_toml(cls, data: str) -> Taxonomy:
        """A taxonomy from TOML text in the format of `handlers/data/taxonomy.toml`."""
        parsed = tomllib.loads(data)
        entries = parsed.get("tag")
        if not isinstance(entries, list) or not entries:
            raise ValueError("the taxonomy needs at least one [[tag]]")
        reader = parsed.get("reader", {"not_typos": []})
        if not isinstance(reader, dict):
            raise ValueError("[reader] must be a table")
        not_typos = _strings(reader, "not_typos", "[reader]")
        return cls([_parse_tag(entry) for entry in entries], not_typos)

    @property
    def tags(self) -> list[Tag]:
        """All tags in file order."""
        return list(self._tags.values())

    def get(self, tag_id: str) -> Tag:
        """The tag with `tag_id`; `KeyError` when there is none."""
        return self._tags[tag_id]

    def __contains__(self, tag_id: object) -> bool:
        return tag_id in self._tags

    def __iter__(self) -> Iterator[Tag]:
        return iter(self._tags.values())

    def __len__(self) -> int:
        return len(self._tags)

    def for_kind(self, kind: str) -> list[Tag]:
        """The tags of `kind` ("gift" or "wish") in file order."""
        _check_kind(kind)
        return [tag for tag in self._tags.values() if kind in tag.kinds]

    def read(self, text: str, kind: str, lang: str = DEFAULT_LANG) -> list[str]:
        """Ids of the tags of `kind` that `text` mentions, in order of appearance.

        Synonyms of every language count as they are written; typos are only read as words
        of `lang`, the language the person writes in (Dutch when `lang` is unknown).
        """
        _check_kind(kind)
        tokens = tokenise(text)
        if not tokens:
            return []
        return self._indexes[kind].read(tokens, lang)


@functools.cache
def _load_packaged() -> Taxonomy:
    resource = resources.files(_DATA_PACKAGE).joinpath(*_DATA_PATH)
    return Taxonomy.from_toml(resource.read_text(encoding="utf-8"))


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")


def _parse_tag(entry: Any) -> Tag:
    if not isinstance(entry, dict):
        raise ValueError(f"a [[tag]] must be a table, not {entry!r}")
    tag_id = _string(entry, "id", "?")
    kinds = frozenset(_strings(entry, "kinds", tag_id))
    if not kinds or not kinds <= set(KINDS):
        raise ValueError(f"{tag_id}: kinds must be some of {KINDS}")
    group = entry.get("group")
    if group is not None and group not in GROUPS:
        raise ValueError(f"{tag_id}: group must be one of {GROUPS}")
    if ("gift" in kinds) != (group is not None):
        raise ValueError(f"{tag_id}: a gift needs a group, and only a gift has one")
    labels = {lang: _string(entry, f"label_{lang}", tag_id) for lang in LANGS}
    synonyms = {lang: tuple(_strings(entry, f"synonyms_{lang}", tag_id)) for lang in LANGS}
    return Tag(
        id=tag_id,
        kinds=kinds,
        group=group,
        labels=MappingProxyType(labels),
        synonyms=MappingProxyType(synonyms),
    )


def _string(entry: dict[str, Any], key: str, tag_id: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{tag_id}: {key} must be a non-empty string")
    return value


def _strings(entry: dict[str, Any], key: str, tag_id: str) -> list[str]:
    value = entry.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{tag_id}: {key} must be a list of strings")
    return list(value)
