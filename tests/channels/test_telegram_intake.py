"""The intake end to end over Telegram's wire format.

The real Telegram channel, built by `bot.runner.serve_telegram` (inbox, deliverer),
long-polls `FakeTelegram` on loopback and talks to the app from the `app` fixture (the same
composition root as `python -m bot`). A simulated resident taps buttons, types, shares a
location, sends media; the tests read what the fake Bot API server received and what the
database holds.

Waits are deterministic: for a number of new sendMessage calls, for a callback answer or an
edit, for a log line, or for the fake to become idle; never a bare sleep.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.app import App, open_app
from bot.channels.telegram import (
    COMMANDS,
    MAX_CALLBACK_BYTES,
    MAX_TEXT,
    TelegramChannel,
    keyboard,
    split_text,
)
from bot.runner import Running, serve_telegram
from bot.settings import Settings
from handlers.messages import Option, Reply
from handlers.reading import MAX_TEXT as MAX_READ_TEXT
from storage.records import ConversationState, Person
from tests.channels.fake_telegram import BotMessage, FakeTelegram, FakeUser
from tests.harness import assert_free_text_profile, seed_places

TIMEOUT = 10.0  # generous: every wait ends as soon as its condition holds
CHANNEL = "telegram"


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
async def seeded(app: App) -> App:
    await seed_places(app, community=True)
    return app


@asynccontextmanager
async def running(app: App, tg: FakeTelegram) -> AsyncIterator[Running]:
    """The bot as `run_bot` runs it: polling, the inbox and the Telegram deliverer, woken by
    the conversations and by the scheduler (whose timers the tests run themselves)."""
    async with serve_telegram(
        app, base_url=f"{tg.url}/bot", poll_timeout=1, run_scheduler=False
    ) as started:
        yield started


@asynccontextmanager
async def run_polling(app: App, tg: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    """The real Telegram channel of `app` (inbox, deliverer), long-polling the fake server."""
    async with running(app, tg) as started:
        yield started.channel


@pytest.fixture
async def bot(seeded: App, tg: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    async with run_polling(seeded, tg) as channel:
        yield channel


# -- a simulated resident on Telegram ----------------------------------------------------


@dataclass
class Chat:
    """One person's private chat with the bot, with the checks every tap deserves."""

    tg: FakeTelegram
    user: FakeUser
    taps: int = 0
    received: int = 0  # messages the checks below accounted for
    tapped: list[tuple[str, int]] = field(default_factory=list)  # (callback_data, message_id)

    async def say(
        self, text: str, replies: int, *, more: bool = False, ending: str | None = None
    ) -> list[BotMessage]:
        """Send a text and wait for exactly `replies` new messages (`more`: at least)."""
        await self.user.send_text(text)
        return await self.expect(replies, more=more, ending=ending)

    async def expect(
        self, replies: int, *, more: bool = False, ending: str | None = None
    ) -> list[BotMessage]:
        """The bot's new messages since the person's last action: exactly `replies`, or with
        `more` at least that many, once the bot has gone quiet (and, with `ending`, once the
        last of them ends with that text)."""
        new = await self.user.wait_for_messages(replies, timeout=TIMEOUT)
        if ending is not None:
            await self.tg.wait_for(
                lambda: (self.user.messages()[-1].text or "").endswith(ending),
                timeout=TIMEOUT,
                what=f"a last message ending with {ending!r}",
            )
        if more:
            await self.tg.wait_until_idle(timeout=TIMEOUT)
            new = await self.user.wait_for_messages(replies, timeout=TIMEOUT)
        else:
            assert len(new) == replies, f"{[m.text for m in new]}\n{self.tg.dump()}"
        self.received += len(new)
        return new

    def sent_to(self) -> int:
        """sendMessage calls Telegram accepted for this chat."""
        return sum(
            1 for r in self.tg.sent if r.chat_id == self.user.chat_id and r.method == "sendMessage"
        )

    def find(self, part: str) -> tuple[BotMessage, str]:
        """The newest bot message with an inline button whose label contains `part`."""
        for message in reversed(self.user.messages()):
            for label in message.buttons:
                if part.lower() in label.lower():
                    return message, label
        raise AssertionError(f"no button like {part!r}\n{self.tg.dump()}")

    def message(self, message_id: int) -> BotMessage:
        return next(m for m in self.user.messages() if m.message_id == message_id)

    def edits(self, message_id: int) -> int:
        return sum(
            1
            for r in self.tg.sent
            if r.chat_id == self.user.chat_id
            and r.message_id == message_id
            and r.method != "sendMessage"
        )

    def answered(self, query_id: str) -> bool:
        return any(a.callback_query_id == query_id for a in self.tg.callback_answers)

    def last_query_id(self) -> str:
        assert self.user.last_update is not None
        return str(self.user.last_update["callback_query"]["id"])

    async def tap(
        self, part: str, replies: int, *, more: bool = False, ending: str | None = None
    ) -> list[BotMessage]:
        """Tap a button; check the query was answered and the keyboard removed or replaced."""
        message, label = self.find(part)
        data = message.callback_data(label)
        edits = self.edits(message.message_id)
        await self.user.tap(label, message.message_id)
        query_id = self.last_query_id()
        await self.tg.wait_for(
            lambda: self.answered(query_id) and self.edits(message.message_id) > edits,
            timeout=TIMEOUT,
            what=f"the tap on {label!r} to be answered and its message edited",
        )
        new = await self.expect(replies, more=more, ending=ending)
        answer = next(a for a in self.tg.callback_answers if a.callback_query_id == query_id)
        assert (answer.data, answer.message_id) == (data, message.message_id)
        after = self.message(message.message_id)
        assert after.edit_date is not None
        if after.has_inline_keyboard:  # a multi-select gained a tick: keyboard replaced
            assert after.reply_markup != message.reply_markup
        else:  # the tapped message now says what was chosen, and cannot be tapped again
            assert after.text == f"{message.text}\n\n👉 {label}"
        self.taps += 1
        self.tapped.append((data, message.message_id))
        return new

    async def tap_stale(
        self, callback_data: str, message_id: int, replies: int
    ) -> list[BotMessage]:
        """Tap an old button again (its keyboard is gone: as a client that kept it would)."""
        await self.user.tap_raw(callback_data, message_id)
        query_id = self.last_query_id()
        await self.tg.wait_for(
            lambda: self.answered(query_id), timeout=TIMEOUT, what="the stale tap answered"
        )
        return await self.expect(replies)


