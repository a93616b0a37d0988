"""Reading what people type: commands, yes/no, numbers, names, postcodes, fixed choices.

Pure functions. Input is whatever a phone sends: typos, capitals, emoji, control
characters, 10,000 characters. Nothing here raises on odd input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from enum import StrEnum

from rapidfuzz.distance import Levenshtein

# The readers of names and yes/no live in `handlers/answers/`; these names stay for callers.
from handlers.answers.names import read_name as read_name
from handlers.answers.words import clean as clean
from handlers.answers.yes_no import read_yes_no as read_yes_no
from handlers.flow import Choice

MAX_TEXT = 1000  # longer messages are not read: we ask for a short answer instead


class Command(StrEnum):
    HELP = "help"
    BACK = "back"
    STOP = "stop"
    MY_DATA = "my_data"
    FORGET = "forget"
    LANGUAGE = "language"
    START = "start"
    SKIP = "skip"
    DONE = "done"
    CHANGE = "change"
    IDEAS = "ideas"
    PAUSE = "pause"
    RESUME = "resume"
    REQUESTS = "requests"
    LINK = "link"


COMMAND_WORDS: dict[Command, tuple[str, ...]] = {
    Command.HELP: ("help", "hulp", "?", "uitleg", "wat moet ik doen", "ik snap het niet"),
    Command.BACK: ("terug", "back", "vorige", "ga terug", "go back", "previous"),
    Command.STOP: ("stop", "stoppen", "ophouden", "genoeg", "quit", "cancel", "annuleer"),
    Command.MY_DATA: (
        "mijn gegevens",
        "gegevens",
        "mijn data",
        "my data",
        "mydata",
        "wat weet je van mij",
        "export",
    ),
    Command.FORGET: (
        "vergeet mij",
        "vergeet me",
        "vergeet",
        "verwijder mij",
        "wis mijn gegevens",
        "forget me",
        "forget",
        "delete me",
    ),
    Command.LANGUAGE: ("taal", "language", "english", "engels", "nederlands", "dutch"),
    Command.START: ("start", "begin", "opnieuw"),
    Command.SKIP: ("overslaan", "sla over", "skip", "weet ik niet", "geen idee", "pass"),
    Command.DONE: ("klaar", "done", "ready", "dat is alles", "verder", "volgende", "next"),
    Command.CHANGE: ("wijzigen", "aanpassen", "veranderen", "change", "edit"),
    Command.IDEAS: ("ideeen", "idee", "ideas", "suggesties", "meer ideeen", "more ideas"),
    Command.PAUSE: ("pauze", "pauzeer", "pause", "geen ideeen meer", "no more ideas"),
    Command.RESUME: ("hervat", "hervatten", "resume", "weer ideeen", "ideas again"),
    Command.REQUESTS: ("verzoeken", "aanvragen", "requests"),
    Command.LINK: ("koppel", "koppelen", "link", "koppel code", "link code"),
}
_COMMANDS = {word: command for command, words in COMMAND_WORDS.items() for word in words}

GREETINGS = frozenset(
    {"hallo", "hoi", "hai", "hey", "hi", "hello", "goedemorgen", "goedemiddag", "goedenavond",
     "dag", "goeiedag", "morgen", "moi", "good morning", "goeiemorgen", "goeiemiddag",
     "goeienavond", "goedendag", "hallo daar", "hoi hoi", "hey there", "good afternoon",
     "good evening", "hallootjes", "hoihoi", "middag", "avond", "hallo hallo"}
)
THANKS = frozenset(
    {"bedankt", "dank je", "dank je wel", "dankjewel", "dankje", "dank u", "dank u wel",
     "dankuwel", "hartelijk dank", "heel erg bedankt", "heel hartelijk bedankt",
     "super bedankt", "top bedankt", "bedankt hoor", "dank je wel hoor", "oke bedankt",
     "ok bedankt", "fijn bedankt", "bedankt voor je hulp", "dank voor je hulp",
     "bedankt voor de hulp", "merci", "thanks", "thank you", "thanks a lot", "thx",
     "thank you very much", "many thanks", "thanks for your help", "cheers"}
)
_NOT_WORD = re.compile(r"[^\w\s?'\-]", re.UNICODE)


def fold(text: str) -> str:
    """Lower case, no accents, no punctuation or emoji: the form we compare words in."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = _NOT_WORD.sub(" ", plain).replace("_", " ")
    return " ".join(plain.split())


