"""A fake Telegram Bot API server on loopback, for end-to-end tests of the Telegram channel.

`FakeTelegram` is a small aiohttp server that speaks the real Bot API wire format, so a real
python-telegram-bot `Application` can be pointed at it and driven without mocking anything::

    async with FakeTelegram(token=TOKEN) as tg:
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(f"{tg.url}/bot")
            .base_file_url(f"{tg.url}/file/bot")
            .build()
        )
        ...  # add handlers, initialize, start, app.updater.start_polling(...)
        anna = tg.user(42, first_name="Anna")
        await anna.send_text("/start")
        await anna.wait_for_messages(1)
        await anna.tap("Ja")
        await tg.wait_until_idle()
        assert anna.last().text == "..."

What it imitates, and how faithfully:

* Requests: `/bot<token>/<method>` over GET or POST, with a JSON body, a form-urlencoded body
  (what PTB's httpx backend sends: every non-string value JSON-encoded) or multipart (PTB,
  when a file is uploaded). Method names are case-insensitive, as in Telegram. A wrong but
  well-formed token answers 401 "Unauthorized", a malformed one and an unknown method 404
  "Not Found". Real Bot API methods the fake does not implement also answer 404, with a
  description naming the method, so a test sees at once what is missing.
* getUpdates: real long polling. `offset` confirms (forgets) every update below it, unconfirmed
  updates are delivered again, `timeout` waits for an update, `allowed_updates` is remembered
  across calls, a second concurrent getUpdates terminates the first with 409 Conflict, and an
  active webhook makes getUpdates answer 409.
* Sending: text is validated after entity parsing (HTML, MarkdownV2 and legacy Markdown are
  parsed closely enough to reject what Telegram rejects: unsupported tags, unescaped reserved
  MarkdownV2 characters, unclosed entities). Length counts Unicode code points, 1..4096, after
  stripping surrounding whitespace. Inline keyboards need exactly one action per button and
  callback_data of 1..64 UTF-8 bytes.
* Chats: only people created with `tg.user(...)` exist (else 400 "chat not found"). Like real
  Telegram the bot cannot message someone who never wrote to it: until the simulated person
  sends something, sends answer 403 "bot can't initiate conversation with a user" (pass
  `started=True` to `tg.user` to skip that). `tg.block_user` makes them answer 403 "bot was
  blocked by the user".
* Message ids increase per chat and are shared by both sides, as in a private chat.

Everything runs on the test's event loop; nothing here is thread-safe, nor needs to be.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import telegram
from aiohttp import web

__all__ = [
    "ApiCall",
    "BotMessage",
    "CallbackAnswer",
    "ChatActionRecord",
    "FakeTelegram",
    "FakeUser",
    "SentRecord",
]

JSONDict = dict[str, Any]

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_CAPTION_LENGTH = 1024

_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# What Telegram delivers when allowed_updates was never set (or set to an empty list).
_DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
# Real Bot API method names (lower-cased), taken from PTB's camelCase aliases.
_REAL_METHODS = frozenset(
    name.lower()
    for name in dir(telegram.Bot)
    if name[:1].islower() and "_" not in name and name != name.lower()
)


# --------------------------------------------------------------------------------------------
# Records handed to tests
# --------------------------------------------------------------------------------------------


def _inline_rows(markup: Mapping[str, Any] | None) -> list[list[JSONDict]]:
    if not markup or not isinstance(markup.get("inline_keyboard"), list):
        return []
    return [list(row) for row in markup["inline_keyboard"]]


@dataclass(frozen=True)
class SentRecord:
    """One bot→person message operation, in the order the fake accepted them.

    `method` is "sendMessage", "editMessageText" or "editMessageReplyMarkup". `text` is the
    message text after the operation, as Telegram shows it (markup parsed away); `raw_text`
    is what the bot sent, `parse_mode` how it asked for it to be parsed.
    """

    method: str
    chat_id: int
    message_id: int
    text: str | None
    reply_markup: JSONDict | None
    parse_mode: str | None = None
    raw_text: str | None = None

    @property
    def buttons(self) -> list[str]:
        """Texts of the inline buttons, row by row."""
        return [str(b.get("text")) for row in _inline_rows(self.reply_markup) for b in row]


@dataclass(frozen=True)
class BotMessage:
    """A snapshot of one message the bot sent, in its current state (after edits).

    `reply_markup` is the markup as the bot last set it: an inline keyboard, but also a reply
    keyboard, ReplyKeyboardRemove or ForceReply (which Telegram does not echo in the Message).
    `deleted` is only ever true for snapshots returned by `FakeUser.wait_for_messages`.
    """

    chat_id: int
    message_id: int
    text: str | None
    reply_markup: JSONDict | None
    entities: tuple[JSONDict, ...] = ()
    date: int = 0
    edit_date: int | None = None
    parse_mode: str | None = None
    raw_text: str | None = None
    deleted: bool = False

    @property
    def buttons(self) -> list[str]:
        """Texts of the inline buttons, row by row; empty without an inline keyboard."""
        return [str(b.get("text")) for row in _inline_rows(self.reply_markup) for b in row]

    @property
    def button_rows(self) -> list[list[str]]:
        """Texts of the inline buttons, as rows."""
        return [[str(b.get("text")) for b in row] for row in _inline_rows(self.reply_markup)]

    @property
    def has_inline_keyboard(self) -> bool:
        return bool(_inline_rows(self.reply_markup))

    @property
    def keyboard(self) -> list[str]:
        """Texts of the reply-keyboard buttons this message set, if it set one."""
        if not self.reply_markup or "keyboard" not in self.reply_markup:
            return []
        return [_reply_button_text(b) for row in self.reply_markup["keyboard"] for b in row]

    def callback_data(self, label: str) -> str:
        """The callback_data of the inline button whose text is `label`."""
        for row in _inline_rows(self.reply_markup):
            for button in row:
                if button.get("text") == label and "callback_data" in button:
                    return str(button["callback_data"])
        raise KeyError(f"no callback button {label!r} in {self.buttons}")


@dataclass(frozen=True)
class CallbackAnswer:
    """One answerCallbackQuery call the fake accepted."""

    callback_query_id: str
    user_id: int
    data: str | None
    message_id: int | None
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None


@dataclass(frozen=True)
class ChatActionRecord:
    chat_id: int
    action: str


@dataclass
class ApiCall:
    """One request to `/bot<token>/<method>`: what arrived and how the fake answered.

    `params` holds the values as received (strings for form bodies, JSON types for JSON
    bodies, `UploadedFile` for multipart files). `status` is the HTTP status sent back (0
    while still in progress), `description` the error description, if any.
    """

    method: str
    http_method: str
    content_type: str
    params: JSONDict
    at: float
    status: int = 0
    description: str | None = None


@dataclass(frozen=True)
class UploadedFile:
    name: str
    filename: str | None
    content_type: str
    data: bytes


# --------------------------------------------------------------------------------------------
# Errors and parameter helpers
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API error answer: `{"ok": false, "error_code": status, "description": ...}`."""

    def __init__(
        self, status: int, description: str, parameters: JSONDict | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _opt_str(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, UploadedFile):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _opt_int(params: Mapping[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _bad(f"field \"{name}\" must be of type Integer")
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        try:
            as_float = float(str(value))
        except ValueError:
            raise _bad(f"field \"{name}\" must be of type Integer") from None
        return int(as_float)


def _opt_float(params: Mapping[str, Any], name: str) -> float | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad(f"field \"{name}\" must be of type Number") from None


def _opt_bool(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in {"true", "1"}


def _opt_json(params: Mapping[str, Any], name: str, error: str) -> Any:
    """A parameter that Telegram expects as a JSON-serialized value (reply_markup, ...)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(error) from None
    return value


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _reply_button_text(button: Any) -> str:
    if isinstance(button, Mapping):
        return str(button.get("text", ""))
    return str(button)


# --------------------------------------------------------------------------------------------
# Entity parsing (parse_mode), close enough to Telegram's to reject what it rejects
# --------------------------------------------------------------------------------------------


class EntityParseError(ValueError):
    pass


class _TextBuilder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.u16 = 0
        self.entities: list[JSONDict] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.u16 += _utf16_len(text)

    def entity(self, type_: str, start: int, **extra: Any) -> None:
        if self.u16 > start:
            self.entities.append({"type": type_, "offset": start, "length": self.u16 - start})
            self.entities[-1].update({k: v for k, v in extra.items() if v is not None})

    def result(self) -> tuple[str, list[JSONDict]]:
        return _strip_text("".join(self.parts), self.entities)


def _strip_text(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip surrounding whitespace as Telegram does, keeping entity offsets right."""
    stripped = text.strip()
    if not stripped:
        return "", []
    lead = _utf16_len(text[: len(text) - len(text.lstrip())])
    total = _utf16_len(stripped)
    result: list[JSONDict] = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, result


_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_CHAR_REF_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_HTML_NAME_RE = re.compile(r"[A-Za-z0-9-]*")
_HTML_ATTR_RE = re.compile(
    r"([A-Za-z_:][-\w:.]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?"
)
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _parse_html(src: str) -> tuple[str, list[JSONDict]]:
    out = _TextBuilder()
    # (tag, entity type, start offset, attributes)
    stack: list[tuple[str, str, int, dict[str, str]]] = []
    attrs: dict[str, str]
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "&":
            m = _HTML_CHAR_REF_RE.match(src, i)
            if m is None:
                out.add("&")
                i += 1
                continue
            if m.group(3):
                out.add(_HTML_NAMED[m.group(3)])
            else:
                code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
                out.add(chr(code) if 0 < code <= 0x10FFFF else "\ufffd")
            i = m.end()
            continue
        if c != "<":
            j = i
            while j < n and src[j] not in "<&":
                j += 1
            out.add(src[i:j])
            i = j
            continue
        offset = _byte_offset(src, i)
        if src.startswith("</", i):
            end = src.find(">", i)
            if end == -1:
                raise EntityParseError(f"Unclosed end tag at byte offset {offset}")
            name = src[i + 2 : end].strip().lower()
            if not stack:
                raise EntityParseError(f'Unexpected end tag at byte offset {offset}')
            tag, type_, start, tag_attrs = stack.pop()
            if name != tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            _close_html_entity(out, stack, tag, type_, start, tag_attrs)
            i = end + 1
            continue
        name_match = _HTML_NAME_RE.match(src, i + 1)
        name = name_match.group(0).lower() if name_match else ""
        if name not in _HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
        j = i + 1 + len(name)
        attrs = {}
        while True:
            while j < n and src[j].isspace():
                j += 1
            if j >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
            if src[j] == ">":
                break
            attr = _HTML_ATTR_RE.match(src, j)
            if attr is None:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {offset}'
                )
            value = attr.group(2) or attr.group(3) or attr.group(4) or ""
            attrs[attr.group(1).lower()] = html.unescape(value)
            j = attr.end()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
            )
        stack.append((name, _HTML_TAGS[name], out.u16, attrs))
        i = j + 1
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"'
        )
    return out.result()


def _close_html_entity(
    out: _TextBuilder,
    stack: list[tuple[str, str, int, dict[str, str]]],
    tag: str,
    type_: str,
    start: int,
    attrs: dict[str, str],
) -> None:
    if type_ == "text_link":
        href = attrs.get("href")
        if href:
            out.entity("text_link", start, url=href)
        return
    if type_ == "code" and stack and stack[-1][1] == "pre":
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][3]["language"] = language.removeprefix("language-")
            return
    if type_ == "pre":
        out.entity("pre", start, language=attrs.get("language"))
        return
    if type_ == "blockquote" and "expandable" in attrs:
        out.entity("expandable_blockquote", start)
        return
    if type_ == "custom_emoji":
        out.entity("custom_emoji", start, custom_emoji_id=attrs.get("emoji-id"))
        return
    out.entity(type_, start)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_MDV2_TOGGLES = {"*": "bold", "~": "strikethrough", "||": "spoiler"}