async def person_of(app: App, user: FakeUser) -> Person | None:
    async with app.database.unit_of_work() as store:
        return await store.find_person_by_identity(CHANNEL, str(user.user_id))


async def state_of(app: App, user: FakeUser) -> ConversationState | None:
    async with app.database.unit_of_work() as store:
        person = await store.find_person_by_identity(CHANNEL, str(user.user_id))
        return await store.get_conversation(person.id) if person else None


async def where(app: App, user: FakeUser) -> tuple[str, int, dict[str, Any], bool]:
    state = await state_of(app, user)
    assert state is not None
    return state.step, state.turn, dict(state.context), state.stopped


async def message_count(app: App, user: FakeUser) -> int:
    async with app.database.unit_of_work() as store:
        person = await store.find_person_by_identity(CHANNEL, str(user.user_id))
        assert person is not None
        export = await store.export_person(person.id)
        assert export is not None
        return export.message_count


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll an async condition (a database read) until it holds, or fail after TIMEOUT."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not await check():
        if loop.time() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def t(app: App, key: str, **values: Any) -> str:
    return app.texts("nl", key, **values).strip()


def sent_callback_data(tg: FakeTelegram) -> list[str]:
    """Every callback_data the bot put on the wire (form-encoded JSON reply_markup)."""
    data: list[str] = []
    for call in tg.calls:
        if call.method not in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            continue
        raw = call.params.get("reply_markup")
        markup = json.loads(raw) if isinstance(raw, str) else raw
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                data += [str(button["callback_data"]) for button in row]
    return data


