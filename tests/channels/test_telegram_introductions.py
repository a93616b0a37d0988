"""Introductions end to end over Telegram's wire format: organisers, double opt-in, timers.

The real python-telegram-bot `Application` long-polls `FakeTelegram`, wired as `run_bot` wires
it: the conversations wake the Telegram deliverer (`Deliverer.run_forever`) when
they queue messages for other people, and the scheduler wakes it when a timer fired. The
delivery runs with an interval of an hour, so a message for someone else that arrives during
a test arrived because something woke the delivery. The timers run explicitly
(`scheduler.run_due()`) against a clock the test moves on.

Journeys:

1. An organiser joins with a deep link ("/start CODE"), describes an initiative in the chat,
   a moderator approves it with the CLI; a resident asks to be introduced ("via the bot"),
   the organiser accepts with his phone number, they talk through the relay, and a week
   later the resident tells how it went. A second resident asks to meet the first one.
2. The organiser declines: the resident is told kindly, without a reason, and offered ideas.
3. Nobody answers: one reminder after 3 days, after 7 the resident is told; the old "Ja" is
   refused.
4. A third person forges and replays the introduction's buttons: nothing changes and no
   contact detail reaches anyone but the person entitled to it.

Waits are deterministic (a number of new messages, a callback answer, an edit, a log line,
the fake server going idle); never a bare sleep.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import cli
from bot.app import App, open_app
from bot.channels.telegram import CHANNEL
from bot.demo import DEMO_AREAS, DEMO_POSTCODES
from bot.runner import Running
from bot.settings import Settings
from handlers.taxonomy import Taxonomy
from storage.db import Database
from storage.models import OutboxRow
from storage.records import Initiative, Introduction, Person
from tests.channels.fake_telegram import BotMessage, FakeTelegram, FakeUser, SentRecord
from tests.channels.test_telegram_intake import TIMEOUT, running, t
from tests.harness import FakeClock

DELIVERY_INTERVAL = 3600.0  # within a test, only a wake delivers the outbox
TAXONOMY = Taxonomy.load()
ORGANISATION = ("buurtteam-almelo", "Buurtteam Almelo")
SOUP = "Soepcafé De Pan"
SOUP_TEXT = "Elke woensdag samen soep koken en eten."
WALK = "Wandelclub Almelo"
AREA = "Almelo centrum"
HENK_PHONE = "0623456789"  # typed as "06 2345 6789"
ANNA_PHONE = "0687654321"  # typed as "06-8765 4321"
ANNA_USERNAME = "anna_almelo"
BRAM_USERNAME = "bram_b"


def tag(tag_id: str) -> str:
    """A tag's button label, as the bot shows it in Dutch ("🍳 Koken")."""
    return TAXONOMY.get(tag_id).label("nl")


# -- the app and the running bot (the test's clock: tests/channels/conftest.py) ------------


@pytest.fixture
async def app(settings: Settings, database: Database, clock: FakeClock) -> AsyncIterator[App]:
    """The whole program on the test database, with the test's clock and the demo places.

    Replies are not merged here: these tests follow each reply the handlers give (merging a
    turn's replies into one message is tested in test_telegram_intake)."""
    settings = settings.model_copy(update={"merge_replies": False})
    async with open_app(settings, clock=clock) as built:
        async with built.database.unit_of_work() as store:
            await store.save_postcodes(DEMO_POSTCODES)
            for area in DEMO_AREAS:
                await store.save_area(area)
        yield built


@pytest.fixture
async def bot(app: App, tg: FakeTelegram) -> AsyncIterator[Running]:
    async with running(app, tg) as started:
        yield started


async def fire_due(bot: Running) -> int:
    """One run of the due timers at the test's "now"; how many fired. Bounded in time, so
    that a timer that keeps rescheduling itself fails the test instead of hanging it."""
    async with asyncio.timeout(TIMEOUT):
        return await bot.scheduler.run_due()


# -- a person on Telegram ----------------------------------------------------------------


