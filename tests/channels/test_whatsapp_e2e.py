"""WhatsApp end to end: the real app, its web server, inbox and deliverer, and the strict
fake Graph API (`FakeWhatsApp`) on loopback, speaking the Cloud API's wire format.

The fake posts signed webhook bodies to the bot's `/whatsapp/webhook` and records every
message the bot sends, refusing what WhatsApp would refuse (a free-form message outside
the 24-hour window included). An organiser on Telegram talks through `FakeTelegram`.

Waits are deterministic: a phone waits until the bot is idle (no unhandled update, no
message waiting to go except those held for the window), never a bare sleep.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, or_, select

from bot.app import App, open_app
from bot.channels.whatsapp.render import strip_decoration
from bot.runner import Running
from bot.settings import Settings
from bot.web import WHATSAPP_PATH
from storage.db import Database
from storage.models import InboxRow, OutboxRow
from storage.outbox import HELD
from storage.records import Person
from tests.channels import whatsapp_webhooks as hook
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_whatsapp import FakeWhatsApp, Sent
from tests.channels.test_telegram_intake import TIMEOUT, running, t
from tests.channels.test_telegram_introductions import (
    SOUP,
    TAXONOMY,
    Peer,
    fire_due,
    runs_the_soup_cafe,
)
from tests.channels.test_telegram_introductions import (
    person_of as telegram_person_of,
)
from tests.channels.whatsapp_harness import graph_api, with_whatsapp
from tests.harness import FakeClock, assert_free_text_profile, seed_places

APP_SECRET = "wa-app-secret-for-tests"
VERIFY_TOKEN = "wa-verify-token"
ANNA_WA = "31612345678"


# -- the app, the fakes and the running bot ----------------------------------------------


@pytest.fixture
async def wa(clock: FakeClock) -> AsyncIterator[FakeWhatsApp]:
    async with graph_api(app_secret=APP_SECRET, now=clock) as server:
        yield server


@pytest.fixture
async def app(
    settings: Settings, database: Database, clock: FakeClock, wa: FakeWhatsApp
) -> AsyncIterator[App]:
    configured = with_whatsapp(
        settings,
        wa,  # its app secret is APP_SECRET
        verify_token=VERIFY_TOKEN,
        merge_replies=False,  # the organiser's steps count replies one by one
    )
    async with open_app(configured, clock=clock) as built:
        await seed_places(built)
        yield built


@pytest.fixture
async def bot(app: App, tg: FakeTelegram) -> AsyncIterator[Running]:
    async with running(app, tg) as started:
        assert started.whatsapp is not None
        yield started


# -- a resident on WhatsApp --------------------------------------------------------------


def body_of(sent: Sent) -> str:
    """What the person reads of one message: its text or its interactive body."""
    payload = sent.payload
    if payload["type"] == "text":
        return str(payload["text"]["body"])
    if payload["type"] == "interactive":
        return str(payload["interactive"]["body"]["text"])
    return ""


def choices(sent: Sent) -> list[tuple[str, str, str]]:
    """(kind, id, title) of the buttons or list rows of one message."""
    if sent.payload["type"] != "interactive":
        return []
    interactive = sent.payload["interactive"]
    if interactive["type"] == "button":
        return [
            ("button", b["reply"]["id"], b["reply"]["title"])
            for b in interactive["action"]["buttons"]
        ]
    if interactive["type"] == "list":
        rows = [row for s in interactive["action"]["sections"] for row in s["rows"]]
        return [("list", row["id"], row["title"]) for row in rows]
    return []


async def idle(app: App) -> bool:
    """No update waits to be handled and no WhatsApp message waits to go (but those held
    until the person writes)."""
    async with app.database.engine.connect() as connection:
        waiting = await connection.scalar(
            select(func.count(InboxRow.id)).where(InboxRow.handled_at.is_(None))
        )
        unsent = await connection.scalar(
            select(func.count(OutboxRow.id)).where(
                OutboxRow.channel == "whatsapp",
                OutboxRow.sent_at.is_(None),
                OutboxRow.failed_at.is_(None),
                or_(OutboxRow.last_error.is_(None), OutboxRow.last_error != HELD),
            )
        )
    return waiting == 0 and unsent == 0


async def settle(app: App) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not await idle(app):
        assert loop.time() < deadline, "the bot did not go idle"
        await asyncio.sleep(0.01)


@dataclass
class Phone:
    """One person's WhatsApp chat with the bot."""

    app: App
    wa: FakeWhatsApp
    url: str
    wa_id: str
    name: str = "Anna de Vries"
    seen: int = 0
    pages: int = 0  # "Meer keuzes" rows tapped

    def last_choices(self) -> list[tuple[str, str, str]]:
        """The buttons or rows of the newest message that has any."""
        return next((choices(s) for s in reversed(self.messages()) if choices(s)), [])

    def messages(self) -> list[Sent]:
        return self.wa.sent_to(self.wa_id)

    async def post(self, body: dict[str, Any]) -> list[Sent]:
        """Send a webhook body as WhatsApp does; the bot's new messages once it is idle."""
        status, _ = await self.wa.post_webhook(self.url, body)
        assert status == 200
        await settle(self.app)
        new = self.messages()[self.seen :]
        self.seen = len(self.messages())
        assert self.wa.refused == [], self.wa.refused
        return new

    async def say(self, text: str) -> list[Sent]:
        new = await self.post(hook.text(self.wa_id, text, name=self.name))
        assert new, f"no answer to {text!r}"
        return new

    def find(self, part: str) -> tuple[str, str, str]:
        """The newest button or row whose title contains `part`."""
        for sent in reversed(self.messages()):
            for choice in choices(sent):
                if part.casefold() in choice[2].casefold():
                    return choice
        raise AssertionError(f"no choice like {part!r} in {[body_of(s) for s in self.messages()]}")

    async def tap(self, part: str) -> list[Sent]:
        """Tap the newest button or row like `part`, paging through a long list first."""
        while not any(part.casefold() in c[2].casefold() for c in self.last_choices()):
            more = [c for c in self.last_choices() if c[1].startswith("more:")]
            if not more:
                break
            self.pages += 1
            page = await self.post(hook.list_reply(self.wa_id, more[0][1], more[0][2]))
            assert [sent.kind for sent in page] == ["interactive.list"]
        kind, key, title = self.find(part)
        build = hook.button_reply if kind == "button" else hook.list_reply
        new = await self.post(build(self.wa_id, key, title, name=self.name))
        assert new, f"no answer to the tap on {title!r}"
        return new


