"""A first name, also inside a sentence or after a title: "hoi, ik ben Sanne!", "mevrouw Jansen"."""

from __future__ import annotations

import re

from handlers.answers.yes_no import read_yes_no

# What people put before their name; the longest first.
_LEADS = (
    "mijn voornaam is", "mijn naam is", "ze noemen mij", "ze noemen me", "iedereen zegt",
    "noem me maar", "noem mij maar", "zeg maar gewoon", "zeg maar", "noem me", "noem mij",
    "ik heet eigenlijk", "ik heet", "ik ben het", "ikke ben", "ik ben", "dit is", "hier is",
    "de naam is", "met", "my name is", "call me", "i am", "i'm", "im", "its", "it's",
)  # fmt: skip
_GREETINGS = (
    "hallo", "hoi", "hai", "hey", "hi", "hello", "goedemorgen", "goedemiddag", "goedenavond",
    "goeiemorgen", "goeiemiddag", "goeienavond", "dag", "moi", "beste", "nou", "ja", "oke",
)  # fmt: skip
# Titles keep the surname after them: "mevrouw de Boer" is called "de Boer".
_TITLES = ("mevrouw", "mevr", "mw", "meneer", "mr", "mrs", "ms", "dhr", "heer", "juffrouw")
_FAMILY = ("oma", "opa", "tante", "ome", "oom", "zuster", "de")
_TAILS = re.compile(r"\s+(?:hier|uit\s.*|van\s+\d.*|\d.*)$", re.IGNORECASE)
_NOT_A_NAME = frozenset(
    {"ik", "je", "jij", "weet", "niet", "geen", "wat", "waarom", "wie", "het", "een", "nee",
     "ja", "hoe", "naam", "voornaam", "bot", "help", "test"}
)  # fmt: skip

EXAMPLES: tuple[tuple[str, str | None], ...] = (
    ("Riek", "Riek"),
    ("ik heet riek", "Riek"),
    ("ik ben riek van dijk", "Riek"),
    ("Hoi, ik ben Sanne!", "Sanne"),
    ("mevrouw Jansen", "Jansen"),
    ("Mevr. de Boer", "de Boer"),
    ("ik heet Mohammed maar zeg maar Mo", "Mo"),
    ("Johanna, maar iedereen zegt Annie", "Annie"),
    ("Ik ben Bert, 74 jaar", "Bert"),
    ("ria hier", "Ria"),
    ("oma Greet", "Greet"),
    ("Jan-Willem", "Jan-Willem"),
    ("I'm Sarah", "Sarah"),
    ("Mevrouw Bakker, maar Truus mag ook", "Truus"),
    ("ja", None),
    ("ik weet het niet", None),
    ("0612345678", None),
    ("http://spam.example", None),
    ("ik wil graag eerst weten wat dit is", None),
)


def _after_last_lead(text: str) -> str:
    lowered = text.lower()
    best = -1
    cut = 0
    for lead in _LEADS:
        for match in re.finditer(rf"(?:^|[\s,.!]){re.escape(lead)}[\s,]+", lowered):
            if match.end() > best:
                best, cut = match.end(), match.end()
    return text[cut:] if best >= 0 else text


# "Mevrouw de Vries, maar Annie mag ook": the name offered after "maar" is the one to use.
_OFFER = re.compile(r"(?<!zeg)(?<!\bme)(?<!mij)[\s,]+(?:maar|but)\s+", re.IGNORECASE)


def _offered_later(cleaned: str) -> str | None:
    """The name after the last "maar"/"but", when it is clearly offered as a name: written
    with a capital, or after "zeg maar", "call me" and the like."""
    parts = _OFFER.split(cleaned)
    if len(parts) < 2:
        return None
    tail = parts[-1]
    name = read_name(tail)
    if name is None:
        return None
    led = _after_last_lead(" " + tail) != " " + tail
    return name if led or name in tail.split() or name.split()[0] in tail.split() else None


def read_name(text: str) -> str | None:
    """The name someone wants to be called, or None when the text holds no name."""
    cleaned = " ".join(text.replace("\n", " ").split())
    if "@" in cleaned or "://" in cleaned or len(cleaned) > 80:
        return None
    if (later := _offered_later(cleaned)) is not None:
        return later
    if read_yes_no(cleaned) is not None:  # "ja" or "nee" to "what may I call you?"
        return None
    words = cleaned.strip(" .,!?:;\"'").split()
    while words and words[0].lower().strip(",.!") in _GREETINGS:
        words = words[1:]
    if len(words) > 4 and _after_last_lead(" " + " ".join(words)) == " " + " ".join(words):
        return None  # a sentence without "ik heet" or the like: not a name
    rest = _after_last_lead(" " + " ".join(words)).strip()
    rest = re.split(r"[,;!?(]|\s+maar\s|\s+en\s", rest)[0].strip(" .'\"")
    rest = _TAILS.sub("", rest).strip()
    parts = rest.split()
    if not parts:
        return None
    if parts[0].lower().rstrip(".") in _TITLES and len(parts) > 1:
        name = " ".join(parts[1:3])
    else:
        while len(parts) > 1 and parts[0].lower() in _FAMILY:
            parts = parts[1:]
        name = parts[0]
    if not all(c.isalpha() or c in " -'." for c in name) or not any(c.isalpha() for c in name):
        return None
    if name.lower() in _NOT_A_NAME or len(name) > 40:
        return None
    return name[:1].upper() + name[1:] if name[:1].islower() and " " not in name else name