def assert_callback_data_fits(tg: FakeTelegram) -> None:
    data = sent_callback_data(tg)
    assert data
    too_long = [d for d in data if len(d.encode()) > MAX_CALLBACK_BYTES]
    assert too_long == []
    sends = tg.calls_to("sendMessage")
    assert sends and all(c.content_type == "application/x-www-form-urlencoded" for c in sends)


# -- the flows, shared by several tests --------------------------------------------------


async def start_with_buttons(app: App, chat: Chat) -> None:
    """From "hallo" to the gifts question: consent, platform name, a neighbourhood."""
    welcome = await chat.say("hallo", 1)  # the greeting and the question: one message
    assert welcome[-1].has_inline_keyboard
    assert await person_of(app, chat.user) is None  # nothing stored before yes
    await chat.tap("ja, ik doe mee", 1)
    name_question = chat.user.messages()[-1]
    assert t(app, "ask.name") in (name_question.text or "")
    await chat.tap(f"👤 {chat.user.first_name}", 2)
    await chat.tap("Almelo centrum", 2)  # the acknowledgement stays apart: see below
    assert chat.user.keyboard() == []  # the location keyboard went away with the answer
    assert t(app, "ask.gifts") in (chat.user.messages()[-1].text or "")


async def finish_with_buttons(app: App, chat: Chat) -> None:
    """From the gifts question to the end, buttons only."""
    gifts, _ = chat.find("Koken")
    await chat.tap("Koken", 1)  # ticked in place, and the next question at once
    assert "✅ 🍳 Koken" in chat.message(gifts.message_id).buttons  # still takes ticks
    await chat.tap("Wandelen", 1)
    await chat.tap("Maakt niet uit", 1)
    [summary] = await chat.tap(t(app, "button.rest"), 1)  # distance, group, free: defaults
    assert t(app, "ask.summary") in (summary.text or "")
    assert "• in je buurt (800 m)\n" in (summary.text or "")  # said back what was filled
    question = t(app, "visibility.question")  # thanks, and may neighbours hear about you?
    asked = await chat.tap("dit klopt", 1, more=True, ending=question)
    check_asked_about_neighbours(app, asked, chat.user.first_name)
    menu = t(app, "menu.question")  # noted, maybe ideas, the menu
    done = await chat.tap("Nee, liever niet", 1, more=True, ending=menu)
    check_done(app, done)


def check_asked_about_neighbours(app: App, asked: list[BotMessage], name: str) -> None:
    assert (asked[0].text or "").startswith(t(app, "done.thanks", name_sep=f", {name}"))
    assert (asked[-1].text or "").endswith(t(app, "visibility.question"))
    assert asked[-1].has_inline_keyboard


def check_done(app: App, done: list[BotMessage]) -> None:
    assert (done[0].text or "").startswith(t(app, "visibility.no"))
    assert (done[-1].text or "").endswith(t(app, "menu.question"))
    assert done[-1].has_inline_keyboard


async def check_button_profile(app: App, user: FakeUser, name: str) -> None:
    person = await person_of(app, user)
    assert person is not None
    assert person.first_name == name
    assert person.postcode == "7607"
    assert person.area_name == "Almelo centrum"
    assert person.gifts == ("cooking",)
    assert person.wishes == ("walking",)
    assert person.times == ("any",)
    assert person.max_distance_m == 800
    assert person.group_pref == "both"
    assert person.free_only is False
    assert person.intake_done_at is not None
    assert person.reachable is True
    state = await state_of(app, user)
    assert state is not None and state.step == "done"


FREE_TEXT = (
    ("hoi", 1),
    ("ja", 1),
    ("ik heet Anneke", 2),
    ("7607 AB", 2),
    ("ik kook graag en ben handig met klussen", 1),
    ("wandelen en koffie drinken", 1),
    ("'s ochtends en in het weekend", 1),
    ("1,5 km", 1),
    ("liefst in een groep", 1),
    ("ja", 1),
)


