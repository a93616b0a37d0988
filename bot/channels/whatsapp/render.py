"""A `Reply` as WhatsApp Cloud API messages: the JSON the Graph API's /messages takes (pure).

- Up to 3 options: reply buttons. A title may hold 20 characters; a longer label loses its
  leading emoji or decoration first, then whole words from the end ("…" marks the cut). A
  word is never cut in half. Where wording was lost, the body keeps the full label as a
  numbered line ("2. Wandelen met anderen in het park"), numbered as the core reads typed
  numbers: the option's place in the reply.
- 4 to 10 options: a list. A row title holds 24 characters; the rest of a long label goes
  into the row's description (72 characters).
- More than 10: a list of 9 rows plus a "Meer keuzes" row whose id names the next page
  (`more:<page>`). Paging is stateless: the inbound side sees the id with `more_page` and
  renders that page of the same reply again; `page_of` finds the page of a tapped option,
  so a multi-select answered on page 2 comes back on page 2.
- Bodies hold 1024 characters, texts 4096. A longer text is split at paragraph breaks, then
  line breaks, then spaces; the options go with the last part.
- `Reply.request_location` becomes WhatsApp's location request message. WhatsApp cannot
  put buttons on it, so any options follow in a message of their own.
- WhatsApp cannot edit a sent message nor lay buttons out in columns: `edit_in_place` and
  `columns` are ignored, and an updated keyboard is simply a new message.
- `numbered` renders options as numbered lines, for when interactive messages are no option:
  typing a number works in every case, because the core reads it.

The payloads are plain dicts, as the Graph API and the outbox (which stores them raw) take
them; the limits live here and in the strict fake server of the tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from handlers.i18n import Texts
from handlers.messages import Option, Reply

Payload = dict[str, Any]

MAX_TEXT = 4096
MAX_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
MAX_LIST_BUTTON = 20
MAX_SECTION_TITLE = 24
PAGE_ROWS = 9
MORE_PREFIX = "more:"
ELLIPSIS = "…"

_DECORATION = re.compile(r"^[^\w\"'(]+")
_WORD = re.compile(r"\S+")
_SEPARATORS = ("\n\n", "\n", " ")


@dataclass(frozen=True)
class Labels:
    """The channel's own words in one language (catalog keys `whatsapp.<field>`)."""

    more_choices: str
    more_description: str
    more_body: str
    list_button: str
    list_section: str
    list_section_range: str
    choose: str
    option_number: str
    numbered_hint: str

    @classmethod
    def load(cls, texts: Texts, language: str) -> Labels:
        return cls(**{f.name: texts(language, f"whatsapp.{f.name}") for f in fields(cls)})


# -- words ---------------------------------------------------------------------------------


def strip_decoration(label: str) -> str:
    """The label without leading emoji, ticks or arrows ("✔️ Klaar" → "Klaar")."""
    plain = _DECORATION.sub("", label).strip()
    return plain or label.strip()


def fit_words(text: str, limit: int) -> tuple[str, str]:
    """The whole words from the start of `text` that fit in `limit`, and the rest."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text, ""
    cut = 0
    for word in _WORD.finditer(text):
        if word.end() > limit:
            break
        cut = word.end()
    head = text[:cut].rstrip(" ,;:-–")
    return head, text[len(head) :].strip(" ,;:-–")


def shorten(label: str, limit: int) -> tuple[str, bool]:
    """A title of at most `limit` characters, and whether wording was lost.

    Returns ("", True) when even the first word does not fit.
    """
    label = " ".join(label.split())
    if len(label) <= limit:
        return label, False
    plain = strip_decoration(label)
    if len(plain) <= limit:
        return plain, False
    head, _ = fit_words(plain, limit - len(ELLIPSIS))
    return (head + ELLIPSIS if head else ""), True


# -- splitting -----------------------------------------------------------------------------


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at paragraph breaks, then line breaks, then
    spaces. Only a single word longer than `limit` is ever cut."""
    return _split(text.strip(), limit, _SEPARATORS)