@dataclass
class Peer:
    """One person's private chat with the bot. `seen` counts the bot's messages in this
    chat that the test has looked at, whether they answered this person or came from the
    outbox (someone else's action, or a timer)."""

    tg: FakeTelegram
    user: FakeUser
    seen: int = 0

    @property
    def name(self) -> str:
        return self.user.first_name

    def records(self) -> list[SentRecord]:
        return [
            r for r in self.tg.sent if r.chat_id == self.user.chat_id and r.method == "sendMessage"
        ]

    def current(self, message_id: int) -> BotMessage:
        """The bot's message as it is now (after any edit)."""
        return next(m for m in self.user.messages() if m.message_id == message_id)

    async def receive(self, count: int) -> list[BotMessage]:
        """Exactly `count` messages the test has not looked at yet, oldest first."""
        target = self.seen + count
        await self.tg.wait_for(
            lambda: len(self.records()) >= target,
            timeout=TIMEOUT,
            what=f"{count} new message(s) for {self.name}",
        )
        records = self.records()
        assert len(records) == target, (
            f"{self.name} got more than {count}: {[r.text for r in records[self.seen :]]}\n"
            f"{self.tg.dump()}"
        )
        self.seen = target
        return [self.current(r.message_id) for r in records[target - count : target]]

    async def say(self, text: str, replies: int) -> list[BotMessage]:
        await self.user.send_text(text)
        return await self.receive(replies)

    def find(self, label: str, containing: str | None = None) -> BotMessage:
        """The newest message with a button `label` whose text contains `containing`."""
        for message in reversed(self.user.messages()):
            if label in message.buttons and (containing or "") in (message.text or ""):
                return message
        raise AssertionError(f"{self.name}: no button {label!r}\n{self.tg.dump()}")

    def answered(self, query_id: str) -> bool:
        return any(a.callback_query_id == query_id for a in self.tg.callback_answers)

    def edits(self, message_id: int) -> int:
        return sum(
            1
            for r in self.tg.sent
            if r.chat_id == self.user.chat_id
            and r.message_id == message_id
            and r.method != "sendMessage"
        )

    def last_query_id(self) -> str:
        assert self.user.last_update is not None
        return str(self.user.last_update["callback_query"]["id"])

    async def tap(
        self,
        label: str,
        replies: int,
        *,
        on: BotMessage | None = None,
        containing: str | None = None,
    ) -> list[BotMessage]:
        """Tap a button (on `on`, or the newest message that has it); the tap is answered and
        the tapped keyboard replaced or closed with the choice written under it."""
        message = self.current(on.message_id) if on else self.find(label, containing)
        assert label in message.buttons, f"{label!r} not in {message.buttons}"
        edits = self.edits(message.message_id)
        await self.user.tap(label, message.message_id)
        query_id = self.last_query_id()
        await self.tg.wait_for(
            lambda: self.answered(query_id) and self.edits(message.message_id) > edits,
            timeout=TIMEOUT,
            what=f"{self.name}'s tap on {label!r} answered and its message edited",
        )
        new = await self.receive(replies)
        after = self.current(message.message_id)
        if not after.has_inline_keyboard:
            assert after.text == f"{message.text}\n\n👉 {label}"
        return new

    async def forge(self, data: str, message_id: int, replies: int) -> list[BotMessage]:
        """A callback query with any data on any message id, as a modified client sends."""
        await self.user.tap_raw(data, message_id)
        query_id = self.last_query_id()
        await self.tg.wait_for(
            lambda: self.answered(query_id), timeout=TIMEOUT, what=f"{self.name}'s forged tap"
        )
        return await self.receive(replies)


async def quiet(tg: FakeTelegram, *peers: Peer) -> None:
    """The bot went idle and nobody got a message the test did not look at."""
    await tg.wait_until_idle(timeout=TIMEOUT)
    for peer in peers:
        extra = [r.text for r in peer.records()[peer.seen :]]
        assert extra == [], f"unexpected messages for {peer.name}: {extra}\n{tg.dump()}"


def texts_of(messages: Iterable[BotMessage]) -> list[str]:
    return [m.text or "" for m in messages]


def one(messages: Iterable[BotMessage], part: str) -> BotMessage:
    """The one message whose text contains `part`."""
    found = [m for m in messages if part in (m.text or "")]
    assert len(found) == 1, f"{part!r} in {texts_of(found)}"
    return found[0]


# -- the database, read directly ---------------------------------------------------------


async def person_of(app: App, peer: Peer) -> Person:
    async with app.database.unit_of_work() as store:
        person = await store.find_person_by_identity(CHANNEL, str(peer.user.user_id))
    assert person is not None, peer.name
    return person


async def introduction(app: App, intro_id: int) -> Introduction:
    async with app.database.unit_of_work() as store:
        intro = await store.get_introduction(intro_id)
    assert intro is not None
    return intro


async def introduction_of(
    app: App, requester: Peer, *, initiative_id: int | None = None, neighbour: Peer | None = None
) -> Introduction:
    requester_id = (await person_of(app, requester)).id
    async with app.database.unit_of_work() as store:
        if neighbour is not None:
            other = await store.find_person_by_identity(CHANNEL, str(neighbour.user.user_id))
            assert other is not None
            intro = await store.find_introduction(requester_id, neighbour_id=other.id)
        else:
            intro = await store.find_introduction(requester_id, initiative_id=initiative_id)
    assert intro is not None
    return intro