async def free_text_intake(app: App, chat: Chat) -> None:
    for line, replies in FREE_TEXT:
        await chat.say(line, replies)
    question = t(app, "visibility.question")  # thanks, and may neighbours hear about you?
    asked = await chat.say("ja", 1, more=True, ending=question)
    check_asked_about_neighbours(app, asked, "Anneke")
    menu = t(app, "menu.question")  # noted, maybe ideas, the menu
    done = await chat.say("nee", 1, more=True, ending=menu)
    check_done(app, done)


async def check_free_text_profile(app: App, user: FakeUser) -> None:
    assert_free_text_profile(await person_of(app, user))


# -- 1. buttons only ---------------------------------------------------------------------


async def test_buttons_only_intake_over_telegram(
    seeded: App, tg: FakeTelegram, bot: TelegramChannel
) -> None:
    app = seeded
    anna = Chat(tg, tg.user(4201, first_name="Anna"))
    await start_with_buttons(app, anna)
    consent_message, name_message = anna.user.messages()[0], anna.user.messages()[1]
    assert "👉" in (consent_message.text or "") and not consent_message.has_inline_keyboard
    assert "👉" in (name_message.text or "") and not name_message.has_inline_keyboard

    # Old buttons tapped again: a kind "earlier question" answer and the current question.
    # Their keyboards are gone, so only a client holding on to them could send this.
    (consent_data, consent_id), (name_data, name_id) = anna.tapped[:2]
    assert (consent_id, name_id) == (consent_message.message_id, name_message.message_id)
    before = (await person_of(app, anna.user), await where(app, anna.user))
    for data, message_id in ((consent_data, consent_id), (name_data, name_id)):
        [question] = await anna.tap_stale(data, message_id, 1)
        assert (question.text or "").startswith(t(app, "button.stale"))
        assert t(app, "ask.gifts") in (question.text or "")
        assert question.has_inline_keyboard
        assert (await person_of(app, anna.user), await where(app, anna.user)) == before

    await finish_with_buttons(app, anna)
    assert anna.taps <= 9  # from "hallo" to the menu, the neighbours' question included
    await tg.wait_until_idle()
    assert tg.unanswered_callback_queries() == []
    assert len(tg.callback_answers) == anna.taps + 2  # the two stale taps were answered too
    assert anna.sent_to() == anna.received  # nothing beyond what each step expected
    await check_button_profile(app, anna.user, "Anna")
    assert_callback_data_fits(tg)


# -- 2. free text only -------------------------------------------------------------------


async def test_free_text_only_intake_over_telegram(
    seeded: App, tg: FakeTelegram, bot: TelegramChannel
) -> None:
    chat = Chat(tg, tg.user(4202, first_name="Anna"))
    await free_text_intake(seeded, chat)
    await tg.wait_until_idle()
    assert tg.callback_answers == []
    assert chat.sent_to() == chat.received
    await check_free_text_profile(seeded, chat.user)
    assert_callback_data_fits(tg)


# -- 3. a shared location ----------------------------------------------------------------


async def test_shared_location_at_the_place_step(
    seeded: App, tg: FakeTelegram, bot: TelegramChannel
) -> None:
    app = seeded
    chat = Chat(tg, tg.user(4203, first_name="Anna"))
    await chat.say("hallo", 1)
    await chat.tap("ja, ik doe mee", 1)
    question, areas = await chat.tap("👤 Anna", 2)

    # The location request is a reply keyboard (inline buttons cannot ask for a location).
    assert question.reply_markup is not None
    [[button]] = question.reply_markup["keyboard"]
    assert button == {"text": t(app, "button.share_location"), "request_location": True}
    assert chat.user.keyboard() == [t(app, "button.share_location")]
    assert areas.has_inline_keyboard

    await chat.user.send_location(52.355, 6.667)
    ack, gifts = await chat.expect(2)
    assert ack.text == t(app, "ack.place", place="Almelo")
    assert t(app, "ask.gifts") in (gifts.text or "")
    assert chat.user.keyboard() == []  # ReplyKeyboardRemove with the acknowledgement
    person = await person_of(app, chat.user)
    assert person is not None
    assert person.postcode is not None and person.postcode.startswith("76")
    assert (person.latitude, person.longitude) == (52.355, 6.667)
    assert (await where(app, chat.user))[0] == "gifts"


