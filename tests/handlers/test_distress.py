"""Signs of distress and asking for a person, on realistic sentences in Dutch and English,
including ones that use the same words and must not trigger."""

from __future__ import annotations

import pytest

from handlers.distress import Distress, asks_for_human, read_distress


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Ik wil niet meer leven, alles is zwaar", Distress.SUICIDE),
        ("soms denk ik aan zelfmoord", Distress.SUICIDE),
        ("Ik wil er een eind aan maken.", Distress.SUICIDE),
        ("ik zie het echt niet meer zitten", Distress.SUICIDE),
        ("I want to kill myself", Distress.SUICIDE),
        ("I don't want to live anymore", Distress.SUICIDE),
        ("Mijn man slaat me als hij drinkt", Distress.VIOLENCE),
        ("ik word bedreigd door mijn buurman", Distress.VIOLENCE),
        ("He hits me when he is angry", Distress.VIOLENCE),
        ("ik heb al drie dagen niet gegeten", Distress.NO_FOOD),
        ("We hebben geen geld voor eten deze week", Distress.NO_FOOD),
        ("I can't afford food until Friday", Distress.NO_FOOD),
        ("Ik heb schulden en de deurwaarder komt morgen", Distress.DEBTS),
        ("we kunnen de huur niet meer betalen", Distress.DEBTS),
        ("I have debts I cannot pay", Distress.DEBTS),
        ("Sinds mijn vrouw er niet meer is voel ik me zo eenzaam", Distress.LONELINESS),
        ("ik heb niemand om mee te praten", Distress.LONELINESS),
        ("I feel so lonely since I moved here", Distress.LONELINESS),
    ],
)
def test_distress_is_read_in_both_languages(text: str, kind: Distress) -> None:
    assert read_distress(text) is kind


@pytest.mark.parametrize(
    "text",
    [
        "ik ga dood van het lachen",
        "de plantjes zijn dood",
        "ik lach me dood om die hond",
        "ik verveel me dood op zondag",
        "het is mijn schuld dat de taart mislukt is",
        "gelukkig heb ik geen schulden",
        "ik ben niet eenzaam hoor, ik wil gewoon wandelen",
        "ik wil helpen tegen eenzaamheid in de wijk",
        "ik kook graag voor de voedselbank inzamelen",
        "I am dead tired after gardening",
        "I want to help lonely people in my street",
        "ik heb honger, tijd voor lunch",
        "wandelen en koken",
    ],
)
def test_figures_of_speech_and_ordinary_answers_are_not_distress(text: str) -> None:
    assert read_distress(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "ik wil iemand spreken",
        "Ik wil iemnd sprekn",
        "help van een mens graag",
        "hulp van een mens",
        "Ik zou graag iemand hebben die me helpt",
        "I want to talk to a person",
        "can I speak to a human please",
        "I want to tlak to a persn",
    ],
)
def test_asking_for_a_person_is_read_with_typos(text: str) -> None:
    assert asks_for_human(text)


@pytest.mark.parametrize(
    "text", ["hulp", "help", "ik kook graag", "Anna", "7607", "wandelen en tuinieren"]
)
def test_ordinary_answers_do_not_ask_for_a_person(text: str) -> None:
    assert not asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "iemand die me helpt in de tuin",
        "iemand die mij helpt met de computer",
        "iemand die mij met de auto naar het ziekenhuis brengt",
    ],
)
def test_help_with_something_named_is_a_wish_not_a_call_for_a_person(text: str) -> None:
    assert not asks_for_human(text)


@pytest.mark.parametrize(
    "text", ["iemand die me helpt", "Is er iemand die me kan helpen?", "iemand die mij helpt aub"]
)
def test_help_with_nothing_named_asks_for_a_person(text: str) -> None:
    assert asks_for_human(text)
