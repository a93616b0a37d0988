"""Table tests for `handlers/reading.py`: what people type, read as commands and answers."""

from __future__ import annotations

import pytest

from handlers.answers.distance import read_distance
from handlers.answers.places import read_postcode
from handlers.flow import DISTANCES, GROUP, TIMES, Choice
from handlers.i18n import Texts
from handlers.reading import (
    COMMAND_WORDS,
    Command,
    clean,
    fold,
    has_words,
    is_greeting,
    read_choices,
    read_command,
    read_name,
    read_numbers,
    read_yes_no,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Dutch words
        ("help", Command.HELP),
        ("hulp", Command.HELP),
        ("?", Command.HELP),
        ("Help!", Command.HELP),
        ("terug", Command.BACK),
        ("  TERUG ", Command.BACK),
        ("ga terug", Command.BACK),
        ("stop", Command.STOP),
        ("Stoppen", Command.STOP),
        ("mijn gegevens", Command.MY_DATA),
        ("Mijn gegevens", Command.MY_DATA),
        ("vergeet mij", Command.FORGET),
        ("Vergeet me!", Command.FORGET),
        ("taal", Command.LANGUAGE),
        ("overslaan", Command.SKIP),
        ("weet ik niet", Command.SKIP),
        ("klaar", Command.DONE),
        ("wijzigen", Command.CHANGE),
        ("opnieuw", Command.START),
        # English words
        ("back", Command.BACK),
        ("Go back", Command.BACK),
        ("my data", Command.MY_DATA),
        ("Forget me", Command.FORGET),
        ("language", Command.LANGUAGE),
        ("english", Command.LANGUAGE),
        ("skip", Command.SKIP),
        ("done", Command.DONE),
        ("change", Command.CHANGE),
        # Telegram commands
        ("/help", Command.HELP),
        ("/terug", Command.BACK),
        ("/stop", Command.STOP),
        ("/gegevens", Command.MY_DATA),
        ("/mijn_gegevens", Command.MY_DATA),
        ("/vergeet", Command.FORGET),
        ("/taal", Command.LANGUAGE),
        ("/start", Command.START),
        ("/help@MeedoenBot", Command.HELP),
        ("/overslaan", Command.SKIP),
        # not a command: the word inside a sentence, or no command at all
        ("ik wil terug naar huis", None),
        ("help me met koken", None),
        ("kun je mijn gegevens sturen naar mijn dochter", None),
        ("ik wil stoppen met roken", None),
        ("vergeet mij niet", None),
        ("please go back home", None),
        ("Anna", None),
        ("hallo", None),
        ("", None),
        ("/", None),
        ("/onbekend", None),
        ("🙂", None),
    ],
)
def test_read_command(text: str, expected: Command | None) -> None:
    assert read_command(text) is expected