# -- 4. a restart halfway ----------------------------------------------------------------


async def test_restart_in_the_middle_of_the_intake(
    seeded: App, settings: Settings, tg: FakeTelegram
) -> None:
    chat = Chat(tg, tg.user(4204, first_name="Anna"))
    async with run_polling(seeded, tg):
        await start_with_buttons(seeded, chat)
        await tg.wait_until_idle()
    assert chat.sent_to() == chat.received
    assert (await where(seeded, chat.user))[0] == "gifts"

    async with open_app(settings) as restarted, run_polling(restarted, tg):
        # The gifts question the old process sent still works in the new one.
        await finish_with_buttons(restarted, chat)
        await tg.wait_until_idle()
        await check_button_profile(restarted, chat.user, "Anna")
    # Nothing the old process handled was handled (answered) again after the restart.
    assert chat.sent_to() == chat.received
    assert tg.unanswered_callback_queries() == []


# -- 5. the same update delivered twice --------------------------------------------------


async def test_duplicate_delivery_is_answered_once(
    seeded: App, tg: FakeTelegram, bot: TelegramChannel, caplog: pytest.LogCaptureFixture
) -> None:
    app = seeded
    caplog.set_level(logging.INFO, logger="bot.inbox")

    def duplicates() -> int:
        return sum("arrived before" in r.getMessage() for r in caplog.records)

    chat = Chat(tg, tg.user(4205, first_name="Anna"))
    await chat.say("hallo", 1)
    await chat.tap("ja, ik doe mee", 1)

    # A text, delivered again with the same update_id.
    await chat.say("ik heet Anneke", 2)
    state, logged = await where(app, chat.user), await message_count(app, chat.user)
    await chat.user.resend_last_update()
    await tg.wait_for(lambda: duplicates() == 1, timeout=TIMEOUT, what="the duplicate text")
    await tg.wait_until_idle()
    assert await chat.user.wait_for_messages(0) == []  # nothing answered the second time
    assert await where(app, chat.user) == state
    assert await message_count(app, chat.user) == logged

    # A tap that toggles, delivered again: handled twice it would untick the item.
    await chat.tap("Almelo centrum", 2)
    gifts_message = chat.find("Koken")[0]
    await chat.tap("Koken", 1)
    state = await where(app, chat.user)
    await chat.user.resend_last_update()
    await tg.wait_for(lambda: duplicates() == 2, timeout=TIMEOUT, what="the duplicate tap")
    await tg.wait_until_idle()
    assert await chat.user.wait_for_messages(0) == []
    assert chat.edits(gifts_message.message_id) == 1
    assert await where(app, chat.user) == state
    person = await person_of(app, chat.user)
    assert person is not None and person.gifts == ("cooking",)
    # The repeated query could not be answered again (Telegram: "query is too old"); the
    # channel logged that and went on.
    assert tg.calls_to("answerCallbackQuery")[-1].status == 400

    await chat.tap("Wandelen", 1)  # the conversation simply goes on
    assert (await where(app, chat.user))[0] == "times"


# -- 6. what the bot cannot read ---------------------------------------------------------