@pytest.fixture
def anna(app: App, wa: FakeWhatsApp, bot: Running) -> Phone:
    return Phone(app, wa, bot.web_url + WHATSAPP_PATH, ANNA_WA)


async def person_of(app: App, phone: Phone) -> Person | None:
    async with app.database.unit_of_work() as store:
        return await store.find_person_by_identity("whatsapp", phone.wa_id)


def last_text(new: list[Sent]) -> str:
    return body_of(new[-1])


async def start_with_buttons(app: App, anna: Phone) -> None:
    """From "hallo" to the gifts question, tapping only."""
    welcome = await anna.say("hallo")
    assert choices(welcome[-1])
    assert await person_of(app, anna) is None  # nothing stored before yes
    await anna.tap("Ja, ik doe mee")
    assert t(app, "ask.name") in last_text(anna.messages())
    await anna.tap("Anna")
    asked = await anna.tap("Almelo centrum")
    assert t(app, "ask.gifts") in last_text(asked)


async def finish_with_buttons(
    app: App,
    anna: Phone,
    *,
    wish: str = "Wandelen",
    distance: str = "800 m",
    group: str = "In een groep",
) -> None:
    """From the gifts question to the menu, tapping only."""
    await anna.tap("Koken")
    await anna.tap(wish)
    await anna.tap("Maakt niet uit")
    await anna.tap(distance)
    await anna.tap(group)
    summary = await anna.tap("alleen gratis")
    assert t(app, "ask.summary") in last_text(summary)
    asked = await anna.tap("klopt")
    assert last_text(asked).endswith(t(app, "visibility.question"))
    done = await anna.tap("liever niet")
    assert last_text(done).endswith(t(app, "menu.question"))