async def outbox_rows(app: App) -> list[tuple[int, str, str]]:
    """Every message ever queued for someone else: (person id, text, buttons as JSON)."""
    async with app.database.engine.connect() as connection:
        rows = await connection.execute(
            select(OutboxRow.person_id, OutboxRow.text, OutboxRow.options)
            .where(OutboxRow.is_reply.is_(False))
            .order_by(OutboxRow.id)
        )
        return [
            (p or 0, text, json.dumps(options, ensure_ascii=False)) for p, text, options in rows
        ]


def assert_reached_only(
    tg: FakeTelegram,
    contact: str,
    allowed: Mapping[int, int],
) -> None:
    """`contact` appears only in what the bot sent (or tried to send) to the chats in
    `allowed`, and there only from the index in `tg.sent` given for that chat on."""
    for index, record in enumerate(tg.sent):
        blob = (record.text or "") + json.dumps(record.reply_markup or {}, ensure_ascii=False)
        if contact in blob:
            assert record.chat_id in allowed, f"{contact!r} reached chat {record.chat_id}"
            assert index >= allowed[record.chat_id], f"{contact!r} reached the chat too early"
    for call in tg.calls:
        if call.method.lower() in ("getupdates", "answercallbackquery"):
            continue
        if contact in json.dumps(call.params, ensure_ascii=False, default=str):
            assert int(str(call.params.get("chat_id"))) in allowed, (call.method, call.params)


async def assert_queued_only_for(app: App, contact: str, person_ids: set[int]) -> None:
    for person_id, text, options in await outbox_rows(app):
        if contact in text or contact in options:
            assert person_id in person_ids, f"{contact!r} queued for person {person_id}"


# -- journeys' building blocks -----------------------------------------------------------


async def create_invite(app: App) -> str:
    async with app.database.unit_of_work() as store:
        organisation = await store.create_organisation(*ORGANISATION)
        return await store.create_invite(organisation.id)


async def organiser_joins(app: App, henk: Peer, message: str) -> None:
    """ "/start CODE" (the deep link t.me/<bot>?start=CODE) or "organisator CODE"."""
    hello, consent = await henk.say(message, 2)
    assert t(app, "welcome.organiser") in (hello.text or "")
    assert t(app, "button.consent_yes") in consent.buttons
    thanks, menu = await henk.tap(t(app, "button.consent_yes"), 2)
    assert thanks.text == t(app, "consent.thanks")
    assert t(app, "organiser.welcome", organisation=ORGANISATION[1]) in (menu.text or "")
    assert t(app, "menu.new") in menu.buttons and t(app, "menu.requests") in menu.buttons
    person = await person_of(app, henk)
    assert (person.role, person.first_name) == ("organiser", "Henk")


@dataclass(frozen=True)
class Profile:
    gifts: tuple[str, ...]  # tag ids, each one a featured button
    wishes: tuple[str, ...]
    distance: str  # the key of a distance choice: "400", "800", "2000", "5000"
    group: str  # "one", "group", "both"
    free: str  # "yes" (free only) or "no"


async def resident_intake(app: App, peer: Peer, profile: Profile, ideas: int) -> list[BotMessage]:
    """The whole intake with buttons; returns the `ideas` suggestions it ends with."""
    await peer.say("hallo", 2)
    await peer.tap(t(app, "button.consent_yes"), 2)
    await peer.tap(f"👤 {peer.name}", 2)
    await peer.tap(f"📍 {AREA}", 2)
    for tags in (profile.gifts, profile.wishes):
        for number, tag_id in enumerate(tags):  # the first tick asks the next question too
            await peer.tap(tag(tag_id), 0 if number else 1)
    await peer.tap(t(app, "choice.times.any"), 1)
    await peer.tap(t(app, f"choice.distance.{profile.distance}"), 1)
    await peer.tap(t(app, f"choice.group.{profile.group}"), 1)
    [summary] = await peer.tap(t(app, f"choice.free.{profile.free}"), 1)
    assert t(app, "ask.summary") in (summary.text or "")
    asked = await peer.tap(t(app, "button.confirm"), 2)
    assert asked[0].text == t(app, "done.thanks", name_sep=f", {peer.name}")
    assert asked[1].text == t(app, "visibility.question")
    done = await peer.tap(t(app, "button.visible_yes"), 3 + ideas)  # neighbours may hear
    assert done[0].text == t(app, "visibility.yes")
    assert done[1].text == t(app, "ideas.intro")
    assert done[-1].text == t(app, "menu.question")
    suggestions = done[2:-1]
    for suggestion in suggestions:
        assert suggestion.buttons == [t(app, "button.introduce"), t(app, "button.not_for_me")]
    return suggestions


ANNA = Profile(("cooking",), ("eat_together",), "2000", "both", "yes")
ANNA_WALKS = Profile(("cooking",), ("eat_together", "walking"), "2000", "both", "yes")
BRAM = Profile(("cooking",), ("company",), "800", "one", "no")