async def test_media_and_odd_texts_get_a_kind_answer_and_the_question_again(
    seeded: App, tg: FakeTelegram, bot: TelegramChannel
) -> None:
    app = seeded
    chat = Chat(tg, tg.user(4206, first_name="Anna"))
    await start_with_buttons(app, chat)
    person, state = await person_of(app, chat.user), await where(app, chat.user)
    user = chat.user
    unreadable = t(app, "media.unreadable")
    odd: list[tuple[str, Callable[[], Awaitable[int]], str]] = [
        ("photo", user.send_photo, unreadable),
        ("sticker", user.send_sticker, unreadable),
        ("voice", user.send_voice, unreadable),
        ("document", user.send_document, unreadable),
        (
            "10,000 characters",
            lambda: user.send_text(("lang verhaal " * 1000)[:10_000]),
            t(app, "text.too_long", limit=MAX_READ_TEXT),
        ),
        ("emoji only", lambda: user.send_text("🙂🎉🌻"), t(app, "text.empty")),
    ]
    for what, send, kind in odd:
        await send()
        [question] = await chat.expect(1, more=True)  # the answer with the question again
        assert (question.text or "").startswith(kind), what
        assert t(app, "ask.gifts") in (question.text or ""), what
        assert any("Koken" in label for label in question.buttons), what
        assert await where(app, user) == state, what
        assert await person_of(app, user) == person, what


# -- 7. Telegram's limits ----------------------------------------------------------------


def test_split_text_keeps_every_piece_within_telegrams_limit() -> None:
    assert split_text("kort") == ["kort"]
    assert split_text("") == ["…"]
    assert split_text("x" * MAX_TEXT) == ["x" * MAX_TEXT]
    assert split_text("x" * (MAX_TEXT + 1)) == ["x" * MAX_TEXT, "x"]
    lines = "\n".join(f"regel {n}: {' '.join(['woord'] * 10)}" for n in range(300))
    pieces = split_text(lines)
    assert len(pieces) > 1
    assert all(0 < len(piece) <= MAX_TEXT for piece in pieces)
    assert all(piece.startswith("regel ") for piece in pieces)  # cut at line breaks
    assert "\n".join(pieces) == lines


def test_keyboard_refuses_callback_data_over_64_bytes() -> None:
    fits = Reply("kies", options=(Option("é" * 32, "precies 64 bytes"),))
    assert isinstance(keyboard(fits), InlineKeyboardMarkup)
    with pytest.raises(ValueError, match="callback data too long"):
        keyboard(Reply("kies", options=(Option("é" * 33, "66 bytes"),)))
    with pytest.raises(ValueError, match="callback data too long"):
        keyboard(Reply("kies", options=(Option("x" * 65, "65 bytes"),)))
    columns = keyboard(
        Reply("kies", options=tuple(Option(f"{n}", f"{n}") for n in range(5)), columns=2)
    )
    assert isinstance(columns, InlineKeyboardMarkup)
    assert [len(row) for row in columns.inline_keyboard] == [2, 2, 1]
    location = keyboard(Reply("waar?", request_location="📍 Deel mijn locatie"))
    assert isinstance(location, ReplyKeyboardMarkup)
    assert location.keyboard[0][0].request_location is True
    assert isinstance(keyboard(Reply("hoi")), ReplyKeyboardRemove)


async def test_a_long_reply_is_split_over_the_wire(tg: FakeTelegram, bot: TelegramChannel) -> None:
    user = tg.user(4207, started=True)
    text = "\n".join(f"regel {n}: {' '.join(['woord'] * 10)}" for n in range(300))
    options = (Option("1:pick:a", "A"), Option("1:pick:b", "B"))
    await bot.send(user.chat_id, Reply(text, options=options))
    pieces = [r for r in tg.sent if r.chat_id == user.chat_id]
    assert len(pieces) == len(split_text(text)) > 1
    assert all(p.method == "sendMessage" and len(p.text or "") <= MAX_TEXT for p in pieces)
    assert all(not p.buttons for p in pieces[:-1])
    assert pieces[-1].buttons == ["A", "B"]  # the buttons go with the last piece
    assert "\n".join(p.text or "" for p in pieces) == text


# -- 8. a person who blocked the bot -----------------------------------------------------