def _parse_markdown_v2(src: str) -> tuple[str, list[JSONDict]]:
    out = _TextBuilder()
    # (entity type, start offset, byte offset of the opening delimiter)
    stack: list[tuple[str, int, int]] = []
    quote_start: int | None = None
    i, n = 0, len(src)

    def reserved(index: int) -> EntityParseError:
        return EntityParseError(
            f"Character '{src[index]}' is reserved and must be escaped with the preceding '\\'"
        )

    while i < n:
        c = src[i]
        top = stack[-1][0] if stack else None
        if c == "\\" and i + 1 < n and 0 < ord(src[i + 1]) <= 126:
            out.add(src[i + 1])
            i += 2
            continue
        if top in ("code", "pre"):
            closer = "```" if top == "pre" else "`"
            if src.startswith(closer, i):
                type_, start, _ = stack.pop()
                language = None
                if type_ == "pre":
                    language = _pre_language(out, start)
                out.entity(type_, start, language=language)
                i += len(closer)
            else:
                out.add(c)
                i += 1
            continue
        line_start = i == 0 or src[i - 1] == "\n"
        if c == "\n" and quote_start is not None and not src.startswith(">", i + 1):
            out.entity("blockquote", quote_start)
            quote_start = None
        if c == ">" and line_start:
            if quote_start is None:
                quote_start = out.u16
            i += 1
            continue
        if c not in _MDV2_RESERVED:
            out.add(c)
            i += 1
            continue
        offset = _byte_offset(src, i)
        if c == "`":
            if src.startswith("```", i):
                stack.append(("pre", out.u16, offset))
                i += 3
            else:
                stack.append(("code", out.u16, offset))
                i += 1
            continue
        if c == "_":
            if src.startswith("__", i) and top != "italic":
                if top == "underline":
                    out.entity(*stack.pop()[:2])
                else:
                    stack.append(("underline", out.u16, offset))
                i += 2
            elif top == "italic":
                out.entity(*stack.pop()[:2])
                i += 1
            else:
                stack.append(("italic", out.u16, offset))
                i += 1
            continue
        delimiter = "||" if src.startswith("||", i) else c
        if delimiter in _MDV2_TOGGLES:
            type_ = _MDV2_TOGGLES[delimiter]
            if top == type_:
                out.entity(*stack.pop()[:2])
            else:
                stack.append((type_, out.u16, offset))
            i += len(delimiter)
            continue
        if c == "[" or (c == "!" and src.startswith("![", i)):
            stack.append(("text_link" if c == "[" else "custom_emoji", out.u16, offset))
            i += 1 if c == "[" else 2
            continue
        if c == "]" and top in ("text_link", "custom_emoji"):
            type_, start, _ = stack.pop()
            url = ""
            i += 1
            if src.startswith("(", i):
                j = i + 1
                chars: list[str] = []
                while j < n and src[j] != ")":
                    if src[j] == "\\" and j + 1 < n:
                        j += 1
                    chars.append(src[j])
                    j += 1
                if j >= n:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(src, i)}"
                    )
                url = "".join(chars)
                i = j + 1
            if type_ == "custom_emoji":
                emoji_id = url.partition("id=")[2] or None
                out.entity("custom_emoji", start, custom_emoji_id=emoji_id)
            elif url:
                out.entity("text_link", start, url=url)
            continue
        raise reserved(i)
    if stack:
        type_, _, offset = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES.get(type_, type_)} entity at byte offset {offset}"
        )
    if quote_start is not None:
        out.entity("blockquote", quote_start)
    return out.result()