# -- the tests ---------------------------------------------------------------------------


async def test_the_webhook_handshake(app: App, wa: FakeWhatsApp, bot: Running) -> None:
    url = bot.web_url + WHATSAPP_PATH
    assert await wa.verify_webhook(url, VERIFY_TOKEN, "1158201444") == (200, "1158201444")
    assert (await wa.verify_webhook(url, "not-ours", "1158201444"))[0] == 403


async def test_buttons_and_lists_only_intake(app: App, anna: Phone, wa: FakeWhatsApp) -> None:
    await start_with_buttons(app, anna)
    await finish_with_buttons(app, anna)
    person = await person_of(app, anna)
    assert person is not None
    assert (person.first_name, person.postcode, person.area_name) == ("Anna", "7607", AREA)
    assert (person.gifts, person.wishes, person.times) == (("cooking",), ("walking",), ("any",))
    assert (person.max_distance_m, person.group_pref, person.free_only) == (800, "group", True)
    assert person.intake_done_at is not None
    kinds = {sent.kind for sent in wa.sent}
    assert {"interactive.button", "interactive.list"} <= kinds
    assert all(sent.kind != "template" for sent in wa.sent)


async def test_free_text_only_intake(app: App, anna: Phone) -> None:
    anna.name = "Anneke"
    for line in (
        "hoi", "ja", "ik heet Anneke", "7607 AB", "ik kook graag en ben handig met klussen",
        "wandelen en koffie drinken", "'s ochtends en in het weekend", "1,5 km",
        "liefst in een groep", "ja", "ja",
    ):  # fmt: skip
        await anna.say(line)
    done = await anna.say("nee")
    assert last_text(done).endswith(t(app, "menu.question"))
    assert_free_text_profile(await person_of(app, anna))


async def test_a_shared_location_and_a_voice_note(app: App, anna: Phone, wa: FakeWhatsApp) -> None:
    await anna.say("hallo")
    await anna.tap("Ja, ik doe mee")
    asked = await anna.tap("Anna")
    assert "interactive.location_request_message" in {sent.kind for sent in asked}
    new = await anna.post(hook.location(ANNA_WA, 52.355, 6.667))
    assert t(app, "ack.place", place="Almelo") in body_of(new[0])
    assert t(app, "ask.gifts") in last_text(new)
    person = await person_of(app, anna)
    assert person is not None and person.postcode is not None

    before = person
    voice = await anna.post(hook.media(ANNA_WA, "audio", voice=True))
    assert body_of(voice[0]).startswith(t(app, "media.unreadable"))
    assert t(app, "ask.gifts") in last_text(voice)
    assert await person_of(app, anna) == before


async def test_a_wrong_signature_is_refused_and_nothing_is_stored(
    app: App, anna: Phone, wa: FakeWhatsApp
) -> None:
    body = hook.text(ANNA_WA, "hallo")
    assert (await wa.post_webhook(anna.url, body, secret="forged"))[0] == 403
    assert (await wa.post_webhook(anna.url, body, signed=False))[0] == 403
    async with app.database.engine.connect() as connection:
        assert await connection.scalar(select(func.count(InboxRow.id))) == 0
    assert wa.sent == []