async def test_a_blocked_person_is_marked_unreachable(
    seeded: App, tg: FakeTelegram, bot: TelegramChannel
) -> None:
    app = seeded
    chat = Chat(tg, tg.user(4208, first_name="Anna"))
    await chat.say("hallo", 1)
    await chat.tap("ja, ik doe mee", 1)
    person = await person_of(app, chat.user)
    assert person is not None and person.reachable is True

    tg.block_user(chat.user.chat_id)
    await chat.user.send_text("Anneke")

    async def unreachable() -> bool:
        found = await person_of(app, chat.user)
        return found is not None and found.reachable is False

    await eventually(unreachable, "the person to be marked unreachable")
    await tg.wait_until_idle()
    refused = [c for c in tg.calls_to("sendMessage") if c.status == 403]
    assert refused and all("blocked" in (c.description or "") for c in refused)
    assert await chat.user.wait_for_messages(0) == []  # nothing reached them

    # Nothing crashed: the bot still polls and answers once they unblock it.
    tg.unblock_user(chat.user.chat_id)
    ack, _gifts = await chat.say("7607", 2)
    assert ack.text == t(app, "ack.place", place="Almelo")


# -- 9. commands mid-intake --------------------------------------------------------------


async def test_telegram_commands_mid_intake(
    seeded: App, tg: FakeTelegram, bot: TelegramChannel
) -> None:
    app = seeded
    registered = {c["command"] for commands in tg.commands.values() for c in commands}
    assert registered == set(COMMANDS)

    chat = Chat(tg, tg.user(4209, first_name="Anna"))
    await start_with_buttons(app, chat)

    [question] = await chat.say("/help", 1)
    assert (question.text or "").startswith(t(app, "help.text"))
    assert t(app, "ask.gifts") in (question.text or "")
    assert (await where(app, chat.user))[0] == "gifts"

    data, question = await chat.say("/gegevens", 2)  # the overview has a button of its own
    assert t(app, "data.title") in (data.text or "")
    assert "Anna" in (data.text or "") and "Almelo centrum" in (data.text or "")
    assert t(app, "button.change_visibility") in data.buttons
    assert t(app, "ask.gifts") in (question.text or "")

    await chat.say("/terug", 2)
    assert (await where(app, chat.user))[0] == "place"
    assert t(app, "ask.place") in (chat.user.messages()[-2].text or "")

    [confirm] = await chat.say("/vergeet", 1)
    assert confirm.text == t(app, "forget.confirm")
    assert await person_of(app, chat.user) is not None  # not before the confirmation
    [done] = await chat.tap("Ja, wis alles", 1)
    assert done.text == t(app, "forget.done")
    assert await person_of(app, chat.user) is None
    await tg.wait_until_idle()
    assert chat.sent_to() == chat.received


# -- 10. several people at once ----------------------------------------------------------


async def test_two_people_interleaving_both_complete(
    seeded: App, tg: FakeTelegram, bot: TelegramChannel
) -> None:
    app = seeded
    anna = Chat(tg, tg.user(4210, first_name="Anna"))
    bob = Chat(tg, tg.user(4211, first_name="Bob"))

    async def buttons() -> None:
        await start_with_buttons(app, anna)
        await finish_with_buttons(app, anna)

    await asyncio.gather(buttons(), free_text_intake(app, bob))
    await tg.wait_until_idle()
    await check_button_profile(app, anna.user, "Anna")
    await check_free_text_profile(app, bob.user)
    assert {r.chat_id for r in tg.sent} == {anna.user.chat_id, bob.user.chat_id}
    assert (anna.sent_to(), bob.sent_to()) == (anna.received, bob.received)
    assert not any("Anna" in (r.text or "") for r in tg.sent if r.chat_id == bob.user.chat_id), [
        r.text for r in tg.sent if r.chat_id == bob.user.chat_id and "Anna" in (r.text or "")
    ]
    assert not any("Bob" in (r.text or "") for r in tg.sent if r.chat_id == anna.user.chat_id)
    assert tg.unanswered_callback_queries() == []
    assert_callback_data_fits(tg)
