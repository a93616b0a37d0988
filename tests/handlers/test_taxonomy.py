"""The taxonomy of gifts and wishes: the data file, and reading free text with typos."""

from __future__ import annotations

import random
import re
import string
import tomllib
import unicodedata
from importlib import resources
from typing import Any

import pytest

from handlers.taxonomy import (
    GROUPS,
    KINDS,
    LANGS,
    MAX_PHRASE_WORDS,
    STOP_WORDS,
    Tag,
    Taxonomy,
    normalise,
    tokenise,
    typo_cost,
)

TAXONOMY = Taxonomy.load()
RAW: dict[str, Any] = tomllib.loads(
    resources.files("handlers").joinpath("data", "taxonomy.toml").read_text(encoding="utf-8")
)
ENTRIES: list[dict[str, Any]] = RAW["tag"]
NOT_TYPOS: list[str] = RAW["reader"]["not_typos"]
TAG_KEYS = {"id", "kinds", "group", "label_nl", "label_en", "synonyms_nl", "synonyms_en"}
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
# Every word that some synonym or label uses, of any tag.
VOCABULARY = {
    word
    for tag in TAXONOMY
    for texts in (*tag.synonyms.values(), tuple(tag.labels.values()))
    for text in texts
    for word in tokenise(text)
}


def _odd_jobs_id() -> str:
    return TAXONOMY.read("klussen", "gift")[0]


# ---------------------------------------------------------------- the data file


def test_file_has_thirty_to_forty_tags_with_known_keys_only() -> None:
    assert 30 <= len(ENTRIES) <= 40
    assert len(TAXONOMY) == len(ENTRIES)
    assert set(RAW) == {"tag", "reader"}
    for entry in ENTRIES:
        assert set(entry) <= TAG_KEYS, entry["id"]
        assert TAG_KEYS - {"group"} <= set(entry), entry["id"]


def test_ids_are_unique_short_ascii_slugs() -> None:
    ids = [entry["id"] for entry in ENTRIES]
    assert len(ids) == len(set(ids))
    for tag_id in ids:
        assert tag_id.isascii() and len(tag_id) <= 20, tag_id
        assert ID_PATTERN.fullmatch(tag_id), tag_id


def test_kinds_and_groups_are_known_and_only_gifts_have_a_group() -> None:
    for tag in TAXONOMY:
        assert tag.kinds and tag.kinds <= set(KINDS), tag.id
        if "gift" in tag.kinds:
            assert tag.group in GROUPS, tag.id
        else:
            assert tag.group is None, tag.id


def test_every_group_and_kind_is_well_filled_and_many_topics_are_both() -> None:
    for group in GROUPS:
        assert len([tag for tag in TAXONOMY if tag.group == group]) >= 5, group
    for kind in KINDS:
        assert len(TAXONOMY.for_kind(kind)) >= 20, kind
    both = [tag.id for tag in TAXONOMY if tag.kinds == set(KINDS)]
    assert len(both) >= 20
    for tag_id in ("cooking", "gardening", "walking", "computers"):
        assert tag_id in both


def test_labels_are_short_and_start_with_one_emoji() -> None:
    for tag in TAXONOMY:
        assert set(tag.labels) == set(LANGS), tag.id
        for label in tag.labels.values():
            assert len(label) <= 20, label
            emoji, _, text = label.partition(" ")
            assert unicodedata.category(emoji[0]) == "So", label
            assert all(not char.isalnum() for char in emoji), label
            assert text and text[0].isupper(), label


def test_synonyms_are_normalised_short_and_given_in_both_languages() -> None:
    for tag in TAXONOMY:
        assert set(tag.synonyms) == set(LANGS), tag.id
        for lang, synonyms in tag.synonyms.items():
            assert synonyms, (tag.id, lang)
            assert len(synonyms) == len(set(synonyms)), (tag.id, lang)
            for synonym in synonyms:
                assert normalise(synonym) == synonym, (tag.id, synonym)
                words = synonym.split()
                assert 1 <= len(words) <= MAX_PHRASE_WORDS, (tag.id, synonym)
                assert not set(words) <= STOP_WORDS, (tag.id, synonym)


def test_no_synonym_or_label_belongs_to_two_tags() -> None:
    owners: dict[tuple[str, ...], str] = {}
    for tag in TAXONOMY:
        texts = [*tag.synonyms["nl"], *tag.synonyms["en"], *tag.labels.values()]
        for text in texts:
            phrase = tuple(tokenise(text))
            owner = owners.setdefault(phrase, tag.id)
            assert owner == tag.id, f"{text!r} is in both {owner} and {tag.id}"