def soup_idea(app: App) -> str:
    """How Anna sees the soup café: 1.1 km from the centre of Almelo, and why it fits."""
    reason = "; ".join(
        (
            t(app, "ideas.reason.shared", tags="koken"),
            t(app, "ideas.reason.they_offer", tags="samen eten"),
            t(app, "ideas.reason.times", times=t(app, "said.times.afternoon")),
        )
    )
    return (
        f"🌱 {SOUP}\n{SOUP_TEXT}\n📍 {t(app, 'ideas.km', km='1,1')} — {reason}\n"
        f"{t(app, 'ideas.free')} · {t(app, 'ideas.wheelchair')}"
    )


def soup_request(app: App, reminder: bool = False) -> str:
    text = t(
        app,
        "intro.request_initiative",
        name="Anna",
        area=AREA,
        fits=f"{tag('cooking')}, {tag('eat_together')}",
        title=SOUP,
    )
    return f"{t(app, 'intro.reminder')}\n\n{text}" if reminder else text


async def ask_for_soup(app: App, anna: Peer, henk: Peer) -> BotMessage:
    """Anna taps "Stel me voor" on the soup café, "via de bot"; Henk gets the request."""
    [route] = await anna.tap(t(app, "button.introduce"), 1, containing=SOUP)
    assert route.text == t(app, "intro.route_question")
    assert route.buttons == [
        t(app, "button.route_bot"),
        t(app, "button.route_username", username=ANNA_USERNAME),
        t(app, "button.route_phone"),
    ]
    asked, menu = await anna.tap(t(app, "button.route_bot"), 2)
    assert asked.text == t(app, "intro.asked", name=SOUP)
    assert menu.text == t(app, "menu.question")
    [request] = await henk.receive(1)
    assert request.text == soup_request(app)
    assert request.buttons == [
        t(app, "button.accept"), t(app, "button.decline"), t(app, "button.report")
    ]  # fmt: skip
    for private in (ANNA_USERNAME, str(anna.user.user_id), "06"):
        assert private not in (request.text or "")
    return request


@dataclass(frozen=True)
class Community:
    henk: Peer
    anna: Peer
    soup: Initiative
    walk: Initiative
    request: BotMessage  # the request Henk got
    soup_idea: BotMessage  # the suggestion Anna tapped "Stel me voor" on


async def runs_the_soup_cafe(app: App, henk: Peer) -> Initiative:
    """Henk joins with "organisator CODE" and runs the soup café (approved)."""
    await organiser_joins(app, henk, f"organisator {await create_invite(app)}")
    henk_id = (await person_of(app, henk)).id
    async with app.database.unit_of_work() as store:
        organisation = await store.get_organisation(ORGANISATION[0])
        assert organisation is not None
        return await store.create_initiative(
            organisation_id=organisation.id, organiser_ids=[henk_id], title=SOUP,
            description=SOUP_TEXT, postcode="7605", place_name="Almelo", latitude=52.3497,
            longitude=6.6535, offers=("eat_together", "cooking"), needs=("diy",),
            times=("afternoon",), free=True, wheelchair=True, capacity=5, status="approved",
            now=app.clock(),
        )  # fmt: skip


async def community(app: App, tg: FakeTelegram) -> Community:
    """Henk joined with "organisator CODE" and runs the soup café (approved), a walking club
    is near; Anna finished her intake, saw both and asked for the soup café via the bot."""
    henk = Peer(tg, tg.user(5101, first_name="Henk"))
    soup = await runs_the_soup_cafe(app, henk)
    async with app.database.unit_of_work() as store:
        organisation = await store.get_organisation(ORGANISATION[0])
        assert organisation is not None
        walk = await store.create_initiative(
            organisation_id=organisation.id, organiser_ids=[], title=WALK,
            description="Elke zaterdag een uur wandelen.", postcode="7607", place_name="Almelo",
            latitude=52.3549, longitude=6.6676, offers=("walking",), needs=(),
            times=("weekend",), free=True, wheelchair=False, capacity=10, status="approved",
            now=app.clock(),
        )  # fmt: skip
    anna = Peer(tg, tg.user(6101, first_name="Anna", username=ANNA_USERNAME))
    ideas = await resident_intake(app, anna, ANNA_WALKS, ideas=2)
    assert sorted((m.text or "").splitlines()[0] for m in ideas) == [f"🌱 {SOUP}", f"🌱 {WALK}"]
    request = await ask_for_soup(app, anna, henk)
    await quiet(tg, henk, anna)
    return Community(henk, anna, soup, walk, request, one(ideas, SOUP))


def not_for_you(
    app: App, replies: list[BotMessage], question: str, *, because: str = "button.not_for_you"
) -> None:
    """A refused button: a kind word, and the question the person was at, again."""
    refusal, again = replies
    assert refusal.text == t(app, because)
    assert question in (again.text or "")