async def test_a_duplicate_delivery_is_handled_once(
    app: App, anna: Phone, wa: FakeWhatsApp
) -> None:
    body = hook.text(ANNA_WA, "hallo")
    first = await anna.post(body)
    again = await anna.post(body)
    assert first and again == []
    async with app.database.engine.connect() as connection:
        assert await connection.scalar(select(func.count(InboxRow.id))) == 1


async def henk_runs_the_soup_cafe(app: App, tg: FakeTelegram) -> Peer:
    """Henk joined on Telegram as an organiser and runs the soup café (approved)."""
    henk = Peer(tg, tg.user(5301, first_name="Henk"))
    await runs_the_soup_cafe(app, henk)
    return henk


async def test_an_introduction_to_an_organiser_on_telegram_and_the_follow_up_template(
    app: App, anna: Phone, wa: FakeWhatsApp, tg: FakeTelegram, bot: Running, clock: FakeClock
) -> None:
    henk = await henk_runs_the_soup_cafe(app, tg)
    await start_with_buttons(app, anna)
    await finish_with_buttons(
        app,
        anna,
        wish=strip_decoration(TAXONOMY.get("eat_together").label("nl")),
        distance="wijk of dorp",  # "🚲 In mijn wijk of dorp (2 km)", shortened
        group=t(app, "choice.group.both"),
    )
    assert anna.pages >= 1  # "Samen eten" is on the second page of the wishes list
    assert any(SOUP in body_of(sent) for sent in anna.messages())  # the soup café, suggested

    # Anna asks to be introduced, with her WhatsApp number as the way to reach her.
    await anna.tap(t(app, "button.introduce").split()[-1])
    asked = await anna.tap("WhatsApp")
    assert any(t(app, "intro.asked", name=SOUP) in body_of(sent) for sent in asked)
    [request] = await henk.receive(1)
    assert "Anna" in (request.text or "")
    number = "+" + ANNA_WA

    # Henk says yes, via the bot; only now does her number reach him.
    before = len(tg.sent)
    [route] = await henk.tap(t(app, "button.accept"), 1, on=request)
    assert route.text == t(app, "intro.route_question")
    told = await henk.tap(t(app, "button.route_bot"), 2)
    assert any(number in (m.text or "") for m in told)
    assert all(ANNA_WA not in (r.text or "") for r in tg.sent[:before])
    await settle(app)
    to_anna = [body_of(sent) for sent in anna.messages()[anna.seen :]]
    anna.seen = len(anna.messages())
    assert any(t(app, "intro.accepted", name=SOUP) in text for text in to_anna), to_anna

    # A week later the window has closed: the follow-up goes out as a template, and the
    # question itself waits until Anna writes again.
    clock.advance(timedelta(days=8))
    async with asyncio.timeout(TIMEOUT):
        assert await fire_due(bot) >= 1
    await settle(app)
    [template] = anna.messages()[anna.seen :]
    anna.seen = len(anna.messages())
    assert template.kind == "template"
    assert template.payload["template"]["name"] == "meedoen_followup"
    parameters = template.payload["template"]["components"][0]["parameters"]
    assert [p["text"] for p in parameters] == ["Anna", SOUP]
    assert wa.refused == []

    answer = await anna.say("hoi")
    question = t(app, "followup.question", name=SOUP)
    assert body_of(answer[0]) == question or any(question in body_of(s) for s in answer)
    assert all(sent.kind != "template" for sent in answer)


AREA = "Almelo centrum"