def test_stop_words_and_not_typos_are_no_synonyms() -> None:
    single_words = {
        synonym for tag in TAXONOMY for synonyms in tag.synonyms.values() for synonym in synonyms
    }
    assert not STOP_WORDS & single_words
    assert not set(NOT_TYPOS) & VOCABULARY
    assert len(NOT_TYPOS) == len(set(NOT_TYPOS))
    for word in NOT_TYPOS:
        assert normalise(word) == word and " " not in word, word


# ---------------------------------------------------------------- the API


def test_get_contains_and_for_kind() -> None:
    cooking = TAXONOMY.get("cooking")
    assert isinstance(cooking, Tag)
    assert cooking.kinds == frozenset(KINDS)
    assert cooking.group == "hands"
    assert "cooking" in TAXONOMY
    assert "no_such_tag" not in TAXONOMY
    with pytest.raises(KeyError):
        TAXONOMY.get("no_such_tag")
    file_order = [entry["id"] for entry in ENTRIES]
    for kind in KINDS:
        ids = [tag.id for tag in TAXONOMY.for_kind(kind)]
        assert ids == [tag_id for tag_id in file_order if tag_id in ids]
        assert all(kind in TAXONOMY.get(tag_id).kinds for tag_id in ids)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        TAXONOMY.for_kind("gifts")
    with pytest.raises(ValueError):
        TAXONOMY.read("koken", "hobby")


def test_label_falls_back_to_dutch() -> None:
    cooking = TAXONOMY.get("cooking")
    assert cooking.label("nl") == "🍳 Koken"
    assert cooking.label("en") == "🍳 Cooking"
    assert cooking.label("de") == "🍳 Koken"
    assert cooking.label() == "🍳 Koken"


def test_load_is_cached_and_tags_are_hashable() -> None:
    assert Taxonomy.load() is TAXONOMY
    assert len({*TAXONOMY, *TAXONOMY}) == len(TAXONOMY)


def test_a_synonym_in_two_tags_is_refused() -> None:
    data = """
        [[tag]]
        id = "a"
        kinds = ["wish"]
        label_nl = "🅰️ A"
        label_en = "🅰️ A"
        synonyms_nl = ["samen koken"]
        synonyms_en = ["cook together"]

        [[tag]]
        id = "b"
        kinds = ["wish"]
        label_nl = "🅱️ B"
        label_en = "🅱️ B"
        synonyms_nl = ["samen koken"]
        synonyms_en = ["other"]
    """
    with pytest.raises(ValueError, match="samen koken"):
        Taxonomy.from_toml(data)


def test_a_gift_without_a_group_is_refused() -> None:
    data = """
        [[tag]]
        id = "a"
        kinds = ["gift"]
        label_nl = "🅰️ A"
        label_en = "🅰️ A"
        synonyms_nl = ["aaaa"]
        synonyms_en = ["bbbb"]
    """
    with pytest.raises(ValueError, match="group"):
        Taxonomy.from_toml(data)


# ---------------------------------------------------------------- reading free text

READS = [
    # (text, kind, lang, expected ids in order)
    ("ik tuinier graag", "gift", "nl", ["gardening"]),
    ("I love cooking and gardening", "gift", "en", ["cooking", "gardening"]),
    ("wandelen en koffie drinken", "wish", "nl", ["walking", "company"]),
    ("Ik ben KOK!", "gift", "nl", ["cooking"]),
    ("Ik wil graag hulp met mijn telefoon en de tuin", "wish", "nl", ["computers", "gardening"]),
    ("mijn fiets is kapot", "wish", "nl", ["bike_repair"]),
    ("ik kan fietsen maken", "gift", "nl", ["bike_repair"]),
    ("ik fiets graag", "gift", "nl", ["cycling"]),
    ("ik laat graag de hond uit, hond uitlaten", "gift", "nl", ["animals"]),
    ("Ik wil Nederlands leren", "wish", "nl", ["dutch"]),
    ("samen eten", "wish", "nl", ["eat_together"]),
    ("ik ben vrijwilliger", "wish", "nl", ["volunteer"]),
    ("Créatief! Knutselen 🎨 en schilderen", "gift", "nl", ["crafts", "painting"]),
    ("tuin, koken, tuin, koken", "gift", "nl", ["gardening", "cooking"]),
    ("koken en tuinieren", "gift", "en", ["cooking", "gardening"]),
    ("I like walking and coffee", "wish", "nl", ["walking", "company"]),
    ("help met de belastingaangifte", "wish", "nl", ["paperwork"]),
    ("ik speel piano en zing in een koor", "gift", "nl", ["music"]),
    ("sjoelen, klaverjassen of schaken", "wish", "nl", ["games"]),
    ("Ik help graag met huiswerk", "gift", "nl", ["children"]),
    ("Ik kan mensen naar de dokter brengen", "gift", "nl", ["driving"]),
    ("boodschappen doen voor de buurvrouw", "gift", "nl", ["shopping"]),
    ("dog walking", "gift", "en", ["animals"]),
]

