"""Telegram through python-telegram-bot's `Bot`: raw updates into the inbox, outbox out.

Updates arrive by webhook (`bot.web.telegram`) or by long polling (`TelegramChannel.poll`),
and are stored in the inbox before Telegram is told they arrived: polling moves its offset
past an update only once it is stored. A tapped button's spinner is stopped at once; the
tapped keyboard is removed or replaced by the first message of the answer (an edit that goes
through the outbox like every other message), so it cannot be tapped twice.

Buttons become inline keyboards (callback data is the option key, at most 64 bytes); texts
over 4096 characters are split into parts the deliverer sends once each; "share my location"
is a reply-keyboard button.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.error import TimedOut as TelegramTimedOut

from bot.channels.telegram_http import AiohttpRequest
from bot.deliverer import Blocked, DeliveryError, RateLimited, Rejected, TimedOut, Transient
from bot.inbox import Draft, Inbox, Incoming, reply_drafts
from handlers.i18n import LANGUAGES, Texts
from handlers.messages import Inbound, Location, MediaKind, Option, Reply
from storage.records import Identity, Outgoing

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
SENDS_PER_SECOND = 30  # Telegram's own limit for a bot: more in one second are refused (429)
MAX_CALLBACK_BYTES = 64
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
COMMANDS = ("help", "terug", "stop", "gegevens", "vergeet", "taal")

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def _media_kind(message: Message) -> MediaKind:
    kinds = (
        (message.photo, MediaKind.PHOTO),
        (message.sticker, MediaKind.STICKER),
        (message.voice or message.video_note, MediaKind.VOICE),
        (message.audio, MediaKind.AUDIO),
        (message.video or message.animation, MediaKind.VIDEO),
        (message.document, MediaKind.DOCUMENT),
        (message.contact, MediaKind.CONTACT),
    )
    return next((kind for present, kind in kinds if present), MediaKind.OTHER)


def to_inbound(update: Update) -> Inbound | None:
    """A Telegram update as an inbound message; None for what is not a person's message."""
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    base = Inbound(
        channel=CHANNEL,
        external_id=str(user.id),
        update_id=str(update.update_id),
        first_name=user.first_name,
        username=user.username,
        language_code=user.language_code,
    )
    if update.callback_query is not None:
        return replace(base, choice=update.callback_query.data or "")
    message = update.message
    if message is None or message.chat.type != "private":
        return None
    if message.location is not None:
        where = Location(message.location.latitude, message.location.longitude)
        return replace(base, location=where)
    if message.text is not None:
        return replace(base, text=message.text)
    return replace(base, media=_media_kind(message))


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a long text into pieces Telegram accepts, at line breaks where possible."""
    text = text or "…"
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text else pieces


def keyboard(reply: Reply) -> Markup:
    if reply.options:
        buttons = []
        for option in reply.options:
            if len(option.key.encode()) > MAX_CALLBACK_BYTES:
                raise ValueError(f"callback data too long: {option.key!r}")
            buttons.append(InlineKeyboardButton(option.label, callback_data=option.key))
        columns = max(1, reply.columns)
        rows = [buttons[i : i + columns] for i in range(0, len(buttons), columns)]
        return InlineKeyboardMarkup(rows)
    if reply.request_location:
        button = KeyboardButton(reply.request_location, request_location=True)
        return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    return ReplyKeyboardRemove()


def sender_of(payload: Mapping[str, Any]) -> str | None:
    """The id of the person who sent a raw update (their private chat), if any."""
    for kind in ("message", "callback_query", "edited_message"):
        part = payload.get(kind)
        if isinstance(part, dict):
            user = part.get("from")
            if isinstance(user, dict) and "id" in user:
                return str(user["id"])
    return None


def _as_reply(message: Outgoing) -> Reply:
    return Reply(
        message.text,
        options=tuple(Option(key, label) for key, label in message.options),
        request_location=message.extra.get("location"),
        columns=int(message.extra.get("columns", 1)),
    )


def _delivery_error(error: TelegramError) -> DeliveryError:
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return RateLimited(seconds)
    if isinstance(error, Forbidden):
        return Blocked(error.message)
    if isinstance(error, BadRequest):
        return Rejected(error.message)
    if isinstance(error, TelegramTimedOut):
        return TimedOut(error.message)
    return Transient(error.message)  # NetworkError covers 5xx and lost connections


class TelegramChannel:
    """Telegram's side of the inbox (reading updates, writing drafts) and of the deliverer
    (sending a message part by part)."""

    channel = CHANNEL
    max_text = MAX_TEXT

    def __init__(self, bot: Bot, inbox: Inbox) -> None:
        self.bot = bot
        self._inbox = inbox
        self._answering: set[asyncio.Task[None]] = set()
        inbox.add_reader(CHANNEL, self)

    # -- in ----------------------------------------------------------------------------------

    async def receive(self, payloads: Sequence[dict[str, Any]]) -> None:
        """Store raw updates in the inbox; returns once they are committed. Then the spinner
        of each tapped button is stopped."""
        updates = [(str(p["update_id"]), sender_of(p), p) for p in payloads]
        await self._inbox.receive(CHANNEL, updates)
        for payload in payloads:
            query = payload.get("callback_query")
            if isinstance(query, dict) and "id" in query:
                task = asyncio.create_task(self._answer_query(str(query["id"])))
                self._answering.add(task)
                task.add_done_callback(self._answering.discard)

    async def _answer_query(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as error:  # a query older than Telegram keeps
            log.info("could not answer callback query: %s", error)

    async def poll(self, *, poll_seconds: int = 30) -> None:
        """Long polling: fetch, store, and only then move the offset past what was stored."""
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=poll_seconds,
                    allowed_updates=ALLOWED_UPDATES,
                    read_timeout=poll_seconds + 10,
                )
                payloads = [update.to_dict() for update in updates]
                if payloads:
                    await self.receive(payloads)
                    offset = int(payloads[-1]["update_id"]) + 1
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Telegram or the database is away: wait, retry
                failures += 1
                wait = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("polling Telegram failed (%r); again in %.1f s", error, wait)
                await asyncio.sleep(wait)

    def read(self, payload: Mapping[str, Any]) -> Incoming | None:
        update = Update.de_json(dict(payload), self.bot)
        inbound = to_inbound(update)
        if inbound is None:
            return None
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return Incoming(inbound)
        message = query.message
        hints = {
            "tapped": message.message_id,
            "text": message.text,
            "label": _tapped_label(message, query.data),
        }
        return Incoming(inbound, hints)

    def drafts(self, incoming: Incoming, replies: Sequence[Reply]) -> list[Draft]:
        """The answer as outbox rows; after a tap, first the edit that closes the tapped
        keyboard (or replaces it, for a multi-select that gained a tick)."""
        tapped = incoming.hints.get("tapped")
        if tapped is None or not replies:
            return reply_drafts(replies)
        rest = list(replies)
        first = rest[0]
        if first.edit_in_place and first.options and len(first.text) <= MAX_TEXT:
            rest.pop(0)
            return reply_drafts([first], {"edit": tapped}) + reply_drafts(rest)
        label, text = incoming.hints.get("label"), incoming.hints.get("text")
        if label and text and len(text) + len(label) + 4 <= MAX_TEXT:
            close = Draft(f"{text}\n\n👉 {label}", extra={"edit": tapped})
        else:
            close = Draft("", extra={"edit": tapped, "markup_only": True})
        return [close, *reply_drafts(rest)]

    # -- out ---------------------------------------------------------------------------------

    def parts(self, message: Outgoing) -> int:
        return 1 if message.extra.get("edit") else len(split_text(message.text))

    async def send_part(self, message: Outgoing, index: int) -> None:
        """Send part `index` of an outbox message; raises a `DeliveryError` when not sent."""
        chat_id = int(message.external_id)
        try:
            edit = message.extra.get("edit")
            if edit:
                await self._edit(chat_id, int(edit), message)
                return
            pieces = split_text(message.text)
            last = index == len(pieces) - 1
            markup = keyboard(_as_reply(message)) if last else None
            await self.bot.send_message(chat_id, pieces[index], reply_markup=markup)
        except TelegramError as error:
            raise _delivery_error(error) from error

    async def _edit(self, chat_id: int, message_id: int, message: Outgoing) -> None:
        try:
            if message.extra.get("markup_only"):
                await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
            elif message.options:
                markup = keyboard(_as_reply(message))
                assert isinstance(markup, InlineKeyboardMarkup)
                await self.bot.edit_message_text(
                    message.text, chat_id, message_id, reply_markup=markup
                )
            else:
                await self.bot.edit_message_text(message.text, chat_id, message_id)
        except BadRequest as error:  # "message is not modified", or already gone
            log.info("could not edit tapped message: %s", error)

    async def send(self, chat_id: int | str, reply: Reply) -> bool:
        """Send one reply now, outside the outbox (tools and tests); True when accepted."""
        pieces = split_text(reply.text)
        try:
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                await self.bot.send_message(
                    chat_id, piece, reply_markup=keyboard(reply) if last else None
                )
        except TelegramError:
            log.exception("could not send a message on Telegram")
            return False
        return True

    async def send_to(self, identity: Identity, reply: Reply) -> bool:
        return await self.send(int(identity.external_id), reply)

    async def set_commands(self, texts: Texts) -> None:
        for language in LANGUAGES:
            commands = [BotCommand(c, texts(language, f"command.{c}")) for c in COMMANDS]
            code = None if language == "nl" else language
            await self.bot.set_my_commands(commands, language_code=code)


def _tapped_label(message: Message, data: str | None) -> str | None:
    markup = message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def build_bot(
    *, token: str, base_url: str, connections: int = 64, read_timeout: float = 15.0
) -> Bot:
    """A Bot API client against any Bot API server (Telegram's, or a fake)."""
    file_url = base_url.removesuffix("/bot") + "/file/bot"
    return Bot(
        token,
        base_url=base_url,
        base_file_url=file_url,
        request=AiohttpRequest(connections=connections, read_timeout=read_timeout),
        get_updates_request=AiohttpRequest(connections=2, read_timeout=40.0),
    )