def _pre_language(out: _TextBuilder, start: int) -> str | None:
    """Move a ```language first line out of the text of a pre block."""
    text = "".join(out.parts)
    consumed = 0
    index = 0
    while consumed < start:
        consumed += _utf16_len(text[index])
        index += 1
    body = text[index:]
    first, newline, rest = body.partition("\n")
    if not newline or not first or any(ch.isspace() for ch in first):
        return None
    out.parts = [text[:index], rest]
    out.u16 = start + _utf16_len(rest)
    return first


def _parse_markdown(src: str) -> tuple[str, list[JSONDict]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out = _TextBuilder()
    types = {"*": "bold", "_": "italic", "`": "code"}
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            out.add(src[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            out.add(c)
            i += 1
            continue
        offset = _byte_offset(src, i)
        unclosed = EntityParseError(
            f"Can't find end of the entity starting at byte offset {offset}"
        )
        start = out.u16
        if c == "[":
            end = src.find("]", i + 1)
            if end == -1:
                raise unclosed
            out.add(src[i + 1 : end])
            i = end + 1
            if src.startswith("(", i):
                close = src.find(")", i)
                if close == -1:
                    raise unclosed
                out.entity("text_link", start, url=src[i + 1 : close])
                i = close + 1
            continue
        if src.startswith("```", i):
            end = src.find("```", i + 3)
            if end == -1:
                raise unclosed
            body = src[i + 3 : end]
            first, newline, rest = body.partition("\n")
            language = None
            if newline and first and not any(ch.isspace() for ch in first):
                language, body = first, rest
            out.add(body)
            out.entity("pre", start, language=language)
            i = end + 3
            continue
        end = src.find(c, i + 1)
        if end == -1:
            raise unclosed
        out.add(src[i + 1 : end])
        out.entity(types[c], start)
        i = end + 1
    return out.result()


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[JSONDict]]:
    """Turn text plus parse_mode into Telegram's plain text and entities (UTF-16 offsets)."""
    mode = (parse_mode or "").strip().lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return _parse_markdown(text)
    if mode:
        raise _bad("unsupported parse_mode")
    return _strip_text(text, [])


# --------------------------------------------------------------------------------------------
# Reply markup validation
# --------------------------------------------------------------------------------------------

_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _validate_markup(markup: Any, *, inline_only: bool) -> JSONDict | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("object expected as reply markup")
    if "inline_keyboard" in markup:
        _validate_inline_keyboard(markup["inline_keyboard"])
        # An empty inline keyboard is accepted and means "no keyboard".
        return markup if any(markup["inline_keyboard"]) else None
    if inline_only:
        raise _bad("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
        for row in rows:
            for button in row:
                if not _reply_button_text(button):
                    raise _bad("keyboard button text is empty")
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise _bad("can't parse reply keyboard markup JSON object")


def _validate_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _bad("can't parse inline keyboard button: Text must be a String")
            actions = [name for name in _INLINE_ACTIONS if name in button]
            if not actions:
                raise _bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(str(data).encode("utf-8")) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad("BUTTON_DATA_INVALID")
            if "url" in button and not str(button["url"]).strip():
                raise _bad("BUTTON_URL_INVALID")
            if not button["text"].strip():
                raise _bad("BUTTON_TEXT_INVALID")


# --------------------------------------------------------------------------------------------
# Server state
# --------------------------------------------------------------------------------------------


@dataclass
class _QueuedUpdate:
    update_id: int
    payload: JSONDict
    redelivery: bool = False
    delivered: bool = False

    @property
    def kind(self) -> str:
        return next((k for k in self.payload if k != "update_id"), "")


@dataclass
class _StoredMessage:
    json: JSONDict
    from_bot: bool
    markup: JSONDict | None = None
    parse_mode: str | None = None
    raw_text: str | None = None

    def snapshot(self, *, deleted: bool = False) -> BotMessage:
        return BotMessage(
            chat_id=int(self.json["chat"]["id"]),
            message_id=int(self.json["message_id"]),
            text=self.json.get("text"),
            reply_markup=copy.deepcopy(self.markup),
            entities=tuple(copy.deepcopy(self.json.get("entities", []))),
            date=int(self.json.get("date", 0)),
            edit_date=self.json.get("edit_date"),
            parse_mode=self.parse_mode,
            raw_text=self.raw_text,
            deleted=deleted,
        )


@dataclass
class _Chat:
    user: FakeUser
    started: bool = False
    next_message_id: int = 1
    messages: dict[int, _StoredMessage] = field(default_factory=dict)
    reply_keyboard: JSONDict | None = None

    def new_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class _CallbackQuery:
    user_id: int
    data: str | None
    message_id: int | None
    answered: bool = False


@dataclass
class _Fault:
    status: int
    description: str
    parameters: JSONDict | None
    times: int
    after: int = 0  # calls let through before this fault starts


_Handler = Callable[[JSONDict, web.Request], Awaitable[Any]]


class FakeUser:
    """A simulated person in a private chat with the bot.

    Create it with `FakeTelegram.user(...)`. The `send_*`/`tap*` methods enqueue real Update
    JSON for the bot to fetch with getUpdates and return the new update_id.
    """

    def __init__(
        self,
        tg: FakeTelegram,
        user_id: int,
        first_name: str,
        username: str | None,
        language_code: str | None,
        last_name: str | None,
    ) -> None:
        self.tg = tg
        self.user_id = user_id
        self.first_name = first_name
        self.username = username
        self.language_code = language_code
        self.last_name = last_name
        self.last_update: JSONDict | None = None
        self._mark = 0

    def __repr__(self) -> str:
        return f"FakeUser({self.user_id}, {self.first_name!r})"

    @property
    def chat_id(self) -> int:
        return self.user_id

    def to_user_json(self) -> JSONDict:
        """The Telegram `User` object of this person."""
        data: JSONDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def to_chat_json(self) -> JSONDict:
        """The Telegram `Chat` object of the private chat with this person."""
        data: JSONDict = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    # -- sending ----------------------------------------------------------------------------

    async def send_text(self, text: str) -> int:
        """Send a text message; a leading /command gets its bot_command entity."""
        fields: JSONDict = {"text": text}
        entities = [
            {
                "type": "bot_command",
                "offset": _utf16_len(text[: m.start()]),
                "length": _utf16_len(m.group(0)),
            }
            for m in _COMMAND_RE.finditer(text)
        ]
        if entities:
            fields["entities"] = entities
        chat = self.tg._chat_of(self)
        shown = chat.reply_keyboard
        if shown and shown.get("one_time_keyboard") and text in self.keyboard():
            chat.reply_keyboard = None  # the app hides a one-time keyboard once it is used
        return await self.send_message_fields(fields)

    async def send_location(self, latitude: float, longitude: float) -> int:
        return await self.send_message_fields(
            {"location": {"latitude": latitude, "longitude": longitude}}
        )

    async def send_photo(self, caption: str | None = None) -> int:
        small = self.tg._new_file("photo", "jpg", 1_234, width=90, height=67)
        large = self.tg._new_file("photo", "jpg", 45_678, width=1280, height=960)
        fields: JSONDict = {"photo": [small, large]}
        if caption is not None:
            fields["caption"] = caption
        return await self.send_message_fields(fields)

    async def send_sticker(self, emoji: str = "👍") -> int:
        sticker = self.tg._new_file(
            "stickers", "webp", 23_456, width=512, height=512,
            type="regular", is_animated=False, is_video=False, emoji=emoji,
        )
        return await self.send_message_fields({"sticker": sticker})

    async def send_voice(self, duration: int = 3) -> int:
        voice = self.tg._new_file("voice", "oga", 9_876, duration=duration, mime_type="audio/ogg")
        return await self.send_message_fields({"voice": voice})

    async def send_document(
        self,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> int:
        document = self.tg._new_file(
            "documents", file_name.rpartition(".")[2] or "bin", 54_321,
            file_name=file_name, mime_type=mime_type,
        )
        fields: JSONDict = {"document": document}
        if caption is not None:
            fields["caption"] = caption
        return await self.send_message_fields(fields)

    async def send_contact(self, phone_number: str, first_name: str) -> int:
        return await self.send_message_fields(
            {"contact": {"phone_number": phone_number, "first_name": first_name}}
        )

    async def send_message_fields(self, fields: Mapping[str, Any]) -> int:
        """Send a message with arbitrary content fields (e.g. {"video": {...}})."""
        chat = self.tg._chat_of(self)
        message: JSONDict = {
            "message_id": chat.new_message_id(),
            "from": self.to_user_json(),
            "chat": self.to_chat_json(),
            "date": int(time.time()),
            **copy.deepcopy(dict(fields)),
        }
        chat.messages[message["message_id"]] = _StoredMessage(json=message, from_bot=False)
        return await self._enqueue({"message": message})

    async def tap(
        self, button: str, message: BotMessage | int | None = None
    ) -> int:
        """Tap an inline button, found by its text or else its callback_data.

        Looks in `message` (a BotMessage or message id), or else in the latest message from
        the bot in this chat that has an inline keyboard. Raises AssertionError if there is
        no such button, or if it is not a callback button.
        """
        stored = self._keyboard_message(message)
        rows = _inline_rows(stored.markup)
        candidates = [b for row in rows for b in row if b.get("text") == button]
        candidates = candidates or [
            b for row in rows for b in row if b.get("callback_data") == button
        ]
        if not candidates:
            labels = [(b.get("text"), b.get("callback_data")) for row in rows for b in row]
            raise AssertionError(
                f"{self!r}: no button {button!r} on message #{stored.json['message_id']} "
                f"(buttons: {labels})\n{self.tg.dump()}"
            )
        found = candidates[0]
        if "callback_data" not in found:
            raise AssertionError(f"{self!r}: button {button!r} is not a callback button: {found}")
        return await self._send_callback(str(found["callback_data"]), stored.json)

    async def tap_raw(self, callback_data: str, message_id: int) -> int:
        """Send a callback_query with arbitrary (stale, forged) data for `message_id`.

        If no such message exists, the update carries an InaccessibleMessage (date 0).
        """
        stored = self.tg._chat_of(self).messages.get(message_id)
        message = (
            stored.json
            if stored is not None
            else {"chat": self.to_chat_json(), "message_id": message_id, "date": 0}
        )
        return await self._send_callback(callback_data, message)

    async def resend_last_update(self) -> int:
        """Deliver this person's last update again, identical and with the same update_id."""
        if self.last_update is None:
            raise AssertionError(f"{self!r} has not sent anything yet")
        self._mark = self._sent_count()
        return await self.tg._enqueue_payload(copy.deepcopy(self.last_update), redelivery=True)

    async def _send_callback(self, data: str, message: JSONDict) -> int:
        query_id = self.tg._new_callback_query(self.user_id, data, message.get("message_id"))
        query: JSONDict = {
            "id": query_id,
            "from": self.to_user_json(),
            "message": copy.deepcopy(message),
            "chat_instance": str(-(10**18) - self.user_id),
            "data": data,
        }
        return await self._enqueue({"callback_query": query})

    async def _enqueue(self, content: JSONDict) -> int:
        chat = self.tg._chat_of(self)
        chat.started = True
        self._mark = self._sent_count()
        update_id = await self.tg.enqueue_update(content)
        self.last_update = {"update_id": update_id, **copy.deepcopy(content)}
        return update_id

    # -- inspecting -------------------------------------------------------------------------

    def messages(self) -> list[BotMessage]:
        """Every message from the bot still in this chat, oldest first, as it is now."""
        chat = self.tg._chat_of(self)
        return [m.snapshot() for _, m in sorted(chat.messages.items()) if m.from_bot]

    def last(self) -> BotMessage:
        """The latest message from the bot in this chat (AssertionError if none)."""
        messages = self.messages()
        if not messages:
            raise AssertionError(f"the bot sent nothing to {self!r}\n{self.tg.dump()}")
        return messages[-1]

    def buttons(self, message: BotMessage | int | None = None) -> list[str]:
        """Inline button texts of `message`, or of the latest message with an inline keyboard."""
        return self._keyboard_message(message).snapshot().buttons

    def keyboard(self) -> list[str]:
        """Texts of the reply keyboard currently shown to this person (empty if none)."""
        markup = self.tg._chat_of(self).reply_keyboard
        if not markup:
            return []
        return [_reply_button_text(b) for row in markup["keyboard"] for b in row]

    def keyboard_markup(self) -> JSONDict | None:
        """The ReplyKeyboardMarkup currently shown to this person, as the bot sent it."""
        return copy.deepcopy(self.tg._chat_of(self).reply_keyboard)

    async def wait_for_messages(
        self, count: int, timeout: float = 5.0  # noqa: ASYNC109
    ) -> list[BotMessage]:
        """Wait until the bot sent at least `count` new messages since this person's last
        update (send_*, tap*, resend_last_update) and return them all, as they are now."""
        await self.tg.wait_for(
            lambda: self._sent_count() - self._mark >= count,
            timeout=timeout,
            what=f"{count} message(s) from the bot to {self!r}",
        )
        chat = self.tg._chat_of(self)
        new = [
            r for r in self.tg.sent if r.chat_id == self.user_id and r.method == "sendMessage"
        ][self._mark :]
        result: list[BotMessage] = []
        for record in new:
            stored = chat.messages.get(record.message_id)
            if stored is not None:
                result.append(stored.snapshot())
            else:
                result.append(
                    BotMessage(
                        chat_id=record.chat_id,
                        message_id=record.message_id,
                        text=record.text,
                        reply_markup=record.reply_markup,
                        parse_mode=record.parse_mode,
                        raw_text=record.raw_text,
                        deleted=True,
                    )
                )
        return result

    def _sent_count(self) -> int:
        return sum(
            1 for r in self.tg.sent if r.chat_id == self.user_id and r.method == "sendMessage"
        )

    def _keyboard_message(self, message: BotMessage | int | None) -> _StoredMessage:
        chat = self.tg._chat_of(self)
        if message is not None:
            message_id = message if isinstance(message, int) else message.message_id
            stored = chat.messages.get(message_id)
            if stored is None or not stored.from_bot:
                raise AssertionError(
                    f"{self!r}: no bot message #{message_id} in the chat\n{self.tg.dump()}"
                )
            return stored
        for _, stored in sorted(chat.messages.items(), reverse=True):
            if stored.from_bot and _inline_rows(stored.markup):
                return stored
        raise AssertionError(
            f"{self!r}: no bot message with an inline keyboard\n{self.tg.dump()}"
        )


class FakeTelegram:
    """A fake Bot API server on 127.0.0.1; see the module docstring."""

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        bot_first_name: str = "Test Bot",
        bot_username: str = "test_bot",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        bot_id = int(token.partition(":")[0]) if token.partition(":")[0].isdigit() else 1
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.sent: list[SentRecord] = []
        self.deleted: list[tuple[int, int]] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[ChatActionRecord] = []
        self.calls: list[ApiCall] = []
        self.webhook_url: str | None = None
        self.webhook_calls: list[JSONDict] = []
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}

        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._chats: dict[int, _Chat] = {}
        self._blocked: set[int] = set()
        self._queue: list[_QueuedUpdate] = []
        self._update_ids = itertools.count(10_001)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._callback_queries: dict[str, _CallbackQuery] = {}
        self._files: dict[str, JSONDict] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._late: dict[str, list[float]] = {}
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
        self._cond = asyncio.Condition()
        self._poll_generation = 0
        self._polled = asyncio.Event()
        self._closing = False
        self._inflight = 0
        self._last_activity = 0.0
        self._methods: dict[str, _Handler] = {
            "getme": self._get_me,
            "logout": self._ok,
            "close": self._ok,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setmydescription": self._ok,
            "setmyshortdescription": self._ok,
            "setmyname": self._ok,
            "setchatmenubutton": self._ok,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendchataction": self._send_chat_action,
            "getfile": self._get_file,
        }

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`; use `{url}/bot` and `{url}/file/bot` as PTB base urls."""
        if self._url is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._url

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        port = int(self._runner.addresses[0][1])
        self._url = f"http://{self.host}:{port}"
        self._last_activity = asyncio.get_running_loop().time()

    async def wait_for_a_poll(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until a getUpdates call has reached the server."""
        await asyncio.wait_for(self._polled.wait(), timeout)

    async def stop(self) -> None:
        """Release pending long polls (they answer an empty result) and close the server."""
        async with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- people and fault injection ---------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Anna",
        username: str | None = None,
        language_code: str | None = "nl",
        *,
        last_name: str | None = None,
        started: bool = False,
    ) -> FakeUser:
        """The simulated person `user_id` (created on first call, the same object after).

        `started=True` lets the bot message them before they wrote to it.
        """
        chat = self._chats.get(user_id)
        if chat is None:
            person = FakeUser(self, user_id, first_name, username, language_code, last_name)
            chat = self._chats[user_id] = _Chat(user=person)
        chat.started = chat.started or started
        return chat.user

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        *,
        description: str | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Make the next `times` calls of `method` fail with `status` (after letting `after`
        calls through).

        429 answers Telegram's flood-control body with `parameters.retry_after`; other
        statuses answer a generic description unless one is given.
        """
        parameters: JSONDict | None = None
        if status == 429:
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        elif description is None:
            description = {
                400: "Bad Request",
                401: "Unauthorized",
                403: "Forbidden",
                404: "Not Found",
                409: "Conflict",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, "Error")
        self._faults.setdefault(method.lower(), []).append(
            _Fault(status, description, parameters, times, after)
        )

    def clear_faults(self) -> None:
        """Forget every fault not used yet (an outage ends)."""
        self._faults.clear()

    def answer_late(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next `times` calls of `method` are carried out at once (a message is sent),
        but answered only after `seconds`: a client with a shorter timeout sees a timeout
        after the platform accepted the call."""
        self._late.setdefault(method.lower(), []).extend([seconds] * times)

    def block_user(self, chat_id: int) -> None:
        """The person blocked the bot: anything sent to them answers 403."""
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    async def enqueue_update(self, content: Mapping[str, Any]) -> int:
        """Queue a raw update (e.g. {"my_chat_member": {...}}); returns its new update_id."""
        payload = {"update_id": next(self._update_ids), **copy.deepcopy(dict(content))}
        return await self._enqueue_payload(payload)

    # -- inspection and waiting -------------------------------------------------------------

    @property
    def pending_updates(self) -> list[int]:
        """update_ids queued but not yet fetched by the bot."""
        return [u.update_id for u in self._queue if not u.delivered]

    def unanswered_callback_queries(self) -> list[str]:
        """Ids of callback queries the bot has not answered (Telegram shows a spinner)."""
        return [qid for qid, q in self._callback_queries.items() if not q.answered]

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        what: str = "condition",
    ) -> None:
        """Poll `predicate` until true; AssertionError with a dump after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}\n{self.dump()}"
                )
            await asyncio.sleep(0.005)

    async def wait_until_idle(
        self, timeout: float = 5.0, quiet: float = 0.15  # noqa: ASYNC109
    ) -> None:
        """Wait until every queued update was fetched with getUpdates, no other API call is in
        progress, and none arrived (nor any update was fetched) for `quiet` seconds."""
        loop = asyncio.get_running_loop()

        def idle() -> bool:
            return (
                not self.pending_updates
                and self._inflight == 0
                and loop.time() - self._last_activity >= quiet
            )

        await self.wait_for(idle, timeout=timeout, what="the bot to become idle")

    def dump(self, last: int = 15) -> str:
        """A readable summary of recent traffic, for assertion messages."""
        lines = [f"pending (unfetched) updates: {self.pending_updates or 'none'}"]
        lines.append(f"last {min(last, len(self.sent))} of {len(self.sent)} bot messages:")
        for record in self.sent[-last:]:
            buttons = f" {record.buttons}" if record.buttons else ""
            lines.append(
                f"  {record.method} chat={record.chat_id} #{record.message_id}: "
                f"{record.text!r}{buttons}"
            )
        lines.append(f"last {min(last, len(self.calls))} of {len(self.calls)} API calls:")
        for call in self.calls[-last:]:
            error = f" {call.description}" if call.description else ""
            lines.append(f"  {call.method} -> {call.status or '...'}{error}")
        return "\n".join(lines)

    # -- internals used by FakeUser ---------------------------------------------------------

    def _chat_of(self, person: FakeUser) -> _Chat:
        return self._chats[person.user_id]

    def _new_callback_query(self, user_id: int, data: str | None, message_id: Any) -> str:
        query_id = f"{user_id}{next(self._callback_ids):06d}"
        mid = int(message_id) if isinstance(message_id, int) else None
        self._callback_queries[query_id] = _CallbackQuery(user_id, data, mid)
        return query_id

    def _new_file(self, folder: str, ext: str, size: int, **extra: Any) -> JSONDict:
        n = next(self._file_ids)
        info: JSONDict = {
            "file_id": f"FAKE-{folder}-{n}",
            "file_unique_id": f"U{n}",
            "file_size": size,
            **extra,
        }
        self._files[info["file_id"]] = {
            "file_id": info["file_id"],
            "file_unique_id": info["file_unique_id"],
            "file_size": size,
            "file_path": f"{folder}/file_{n}.{ext}",
        }
        return info

    async def _enqueue_payload(self, payload: JSONDict, *, redelivery: bool = False) -> int:
        update_id = int(payload["update_id"])
        async with self._cond:
            self._queue.append(_QueuedUpdate(update_id, payload, redelivery=redelivery))
            self._cond.notify_all()
        return update_id

    # -- HTTP -------------------------------------------------------------------------------

    @staticmethod
    def _answer(body: JSONDict, status: int = 200) -> web.Response:
        return web.json_response(body, status=status)

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if token != self.token:
            if _TOKEN_RE.fullmatch(token):
                return self._answer(ApiError(401, "Unauthorized").body(), 401)
            return self._answer(ApiError(404, "Not Found").body(), 404)
        method = request.match_info["method"]
        key = method.lower()
        polling = key == "getupdates"
        if not polling:
            self._inflight += 1
            self._touch()
        call = ApiCall(
            method=method,
            http_method=request.method,
            content_type=request.content_type,
            params={},
            at=time.time(),
        )
        self.calls.append(call)
        try:
            call.params = params = await self._read_params(request)
            self._raise_fault(key)
            handler = self._methods.get(key)
            if handler is None:
                if key in _REAL_METHODS:
                    raise ApiError(
                        404, f"Not Found: method {method} is not implemented by FakeTelegram"
                    )
                raise ApiError(404, "Not Found")
            result = await handler(params, request)
            late = self._late.get(key)
            if late:
                await asyncio.sleep(late.pop(0))
        except ApiError as error:
            call.status, call.description = error.status, error.description
            return self._answer(error.body(), error.status)
        finally:
            if not polling:
                self._inflight -= 1
                self._touch()
        call.status = 200
        return self._answer({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._answer(ApiError(401, "Unauthorized").body(), 401)
        path = request.match_info["path"]
        if not any(f["file_path"] == path for f in self._files.values()):
            return self._answer(ApiError(404, "Not Found").body(), 404)
        return web.Response(
            body=f"fake file {path}\n".encode(), content_type="application/octet-stream"
        )

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = dict(request.query)
        if not request.can_read_body:
            return params
        content_type = request.content_type
        if content_type == "application/json":
            raw = await request.read()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise _bad("can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise _bad("JSON object expected")
                params.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, str):
                    params[name] = value
                elif isinstance(value, web.FileField):
                    params[name] = UploadedFile(
                        name=name,
                        filename=value.filename,
                        content_type=value.content_type,
                        data=value.file.read(),
                    )
        return params

    def _raise_fault(self, key: str) -> None:
        faults = self._faults.get(key)
        if not faults:
            return
        fault = faults[0]
        if fault.after > 0:
            fault.after -= 1
            return
        fault.times -= 1
        if fault.times <= 0:
            faults.pop(0)
        raise ApiError(fault.status, fault.description, copy.deepcopy(fault.parameters))

    def _chat_for(self, params: JSONDict, *, sending: bool = True) -> _Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise _bad("chat not found") from None
        chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad("chat not found")
        if sending and chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if sending and not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    # -- methods ----------------------------------------------------------------------------

    async def _ok(self, params: JSONDict, request: web.Request) -> bool:
        return True

    async def _get_me(self, params: JSONDict, request: web.Request) -> JSONDict:
        return dict(self.bot_user)

    async def _set_webhook(self, params: JSONDict, request: web.Request) -> bool:
        url = _opt_str(params, "url") or ""
        if url and not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_calls.append({k: v for k, v in params.items()})
        self.webhook_url = url or None
        if _opt_bool(params, "drop_pending_updates"):
            self._queue.clear()
        return True

    async def _delete_webhook(self, params: JSONDict, request: web.Request) -> bool:
        self.webhook_url = None
        if _opt_bool(params, "drop_pending_updates"):
            self._queue.clear()
        return True

    async def _get_webhook_info(self, params: JSONDict, request: web.Request) -> JSONDict:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = _opt_json(params, "scope", "can't parse BotCommandScope JSON object")
        scope_key = json.dumps(scope or {"type": "default"}, sort_keys=True)
        return scope_key, _opt_str(params, "language_code") or ""

    async def _set_my_commands(self, params: JSONDict, request: web.Request) -> bool:
        commands = _opt_json(params, "commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand JSON object")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not _BOT_COMMAND_NAME_RE.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: JSONDict, request: web.Request) -> list[JSONDict]:
        return list(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: JSONDict, request: web.Request) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_updates(self, params: JSONDict, request: web.Request) -> list[JSONDict]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = _opt_int(params, "offset")
        limit = min(100, max(1, _opt_int(params, "limit") or 100))
        timeout = max(0.0, _opt_float(params, "timeout") or 0.0)
        allowed = _opt_json(params, "allowed_updates", "can't parse allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(map(str, allowed)) or _DEFAULT_UPDATE_TYPES
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._cond:
            self._confirm(offset)
            self._poll_generation += 1
            generation = self._poll_generation
            self._polled.set()
            self._cond.notify_all()
            while True:
                if self._closing:
                    return []
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running",
                    )
                batch = self._available(limit)
                if batch:
                    break
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._cond.wait(), remaining)
        transport = request.transport
        if transport is not None and not transport.is_closing():
            for update in batch:
                update.delivered = True
            self._touch()
        return [copy.deepcopy(u.payload) for u in batch]

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            self._queue = self._queue[offset:]
            return
        self._queue = [
            u
            for u in self._queue
            if u.update_id >= offset or (u.redelivery and not u.delivered)
        ]

    def _available(self, limit: int) -> list[_QueuedUpdate]:
        # Telegram never creates updates of types the bot did not ask for.
        self._queue = [u for u in self._queue if u.kind in self._allowed_updates]
        return sorted(self._queue, key=lambda u: u.update_id)[:limit]

    def _text_and_entities(
        self, params: JSONDict, field_name: str = "text"
    ) -> tuple[str, list[JSONDict], str | None, str]:
        raw = _opt_str(params, field_name) or ""
        parse_mode = _opt_str(params, "parse_mode") or None
        explicit = _opt_json(params, "entities", "can't parse entities JSON object")
        try:
            text, entities = parse_text(raw, parse_mode)
        except EntityParseError as error:
            raise _bad(f"can't parse entities: {error}") from None
        if isinstance(explicit, list) and not parse_mode:
            entities = [e for e in explicit if isinstance(e, dict)]
        if not text:
            raise _bad("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad("message is too long")
        return text, entities, parse_mode, raw

    def _record(self, method: str, stored: _StoredMessage) -> None:
        self.sent.append(
            SentRecord(
                method=method,
                chat_id=int(stored.json["chat"]["id"]),
                message_id=int(stored.json["message_id"]),
                text=stored.json.get("text"),
                reply_markup=copy.deepcopy(stored.markup),
                parse_mode=stored.parse_mode,
                raw_text=stored.raw_text,
            )
        )

    async def _send_message(self, params: JSONDict, request: web.Request) -> JSONDict:
        chat = self._chat_for(params)
        text, entities, parse_mode, raw = self._text_and_entities(params)
        markup = _validate_markup(
            _opt_json(params, "reply_markup", "can't parse reply keyboard markup JSON object"),
            inline_only=False,
        )
        reply_to: JSONDict | None = None
        reply = _opt_json(params, "reply_parameters", "can't parse reply parameters JSON object")
        reply_id = _opt_int(params, "reply_to_message_id")
        allow_missing = _opt_bool(params, "allow_sending_without_reply")
        if isinstance(reply, dict):
            reply_id = _opt_int(reply, "message_id")
            allow_missing = _opt_bool(reply, "allow_sending_without_reply")
        if reply_id is not None:
            target = chat.messages.get(reply_id)
            if target is not None:
                reply_to = {k: v for k, v in target.json.items() if k != "reply_to_message"}
            elif not allow_missing:
                raise _bad("message to be replied not found")
        message: JSONDict = {
            "message_id": chat.new_message_id(),
            "from": dict(self.bot_user),
            "chat": chat.user.to_chat_json(),
            "date": int(time.time()),
            "text": text,
        }
        if reply_to is not None:
            message["reply_to_message"] = copy.deepcopy(reply_to)
        if entities:
            message["entities"] = entities
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        stored = _StoredMessage(
            json=message, from_bot=True, markup=markup, parse_mode=parse_mode, raw_text=raw
        )
        chat.messages[message["message_id"]] = stored
        self._record("sendMessage", stored)
        return copy.deepcopy(message)

    def _message_to_edit(self, params: JSONDict) -> tuple[_Chat, _StoredMessage]:
        if params.get("inline_message_id") not in (None, ""):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._chat_for(params)
        message_id = _opt_int(params, "message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        stored = chat.messages.get(message_id)
        if stored is None:
            raise _bad("message to edit not found")
        if not stored.from_bot:
            raise _bad("message can't be edited")
        return chat, stored

    def _apply_edit(
        self,
        method: str,
        stored: _StoredMessage,
        text: str | None,
        entities: list[JSONDict],
        markup: JSONDict | None,
    ) -> JSONDict:
        message = stored.json
        if text is not None:
            message["text"] = text
            if entities:
                message["entities"] = entities
            else:
                message.pop("entities", None)
        if markup is not None:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        stored.markup = markup
        message["edit_date"] = int(time.time())
        self._record(method, stored)
        return copy.deepcopy(message)

    async def _edit_message_text(self, params: JSONDict, request: web.Request) -> JSONDict:
        _, stored = self._message_to_edit(params)
        if "text" not in stored.json:
            raise _bad("there is no text in the message to edit")
        text, entities, parse_mode, raw = self._text_and_entities(params)
        markup = _validate_markup(
            _opt_json(params, "reply_markup", "can't parse reply keyboard markup JSON object"),
            inline_only=True,
        )
        old = stored.json
        if (
            text == old.get("text")
            and entities == old.get("entities", [])
            and markup == old.get("reply_markup")
        ):
            raise _bad(_NOT_MODIFIED.removeprefix("Bad Request: "))
        stored.parse_mode, stored.raw_text = parse_mode, raw
        return self._apply_edit("editMessageText", stored, text, entities, markup)

    async def _edit_message_reply_markup(
        self, params: JSONDict, request: web.Request
    ) -> JSONDict:
        _, stored = self._message_to_edit(params)
        markup = _validate_markup(
            _opt_json(params, "reply_markup", "can't parse reply keyboard markup JSON object"),
            inline_only=True,
        )
        if markup == stored.json.get("reply_markup"):
            raise _bad(_NOT_MODIFIED.removeprefix("Bad Request: "))
        return self._apply_edit("editMessageReplyMarkup", stored, None, [], markup)

    async def _delete_message(self, params: JSONDict, request: web.Request) -> bool:
        chat = self._chat_for(params, sending=False)
        message_id = _opt_int(params, "message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        if chat.messages.pop(message_id, None) is None:
            raise _bad("message to delete not found")
        self.deleted.append((chat.user.user_id, message_id))
        return True

    async def _answer_callback_query(self, params: JSONDict, request: web.Request) -> bool:
        query_id = _opt_str(params, "callback_query_id") or ""
        query = self._callback_queries.get(query_id)
        if query is None or query.answered:
            raise _bad(_QUERY_INVALID.removeprefix("Bad Request: "))
        query.answered = True
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query_id,
                user_id=query.user_id,
                data=query.data,
                message_id=query.message_id,
                text=_opt_str(params, "text"),
                show_alert=_opt_bool(params, "show_alert"),
                url=_opt_str(params, "url"),
                cache_time=_opt_int(params, "cache_time"),
            )
        )
        return True

    async def _send_chat_action(self, params: JSONDict, request: web.Request) -> bool:
        chat = self._chat_for(params)
        action = _opt_str(params, "action") or ""
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self.chat_actions.append(ChatActionRecord(chat.user.user_id, action))
        return True

    async def _get_file(self, params: JSONDict, request: web.Request) -> JSONDict:
        info = self._files.get(_opt_str(params, "file_id") or "")
        if info is None:
            raise _bad("invalid file_id")
        return dict(info)

