"""Free activities only, or may it cost a little: "ik heb weinig geld", "een paar euro is
goed", "het mag niks kosten", "niet alleen gratis"."""

from __future__ import annotations

from handlers.answers.words import has_phrase, words
from handlers.answers.yes_no import read_yes_no

# Checked in this order: the first phrase found decides.
_PHRASES: tuple[tuple[str, bool], ...] = (
    ("niet alleen gratis", False), ("not only free", False), ("geen probleem", False),
    ("no problem", False), ("maakt niet uit", False), ("doesnt matter", False),
    ("niet te duur", False), ("niet zo duur", False), ("niet al te duur", False),
    ("niet duur", False), ("goedkoop", False), ("goedkoops", False), ("not too expensive", False),
    ("not expensive", False), ("cheap", False), ("te duur", True), ("too expensive", True),
    ("niet veel geld", True), ("weinig geld", True), ("geen geld", True), ("no money", True),
    ("niks kosten", True), ("niets kosten", True), ("niks betalen", True),
    ("niets betalen", True), ("niet betalen", True), ("kan niet betalen", True),
    ("krap", True), ("betaalbaar", True), ("affordable", True), ("arm", True), ("minima", True),
    ("bijstand", True), ("aow", True), ("weinig te besteden", True), ("rondkomen", True),
    ("zuinig", True), ("kleine beurs", True), ("krappe beurs", True), ("smalle beurs", True),
    ("platte beurs", True), ("weinig inkomen", True), ("laag inkomen", True),
    ("uitkering", True), ("schulden", True), ("schuldhulp", True), ("voedselbank", True),
    ("limited income", True), ("food bank", True), ("debt", True), ("debts", True),
    ("short of money", True), ("low on money", True), ("tight", True), ("low income", True),
    ("on a budget", True), ("niet breed", True), ("heb niet veel", True), ("heb weinig", True),
    ("dont have much", True), ("havent got much", True), ("klein bedrag", False),
    ("small amount", False), ("bedrag", False), ("amount", False),
    ("not much money", True), ("little money", True), ("hard up", True), ("skint", True),
    ("broke", True), ("pension", True), ("benefits", True),
    ("gratis", True), ("kosteloos", True), ("free", True), ("cant afford", True),
    ("bijdrage", False), ("euro", False), ("euros", False), ("betalen", False),
    ("kosten", False), ("kost", False), ("geld", False), ("fee", False), ("pay", False),
    ("paying", False), ("paid", False), ("cost", False), ("money", False),
)  # fmt: skip

EXAMPLES: tuple[tuple[str, bool | None], ...] = (
    ("ja", True),
    ("alleen gratis", True),
    ("ik heb weinig geld", True),
    ("het mag niks kosten", True),
    ("nee", False),
    ("een paar euro is goed", False),
    ("niet alleen gratis", False),
    ("geld is geen probleem", False),
    ("money is a bit tight", True),
    ("ik moet zuinig zijn", True),
    ("ik kan niet zo veel uitgeven", True),
    ("ik heb een kleine beurs", True),
    ("ik heb het niet breed", True),
    ("als het niet te duur is", False),
    ("iets goedkoops is prima", False),
    ("alles is tegenwoordig te duur", True),
    ("wandelen", None),
)


_NOT = frozenset({"niet", "geen", "not", "cant", "dont", "no"})
_MUCH = frozenset({"veel", "zoveel", "much", "genoeg", "enough", "breed"})
_MONEY = frozenset({"geld", "money", "pay", "betalen", "afford", "uitgeven", "spend"})


def read_free(text: str) -> bool | None:
    """True for free activities only, False when a small fee is fine, None when unclear."""
    said = words(text)
    if _NOT & set(said) and _MUCH & set(said) and _MONEY & set(said):
        return True  # "niet zoveel geld", "I can't pay much", "not enough money"
    for phrase, free in _PHRASES:
        if has_phrase(said, phrase):
            return free
    return read_yes_no(text)
