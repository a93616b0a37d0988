"""A first name, also inside a sentence or after a title: "hoi, ik ben Sanne!", "mevrouw Jansen"
(called "Mevrouw Jansen")."""

from __future__ import annotations

import itertools
import re
import unicodedata

from handlers.answers.yes_no import read_yes_no

# What people put before their name; the longest first.
_LEADS = (
    "mijn voornaam is", "mijn naam is", "ze noemen mij", "ze noemen me", "iedereen zegt",
    "noem me maar", "noem mij maar", "zeg maar gewoon", "zeg maar", "noem me", "noem mij",
    "ik heet eigenlijk", "ik heet", "ik ben het", "ikke ben", "ik ben", "dit is", "hier is",
    "de naam is", "naam is", "met", "my name is", "name is", "name's", "names", "call me",
    "i am", "i'm", "im", "its", "it's", "this is", "u spreekt met", "je spreekt met",
    "naam:", "name:", "i am called", "i'm called", "im called", "my name's", "noemt me",
    "noemt mij", "noemen me", "noemen mij", "everyone calls me", "people call me",
)  # fmt: skip
_GREETINGS = (
    "hallo", "hoi", "hai", "hey", "hi", "hello", "goedemorgen", "goedemiddag", "goedenavond",
    "goeiemorgen", "goeiemiddag", "goeienavond", "dag", "moi", "beste", "nou", "ja", "oke",
)  # fmt: skip
# Someone who gives a title and a surname is called by both, written out: "mevr. de Boer"
# is "Mevrouw De Boer" (a surname's first particle takes a capital without a first name).
_TITLES = {
    "mevrouw": "Mevrouw", "mevr": "Mevrouw", "mw": "Mevrouw", "meneer": "Meneer",
    "dhr": "Meneer", "heer": "Meneer", "juffrouw": "Juffrouw", "mr": "Mr", "mrs": "Mrs",
    "ms": "Ms",
}  # fmt: skip
_PARTICLES = frozenset(
    {"van", "de", "der", "den", "ter", "ten", "te", "het", "'t", "von", "la", "le"}
)  # fmt: skip
_FAMILY = ("oma", "opa", "tante", "ome", "oom", "zuster", "de", "gewoon", "maar", "dus", "nou",
           "eigenlijk", "just", "simply")  # fmt: skip
_LEAD_PATTERNS = {lead: re.compile(rf"(?:^|[\s,.!]){re.escape(lead)}[\s,]+") for lead in _LEADS}
_TAILS = re.compile(r"\s+(?:hier|uit\s.*|van\s+\d.*|\d.*)$", re.IGNORECASE)
_NOT_A_NAME = frozenset(
    {"ik", "je", "jij", "weet", "niet", "geen", "wat", "waarom", "wie", "het", "een", "nee",
     "ja", "hoe", "naam", "voornaam", "bot", "help", "test", "this", "dit", "my", "mijn", "mn",
     "name", "name's", "names", "i", "dont", "don't", "know", "no", "yes", "what", "who"}
)  # fmt: skip

EXAMPLES: tuple[tuple[str, str | None], ...] = (
    ("Riek", "Riek"),
    ("ik heet riek", "Riek"),
    ("ik ben riek van dijk", "Riek"),
    ("Hoi, ik ben Sanne!", "Sanne"),
    ("mevrouw Jansen", "Mevrouw Jansen"),
    ("Mevr. de Boer", "Mevrouw De Boer"),
    ("dhr. jansen", "Meneer Jansen"),
    ("ik heet Mohammed maar zeg maar Mo", "Mo"),
    ("Johanna, maar iedereen zegt Annie", "Annie"),
    ("Ik ben Bert, 74 jaar", "Bert"),
    ("ria hier", "Ria"),
    ("oma Greet", "Greet"),
    ("Jan-Willem", "Jan-Willem"),
    ("I'm Sarah", "Sarah"),
    ("Hi, this is John", "John"),
    ("mn naam is bep", "Bep"),
    ("ik heet grietje en ik ben 78", "Grietje"),
    ("Mevrouw Bakker, maar Truus mag ook", "Truus"),
    ("ja", None),
    ("asdf", None),
    ("hmm", None),
    ("jkjkjk", None),
    ("Bo", "Bo"),
    ("ik ben gewoon tante truus", "Truus"),
    ("Naam: Kees", "Kees"),
    ("mijn naam is mevrouw van der Berg", "Mevrouw Van der Berg"),
    ("Ik ben Hendrik, maar iedereen noemt me Henk", "Henk"),
    ("i am called rosa", "Rosa"),
    ("Mimi", "Mimi"),
    ("ik weet het niet", None),
    ("0612345678", None),
    ("http://spam.example", None),
    ("ik wil graag eerst weten wat dit is", None),
)