TYPOS = [
    ("ik kook grag en ben hndig met klusen", "gift", "nl", ["cooking", "diy"]),
    ("ik tuineir graag", "gift", "nl", ["gardening"]),
    ("ik tuinierr graag", "gift", "nl", ["gardening"]),
    ("wandellen en kofie drinken", "wish", "nl", ["walking", "company"]),
    ("koffie drinkn", "wish", "nl", ["company"]),
    ("boodschapen doen", "wish", "nl", ["shopping"]),
    ("boodschaapen", "wish", "nl", ["shopping"]),
    ("hulp met de compuetr", "wish", "nl", ["computers"]),
    ("ik wil meer bewegne", "wish", "nl", ["sports"]),
    ("I like gardning and cookng", "gift", "en", ["gardening", "cooking"]),
    ("vrijwiligerswerk", "wish", "nl", ["volunteer"]),
    ("klussn", "gift", "nl", ["diy"]),
    ("klussenn", "gift", "nl", ["diy"]),
]

NOTHING = [
    # empty, emoji, greetings, stop words
    ("", "gift", "nl"),
    ("   ", "wish", "nl"),
    ("🙂🙂", "gift", "nl"),
    ("👍", "wish", "en"),
    ("hallo", "wish", "nl"),
    ("hallo!!! 🙂 ik ben het", "gift", "nl"),
    ("ik en ben met graag de het een van", "gift", "nl"),
    ("i and like the a of with", "wish", "en"),
    ("ja", "gift", "nl"),
    ("nee, geen idee", "wish", "nl"),
    ("12345 0612345678", "gift", "nl"),
    # short words never count as typos: kook/koek, hond/hand, tuin/tuim
    ("koek", "gift", "nl"),
    ("hand", "gift", "nl"),
    ("tuim", "gift", "nl"),
    ("kunt", "gift", "nl"),
    # a typo keeps its first letter, and a far-off key is no slip: kopen/lopen, houden/honden
    ("kopen", "wish", "nl"),
    ("roken", "gift", "nl"),
    ("houden", "gift", "nl"),
    ("maakt", "wish", "nl"),
    ("looking", "gift", "en"),
    ("drinking", "gift", "en"),
    ("interest", "wish", "en"),
    # common words listed as no typos
    ("ik zoek iemand", "wish", "nl"),
    ("wat voor soort", "gift", "nl"),
    ("mijn hele leven", "gift", "nl"),
    ("een kussen", "gift", "nl"),
    ("ik woon in nederland", "gift", "nl"),
    ("ik heb talent", "gift", "nl"),
    ("seeing", "gift", "en"),
    ("a wedding", "gift", "en"),
    # words too vague to mean a topic on their own
    ("dat is handig", "gift", "nl"),
    ("het is gezellig", "wish", "nl"),
    ("ik wil helpen", "wish", "nl"),
    ("lekker eten", "wish", "nl"),
    ("vroeger", "gift", "nl"),
    ("mijn chef", "gift", "en"),
    # a wish-only topic is not read as a gift
    ("samen eten", "gift", "nl"),
    ("vrijwilligerswerk", "gift", "nl"),
]


@pytest.mark.parametrize(("text", "kind", "lang", "expected"), READS + TYPOS)
def test_reads(text: str, kind: str, lang: str, expected: list[str]) -> None:
    assert TAXONOMY.read(text, kind, lang) == expected


@pytest.mark.parametrize(("text", "kind", "lang"), NOTHING)
def test_reads_nothing(text: str, kind: str, lang: str) -> None:
    assert TAXONOMY.read(text, kind, lang) == []


def test_the_intake_examples() -> None:
    diy = _odd_jobs_id()
    found = TAXONOMY.read("ik kook graag en ben handig met klussen", "gift")
    assert found == ["cooking", diy]
    assert TAXONOMY.read("ik kook grag en ben hndig met klusen", "gift") == found
    assert TAXONOMY.read("ik kook graag en ben handig", "gift") == ["cooking", diy]
    assert TAXONOMY.read("I love cooking and gardening", "gift", "en") == [
        "cooking",
        "gardening",
    ]
    wish = TAXONOMY.read("wandelen en koffie drinken", "wish")
    assert wish[0] == "walking"
    assert TAXONOMY.get(wish[1]).label("nl").startswith("☕")


def test_typos_are_only_read_in_the_persons_language() -> None:
    assert TAXONOMY.read("gardning", "gift", "en") == ["gardening"]
    assert TAXONOMY.read("gardning", "gift", "nl") == []
    assert TAXONOMY.read("tuinieern", "gift", "nl") == ["gardening"]
    assert TAXONOMY.read("tuinieern", "gift", "xx") == ["gardening"]  # unknown: Dutch


