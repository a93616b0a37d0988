"""Telegram through python-telegram-bot: platform updates in, rendered replies out.

Buttons become inline keyboards (callback data is the option key, at most 64 bytes); a
tapped keyboard is removed or replaced at once so it cannot be tapped twice; texts over
4096 characters are split; "share my location" is a reply-keyboard button.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers.conversation import Conversations
from handlers.i18n import LANGUAGES, Texts
from handlers.messages import Inbound, Location, MediaKind, Reply
from storage.records import Identity

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
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


class TelegramChannel:
    """Connects one python-telegram-bot `Application` to the conversations."""

    def __init__(self, application: Application, conversations: Conversations) -> None:  # type: ignore[type-arg]
        self.application = application
        self._conversations = conversations
        application.add_handler(CallbackQueryHandler(self._on_update))
        application.add_handler(MessageHandler(filters.ALL, self._on_update))

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Hand a person's message to the conversation and send back what it says."""
        inbound = to_inbound(update)
        if inbound is None or update.effective_chat is None:
            return
        replies = await self._conversations.handle(inbound)
        chat_id = update.effective_chat.id
        if update.callback_query is not None:
            replies = await self._close_tapped(update.callback_query, replies)
        for reply in replies:
            if reply.to_person is None:
                await self.send(chat_id, reply)

    async def _close_tapped(self, query: CallbackQuery, replies: list[Reply]) -> list[Reply]:
        """Answer the tap and make its keyboard untappable; returns what is left to send."""
        try:
            await query.answer()
        except BadRequest as error:  # a query older than Telegram keeps
            log.info("could not answer callback query: %s", error)
        message = query.message
        if not isinstance(message, Message) or not replies:
            return replies
        first, rest = replies[0], replies[1:]
        try:
            if first.edit_in_place and len(first.text) <= MAX_TEXT:
                markup = keyboard(first)
                assert isinstance(markup, InlineKeyboardMarkup)
                await message.edit_text(first.text, reply_markup=markup)
                return rest
            label = _tapped_label(message, query.data)
            if label and message.text and len(message.text) + len(label) + 4 <= MAX_TEXT:
                await message.edit_text(f"{message.text}\n\n👉 {label}", reply_markup=None)
            else:
                await message.edit_reply_markup(reply_markup=None)
        except BadRequest as error:  # "message is not modified", or already gone
            log.info("could not edit tapped message: %s", error)
        return replies

    async def send(self, chat_id: int | str, reply: Reply) -> bool:
        """Send one reply to a chat; True when Telegram accepted all of it."""
        pieces = split_text(reply.text)
        try:
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                await self.application.bot.send_message(
                    chat_id, piece, reply_markup=keyboard(reply) if last else None
                )
        except Forbidden:
            log.info("person blocked the bot; marking them unreachable")
            await self._conversations.mark_unreachable(CHANNEL, str(chat_id))
            return False
        except TelegramError:
            log.exception("could not send a message on Telegram")
            return False
        return True

    async def send_to(self, identity: Identity, reply: Reply) -> bool:
        """Send an outbox message to a person's Telegram account (their private chat)."""
        return await self.send(int(identity.external_id), reply)

    async def set_commands(self, texts: Texts) -> None:
        for language in LANGUAGES:
            commands = [BotCommand(c, texts(language, f"command.{c}")) for c in COMMANDS]
            code = None if language == "nl" else language
            await self.application.bot.set_my_commands(commands, language_code=code)


def _tapped_label(message: Message, data: str | None) -> str | None:
    markup = message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def build_application(*, token: str, base_url: str) -> Application:  # type: ignore[type-arg]
    """A python-telegram-bot application against any Bot API server (Telegram's, or a fake)."""
    file_url = base_url.removesuffix("/bot") + "/file/bot"
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(file_url)
        .concurrent_updates(True)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .build()
    )


@asynccontextmanager
async def polling(
    conversations: Conversations, texts: Texts, *, token: str, base_url: str, poll_timeout: int = 30
) -> AsyncIterator[TelegramChannel]:
    """Run the Telegram channel with long polling for as long as the block lasts."""
    channel = TelegramChannel(build_application(token=token, base_url=base_url), conversations)
    application = channel.application
    await application.initialize()
    try:
        await channel.set_commands(texts)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
        )
        yield channel
    finally:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