async def test_a_telegram_resident_links_her_whatsapp_with_a_code(
    app: App, anna: Phone, wa: FakeWhatsApp, tg: FakeTelegram, bot: Running, clock: FakeClock
) -> None:
    """Anna starts on Telegram, asks for a code ("koppel"), types it on WhatsApp and says
    yes: the conversation goes on there, and messages for her go to WhatsApp from then."""
    on_telegram = Peer(tg, tg.user(5302, first_name="Anna"))
    await on_telegram.say("hallo", 2)
    await on_telegram.tap(t(app, "button.consent_yes"), 2)
    place_question = await on_telegram.say("Anna", 2)  # the question, and the list
    assert t(app, "ask.place") in (place_question[0].text or "")
    code_message, *_ = await on_telegram.say("koppel", 3)  # the code, then the question
    found = re.search(r"\b(\d{3}) (\d{3})\b", code_message.text or "")
    assert found, code_message.text
    person_id = (await telegram_person_of(app, on_telegram)).id

    asked = await anna.say(found.group(1) + found.group(2))
    assert last_text(asked) == t(app, "link.confirm", name="Anna")
    assert await person_of(app, anna) is None  # nothing stored before yes
    welcomed = await anna.tap("Ja, dat ben ik")
    assert any(t(app, "link.welcome", name_sep=", Anna") in body_of(s) for s in welcomed)
    linked = await person_of(app, anna)
    assert linked is not None and linked.id == person_id
    clock.advance(timedelta(minutes=1))
    asked = await anna.tap("Almelo centrum")  # on where she was: the place question
    assert t(app, "ask.gifts") in last_text(asked)

    before = len(on_telegram.records())
    async with app.database.unit_of_work() as store:
        await store.queue_message(person_id, "Een bericht voor Anna")
    await settle(app)
    assert any(body_of(s) == "Een bericht voor Anna" for s in anna.messages())
    assert len(on_telegram.records()) == before


async def _telegram_outbox(app: App) -> list[tuple[str, bool]]:
    """Every Telegram outbox row: its stored text, and whether it was recorded as sent;
    once nothing waits to go."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while True:
        async with app.database.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(OutboxRow.text, OutboxRow.sent_at).where(OutboxRow.channel == "telegram")
                )
            ).all()
        if all(sent is not None for _, sent in rows):
            return [(text, sent is not None) for text, sent in rows]
        assert loop.time() < deadline, "telegram messages were not recorded as sent"
        await asyncio.sleep(0.01)


async def test_koppel_typed_in_a_new_whatsapp_chat_explains_how_and_the_code_is_not_kept(
    app: App, anna: Phone, wa: FakeWhatsApp, tg: FakeTelegram, bot: Running
) -> None:
    """Anna types "koppel" on WhatsApp before she has a profile there: she is told how
    linking works from this side, then gets the consent question as usual. On Telegram she
    asks for the code; once it is delivered, no outbox row holds it any more. Typed on
    WhatsApp, the code links the chats as before."""
    explained = await anna.say("koppel")
    steps = t(app, "link.before_consent").split("\n")
    assert all(any(step in body_of(s) for s in explained) for step in steps), explained
    assert last_text(explained) == t(app, "welcome.consent")
    assert any(title == t(app, "button.consent_yes") for *_, title in choices(explained[-1]))
    assert await person_of(app, anna) is None  # nothing stored

    on_telegram = Peer(tg, tg.user(5303, first_name="Anna"))
    await on_telegram.say("hallo", 2)
    await on_telegram.tap(t(app, "button.consent_yes"), 2)
    await on_telegram.say("Anna", 2)
    code_message, *_ = await on_telegram.say("koppel", 3)
    found = re.search(r"\b(\d{3}) (\d{3})\b", code_message.text or "")
    assert found, code_message.text  # she did receive it
    code = found.group(1) + found.group(2)
    stored = await _telegram_outbox(app)
    assert stored and all(sent for _, sent in stored)
    assert not any(code in text or found.group(0) in text for text, _ in stored), stored
    assert any(t(app, "link.code", code="••• •••") in text for text, _ in stored), stored
    assert sum("••• •••" in text for text, _ in stored) == 1  # only the flagged message

    asked = await anna.say(code)
    assert last_text(asked) == t(app, "link.confirm", name="Anna")
    await anna.tap("Ja, dat ben ik")
    linked = await person_of(app, anna)
    assert linked is not None and linked.id == (await telegram_person_of(app, on_telegram)).id