def test_an_en_ending_typed_without_its_e_is_read_written_out() -> None:
    assert TAXONOMY.read("kokn", "gift", "nl") == ["cooking"]  # too short for a typo
    assert TAXONOMY.read("ik kookn graag", "gift", "nl") == ["cooking"]  # "kooken": a typo
    assert TAXONOMY.read("wandeln", "wish", "nl") == ["walking"]
    assert TAXONOMY.read("fietsn repareren", "gift", "nl") == ["bike_repair"]
    for said in ("zijn", "mijn", "ik ben", "bakn", "varkn"):  # no "-en" word is meant
        assert TAXONOMY.read(said, "gift", "nl") == [], said


def test_each_label_and_synonym_reads_as_its_own_tag() -> None:
    for tag in TAXONOMY:
        texts = [*tag.labels.values(), *tag.synonyms["nl"], *tag.synonyms["en"]]
        for kind in tag.kinds:
            for lang in LANGS:
                for text in texts:
                    assert TAXONOMY.read(text, kind, lang) == [tag.id], (text, kind, lang)
                    assert TAXONOMY.read(text.upper(), kind, lang) == [tag.id], text


def test_stop_words_never_match() -> None:
    for word in STOP_WORDS:
        for kind in KINDS:
            for lang in LANGS:
                assert TAXONOMY.read(word, kind, lang) == [], word
    everything = " ".join(sorted(STOP_WORDS))
    assert TAXONOMY.read(everything, "gift") == []
    assert TAXONOMY.read(everything, "wish", "en") == []


def test_not_typos_never_match() -> None:
    for word in NOT_TYPOS:
        for kind in KINDS:
            for lang in LANGS:
                assert TAXONOMY.read(word, kind, lang) == [], word


def _slips(word: str) -> list[str]:
    """A doubled letter, a dropped letter and two swapped letters, inside `word`."""
    return [word[:3] + word[2:], word[:-2] + word[-1], word[:2] + word[3] + word[2] + word[4:]]


def test_typos_of_synonyms_read_as_that_tag_or_as_nothing() -> None:
    right = total = 0
    for tag in TAXONOMY:
        for lang, synonyms in tag.synonyms.items():
            for synonym in synonyms:
                if len(synonym) < 6 or not synonym.isalpha():
                    continue
                for typo in _slips(synonym):
                    if typo == synonym or typo in VOCABULARY:
                        continue  # a real word of another tag is read as that word
                    for kind in tag.kinds:
                        found = TAXONOMY.read(typo, kind, lang)
                        assert found in ([tag.id], []), (synonym, typo, found)
                        total += 1
                        right += found == [tag.id]
    assert total > 1000
    assert right / total >= 0.95


def test_typo_cost_counts_phone_slips() -> None:
    assert typo_cost("koken", "koken") == 0
    assert typo_cost("kokne", "koken") == 1  # swapped letters
    assert typo_cost("kokn", "koken") == 1  # missing letter
    assert typo_cost("kokken", "koken") == 1  # extra letter
    assert typo_cost("kokrn", "koken") == 1  # "r" is next to "e"
    assert typo_cost("rijtd", "rijdt") == 1
    assert typo_cost("wandeln", "wandelen") == 1
    assert typo_cost("kopen", "lopen") == 1  # neighbours, but a typo keeps its first letter
    assert TAXONOMY.read("kopen", "gift") == []
    assert typo_cost("houden", "honden") == 2  # "u" and "n" are far apart
    assert typo_cost("fiets", "fietz") == 1  # sounds alike


def test_normalise() -> None:
    assert normalise("Café  CRÉATIEF!!") == "cafe creatief"
    assert normalise("🍳 Koken") == "koken"
    assert normalise("e-mail, whats-app") == "e mail whats app"
    assert normalise("auto's") == "autos"
    assert normalise("ĳs") == "ijs"
    assert normalise("🙂🙂") == ""
    assert tokenise("  ik\tkook\ngraag ") == ["ik", "kook", "graag"]


def test_odd_input_does_not_crash() -> None:
    rng = random.Random(20240611)
    texts = [
        "".join(rng.choice(string.printable) for _ in range(10_000)),
        "".join(rng.choice(string.ascii_lowercase + "  ") for _ in range(10_000)),
        "".join(chr(rng.randrange(0x110000)) for _ in range(10_000)),
        " ".join(rng.choice(sorted(VOCABULARY)) + rng.choice("aeknrt") for _ in range(1_500)),
    ]
    for text in texts:
        for kind in KINDS:
            for lang in (*LANGS, "xx"):
                found = TAXONOMY.read(text, kind, lang)
                assert len(found) == len(set(found))
                assert all(kind in TAXONOMY.get(tag_id).kinds for tag_id in found)
