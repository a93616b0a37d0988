"""Yes or no, in all its everyday forms: "ja hoor", "prima", "is goed", "klopt", "nee joh".

Read in general ways rather than word lists alone: a drawn-out or dialect "jaa"/"jao"/"neee";
a filler in front ("nou nee", "ach ja"); "dan maar" as a yes, not as a contrast; and a
wish turned around ("ik wil dat niet", "dat hoeft niet", "I don't need that") as a no.
"""

from __future__ import annotations

import re

from handlers.answers.words import NEGATIONS, has_phrase, lemma, words

_YES_WORDS = frozenset(
    {"ja", "jawel", "jazeker", "jaja", "jaa", "jaaa", "jah", "jep", "jup", "ok", "oke", "okay",
     "okee", "oki", "okido", "okidoki", "prima", "goed", "akkoord", "klopt", "natuurlijk",
     "zeker", "graag",
     "perfect", "top", "prachtig", "uitstekend", "yes", "yep", "yeah", "sure", "correct",
     "fine", "great", "y", "j", "right", "absoluut", "precies", "juist", "helemaal",
     "vooruit", "good", "alright", "allright", "lovely", "certainly", "definitely"}
)  # fmt: skip
_NO_WORDS = frozenset({"nee", "neen", "nope", "no", "nah", "neuh", "nein", "n", "bijna"})
_YES_PHRASES = (
    "is goed", "doe maar", "ik doe mee", "ik wil wel", "ziet er goed uit", "alles goed",
    "dat klopt", "dit klopt", "alles klopt", "go ahead", "thats right", "that is right",
    "waarom niet", "why not", "i agree", "let s go", "lets go", "prima zo", "sounds good",
    "looks good", "looks right", "all good", "thats it", "dat is het", "dat mag",
    "mag wel", "mag best", "is prima", "geen bezwaar", "geen probleem", "no problem",
    "fine by me", "vind ik goed", "vind ik prima", "vind ik fijn", "lijkt me leuk",
    "lijkt me goed", "lijkt me fijn", "i dont mind", "dont mind",
)  # fmt: skip
# Said before the answer and meaning nothing on their own: "nou nee", "ach ja", "well yes".
_FILLERS = frozenset({"nou", "ach", "tja", "hm", "hmm", "eh", "uh", "oh", "well"})
# A drawn-out or dialect yes or no: "jaaa", "jao", "jaah", "neee", "nee hoor".
_LONG_YES = re.compile(r"j+a+[aho]*|j+o+h?|ye+s+|ye+a+h*|ok[eiay]*[ejy]?")
_LONG_NO = re.compile(r"n+e+[eh]*|n+o+p*e*|n+a+h+")
_WHY_NOT = re.compile(r"\b(waarom|why) (?:ook|eigenlijk|dan|dus|\w+ )?(niet|not)\b")
# Verbs of wanting and needing: with a "niet" they say no ("ik wil dat niet", "hoeft niet").
_WANTING = frozenset({"willen", "hoeven", "mogen", "want", "need", "like", "wish"})
_AFTER_NO = frozenset({"hoor", "echt", "zo", "meer", "graag", "nodig", "per", "se", "hoe"})
# After "maar" these leave a plain yes: "vooruit dan maar", "doe maar", "ja hoor, toch maar".
_SOFT_AFTER = frozenset({"dan", "toch", "hoor", "even", "goed", "ok", "oke"})
_NO_PHRASES = (
    "liever niet", "klopt niet", "niet helemaal", "niet nodig", "doe niet mee", "wil niet",
    "niet meedoen", "geen zin", "not really", "no thanks", "not right", "dont want",
    "klopt niet helemaal", "niet goed", "is fout", "dont need", "no need", "rather not",
)  # fmt: skip
_EMOJI_YES = frozenset({"👍", "👌", "✅"})
_EMOJI_NO = frozenset({"👎", "❌", "🙅"})

EXAMPLES: tuple[tuple[str, bool | None], ...] = (
    ("ja", True),
    ("Ja hoor", True),
    ("ja hoor dat is goed", True),
    ("is goed", True),
    ("prima", True),
    ("oké doe maar", True),
    ("ja dit klopt", True),
    ("ja hoor waarom niet", True),
    ("👍", True),
    ("sure, go ahead", True),
    ("nee", False),
    ("nee joh", False),
    ("liever niet", False),
    ("nee klopt niet", False),
    ("ik doe niet mee", False),
    ("niet helemaal", False),
    ("👎", False),
    ("jaaa", True),
    ("okeej", True),
    ("ja hoor, waarom eigenlijk niet", True),
    ("jao", True),
    ("vooruit dan maar", True),
    ("nou nee", False),
    ("ik wil dat niet", False),
    ("dat hoeft niet", False),
    ("dat hoeft niet te ver", None),
    ("looks good", True),
    ("goeiemiddag", None),
    ("dat mag wel", True),
    ("geen bezwaar hoor", True),
    ("vind ik goed", True),
    ("lijkt me leuk", True),
    ("I don't mind", True),
    ("vind ik niet goed", False),
    ("ja maar eerst koffie", None),
    ("wat is dit?", None),
    ("Anna", None),
)


def read_yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the text is neither."""
    stripped = text.strip()
    if stripped in _EMOJI_YES:
        return True
    if stripped in _EMOJI_NO:
        return False
    said = [_plain(word) for word in words(text)]
    said = _WHY_NOT.sub("waarom niet", " ".join(said)).split()  # "waarom ook niet"
    while len(said) > 1 and said[0] in _FILLERS:
        said = said[1:]
    if not said:
        return None
    if any(has_phrase(said, phrase) for phrase in _NO_PHRASES):
        return False
    if said[0] in _NO_WORDS:
        return False
    if any(has_phrase(said, phrase) for phrase in _YES_PHRASES):
        return True
    if NEGATIONS & set(said) and said[0] not in _YES_WORDS and _wanting(said):
        return False  # "ik wil dat niet", "dat hoeft niet", "I don't need it"
    if NEGATIONS & set(said) or _contrast(said):
        return None  # "ja maar eerst koffie": not a plain yes
    if said[0] in _YES_WORDS or (len(said) <= 3 and any(word in _YES_WORDS for word in said)):
        return True
    return None


def _plain(word: str) -> str:
    """A drawn-out or dialect yes or no as the plain word: "jaaa", "jao" → "ja"."""
    if _LONG_YES.fullmatch(word) and word not in ("jo",):
        return {"y": "yes", "o": "ok"}.get(word[0], "ja")
    if _LONG_NO.fullmatch(word) and word not in ("no", "nee", "neen", "nope", "nah"):
        return "no" if word.startswith("no") else "nee"
    return word


def _wanting(said: list[str]) -> bool:
    """A wish turned around as the whole answer: "ik wil dat niet", "dat hoeft niet meer";
    not "ik wil niet alleen zijn", where the "niet" belongs to what follows."""
    last = max(i for i, word in enumerate(said) if word in NEGATIONS)
    if not set(said[last + 1 :]) <= _AFTER_NO:
        return False
    return any(lemma(word, "nl") in _WANTING or lemma(word, "en") in _WANTING for word in said)


def _contrast(said: list[str]) -> bool:
    """ "maar"/"but" followed by more than "dan" or "toch": a condition, not a plain yes."""
    for i, word in enumerate(said):
        if word in ("maar", "but") and set(said[i + 1 :]) - _SOFT_AFTER:
            return True
    return False