def has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)


def read_command(text: str) -> Command | None:
    """A command word or `/command`, when it is the whole message."""
    stripped = text.strip()
    if stripped.startswith("/"):
        stripped = stripped[1:].split("@")[0].replace("_", " ")
    folded = fold(stripped)
    if not folded and stripped.strip() == "?":
        return Command.HELP
    return _COMMANDS.get(folded)


_LINK_WORDS = ("koppel", "koppelen", "koppeling")


def is_link_request(text: str) -> bool:
    """ "koppel", "koppelen", "link", or a close typo ("kopel", "koppelne"): asking to link
    chats."""
    if read_command(text) is Command.LINK:
        return True
    folded = fold(text)
    return any(_close(folded, word) for word in _LINK_WORDS)


def is_greeting(text: str) -> bool:
    return fold(text) in GREETINGS


# Asking for something to do, in everyday words: at the menu these mean "Ideeën voor mij".
_IDEAS_ASKED = (
    "iets voor mij", "iets voor me", "iets leuks", "iets te doen", "iets doen", "wat kan ik",
    "wat is er te doen", "wat valt er te doen", "wat is er in de buurt", "wat past bij mij",
    "mensen ontmoeten", "mensen leren kennen", "mensen te leren kennen", "activiteit",
    "suggestie", "idee", "something to do", "anything for me", "something for me",
    "what can i do", "meet people", "activities", "suggest",
)
_NOT_NOW = (" geen ", " niet ", " no ", " not ", " stop ", " pauze ", " nooit ")


def asks_for_ideas(text: str) -> bool:
    """ "Heb je iets voor mij?", "ik wil graag mensen ontmoeten": asking what there is to
    do. A "geen" or "niet" in it ("ik wil geen ideeën meer") is not that."""
    folded = f" {fold(text)} "
    if any(word in folded for word in _NOT_NOW):
        return False
    return any(phrase in folded for phrase in _IDEAS_ASKED)


_NO_MORE_IDEAS = (
    "geen ideeen", "geen suggesties", "geen voorstellen", "geen berichten meer",
    "no more ideas", "no more suggestions", "no ideas",
)


def asks_for_no_more_ideas(text: str) -> bool:
    """ "Ik wil geen ideeën meer": the suggestions may pause ("geen idee" is "no idea")."""
    folded = f" {fold(text)} "
    return any(f" {phrase} " in folded for phrase in _NO_MORE_IDEAS)


def is_thanks(text: str) -> bool:
    """ "Bedankt!", "dank je wel": thanks, and nothing else ("nee bedankt" is a no)."""
    return fold(text) in THANKS


def read_numbers(text: str) -> list[int] | None:
    """"2" or "1, 3 en 5": option numbers; None when the text is not only numbers."""
    folded = fold(text).replace(",", " ")
    words = [w for w in folded.split() if w not in ("en", "and", "&")]
    if words and all(w.isdigit() and len(w) <= 3 for w in words):
        return [int(w) for w in words]
    return None


def _close(word: str, candidate: str) -> bool:
    if word == candidate:
        return True
    if len(candidate) < 5:
        return False
    allowed = 1 if len(candidate) < 8 else 2
    return Levenshtein.distance(word, candidate, score_cutoff=allowed) <= allowed


def read_choices(text: str, choices: Sequence[Choice], labels: Sequence[str]) -> list[Choice]:
    """Choices named in free text, by their words or their shown label, typos allowed."""
    folded = f" {fold(text)} "
    tokens = folded.split()
    found: list[Choice] = []
    for choice, label in zip(choices, labels, strict=True):
        phrases = [fold(w) for w in choice.words] + [fold(label)]
        for phrase in phrases:
            if not phrase:
                continue
            if f" {phrase} " in folded:
                found.append(choice)
                break
            if " " not in phrase and any(_close(t, phrase) for t in tokens):
                found.append(choice)
                break
    return found


def read_short_text(text: str, max_length: int) -> str | None:
    """A short free text (a title, a description): cleaned; None if empty or too long."""
    cleaned = clean(text)
    if len(cleaned) < 2 or len(cleaned) > max_length or not has_words(cleaned):
        return None
    return cleaned