# -- 1. from an organiser's invite to two introductions ----------------------------------


async def test_organiser_to_resident_to_neighbour_over_telegram(
    app: App,
    tg: FakeTelegram,
    bot: Running,
    clock: FakeClock,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The organiser joins with the deep link t.me/<bot>?start=CODE ...
    code = await create_invite(app)
    henk = Peer(tg, tg.user(5001, first_name="Henk"))
    await organiser_joins(app, henk, f"/start {code}")

    # ... and describes his initiative step by step, with buttons and in his own words.
    intro, label = await henk.tap(t(app, "menu.new"), 2)
    assert intro.text == t(app, "organiser.new_intro")
    assert label.text == t(app, "ask.label") and t(app, "button.skip") not in label.buttons
    [description] = await henk.say(SOUP, 1)
    assert t(app, "ask.description") in (description.text or "")
    [offers] = await henk.say(SOUP_TEXT, 1)
    assert t(app, "ask.offers") in (offers.text or "")
    [needs] = await henk.say("samen eten en koken", 1)
    assert t(app, "ask.needs") in (needs.text or "")
    assert "samen eten" in (needs.text or "").lower()  # said back in words
    venue, _areas = await henk.tap(tag("diy"), 2)  # ticked, and the next question at once
    assert f"✅ {tag('diy')}" in henk.current(needs.message_id).buttons
    assert t(app, "ask.venue") in (venue.text or "")
    ack, schedule = await henk.say("7605", 2)
    assert ack.text == t(app, "ack.place", place="Almelo")
    assert t(app, "ask.schedule") in (schedule.text or "")
    [cost] = await henk.tap(t(app, "choice.times.afternoon"), 1)
    assert t(app, "ask.cost") in (cost.text or "")
    [access] = await henk.say("ja", 1)
    assert t(app, "ask.access") in (access.text or "")
    [capacity] = await henk.tap(t(app, "choice.access.yes"), 1)
    assert t(app, "ask.capacity") in (capacity.text or "")
    [review] = await henk.tap(t(app, "choice.capacity.5"), 1)
    assert SOUP in (review.text or "") and t(app, "ask.review") in (review.text or "")
    saved, _menu = await henk.tap(t(app, "button.confirm"), 2)
    assert saved.text == t(app, "organiser.saved", title=SOUP)

    henk_id = (await person_of(app, henk)).id
    async with app.database.unit_of_work() as store:
        [soup] = await store.list_initiatives_of(henk_id)
    assert (soup.title, soup.description, soup.status) == (SOUP, SOUP_TEXT, "pending")
    assert (soup.postcode, soup.times, soup.free, soup.wheelchair, soup.capacity) == (
        "7605", ("afternoon",), True, True, 5,
    )  # fmt: skip
    assert set(soup.offers) == {"eat_together", "cooking"} and soup.needs == ("diy",)

    # A moderator approves it from the command line (its own process, its own event loop).
    argv = ["--database-url", settings.database_url, "approve-initiative", str(soup.id)]
    async with asyncio.timeout(4 * TIMEOUT):
        assert await asyncio.to_thread(cli.main, argv) == 0
    assert f"#{soup.id} {SOUP}: pending -> approved" in capsys.readouterr().out

    # Anna finishes her intake and gets the soup café, with the reason it suits her.
    anna = Peer(tg, tg.user(6001, first_name="Anna", username=ANNA_USERNAME))
    [idea] = await resident_intake(app, anna, ANNA, ideas=1)
    assert idea.text == soup_idea(app)

    # She asks to be introduced, via the bot; Henk gets her first name, neighbourhood and
    # what fits, and nothing to reach her by.
    request = await ask_for_soup(app, anna, henk)
    await quiet(tg, henk, anna)
    intro_id = (await introduction_of(app, anna, initiative_id=soup.id)).id

    # Henk says yes and chooses his phone number; Anna gets it, Henk gets "via the bot".
    [route] = await henk.tap(t(app, "button.accept"), 1, on=request)
    assert route.text == t(app, "intro.route_question")
    assert route.buttons == [t(app, "button.route_bot"), t(app, "button.route_phone")]
    [phone] = await henk.tap(t(app, "button.route_phone"), 1)
    assert phone.text == t(app, "intro.phone_question")
    henk_accepts = len(tg.sent)
    henks = await henk.say("06 2345 6789", 2)
    [to_anna] = await anna.receive(1)
    assert to_anna.text == (
        t(app, "intro.accepted", name=SOUP)
        + "\n"
        + t(app, "intro.contact_phone", name=SOUP, contact=HENK_PHONE)
    )
    assert to_anna.buttons == [t(app, "button.report")]  # the number, and a way to report
    via_bot = one(henks, t(app, "intro.you_accepted", name="Anna"))
    assert via_bot.text == (
        t(app, "intro.you_accepted", name="Anna") + "\n" + t(app, "intro.via_bot", name="Anna")
    )
    assert via_bot.buttons == [
        t(app, "button.write"), t(app, "button.share"), t(app, "button.report")
    ]  # fmt: skip
    assert one(henks, t(app, "menu.question")).has_inline_keyboard
    accepted = await introduction(app, intro_id)
    assert (accepted.status, accepted.requester_route, accepted.requester_contact) == (
        "accepted", "bot", None,
    )  # fmt: skip
    assert (accepted.target_route, accepted.target_contact, accepted.relay_open) == (
        "phone", HENK_PHONE, True,
    )  # fmt: skip

    # Henk writes to Anna through the bot: she sees his first name and his words, no number.
    [write] = await henk.tap(t(app, "button.write"), 1, on=via_bot)
    assert write.text == t(app, "relay.write", name="Anna")
    sent, _menu = await henk.say("Welkom Anna! Woensdag om 12 uur?", 2)
    assert sent.text == t(app, "relay.sent")
    [relayed] = await anna.receive(1)
    assert relayed.text == t(
        app, "relay.message", name=f"Henk ({SOUP})", text="Welkom Anna! Woensdag om 12 uur?"
    )
    assert relayed.buttons == [
        t(app, "button.reply"), t(app, "button.end_relay"), t(app, "button.report")
    ]  # fmt: skip

    # Anna answers through the relay.
    [write] = await anna.tap(t(app, "button.reply"), 1, on=relayed)
    assert write.text == t(app, "relay.write", name=SOUP)
    sent, _menu = await anna.say("Graag! Tot woensdag.", 2)
    assert sent.text == t(app, "relay.sent")
    [answer] = await henk.receive(1)
    assert answer.text == t(app, "relay.message", name="Anna", text="Graag! Tot woensdag.")
    await quiet(tg, henk, anna)

    # No reminder for an answered request; a week later Anna is asked how it went.
    accepted_at = clock.now
    clock.advance(timedelta(days=3, minutes=1))
    assert await fire_due(bot) == 0
    clock.now = accepted_at + timedelta(days=7, minutes=1)
    assert await fire_due(bot) == 1
    [question] = await anna.receive(1)
    assert question.text == t(app, "followup.question", name=SOUP)
    assert question.buttons == [
        t(app, f"button.outcome.{o}") for o in ("met_good", "not_for_me", "not_yet", "no")
    ]
    [thanks] = await anna.tap(t(app, "button.outcome.met_good"), 1, on=question)
    assert thanks.text == t(app, "followup.thanks.met_good")
    assert (await introduction(app, intro_id)).requester_outcome == "met_good"
    assert await fire_due(bot) == 0  # asked once
    await quiet(tg, henk, anna)

    # Bram finishes his intake and is offered Anna (not the café: too far for him).
    bram = Peer(tg, tg.user(7001, first_name="Bram", username=BRAM_USERNAME))
    [anna_idea] = await resident_intake(app, bram, BRAM, ideas=1)
    assert anna_idea.text == (
        "👤 " + t(app, "ideas.neighbour", name="Anna", area=AREA) + "\n📍 "
        + t(app, "ideas.band.near") + " — "  # never metres between residents
        + t(app, "ideas.reason.shared", tags="koken") + "; "
        + t(app, "ideas.reason.one")  # Bram wants one to one, and Anna is fine with that
    )  # fmt: skip
    [route] = await bram.tap(t(app, "button.introduce"), 1, on=anna_idea)
    asked, _menu = await bram.tap(t(app, "button.route_username", username=BRAM_USERNAME), 2)
    assert asked.text == t(app, "intro.asked", name="Anna")
    [to_anna] = await anna.receive(1)
    assert to_anna.text == t(
        app, "intro.request_neighbour", name="Bram", area=AREA, fits=tag("cooking")
    )
    assert BRAM_USERNAME not in (to_anna.text or "")

    # Anna accepts with her phone number: both get the other's chosen route.
    [route] = await anna.tap(t(app, "button.accept"), 1, on=to_anna)
    assert t(app, "button.route_username", username=ANNA_USERNAME) in route.buttons
    await anna.tap(t(app, "button.route_phone"), 1)
    anna_accepts = len(tg.sent)
    annas = await anna.say("06-8765 4321", 2)
    [to_bram] = await bram.receive(1)
    assert to_bram.text == (
        t(app, "intro.accepted", name="Anna")
        + "\n"
        + t(app, "intro.contact_phone", name="Anna", contact=ANNA_PHONE)
    )
    to_her = one(annas, t(app, "intro.you_accepted", name="Bram"))
    assert to_her.text == (
        t(app, "intro.you_accepted", name="Bram")
        + "\n"
        + t(app, "intro.contact_username", name="Bram", contact=BRAM_USERNAME)
    )
    neighbours = await introduction_of(app, bram, neighbour=anna)
    assert (neighbours.status, neighbours.relay_open) == ("accepted", False)
    await quiet(tg, henk, anna, bram)

    # Every contact detail reached only the person entitled to it, and only once both
    # sides had said yes; usernames appear only on their owner's own buttons otherwise.
    anna_chat, bram_chat = anna.user.chat_id, bram.user.chat_id
    assert_reached_only(tg, HENK_PHONE, {anna_chat: henk_accepts})
    assert_reached_only(tg, ANNA_PHONE, {bram_chat: anna_accepts})
    assert_reached_only(tg, f"@{BRAM_USERNAME}", {bram_chat: 0, anna_chat: anna_accepts})
    assert_reached_only(tg, ANNA_USERNAME, {anna_chat: 0})
    anna_id, bram_id = (await person_of(app, anna)).id, (await person_of(app, bram)).id
    await assert_queued_only_for(app, HENK_PHONE, {anna_id})
    await assert_queued_only_for(app, ANNA_PHONE, {bram_id})
    await assert_queued_only_for(app, BRAM_USERNAME, {anna_id})
    await assert_queued_only_for(app, ANNA_USERNAME, set())
    assert tg.unanswered_callback_queries() == []


# -- 2. the organiser declines ------------------------------------------------------------


async def test_a_declined_introduction_is_told_kindly_and_ideas_follow(
    app: App, tg: FakeTelegram, bot: Running, clock: FakeClock
) -> None:
    world = await community(app, tg)
    henk, anna = world.henk, world.anna

    [noted] = await henk.tap(t(app, "button.decline"), 1, on=world.request)
    assert noted.text == t(app, "intro.decline_noted")
    [declined] = await anna.receive(1)
    assert declined.text == t(app, "intro.declined", name=SOUP)  # no reason, no name
    assert "Henk" not in (declined.text or "")
    assert declined.buttons == [t(app, "menu.ideas")]
    intro = await introduction_of(app, anna, initiative_id=world.soup.id)
    assert intro.status == "declined"

    # The reminder and the expiry were cancelled with the answer.
    clock.advance(timedelta(days=8))
    assert await fire_due(bot) == 0
    await quiet(tg, henk, anna)

    # "Ideeën voor mij" shows what else there is, without the café that said no.
    ideas = await anna.tap(t(app, "menu.ideas"), 3, on=declined)
    assert ideas[0].text == t(app, "ideas.intro")
    assert (ideas[1].text or "").startswith(f"🌱 {WALK}\n")
    assert ideas[2].text == t(app, "menu.question")
    assert not any(SOUP in text for text in texts_of(ideas))

    # The café's old "Stel me voor", sent again by a client that kept it, asks nothing.
    introduce = world.soup_idea.callback_data(t(app, "button.introduce"))
    refused = await anna.forge(introduce, world.soup_idea.message_id, 2)
    not_for_you(app, refused, t(app, "menu.question"))
    assert (await introduction(app, intro.id)) == intro
    await quiet(tg, henk, anna)


# -- 3. nobody answers --------------------------------------------------------------------


async def test_an_unanswered_request_is_reminded_once_then_expires(
    app: App, tg: FakeTelegram, bot: Running, clock: FakeClock
) -> None:
    world = await community(app, tg)
    henk, anna = world.henk, world.anna
    asked_at = clock.now
    intro = await introduction_of(app, anna, initiative_id=world.soup.id)

    clock.now = asked_at + timedelta(days=3) - timedelta(minutes=1)
    assert await fire_due(bot) == 0  # not yet

    # After three days: one reminder for Henk, with fresh buttons; nothing for Anna.
    clock.now = asked_at + timedelta(days=3, minutes=1)
    assert await fire_due(bot) == 1
    [reminder] = await henk.receive(1)
    assert reminder.text == soup_request(app, reminder=True)
    assert reminder.buttons == [
        t(app, "button.accept"), t(app, "button.decline"), t(app, "button.report")
    ]  # fmt: skip
    assert await fire_due(bot) == 0  # once
    clock.advance(timedelta(days=2))
    assert await fire_due(bot) == 0
    await quiet(tg, henk, anna)

    # After seven days: Anna is told, and offered something else; Henk hears nothing.
    clock.now = asked_at + timedelta(days=7, minutes=1)
    assert await fire_due(bot) == 1
    [expired] = await anna.receive(1)
    assert expired.text == t(app, "intro.expired", name=SOUP)
    assert expired.buttons == [t(app, "menu.ideas")]
    assert (await introduction(app, intro.id)).status == "expired"
    assert await fire_due(bot) == 0
    await quiet(tg, henk, anna)

    # Henk's old "Ja" (on the first request, and on the reminder): too late, kindly said.
    for message in (world.request, reminder):
        refused = await henk.tap(t(app, "button.accept"), 2, on=message)
        not_for_you(app, refused, t(app, "menu.question"), because="intro.too_late")
    after = await introduction(app, intro.id)
    assert (after.status, after.target_route, after.target_contact) == ("expired", None, None)
    await quiet(tg, henk, anna)

    ideas = await anna.tap(t(app, "menu.ideas"), 3, on=expired)
    assert (ideas[1].text or "").startswith(f"🌱 {WALK}\n")
    assert not any(SOUP in text for text in texts_of(ideas))
    await quiet(tg, henk, anna)


# -- 4. forged and replayed buttons --------------------------------------------------------


async def test_forged_and_replayed_buttons_change_nothing_and_leak_nothing(
    app: App, tg: FakeTelegram, bot: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.inbox")
    world = await community(app, tg)
    henk, anna = world.henk, world.anna
    intro = await introduction_of(app, anna, initiative_id=world.soup.id)
    accept = world.request.callback_data(t(app, "button.accept"))
    assert accept == f"x:{intro.id}:accept"

    # Mallory, a third person on Telegram, consented and is at the name question.
    mallory = Peer(tg, tg.user(9001, first_name="Mallory"))
    await mallory.say("hallo", 2)
    [_thanks, name_question] = await mallory.tap(t(app, "button.consent_yes"), 2)
    ask_name = t(app, "ask.name")
    queued = await outbox_rows(app)

    async def nothing_changed(expected: Introduction) -> None:
        assert await introduction(app, intro.id) == expected
        assert await outbox_rows(app) == queued
        await quiet(tg, henk, anna, mallory)

    # She sends the organiser's "Ja" on a message of her own, and on his message's id.
    not_for_you(app, await mallory.forge(accept, name_question.message_id, 2), ask_name)
    not_for_you(app, await mallory.forge(accept, world.request.message_id, 2), ask_name)
    not_for_you(app, await mallory.forge(f"x:{intro.id}:decline", 1, 2), ask_name)
    await nothing_changed(intro)

    # Henk taps "Ja"; Telegram delivers that update once more: it is handled once.
    [route] = await henk.tap(t(app, "button.accept"), 1, on=world.request)
    assert route.text == t(app, "intro.route_question")

    def duplicates() -> int:
        return sum("arrived before" in r.getMessage() for r in caplog.records)

    await henk.user.resend_last_update()
    await tg.wait_for(lambda: duplicates() == 1, timeout=TIMEOUT, what="the replayed accept")
    # While Henk chooses how to be reached, Mallory tries again.
    not_for_you(app, await mallory.forge(accept, name_question.message_id, 2), ask_name)
    not_for_you(app, await mallory.forge(f"x:{intro.id}:decline", 1, 2), ask_name)
    await nothing_changed(intro)

    await henk.tap(t(app, "button.route_phone"), 1)
    henk_accepts = len(tg.sent)
    await henk.say("06 2345 6789", 2)
    [to_anna] = await anna.receive(1)
    assert HENK_PHONE in (to_anna.text or "")
    accepted = await introduction(app, intro.id)
    assert (accepted.status, accepted.target_contact) == ("accepted", HENK_PHONE)
    queued = await outbox_rows(app)

    # Now the introduction is accepted: every button of it, forged by Mallory, and the old
    # "Ja" replayed by Henk himself, is refused and changes nothing.
    for action in ("accept", "decline", "write", "share", "end", "met_good", "not_yet"):
        forged = await mallory.forge(f"x:{intro.id}:{action}", name_question.message_id, 2)
        not_for_you(app, forged, ask_name)
    for data in ("x:abc:accept", "x:", f"x:{intro.id}"):
        not_for_you(app, await mallory.forge(data, name_question.message_id, 2), ask_name)
    # An id that names no introduction (never used, or one that is gone): said kindly.
    gone = await mallory.forge(f"x:{intro.id + 1}:accept", name_question.message_id, 2)
    not_for_you(app, gone, ask_name, because="intro.gone")
    replayed = await henk.forge(accept, world.request.message_id, 2)
    not_for_you(app, replayed, t(app, "menu.question"), because="intro.too_late")
    await nothing_changed(accepted)

    # Nothing about the introduction reached Mallory; Henk's number reached Anna only, and
    # only after both had said yes.
    for text in texts_of(mallory.user.messages()):
        for private in ("Anna", "Henk", SOUP, HENK_PHONE, ANNA_USERNAME):
            assert private not in text
    assert_reached_only(tg, HENK_PHONE, {anna.user.chat_id: henk_accepts})
    assert_reached_only(tg, ANNA_USERNAME, {anna.user.chat_id: 0})
    await assert_queued_only_for(app, HENK_PHONE, {(await person_of(app, anna)).id})
    assert tg.unanswered_callback_queries() == []
