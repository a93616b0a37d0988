"""Yes or no, in all its everyday forms: "ja hoor", "prima", "is goed", "klopt", "nee joh"."""

from __future__ import annotations

from handlers.answers.words import NEGATIONS, has_phrase, words

_YES_WORDS = frozenset(
    {"ja", "jawel", "jazeker", "jaja", "jaa", "jaaa", "jah", "jep", "jup", "ok", "oke", "okay",
     "okee", "oki", "okido", "okidoki", "prima", "goed", "akkoord", "klopt", "natuurlijk",
     "zeker", "graag",
     "perfect", "top", "prachtig", "uitstekend", "yes", "yep", "yeah", "sure", "correct",
     "fine", "great", "y", "j", "right", "absoluut", "precies", "juist", "helemaal"}
)  # fmt: skip
_NO_WORDS = frozenset({"nee", "neen", "nope", "no", "nah", "neuh", "nein", "n", "bijna"})
_YES_PHRASES = (
    "is goed", "doe maar", "ik doe mee", "ik wil wel", "ziet er goed uit", "alles goed",
    "dat klopt", "dit klopt", "alles klopt", "go ahead", "thats right", "that is right",
    "waarom niet", "why not", "i agree", "let s go", "lets go", "prima zo",
)  # fmt: skip
_NO_PHRASES = (
    "liever niet", "klopt niet", "niet helemaal", "niet nodig", "doe niet mee", "wil niet",
    "niet meedoen", "geen zin", "not really", "no thanks", "not right", "dont want",
    "klopt niet helemaal", "niet goed", "is fout",
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
    ("goeiemiddag", None),
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
    said = words(text)
    if not said:
        return None
    if any(has_phrase(said, phrase) for phrase in _NO_PHRASES):
        return False
    if said[0] in _NO_WORDS:
        return False
    if any(has_phrase(said, phrase) for phrase in _YES_PHRASES):
        return True
    if NEGATIONS & set(said) or "maar" in said or "but" in said:
        return None  # "ja maar eerst koffie": not a plain yes
    if said[0] in _YES_WORDS or (len(said) <= 3 and any(word in _YES_WORDS for word in said)):
        return True
    return None