def _split(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    if len(text) <= limit:
        return [text] if text else []
    if not separators:
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    separator, finer = separators[0], separators[1:]
    parts = [part.strip() for part in text.split(separator) if part.strip()]
    if len(parts) == 1:
        return _split(parts[0], limit, finer)
    pieces: list[str] = []
    current = ""
    for part in parts:
        joined = f"{current}{separator}{part}" if current else part
        if len(joined) <= limit:
            current = joined
            continue
        if current:
            pieces.append(current)
        smaller = _split(part, limit, finer)
        pieces.extend(smaller[:-1])
        current = smaller[-1]
    return [*pieces, current] if current else pieces


def take_tail(text: str, limit: int = MAX_BODY) -> tuple[str, str]:
    """`text` as (head, tail): the tail is the longest run of whole trailing paragraphs
    (else lines, else words) within `limit` — the part that carries the buttons."""
    return _tail(text.strip(), limit, _SEPARATORS)


def _tail(text: str, limit: int, separators: tuple[str, ...]) -> tuple[str, str]:
    if len(text) <= limit:
        return "", text
    if not separators:
        return text[:-limit], text[-limit:]
    separator, finer = separators[0], separators[1:]
    parts = [part.strip() for part in text.split(separator) if part.strip()]
    if len(parts) == 1:
        return _tail(parts[0], limit, finer)
    if len(parts[-1]) > limit:
        head, tail = _tail(parts[-1], limit, finer)
        return separator.join([*parts[:-1], head]).strip(), tail
    count = 1
    while count < len(parts) and len(separator.join(parts[-count - 1 :])) <= limit:
        count += 1
    return separator.join(parts[:-count]), separator.join(parts[-count:])


# -- payloads ------------------------------------------------------------------------------


def _message(to: str, kind: str, content: Payload) -> Payload:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: content,
    }


def text_message(to: str, text: str) -> Payload:
    return _message(to, "text", {"body": text, "preview_url": False})


def _with_body(to: str, body: str, interactive: Payload) -> list[Payload]:
    """Text messages for what does not fit in a body, then the interactive message."""
    head, tail = take_tail(body or ELLIPSIS)
    leading = [text_message(to, piece) for piece in split_text(head)]
    return [*leading, _message(to, "interactive", {**interactive, "body": {"text": tail}})]


def _numbered_lines(lines: list[tuple[int, str]]) -> str:
    return "\n".join(f"{number}. {' '.join(label.split())}" for number, label in lines)


def _body(text: str, lost: list[tuple[int, str]]) -> str:
    return f"{text}\n\n{_numbered_lines(lost)}".strip() if lost else text


def _buttons(to: str, reply: Reply, labels: Labels) -> list[Payload]:
    buttons: list[Payload] = []
    lost: list[tuple[int, str]] = []
    seen: set[str] = set()
    for number, option in enumerate(reply.options, start=1):
        _check_id(option, MAX_BUTTON_ID)
        title, shortened = shorten(option.label, MAX_BUTTON_TITLE)
        if not title or title in seen:
            title, shortened = labels.option_number.format(number=number), True
        seen.add(title)
        if shortened:
            lost.append((number, option.label))
        buttons.append({"type": "reply", "reply": {"id": option.key, "title": title}})
    interactive = {"type": "button", "action": {"buttons": buttons}}
    return _with_body(to, _body(reply.text or labels.choose, lost), interactive)


def _row(number: int, option: Option, labels: Labels) -> tuple[Payload, bool]:
    """A list row, and whether wording was lost (then the body carries the full label)."""
    _check_id(option, MAX_ROW_ID)
    label = " ".join(option.label.split())
    if len(label) <= MAX_ROW_TITLE:
        return {"id": option.key, "title": label}, False
    plain = strip_decoration(label)
    if len(plain) <= MAX_ROW_TITLE:
        return {"id": option.key, "title": plain}, False
    title, rest = fit_words(plain, MAX_ROW_TITLE)
    if not title:
        title, rest = labels.option_number.format(number=number), plain
    description, lost = shorten(rest, MAX_ROW_DESCRIPTION)
    row = {"id": option.key, "title": title}
    return ({**row, "description": description} if description else row), lost


