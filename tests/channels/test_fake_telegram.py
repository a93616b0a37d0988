"""Proof that `FakeTelegram` speaks the real Bot API: a real PTB `Application` runs against it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.channels.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-token_abc"
PTBApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class Seen:
    """What the bot's handlers saw."""

    update_ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    callbacks: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def build_app(tg: FakeTelegram, token: str = TOKEN) -> PTBApp:
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{tg.url}/bot")
        .base_file_url(f"{tg.url}/file/bot")
        .build()
    )


def yes_no() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ja", callback_data="yes"),
                InlineKeyboardButton("Nee", callback_data="no"),
            ]
        ]
    )


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[tuple[PTBApp, Seen]]:
    seen = Seen()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen.commands.append("start")
        await update.effective_message.reply_text("Welkom!")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        seen.update_ids.append(update.update_id)
        seen.texts.append(message.text)
        await message.reply_text(f"echo: {message.text}", reply_markup=yes_no())

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        seen.callbacks.append(query.data)
        await query.answer(f"Gekozen: {query.data}")
        await query.edit_message_text(f"Je koos <b>{query.data}</b>", parse_mode=ParseMode.HTML)

    async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        kinds = ["location", "photo", "sticker", "voice", "document"]
        seen.media.append(next(kind for kind in kinds if getattr(message, kind)))

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        seen.errors.append(context.error)

    app = build_app(tg)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(MessageHandler(~filters.TEXT, on_media))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_error_handler(on_error)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield app, seen
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_echo_command_and_button_round_trip(
    tg: FakeTelegram,
    bot: tuple[PTBApp, Seen],
) -> None:
    _, seen = bot
    anna = tg.user(42, first_name="Anna", username="anna_nl")

    await anna.send_text("/start")
    [welcome] = await anna.wait_for_messages(1)
    assert welcome.text == "Welkom!"
    assert seen.commands == ["start"]  # the bot_command entity was recognised

    await anna.send_text("hallo")
    [reply] = await anna.wait_for_messages(1)
    assert reply.text == "echo: hallo"
    assert anna.buttons() == ["Ja", "Nee"]
    assert reply.callback_data("Ja") == "yes"

    await anna.tap("Ja")
    await tg.wait_until_idle()
    assert seen.callbacks == ["yes"]
    [answer] = tg.callback_answers
    assert (answer.user_id, answer.data, answer.text) == (42, "yes", "Gekozen: yes")
    assert answer.message_id == reply.message_id
    assert tg.unanswered_callback_queries() == []

    edited = anna.last()
    assert edited.message_id == reply.message_id
    assert edited.text == "Je koos yes"  # HTML parsed away, as Telegram shows it
    assert edited.entities == ({"type": "bold", "offset": 8, "length": 3},)
    assert edited.reply_markup is None  # editing without reply_markup drops the keyboard
    assert edited.edit_date is not None
    assert [(r.method, r.text) for r in tg.sent] == [
        ("sendMessage", "Welkom!"),
        ("sendMessage", "echo: hallo"),
        ("editMessageText", "Je koos yes"),
    ]
    # message ids are per chat and shared by both sides: /start=1, Welkom=2, hallo=3, echo=4
    assert [m.message_id for m in anna.messages()] == [2, 4]

    # The wire format PTB 22 really uses: form-urlencoded, JSON-encoded non-string values.
    send = tg.calls_to("sendMessage")[-1]
    assert send.content_type == "application/x-www-form-urlencoded"
    assert send.params["chat_id"] == "42"
    assert isinstance(send.params["reply_markup"], str)
    assert {c.method for c in tg.calls} >= {"getMe", "deleteWebhook", "getUpdates"}


async def test_tapping_a_missing_button_raises(
    tg: FakeTelegram,
    bot: tuple[PTBApp, Seen],
) -> None:
    anna = tg.user(42)
    with pytest.raises(AssertionError, match="no bot message with an inline keyboard"):
        await anna.tap("Ja")
    await anna.send_text("hoi")
    await anna.wait_for_messages(1)
    with pytest.raises(AssertionError, match="no button 'Misschien'"):
        await anna.tap("Misschien")
    await anna.tap("no")  # by callback_data
    await tg.wait_until_idle()
    assert bot[1].callbacks == ["no"]


