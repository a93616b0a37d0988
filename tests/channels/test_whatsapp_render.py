"""Replies rendered for WhatsApp: every limit, shortened labels, pages, splitting, locations."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.channels.whatsapp.render import (
    MAX_BODY,
    MAX_TEXT,
    Labels,
    fit_words,
    more_page,
    numbered,
    page_count,
    page_of,
    render,
    shorten,
    split_text,
)
from handlers.i18n import LANGUAGES, Texts
from handlers.messages import Option, Reply

TO = "31612345678"
LABELS = Labels.load(Texts.load(), "nl")
LONG_LABELS = (
    "🤝 Stel me voor aan de organisator",
    "✅ Ja, dat klopt helemaal zo",
    "Wandelen met anderen in het park, in de ochtend",
    "Samen eten met buren uit de straat",
)


def options(*labels: str) -> tuple[Option, ...]:
    return tuple(Option(f"t1:pick:{i}", label) for i, label in enumerate(labels, start=1))


def interactive(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["type"] == "interactive"
    assert payload["messaging_product"] == "whatsapp" and payload["to"] == TO
    content: dict[str, Any] = payload["interactive"]
    return content


def titles(payload: dict[str, Any]) -> list[str]:
    return [b["reply"]["title"] for b in interactive(payload)["action"]["buttons"]]


def rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    sections = interactive(payload)["action"]["sections"]
    assert len(sections) == 1
    found: list[dict[str, Any]] = sections[0]["rows"]
    return found


def words(text: str) -> list[str]:
    return text.split()


def test_labels_come_from_both_catalogs() -> None:
    texts = Texts.load()
    for language in LANGUAGES:
        labels = Labels.load(texts, language)
        assert not any(value.startswith("whatsapp.") for value in vars(labels).values())
    assert Labels.load(texts, "en").more_choices != LABELS.more_choices


def test_up_to_three_options_are_reply_buttons_with_the_keys() -> None:
    reply = Reply("Wil je meedoen?", options("Ja", "Nee", "Later"))
    [payload] = render(reply, to=TO, labels=LABELS)
    content = interactive(payload)
    assert content["type"] == "button"
    assert content["body"] == {"text": "Wil je meedoen?"}
    assert [b["reply"]["id"] for b in content["action"]["buttons"]] == [
        "t1:pick:1",
        "t1:pick:2",
        "t1:pick:3",
    ]
    assert titles(payload) == ["Ja", "Nee", "Later"]


def test_decoration_goes_first_and_keeps_the_wording() -> None:
    reply = Reply("Vraag?", options("📍 Deel mijn locatie nu", "⏭ Overslaan"))
    [payload] = render(reply, to=TO, labels=LABELS)
    assert titles(payload) == ["Deel mijn locatie nu", "⏭ Overslaan"]
    assert interactive(payload)["body"]["text"] == "Vraag?"  # nothing lost: no numbered line


@pytest.mark.parametrize("label", LONG_LABELS)
def test_a_long_button_label_loses_whole_words_and_the_body_keeps_it(label: str) -> None:
    reply = Reply("Kies maar.", options("Nee", label))
    [payload] = render(reply, to=TO, labels=LABELS)
    title = titles(payload)[1]
    assert len(title) <= 20
    assert title.endswith("…")
    kept = words(title.removesuffix("…"))
    plain = words(re.sub(r"^\W+", "", label))
    assert kept == plain[: len(kept)]  # whole words from the start, none cut in half
    assert f"2. {label}" in interactive(payload)["body"]["text"].splitlines()


def test_a_word_too_long_for_any_title_becomes_a_numbered_choice() -> None:
    label = "Zelfmoordpreventiebegeleiding"
    [payload] = render(Reply("Kies.", options("Ja", label)), to=TO, labels=LABELS)
    assert titles(payload) == ["Ja", "Keuze 2"]
    assert "2. Zelfmoordpreventiebegeleiding" in interactive(payload)["body"]["text"]


def test_titles_that_shorten_to_the_same_words_stay_unique() -> None:
    labels = ("Wandelen in het park met de hond", "Wandelen in het park met buren")
    [payload] = render(Reply("Kies.", options(*labels)), to=TO, labels=LABELS)
    assert len(set(titles(payload))) == 2
    body = interactive(payload)["body"]["text"]
    assert all(f"{n}. {label}" in body for n, label in enumerate(labels, start=1))


def test_fit_words_and_shorten_never_cut_a_word() -> None:
    assert fit_words("Samen eten met buren", 12) == ("Samen eten", "met buren")
    assert fit_words("Ja, dat klopt", 5) == ("Ja", "dat klopt")
    assert shorten("Samen eten met buren", 20) == ("Samen eten met buren", False)
    assert shorten("Samen eten met de buren", 20) == ("Samen eten met de…", True)
    assert shorten("Onoverkomelijkheden", 10) == ("", True)


def test_ids_over_the_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="256"):
        render(Reply("?", (Option("x" * 257, "Ja"),)), to=TO, labels=LABELS)
    many = (Option("x" * 201, "Ja"), *options("a", "b", "c"))
    with pytest.raises(ValueError, match="200"):
        render(Reply("?", many), to=TO, labels=LABELS)


def test_four_to_ten_options_are_a_list_with_the_rest_in_the_description() -> None:
    labels = ("Koken", "Bakken", *LONG_LABELS, "Tuinieren", "Muziek maken", "Spelletjes", "Taal")
    assert len(labels) == 10
    [payload] = render(Reply("Wat doe je graag?", options(*labels)), to=TO, labels=LABELS)
    content = interactive(payload)
    assert content["type"] == "list"
    assert content["action"]["button"] == "Bekijk de keuzes"
    assert content["action"]["sections"][0]["title"] == "Keuzes"
    found = rows(payload)
    assert [row["id"] for row in found] == [f"t1:pick:{n}" for n in range(1, 11)]
    for row, label in zip(found, labels, strict=True):
        assert len(row["title"]) <= 24 and len(row.get("description", "")) <= 72
        whole = f"{row['title']} {row.get('description', '')}".strip()
        assert words(whole) == words(re.sub(r"^\W+", "", label)) or whole == label
    long_row = found[4]  # "Wandelen met anderen in het park, in de ochtend"
    assert long_row["title"] == "Wandelen met anderen in"
    assert long_row["description"] == "het park, in de ochtend"
    assert content["body"]["text"] == "Wat doe je graag?"


def test_a_description_too_long_puts_the_label_in_the_body() -> None:
    label = "Helpen met " + " ".join(["formulieren"] * 12)
    labels = ("a", "b", "c", label)
    [payload] = render(Reply("Kies.", options(*labels)), to=TO, labels=LABELS)
    row = rows(payload)[3]
    assert len(row["description"]) <= 72 and row["description"].endswith("…")
    assert f"4. {label}" in interactive(payload)["body"]["text"]


def test_paging_through_25_options_shows_each_once_in_order() -> None:
    reply = Reply("Wat doe je graag?", options(*(f"Bezigheid {n}" for n in range(1, 26))))
    assert page_count(25) == 3
    seen: list[str] = []
    page: int | None = 0
    bodies = []
    while page is not None:
        [payload] = render(reply, to=TO, labels=LABELS, page=page)
        found = rows(payload)
        assert len(found) <= 10
        bodies.append(interactive(payload)["body"]["text"])
        seen += [row["id"] for row in found if more_page(row["id"]) is None]
        more = [row for row in found if more_page(row["id"]) is not None]
        assert len(more) <= 1
        page = more_page(more[0]["id"]) if more else None
        if more:
            assert more[0]["title"] == "Meer keuzes" and found[-1] is more[0]
            assert len(found) == 10
    assert seen == [option.key for option in reply.options]
    assert bodies == ["Wat doe je graag?", "Hier zijn meer keuzes.", "Hier zijn meer keuzes."]
    [last] = render(reply, to=TO, labels=LABELS, page=2)
    section = interactive(last)["action"]["sections"][0]["title"]
    assert section == "Keuzes 19 tot 25"
    assert render(reply, to=TO, labels=LABELS, page=99) == [last]  # a forged page: the last


def test_the_page_of_a_tapped_option() -> None:
    reply = Reply("Kies.", options(*(f"Bezigheid {n}" for n in range(1, 26))))
    found = {
        page: [row["id"] for row in rows(render(reply, to=TO, labels=LABELS, page=page)[0])]
        for page in range(3)
    }
    for option in reply.options:
        assert option.key in found[page_of(reply, option.key)]
    assert page_of(reply, "t1:pick:25") == 2
    assert page_of(reply, "forged") == 0
    assert page_of(Reply("Kies.", options("a", "b", "c", "d")), "t1:pick:4") == 0


@pytest.mark.parametrize(("count", "pages"), [(10, 1), (11, 2), (19, 2), (20, 3), (25, 3)])
def test_page_count(count: int, pages: int) -> None:
    assert page_count(count) == pages


def test_more_page_recognises_only_its_own_rows() -> None:
    assert more_page("more:2") == 2
    assert more_page("more:x") is None
    assert more_page("s:12:intro") is None
    assert more_page(None) is None


def paragraphs(count: int, size: int) -> list[str]:
    sentence = "Dit is een zin over de buurt. "
    return [(f"Alinea {n}. " + sentence * size).strip() for n in range(count)]


def test_long_text_splits_at_paragraphs_and_keeps_every_word() -> None:
    parts = paragraphs(12, 20)  # about 600 characters each, 7,000 in all
    text = "\n\n".join(parts)
    payloads = render(Reply(text), to=TO, labels=LABELS)
    bodies = [p["text"]["body"] for p in payloads]
    assert len(bodies) == 2
    assert all(len(body) <= MAX_TEXT for body in bodies)
    assert "\n\n".join(bodies) == text  # cut between paragraphs only


def test_a_long_body_with_buttons_keeps_the_question_on_the_buttons() -> None:
    text = "\n\n".join([*paragraphs(3, 20), "Wil je meedoen?"])
    payloads = render(Reply(text, options("Ja", "Nee")), to=TO, labels=LABELS)
    *leading, last = payloads
    assert leading and all(p["type"] == "text" for p in leading)
    body = interactive(last)["body"]["text"]
    assert len(body) <= MAX_BODY and body.endswith("Wil je meedoen?")
    assert words(" ".join([*(p["text"]["body"] for p in leading), body])) == words(text)


def test_one_huge_paragraph_splits_between_words() -> None:
    text = " ".join(f"woord{n}" for n in range(2000))  # no line breaks, ~18,000 characters
    pieces = split_text(text)
    assert len(pieces) == 5 and all(len(piece) <= MAX_TEXT for piece in pieces)
    assert words(" ".join(pieces)) == words(text)
    payloads = render(Reply(text, options("Ja", "Nee")), to=TO, labels=LABELS)
    body = interactive(payloads[-1])["body"]["text"]
    assert len(body) <= MAX_BODY and body.endswith("woord1999")
    rejoined = [w for p in payloads[:-1] for w in words(p["text"]["body"])] + words(body)
    assert rejoined == words(text)


def test_a_location_request_and_its_options_go_in_two_messages() -> None:
    reply = Reply("Waar woon je?", request_location="📍 Deel mijn locatie")
    [payload] = render(reply, to=TO, labels=LABELS)
    content = interactive(payload)
    assert content == {
        "type": "location_request_message",
        "action": {"name": "send_location"},
        "body": {"text": "Waar woon je?"},
    }
    both = Reply("Waar woon je?", options("Almelo", "Strijen"), request_location="📍")
    first, second = render(both, to=TO, labels=LABELS)
    assert interactive(first)["type"] == "location_request_message"
    assert interactive(second)["body"]["text"] == "Of kies hieronder."
    assert titles(second) == ["Almelo", "Strijen"]


def test_plain_and_empty_texts() -> None:
    assert render(Reply("Hallo!"), to=TO, labels=LABELS) == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": TO,
            "type": "text",
            "text": {"body": "Hallo!", "preview_url": False},
        }
    ]
    [empty] = render(Reply(""), to=TO, labels=LABELS)
    assert empty["text"]["body"].strip()
    [buttons] = render(Reply("", options("Ja")), to=TO, labels=LABELS)
    assert interactive(buttons)["body"]["text"] == "Of kies hieronder."


def test_the_numbered_fallback_reads_like_the_core_counts() -> None:
    reply = Reply("Wanneer heb je tijd?", options("🌅 Ochtend", "Middag", "Avond", "Weekend"))
    [payload] = numbered(reply, to=TO, labels=LABELS)
    assert payload["type"] == "text"
    assert payload["text"]["body"] == (
        "Wanneer heb je tijd?\n\n1. 🌅 Ochtend\n2. Middag\n3. Avond\n4. Weekend\n\n"
        "Typ het nummer van je keuze."
    )
    english = Labels.load(Texts.load(), "en")
    [plain] = numbered(Reply("Thanks!"), to=TO, labels=english)
    assert plain["text"]["body"] == "Thanks!"
