"""Reading whether a resident needs a person: signs of distress, or asking for a human.

Pure functions over what a phone sends. The distress list is curated, in Dutch and English:
loneliness, debts, no food, violence and thoughts of suicide. Each sign is a phrase, not a
single word: "dood" alone means nothing ("de plantjes zijn dood", "ik ga dood van het
lachen"), "ik wil niet meer leven" does. Figures of speech and negations that use the same
words are listed too, and win.
"""

from __future__ import annotations

import re
from enum import StrEnum

from rapidfuzz import fuzz

from handlers.reading import fold


class Distress(StrEnum):
    SUICIDE = "suicide"
    VIOLENCE = "violence"
    NO_FOOD = "no_food"
    DEBTS = "debts"
    LONELINESS = "loneliness"


def _patterns(*phrases: str) -> re.Pattern[str]:
    return re.compile("|".join(rf"\b(?:{phrase})\b" for phrase in phrases))


# Phrases on folded text: lower case, no accents or punctuation ("m'n" becomes "m n").
SIGNS: dict[Distress, re.Pattern[str]] = {
    Distress.SUICIDE: _patterns(
        r"zelfmoord\w*",
        r"suicid\w*",
        r"(een )?(eind|einde) aan (mijn|m n|het|me) leven",
        r"er een (eind|einde) aan (maken|te maken)",
        r"(ik )?wil (niet meer )?dood",
        r"(wil|kan) niet meer (leven|verder)",
        r"wil er niet meer zijn",
        r"mezelf (iets )?(aandoen|van kant maken|ophangen)",
        r"mijn leven (heeft|is) geen (zin|nut)",
        r"het leven heeft geen zin",
        r"ik zie het (echt )?niet meer zitten",
        r"kill myself",
        r"end (my (own )?life|it all)",
        r"(want|wanna) to die",
        r"(do not|don t) want to (live|be alive)",
        r"no reason to live",
        r"better off dead",
        r"hurt myself",
        r"take my (own )?life",
    ),
    Distress.VIOLENCE: _patterns(
        r"(hij|zij|ze|mijn \w+) (slaat|schopt|mishandelt|bedreigt|wurgt) (me|mij)",
        r"ik (word|wordt|ben) (geslagen|mishandeld|bedreigd|geschopt)",
        r"huiselijk geweld",
        r"ik ben (zo )?bang voor (hem|haar|mijn (man|vrouw|partner|zoon|dochter|vriend|buurman))",
        r"(he|she|my \w+) (hits|beats|kicks|threatens|hurts) me",
        r"i (am|m|get) (being )?(hit|beaten|abused|threatened)",
        r"domestic (violence|abuse)",
        r"(afraid|scared) of my (husband|wife|partner|son|daughter|boyfriend|neighbour|neighbor)",
    ),
    Distress.NO_FOOD: _patterns(
        r"(geen|niks|niets) (meer )?te eten",
        r"geen eten (meer )?(in huis|kopen)",
        r"(heb|hebben) geen eten",
        r"geen geld (meer )?voor (eten|boodschappen)",
        r"(al )?(dagen|twee dagen|drie dagen) niet (meer )?gegeten",
        r"voedselbank",
        r"(no|nothing to|not enough) food",
        r"nothing (left )?to eat",
        r"(can t|cannot) (afford|buy) (food|groceries)",
        r"(haven t|have not) eaten (in|for) (days|two days)",
        r"food ?bank",
    ),
    Distress.DEBTS: _patterns(
        r"schulden",
        r"deurwaarder\w*",
        r"incassobureau\w*",
        r"(kan|kunnen) (de|mijn|onze) (huur|rekeningen|energierekening) niet (meer )?betalen",
        r"debts?",
        r"bailiffs?",
        r"debt collectors?",
        r"(can t|cannot) pay (the|my|our) (rent|bills)",
    ),
    Distress.LONELINESS: _patterns(
        r"(ik ben|ik voel me|ik voel mij|ben ik|voel ik me|voel ik mij)"
        r" (zo |heel |erg |vaak |best )?eenzaam",
        r"alleen op de wereld",
        r"(niemand|geen mens) (meer )?om (mee )?te praten",
        r"ik (voel me|ben) (zo|heel|erg) alleen",
        r"(i am|i m|im|i feel|feeling) (so |very |really |quite )?(lonely|alone)",
        r"(no one|nobody|noone) to talk to",
    ),
}

# Figures of speech and negations that use the same words: they never signal distress.
NOT_DISTRESS = _patterns(
    r"(dood|doodgaan|sterven) van het lachen",
    r"lach (me|mij) (dood|rot)",
    r"verveel (me|mij) dood",
    r"(geen|zonder) schulden",
    r"schuldenvrij",
    r"no debts?",
    r"debt free",
    r"(niet|nooit) eenzaam",
    r"(not|never) (lonely|alone)",
    r"dying (of|from) laughter",
    r"(helpen|help|tegen|against) .*(eenzaam|lonely|loneliness)",
    r"voor de voedselbank (koken|inzamelen|werken)",
    r"(volunteer|help|cook) (at|for) the food ?bank",
)

# Asking for a human, typos allowed: compared by similarity on folded text.
ASK_FOR_HUMAN = (
    "ik wil iemand spreken",
    "kan ik iemand spreken",
    "iemand spreken",
    "help van een mens",
    "hulp van een mens",
    "een mens spreken",
    "met een mens praten",
    "een echt mens",
    "een echte persoon",
    "een medewerker spreken",
    "i want to talk to a person",
    "talk to a person",
    "speak to a person",
    "talk to a human",
    "speak to a human",
    "talk to a real person",
    "speak to someone",
    "human please",
)
_SIMILAR = 88


def _folded(text: str) -> str:
    """Folded, with apostrophes and hyphens as spaces: "can't" → "can t", "m'n" → "m n"."""
    return " ".join(re.sub(r"['\-’]", " ", fold(text)).split())


def read_distress(text: str) -> Distress | None:
    """The kind of distress a message signals, or None (most messages)."""
    folded = _folded(text)
    if not folded or NOT_DISTRESS.search(folded):
        return None
    for kind, pattern in SIGNS.items():
        if pattern.search(folded):
            return kind
    return None


# Asking for someone to help, with nothing named: "ik wil iemand die me helpt". With
# something named it is a wish ("iemand die me helpt in de tuin"), for the question.
_HELPER = re.compile(
    r"\biemand (?:\w+ )?die (?:me|mij) (?:helpt|kan helpen|wil helpen|helpen kan)"
    r"(?: (?:graag|alsjeblieft|alstublieft|aub|please))*[\s?]*$"
)


def asks_for_human(text: str) -> bool:
    """ "ik wil iemand spreken", "help van een mens", "I want to talk to a person"."""
    folded = _folded(text)
    if len(folded) < 8:
        return False
    if _HELPER.search(folded):
        return True
    return any(
        fuzz.partial_ratio(phrase, folded) >= _SIMILAR
        for phrase in ASK_FOR_HUMAN
        if len(folded) >= len(phrase) - 2
    )