def test_every_command_word_reads_as_its_command() -> None:
    for command, words in COMMAND_WORDS.items():
        for word in words:
            assert read_command(word) is command, word
            assert read_command(word.upper()) is command, word


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ja", True),
        ("Ja!", True),
        ("JA", True),
        ("ja hoor", True),
        ("Jawel", True),
        ("oké", True),
        ("ok", True),
        ("yes", True),
        ("Yes please", True),
        ("👍", True),
        ("nee", False),
        ("Nee, bedankt", False),
        ("liever niet", False),
        ("no", False),
        ("No thanks", False),
        ("👎", False),
        ("misschien", None),
        ("ja maar eerst koffie", None),
        ("Anna", None),
        ("", None),
        ("   ", None),
        ("🙂", None),
    ],
)
def test_read_yes_no(text: str, expected: bool | None) -> None:
    assert read_yes_no(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", [2]),
        (" 3 ", [3]),
        ("1, 3 en 5", [1, 3, 5]),
        ("1 and 2", [1, 2]),
        ("1,2", [1, 2]),
        ("12 & 3", [12, 3]),
        ("0", [0]),
        ("99", [99]),
        ("1000", None),  # a postcode-like number is not a button number
        ("7607", None),
        ("2 koffie", None),
        ("twee", None),
        ("en", None),
        ("", None),
        ("🙂", None),
    ],
)
def test_read_numbers(text: str, expected: list[int] | None) -> None:
    assert read_numbers(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna", "Anna"),
        ("anna", "Anna"),
        ("  Anna.  ", "Anna"),
        ("ik heet anna", "Anna"),
        ("Ik heet Anna!", "Anna"),
        ("ik ben Piet", "Piet"),
        ("mijn naam is Jan de Vries", "Jan"),
        ("noem me Bep", "Bep"),
        ("zeg maar Kees", "Kees"),
        ("My name is Tom", "Tom"),
        ("call me Sam", "Sam"),
        ("Marie-José", "Marie-José"),
        ("d'Artagnan", "D'Artagnan"),
        ("Ömer", "Ömer"),
        ("Wilhelmina" * 4, "Wilhelmina" * 4),  # 40 letters: still a name
        ("A" * 40, None),  # one letter over and over: typed at random
        # not a name
        ("1234", None),
        ("Anna1", None),
        ("http://x", None),
        ("www.example.nl/anna", None),
        ("anna@example.nl", None),
        ("", None),
        ("   ", None),
        ("A" * 41, None),
        ("🙂", None),
        ("🙂🙂🙂", None),
        ("Anna 🙂", "Anna"),
        ("a b c d e", None),
        ("?!", None),
        ("ik heet 1234", None),
        ("ja", None),  # an answer to the name question, not a name
        ("Nee", None),
        ("ok", None),
        ("nee, bedankt", None),
    ],
)
def test_read_name(text: str, expected: str | None) -> None:
    assert read_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7607", "7607"),
        ("7607 AB", "7607"),
        ("7607ab", "7607"),
        ("7607AB", "7607"),
        ("7607-AB", "7607"),
        ("ik woon in 3291", "3291"),
        ("Postcode: 3291 BC Strijen", "3291"),
        ("1000", "1000"),  # well-formed, even if we do not know it
        ("12345", None),
        ("0123", None),
        ("0000", None),
        ("760", None),
        ("76071", None),
        ("Almelo", None),
        ("", None),
    ],
)
def test_read_postcode(text: str, expected: str | None) -> None:
    assert read_postcode(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500 meter", 500),
        ("1.000 meter", 1000),
        ("1.5 km", 1500),
        ("500 meters", 500),
        ("300m", 300),
        ("1,5 km", 1500),
        ("1.5km", 1500),
        ("2km", 2000),
        ("2 kilometer", 2000),
        ("3 kilometers", 3000),
        ("ongeveer 800 m lopen", 800),
        ("50 m", 100),  # at least 100 m
        ("60 km", 50_000),  # at most 50 km
        ("10 minuten", 800),  # walking
        ("veel", None),
        ("2", None),
        ("", None),
    ],
)
def test_read_distance(text: str, expected: int | None) -> None:
    assert read_distance(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna", "Anna"),
        ("  Anna  de   Vries ", "Anna de Vries"),
        ("Anna\nde\tVries", "Anna de Vries"),
        ("\x00\x07", ""),
        ("a\x00b", "a b"),
        ("\x7fja\x9f", "ja"),
        ("zero\u200bwidth", "zero width"),
        ("rtl\u202eoverride", "rtl override"),
        ("word\u2060joiner", "word joiner"),
        ("🙂🙂🙂", "🙂🙂🙂"),  # emoji are kept
        ("", ""),
        (None, ""),
    ],
)
def test_clean(text: str | None, expected: str) -> None:
    assert clean(text) == expected


@pytest.mark.parametrize(
    "text",
    ["\x00\x07\x1b[31m", "\x1b[0m", "\x1b[1;31m\x1b[0m", "\x01\x02\x03\x04\x05\x06\x08\x0b\x0c"],
)
def test_clean_strips_control_characters_and_terminal_escapes(text: str) -> None:
    """An escape sequence leaves nothing behind that could read as an answer ("31m")."""
    cleaned = clean(text)
    assert cleaned == ""
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in cleaned)
    assert read_distance(text) is None
    assert read_numbers(text) is None


def test_clean_strips_every_c0_and_c1_control_character() -> None:
    controls = "".join(chr(c) for c in [*range(32), *range(0x7F, 0xA0)])
    assert clean(f"a{controls}b") == "a b"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Één Persoon", "een persoon"),
        ("Hallo!!", "hallo"),
        ("koken 🍳", "koken"),
        ("'s avonds", "'s avonds"),
        ("   ", ""),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("hallo", True), ("Goedemorgen!", True), ("hallo Anna", False)]
)
def test_is_greeting(text: str, expected: bool) -> None:
    assert is_greeting(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"), [("a", True), ("7", True), ("🙂", False), ("", False)]
)
def test_has_words(text: str, expected: bool) -> None:
    assert has_words(text) is expected


_TEXTS = Texts.load()


@pytest.mark.parametrize(
    ("choices", "text", "expected"),
    [
        (TIMES, "'s ochtends en in het weekend", ["morning", "weekend"]),
        (TIMES, "avnod", []),  # too short for a typo
        (TIMES, "middagg", ["afternoon"]),  # one slip
        (TIMES, "maakt niet uit", ["any"]),
        (DISTANCES, "om de hoek", ["400"]),
        (DISTANCES, "in mijn buurt", ["800"]),
        (GROUP, "in een groep", ["group"]),
        (GROUP, "allebei", ["both"]),
        (GROUP, "geen idee", []),
    ],
)
def test_read_choices(choices: tuple[Choice, ...], text: str, expected: list[str]) -> None:
    labels = [_TEXTS("nl", c.label) for c in choices]
    assert [c.key for c in read_choices(text, choices, labels)] == expected