async def test_too_long_text_and_oversized_callback_data_are_rejected(
    tg: FakeTelegram,
    bot: tuple[PTBApp, Seen],
) -> None:
    app, _ = bot
    anna = tg.user(7, started=True)

    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await app.bot.send_message(anna.chat_id, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await app.bot.send_message(anna.chat_id, "   \n ")
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await app.bot.send_message(
            anna.chat_id,
            "kies",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("Te lang", callback_data="é" * 33)]]  # 66 bytes
            ),
        )
    assert tg.sent == []

    # The limits themselves are fine; length counts after entity parsing.
    await app.bot.send_message(anna.chat_id, "x" * 4096)
    await app.bot.send_message(
        anna.chat_id, f"<b>{'x' * 4096}</b>", parse_mode=ParseMode.HTML
    )
    ok = await app.bot.send_message(
        anna.chat_id,
        "kies",
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("Precies", callback_data="é" * 32)]]  # 64 bytes
        ),
    )
    assert ok.reply_markup is not None
    assert len(tg.sent) == 3


async def test_entity_parsing_errors_and_edit_rules(
    tg: FakeTelegram,
    bot: tuple[PTBApp, Seen],
) -> None:
    app, _ = bot
    anna = tg.user(7, started=True)

    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await app.bot.send_message(anna.chat_id, "Tot ziens.", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br"'):
        await app.bot.send_message(anna.chat_id, "a<br>b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't find end of bold entity"):
        await app.bot.send_message(anna.chat_id, "*vet", parse_mode=ParseMode.MARKDOWN_V2)

    sent = await app.bot.send_message(
        anna.chat_id, r"*Hoi* Anna\!", parse_mode=ParseMode.MARKDOWN_V2, reply_markup=yes_no()
    )
    assert sent.text == "Hoi Anna!"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await app.bot.edit_message_text(
            "*Hoi* Anna\\!",
            chat_id=anna.chat_id,
            message_id=sent.message_id,
            parse_mode=ParseMode.MARKDOWN_V2,
            reply_markup=yes_no(),
        )
    await app.bot.edit_message_reply_markup(anna.chat_id, sent.message_id, reply_markup=None)
    assert anna.last().reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await app.bot.edit_message_reply_markup(anna.chat_id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await app.bot.edit_message_text("nieuw", chat_id=anna.chat_id, message_id=999)

    assert await app.bot.delete_message(anna.chat_id, sent.message_id)
    assert anna.messages() == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await app.bot.delete_message(anna.chat_id, sent.message_id)


async def test_duplicate_delivery_reaches_the_handler_twice(
    tg: FakeTelegram,
    bot: tuple[PTBApp, Seen],
) -> None:
    _, seen = bot
    anna = tg.user(42)

    update_id = await anna.send_text("een keer")
    await anna.wait_for_messages(1)
    assert await anna.resend_last_update() == update_id
    await anna.wait_for_messages(1)
    await tg.wait_until_idle()

    assert seen.update_ids == [update_id, update_id]
    assert seen.texts == ["een keer", "een keer"]

    # Later updates still flow normally after the redelivery.
    later = await anna.send_text("daarna")
    await anna.wait_for_messages(1)
    assert later > update_id
    assert seen.update_ids[-1] == later


async def test_stale_and_forged_callbacks_are_delivered(
    tg: FakeTelegram,
    bot: tuple[PTBApp, Seen],
) -> None:
    _, seen = bot
    anna = tg.user(42)
    await anna.send_text("hoi")
    [reply] = await anna.wait_for_messages(1)

    await anna.tap_raw("forged", reply.message_id)
    await anna.tap_raw("stale", 12345)  # no such message: an InaccessibleMessage
    await tg.wait_until_idle()
    assert seen.callbacks == ["forged", "stale"]
    assert [a.data for a in tg.callback_answers] == ["forged", "stale"]
    # Editing the message behind a stale query fails as it would on Telegram.
    [error] = seen.errors
    assert isinstance(error, BadRequest)
    assert "message to edit not found" in error.message.lower()


async def test_media_updates_and_file_download(
    tg: FakeTelegram,
    bot: tuple[PTBApp, Seen],
) -> None:
    app, seen = bot
    anna = tg.user(42)
    await anna.send_location(52.37, 4.89)
    await anna.send_photo(caption="kijk")
    await anna.send_sticker()
    await anna.send_voice()
    await anna.send_document()
    await tg.wait_until_idle()
    assert seen.media == ["location", "photo", "sticker", "voice", "document"]

    assert anna.last_update is not None
    file_id = anna.last_update["message"]["document"]["file_id"]
    file = await app.bot.get_file(file_id)
    assert (await file.download_as_bytearray()).startswith(b"fake file")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fault_injection(
    tg: FakeTelegram,
    bot: tuple[PTBApp, Seen],
) -> None:
    app, _ = bot
    anna = tg.user(42, started=True)
    stranger = tg.user(43)

    tg.fail_next("sendMessage", status=429, retry_after=1)
    with pytest.raises(RetryAfter, match=r"(?i)retry in 1 seconds"):
        await app.bot.send_message(anna.chat_id, "druk")
    assert tg.calls_to("sendMessage")[0].status == 429
    await app.bot.send_message(anna.chat_id, "nu wel")  # only the next call fails

    tg.block_user(anna.chat_id)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await app.bot.send_message(anna.chat_id, "hallo?")
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await app.bot.send_message(stranger.chat_id, "hallo?")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await app.bot.send_message(999, "hallo?")
    with pytest.raises(EndPointNotFound):
        await app.bot.do_api_request("noSuchMethod")
    assert [r.text for r in tg.sent] == ["nu wel"]


async def test_wrong_token_is_unauthorized(tg: FakeTelegram) -> None:
    app = build_app(tg, token="999:WRONG")
    try:
        with pytest.raises(InvalidToken, match="rejected by the server"):
            await app.initialize()
    finally:
        await app.bot.shutdown()  # initialize() opened the HTTP clients before failing
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{tg.url}/bot999:WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{tg.url}/bot{TOKEN}/fooBar", json={}) as response:
            assert response.status == 404
            assert (await response.json())["error_code"] == 404


async def post_json(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any]:
    async with http.post(url, json=body) as response:
        return response.status, await response.json()


async def test_raw_long_poll_semantics(tg: FakeTelegram) -> None:
    """getUpdates over plain HTTP: JSON and query bodies, long polling, offset confirmation."""
    anna = tg.user(42)
    base = f"{tg.url}/bot{TOKEN}"
    async with aiohttp.ClientSession() as http:
        loop = asyncio.get_running_loop()
        started = loop.time()
        poll = asyncio.create_task(post_json(http, f"{base}/getUpdates", {"timeout": 5}))
        await asyncio.sleep(0.2)
        first = await anna.send_text("wakker?")
        _, body = await poll
        assert loop.time() - started < 2
        assert [u["update_id"] for u in body["result"]] == [first]
        assert body["result"][0]["message"]["text"] == "wakker?"

        # Not confirmed yet: delivered again. Confirmed by offset: gone.
        async with http.get(f"{base}/getUpdates", params={"timeout": "0"}) as response:
            assert [u["update_id"] for u in (await response.json())["result"]] == [first]
        async with http.get(f"{base}/getUpdates", params={"offset": str(first + 1)}) as response:
            assert (await response.json())["result"] == []

        # An empty long poll waits for its timeout.
        started = loop.time()
        async with http.post(f"{base}/getUpdates", data={"timeout": "1"}) as response:
            assert (await response.json())["result"] == []
        assert loop.time() - started >= 0.9

        # Telegram's flood-control body, verbatim.
        tg.fail_next("getUpdates", status=429, retry_after=1)
        async with http.post(f"{base}/getUpdates", json={}) as response:
            assert response.status == 429
            assert await response.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }

        # A webhook blocks getUpdates with 409, as in Telegram.
        async with http.post(f"{base}/setWebhook", json={"url": "https://example.org/hook"}):
            pass
        async with http.post(f"{base}/getUpdates", json={}) as response:
            assert response.status == 409


async def test_stop_releases_pending_long_polls() -> None:
    tg = FakeTelegram(token=TOKEN)
    await tg.start()
    async with aiohttp.ClientSession() as http:
        url = f"{tg.base_url}{TOKEN}/getUpdates"
        poll = asyncio.create_task(post_json(http, url, {"timeout": 30}))
        loop = asyncio.get_running_loop()
        # The poll must be waiting on the server before it stops: a request still on its way
        # would be cut off with the connection instead.
        await tg.wait_for_a_poll()
        started = loop.time()
        await tg.stop()
        assert await poll == (200, {"ok": True, "result": []})
        assert loop.time() - started < 2


async def test_wait_until_idle_times_out_with_a_dump(tg: FakeTelegram) -> None:
    anna = tg.user(42)
    await anna.send_text("is daar iemand?")  # no bot is polling
    with pytest.raises(AssertionError, match=r"pending \(unfetched\) updates: \[10001\]"):
        await tg.wait_until_idle(timeout=0.2)
    with pytest.raises(AssertionError, match="1 message"):
        await anna.wait_for_messages(1, timeout=0.1)