def page_count(options: int) -> int:
    """How many list pages `options` options take: one up to 10, then 9 rows a page."""
    pages, first = 1, 0
    while options - first > MAX_ROWS:
        first += PAGE_ROWS
        pages += 1
    return pages


def _page_bounds(options: int, page: int) -> tuple[int, int, bool]:
    """(first, end, has_more) of a page; a page beyond the last shows the last."""
    if options <= MAX_ROWS:
        return 0, options, False
    page = min(max(page, 0), page_count(options) - 1)
    first = page * PAGE_ROWS
    if options - first <= MAX_ROWS:
        return first, options, False
    return first, first + PAGE_ROWS, True


def _list(to: str, reply: Reply, labels: Labels, page: int) -> list[Payload]:
    total = len(reply.options)
    first, end, has_more = _page_bounds(total, page)
    rows: list[Payload] = []
    lost: list[tuple[int, str]] = []
    for number in range(first + 1, end + 1):
        option = reply.options[number - 1]
        row, shortened = _row(number, option, labels)
        rows.append(row)
        if shortened:
            lost.append((number, option.label))
    if has_more:
        next_page = first // PAGE_ROWS + 1
        rows.append(
            {
                "id": f"{MORE_PREFIX}{next_page}",
                "title": shorten(labels.more_choices, MAX_ROW_TITLE)[0],
                "description": labels.more_description.format(count=total - end),
            }
        )
    if total > MAX_ROWS:
        section = labels.list_section_range.format(first=first + 1, last=end)
    else:
        section = labels.list_section
    action = {
        "button": shorten(labels.list_button, MAX_LIST_BUTTON)[0],
        "sections": [{"title": shorten(section, MAX_SECTION_TITLE)[0], "rows": rows}],
    }
    text = reply.text if first == 0 else labels.more_body
    return _with_body(to, _body(text or labels.choose, lost), {"type": "list", "action": action})


def _check_id(option: Option, limit: int) -> None:
    if not option.key or len(option.key) > limit:
        raise ValueError(f"option key must be 1..{limit} characters: {option.key!r}")


def more_page(choice: str | None) -> int | None:
    """The page a tapped "Meer keuzes" row asks for, or None for any other choice."""
    if not choice or not choice.startswith(MORE_PREFIX):
        return None
    number = choice.removeprefix(MORE_PREFIX)
    return int(number) if number.isdigit() and len(number) < 4 else None


def page_of(reply: Reply, choice: str | None) -> int:
    """The list page that shows the option `choice`, so that a multi-select answered on a
    later page shows that page again with its tick, rather than the first; 0 if none."""
    keys = [option.key for option in reply.options]
    if choice not in keys or len(keys) <= MAX_ROWS:
        return 0
    return min(keys.index(choice) // PAGE_ROWS, page_count(len(keys)) - 1)


def render(reply: Reply, *, to: str, labels: Labels, page: int = 0) -> list[Payload]:
    """The messages that show `reply` to `to` (a wa_id), in the order they must be sent.

    `page` picks a page of a long list (see `more_page`); it is ignored otherwise.
    """
    if reply.request_location:
        location = {"type": "location_request_message", "action": {"name": "send_location"}}
        first = _with_body(to, reply.text, location)
        if not reply.options:
            return first
        return [*first, *render(Reply(labels.choose, reply.options), to=to, labels=labels)]
    if not reply.options:
        return [text_message(to, piece) for piece in split_text(reply.text)] or [
            text_message(to, ELLIPSIS)
        ]
    if len(reply.options) <= MAX_BUTTONS:
        return _buttons(to, reply, labels)
    return _list(to, reply, labels, page)


def numbered(reply: Reply, *, to: str, labels: Labels) -> list[Payload]:
    """`reply` as plain text, its options as numbered lines the person answers by typing."""
    lines = _numbered_lines(list(enumerate((o.label for o in reply.options), start=1)))
    parts = [reply.text.strip(), lines, labels.numbered_hint if reply.options else ""]
    text = "\n\n".join(part for part in parts if part)
    return [text_message(to, piece) for piece in split_text(text)] or [text_message(to, ELLIPSIS)]
