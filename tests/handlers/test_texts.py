"""The text catalogs: complete in both languages, every key the code uses exists, plain Dutch."""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from wordfreq import zipf_frequency

from bot.channels.telegram import COMMANDS
from handlers import introduction_states
from handlers.flow import FLOWS, INTAKE, Kind, mermaid
from handlers.i18n import DEFAULT_LANGUAGE, LANGUAGES, Texts
from handlers.introductions import OUTCOMES, ROUTES
from handlers.matching import BANDS
from handlers.menu import MENU_ITEMS, ORGANISER_ITEMS
from handlers.taxonomy import Taxonomy
from handlers.visibility import VISIBILITY_STEP
from storage.initiatives import INITIATIVE_STATUSES

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ROOT / "handlers"
TEXTS = Texts.load()

# Literal keys in the code: t("..."), texts(<language>, "..."), InvalidAnswer("..."),
# and welcome's intro_key="...". `(?<!\w)t\(` skips `context.get("resume")`.
LITERAL_KEY_PATTERNS = (
    re.compile(r'(?<!\w)t\(\s*"([^"]+)"'),
    re.compile(r'texts\((?:[^"()]|\([^()]*\))*?,\s*"([^"]+)"'),
    re.compile(r'InvalidAnswer\(\s*"([^"]+)"'),
    re.compile(r'intro_key\s*=\s*"([^"]+)"'),
)
# Keys built with an f-string: t(f"menu.{item}"), texts(lang, f"button.outcome.{o}").
FSTRING_KEYS = (
    re.compile(r'(?<!\w)t\(\s*f"([a-z_.]+)\{'),
    re.compile(r'texts\((?:[^"()]|\([^()]*\))*?,\s*f"([a-z_.]+)\{'),
)


def _po_messages(language: str) -> dict[str, str]:
    """The raw catalog, empty and fuzzy entries included (`Texts` would drop them)."""
    path = resources.files("handlers") / "locale" / language / "LC_MESSAGES" / "meedoen.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    messages: dict[str, str] = {}
    for message in catalog:
        if not message.id:
            continue  # the header
        assert not message.fuzzy, f"{language}: {message.id} is marked fuzzy"
        messages[str(message.id)] = str(message.string)
    return messages


PO = {language: _po_messages(language) for language in LANGUAGES}


def _source() -> dict[str, str]:
    files = sorted(HANDLERS.glob("*.py"))
    assert len(files) >= 10, files
    return {path.name: path.read_text(encoding="utf-8") for path in files}


def literal_keys() -> set[str]:
    keys: set[str] = set()
    for text in _source().values():
        for pattern in LITERAL_KEY_PATTERNS:
            keys.update(pattern.findall(text))
    return keys


def fstring_families() -> set[str]:
    families: set[str] = set()
    for text in _source().values():
        for pattern in FSTRING_KEYS:
            families.update(pattern.findall(text))
    return families


def family_keys() -> dict[str, set[str]]:
    """Every key an f-string family can produce, by its prefix."""
    steps = [s for flow in FLOWS.values() for s in flow.steps if s.kind is not Kind.SUMMARY]
    return {
        "button.edit.": {f"button.edit.{step.name}" for step in steps},
        "words.": {f"words.{step.name}" for step in steps},
        "summary.": {f"summary.{step.name}" for step in steps},
        "menu.": {f"menu.{item}" for item in (*MENU_ITEMS, *ORGANISER_ITEMS)},
        "language.button.": {f"language.button.{code}" for code in LANGUAGES},
        "language.": {f"language.{code}" for code in LANGUAGES},
        "command.": {f"command.{command}" for command in COMMANDS},
        "followup.thanks.": {f"followup.thanks.{outcome}" for outcome in OUTCOMES},
        "button.outcome.": {f"button.outcome.{outcome}" for outcome in OUTCOMES},
        "organiser.status.": {f"organiser.status.{status}" for status in INITIATIVE_STATUSES},
        "ideas.band.": {f"ideas.band.{band}" for _, band in BANDS},
        "data.status.": {f"data.status.{state}" for state in introduction_states.STATES},
        "data.shared.": {f"data.shared.{route}" for route in ROUTES},
        "data.count.": {
            f"data.count.{table}"
            for table in ("dismissals", "blocks", "jobs", "outbox", "mentions", "tickets")
        },
        # A tag whose label is a list ("Koffie, praatje") needs a short form for sentences.
        "tag.": {f"tag.{tag.id}" for tag in Taxonomy.load() if "," in tag.label("nl")},
    }


def flow_keys() -> set[str]:
    steps = [step for flow in FLOWS.values() for step in flow.steps]
    keys = {step.question for step in steps}
    keys |= {choice.label for step in steps for choice in step.choices}
    return keys


def test_both_catalogs_have_exactly_the_same_keys() -> None:
    nl, en = set(PO["nl"]), set(PO["en"])
    assert nl - en == set(), "missing in English"
    assert en - nl == set(), "missing in Dutch"
    assert len(nl) > 100
    assert TEXTS.keys("nl") == TEXTS.keys("en") == frozenset(nl)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_empty_texts(language: str) -> None:
    empty = sorted(key for key, text in PO[language].items() if not text.strip())
    assert empty == []


def test_the_scan_finds_the_keys_it_should() -> None:
    """Guard the regexes: they find known keys of each kind, and nothing that is not a key."""
    keys = literal_keys()
    assert {"help.text", "welcome.hello", "error.sorry", "name.invalid", "button.stale"} <= keys
    assert "resume" not in keys and "return_to" not in keys
    assert len(keys) > 50
    assert fstring_families() >= {"button.edit.", "words.", "menu.", "language.button."}