_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_ROW_OF = {letter: (row, at) for row, keys in enumerate(_ROWS) for at, letter in enumerate(keys)}
_REPEATED = re.compile(r"^(.{1,3})\1{2,}$")  # "hahaha", "jkjkjk", "aaaa", "zzz"
_FILLERS = frozenset({"lol", "hmm", "hm", "haha", "hihi", "idk", "dunno", "ehm", "uhm", "eh", "uh",
                      "pff", "nvt", "blabla", "bla", "xxx", "test"})  # fmt: skip


def _typed_at_random(word: str) -> bool:
    """No name: a filler ("hmm"), no vowel at all ("sdfg"), one letter or pattern repeated
    ("hahaha"), or a run of neighbouring keys along one row ("asdf", "qwerty", "poiuy")."""
    letters = "".join(c for c in word if c.isalpha())
    if len(letters) < 2 or word in _FILLERS or _REPEATED.match(letters):
        return True
    if not set(unicodedata.normalize("NFD", letters)) & set("aeiouy"):
        return True
    keys = [_ROW_OF.get(c) for c in letters]
    return len(letters) >= 4 and all(
        a is not None and b is not None and a[0] == b[0] and abs(a[1] - b[1]) == 1
        for a, b in itertools.pairwise(keys)
    )


def _last_lead(text: str) -> tuple[int, int] | None:
    """Where the last lead ("ik heet", "call me") starts and ends, if there is one."""
    lowered = text.lower()
    best: tuple[int, int] | None = None
    for lead in _LEADS:
        for match in _LEAD_PATTERNS[lead].finditer(lowered):
            if best is None or match.end() > best[1]:
                best = (match.start(), match.end())
    return best


def _after_last_lead(text: str) -> str:
    found = _last_lead(text)
    return text[found[1] :] if found is not None else text


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
    said = " " + " ".join(words)
    name = _name_in(_after_last_lead(said).strip())
    lead = _last_lead(said)
    while name is None and lead is not None and lead[0] > 0:
        said = said[: lead[0]]  # "ik heet Grietje en ik ben 78": the lead before it
        name = _name_in(_after_last_lead(said).strip()) if _last_lead(said) else None
        lead = _last_lead(said)
    return name


def _name_in(rest: str) -> str | None:
    """The name at the start of what follows a lead: "Riek van Dijk, 74" → "Riek"."""
    rest = re.split(r"[,;!?(]|\s+maar\s|\s+en\s", rest)[0].strip(" .'\"")
    rest = _TAILS.sub("", rest).strip()
    parts = rest.split()
    if not parts:
        return None
    title = _TITLES.get(parts[0].lower().rstrip("."))
    if title is not None and len(parts) > 1:
        rest_parts = parts[1:]
        size = 1
        while size < len(rest_parts) and rest_parts[size - 1].lower() in _PARTICLES:
            size += 1
        surname = " ".join(rest_parts[:size])  # "mevrouw van der Berg": "Van der Berg"
        if _checked(surname) is None:
            return None
        return f"{title} {surname[:1].upper()}{surname[1:]}"
    while len(parts) > 1 and parts[0].lower() in _FAMILY:
        parts = parts[1:]
    name = parts[0]
    if _checked(name) is None:
        return None
    return name[:1].upper() + name[1:] if name[:1].islower() and " " not in name else name


def _checked(name: str) -> str | None:
    """`name` when it can be one: letters, not a common word, not typed at random."""
    if not all(c.isalpha() or c in " -'." for c in name) or not any(c.isalpha() for c in name):
        return None
    if name.lower() in _NOT_A_NAME or len(name) > 40 or _typed_at_random(name.lower()):
        return None
    return name