def test_every_literal_key_in_the_code_exists() -> None:
    missing = sorted(key for key in literal_keys() if key not in PO[DEFAULT_LANGUAGE])
    assert missing == []


def test_every_fstring_family_is_known_and_complete() -> None:
    families = family_keys()
    unknown = fstring_families() - set(families)
    assert unknown == set(), "a new f-string key family: add it to family_keys()"
    for family, keys in families.items():
        assert keys, family
        missing = sorted(key for key in keys if key not in PO[DEFAULT_LANGUAGE])
        assert missing == [], family


def test_every_flow_key_exists() -> None:
    missing = sorted(key for key in flow_keys() if key not in PO[DEFAULT_LANGUAGE])
    assert missing == []
    assert {step.question for step in INTAKE} <= flow_keys()
    assert {choice.label for step in INTAKE for choice in step.choices} <= flow_keys()


def test_every_summary_line_shows_its_value() -> None:
    """`summary.<step>` is one line of the summary: it must have a place for the answer."""
    for key in sorted(family_keys()["summary."]):
        for language in LANGUAGES:
            assert "value" in _placeholders(PO[language][key]), (language, key, PO[language][key])


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_placeholders_are_the_same_in_both_languages() -> None:
    different = {
        key: (_placeholders(PO["nl"][key]), _placeholders(PO["en"].get(key, "")))
        for key in PO["nl"]
        if _placeholders(PO["nl"][key]) != _placeholders(PO["en"].get(key, ""))
    }
    assert different == {}
    with_values = {key for key in PO["nl"] if _placeholders(PO["nl"][key])}
    assert {"ack.name", "done.thanks", "welcome.back", "data.consent"} <= with_values


class _Filled(dict[str, str]):
    def __missing__(self, name: str) -> str:
        return f"<{name}>"


def test_every_text_formats() -> None:
    """No stray or broken braces: each text formats with its own placeholders."""
    for language in LANGUAGES:
        for key, text in PO[language].items():
            formatted = text.format_map(_Filled())
            assert "{" not in formatted and "}" not in formatted, (language, key)
            for name in _placeholders(text):
                assert name.isidentifier(), (language, key, name)


def _sentences(text: str) -> list[list[str]]:
    parts = re.split(r"[.!?\n]+", text)
    return [words for words in (part.split() for part in parts) if words]


# Short texts that are not sentences to read: labels of buttons and the words of a list.
LABELS = ("button.", "choice.", "menu.", "tag.", "said.", "summary.", "language.", "command.",
          "organiser.status.", "ideas.and", "ideas.metres", "ideas.km")  # fmt: skip


def test_dutch_is_plain_language(capsys: pytest.CaptureFixture[str]) -> None:
    """B1: short sentences. No sentence over 20 words; messages average under 10 words."""
    sentences = [
        (key, words)
        for key, text in PO["nl"].items()
        if not key.startswith("words.")  # synonym lists, never shown
        for words in _sentences(text)
    ]
    assert len(sentences) > 100
    too_long = [(key, " ".join(words)) for key, words in sentences if len(words) > 20]
    assert too_long == []
    in_messages = [words for key, words in sentences if not key.startswith(LABELS)]
    average = sum(len(words) for words in in_messages) / len(in_messages)
    everything = sum(len(words) for _, words in sentences) / len(sentences)
    with capsys.disabled():
        print(
            f"\nDutch texts: {len(in_messages)} sentences in messages, {average:.1f} words on"
            f" average ({everything:.1f} with button labels); the longest has"
            f" {max(len(words) for _, words in sentences)} words."
        )
    assert average < 10


# Rare words that are explained where they stand: the bot's name, the team behind it, 113.
KNOWN_RARE = frozenset(
    {"buurtbot", "buurtteam", "uitnodigingscode", "zelfmoordpreventie",  # 113's own name
     "webchat"}  # the chat on the website, by the name residents see there
)


def test_dutch_uses_common_words() -> None:
    """B1: everyday words. A word rarer than Zipf 2.5 (wordfreq) must be fixed or listed."""
    rare = set()
    for key, text in PO["nl"].items():
        if key.startswith(("words.", "dash.")):  # the dashboard is for professionals
            continue
        for word in re.findall(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", re.sub(r"\{\w+\}", " ", text)):
            if zipf_frequency(word.lower(), "nl") < 2.5 and word.lower() not in KNOWN_RARE:
                rare.add((key, word))
    assert sorted(rare) == []
    assert zipf_frequency("gepauzeerd", "nl") < 2.5  # the check can fail: such words exist


def test_sentence_splitting() -> None:
    assert _sentences("Een twee. Drie!\nVier vijf zes? ") == [
        ["Een", "twee"],
        ["Drie"],
        ["Vier", "vijf", "zes"],
    ]


def test_flow_diagram_is_up_to_date() -> None:
    document = (ROOT / "docs" / "flow.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", document, flags=re.DOTALL)
    assert blocks == [mermaid(), introduction_states.mermaid()]
    for transition in introduction_states.TRANSITIONS.values():
        for source in transition.sources:
            assert f"{source} --> {transition.target}: {transition.name}" in blocks[1]
    assert mermaid().startswith("stateDiagram-v2\n")
    for step in INTAKE:
        assert f" {step.name} " in mermaid() or f" {step.name}:" in mermaid()
    assert f" {VISIBILITY_STEP} " in mermaid()  # the neighbours' question after the summary
