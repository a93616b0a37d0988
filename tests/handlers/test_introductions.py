"""Introductions with double opt-in, end to end: `Conversations`, the outbox and the real
scheduler, with a clock the tests move.

Every message anybody receives goes through one `Ledger`: the direct replies of every
`handle` call and every outbox message for everybody. The ledger knows each person's phone
number and Telegram username and fails the test as soon as one of them reaches somebody who
is not entitled to it at that moment. A test grants an entitlement (`World.entitle`) just
before the step that may reveal it, and asserts the exact text. The outbox is claimed before
every entitlement, whenever a test looks at it, after every scheduler run and at the end of
each test, so every message is judged by the entitlements of the moment it was queued.

The neighbourhood is small and fixed, so suggestions are predictable: only the demo places
are seeded (no demo people or initiatives). Bram is created before Henk, so Bram, the second
organiser of the soup café who never answers, has the lower id.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import String, func, select

from bot.app import App, build_scheduler, open_app
from bot.demo import DEMO_AREAS, DEMO_POSTCODES
from bot.settings import Settings
from handlers.flow import CONSENT_VERSION, DONE
from handlers.i18n import Texts
from handlers.introductions import OUTCOMES, ROUTES
from handlers.matching import seeker_from
from handlers.messages import Inbound, Option, Reply
from handlers.suggest import find_suggestions
from storage.db import Database
from storage.jobs import FAILED_ATTEMPTS
from storage.models import Base
from storage.records import ConversationState, Introduction, Job
from tests.harness import Resident, state_of

TEXTS = Texts.load()
CHANNEL = "test"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SOUP = "Soepcafé De Pan"
WALK = "Wandelclub Het Rondje"
ACTIONS = ("accept", "decline", "write", "end", "share", "report", *OUTCOMES)
WRITE_SHARE_REPORT = ("write", "share", "report")
WRITE_END_REPORT = ("write", "end", "report")
GARBAGE = ("", "ACCEPT", "accept ", "reveal", "💥")
SNAPSHOT_TABLES = (
    "introductions",
    "initiatives",
    "initiative_organisers",
    "jobs",
    "dismissals",
    "blocks",
    "outbox",
)


def nl(key: str, **values: Any) -> str:
    return TEXTS("nl", key, **values)


# -- the neighbourhood -------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    name: str
    phone: str  # as stored (the person types it with spaces)
    username: str
    organiser: bool = False
    latitude: float | None = None  # residents who finished the intake, near 7607
    longitude: float | None = None
    gifts: tuple[str, ...] = ()
    wishes: tuple[str, ...] = ()


SPECS = (
    Spec("Bram", "0612345001", "bram_tg_5001", organiser=True),
    Spec("Henk", "0612345002", "henk_tg_5002", organiser=True),
    Spec("Gert", "0612345003", "gert_tg_5003", organiser=True),
    Spec("Anna", "0612345004", "anna_tg_5004", False, 52.3551, 6.6680, ("cooking",),
         ("eat_together", "walking")),
    Spec("Carla", "0612345005", "carla_tg_5005", False, 52.3545, 6.6670, ("cooking",),
         ("eat_together",)),
    Spec("Piet", "0612345006", "piet_tg_5006", False, 52.3560, 6.6690, ("gardening",),
         ("cooking",)),
    Spec("Eve", "0612345007", "eve_tg_5007", False, 52.3540, 6.6660, ("reading",), ("dutch",)),
)  # fmt: skip


@dataclass(frozen=True)
class Place:
    key: str
    title: str
    organisers: tuple[str, ...]
    latitude: float
    longitude: float
    offers: tuple[str, ...]
    needs: tuple[str, ...]
    status: str


PLACES = (
    Place("soup", SOUP, ("Bram", "Henk"), 52.3556, 6.6684, ("eat_together",), ("cooking",),
          "approved"),
    Place("walk", WALK, ("Gert",), 52.3530, 6.6650, ("walking",), (), "approved"),
    Place("paused", "Kookclub Samen", ("Gert",), 52.3552, 6.6700, ("eat_together",),
          ("cooking",), "paused"),
    Place("archived", "Eettafel De Hoek", ("Gert",), 52.3570, 6.6660, ("eat_together",), (),
          "archived"),
    Place("far", "Soep in Strijen", ("Gert",), 51.7445, 4.5511, ("eat_together",),
          ("cooking",), "approved"),
)  # fmt: skip


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Sent:
    to: str
    text: str
    options: tuple[Option, ...]
    via: str  # "reply" (to the sender of a message) or "outbox"


@dataclass
class Ledger:
    """Every message to anybody; fails as soon as a contact detail reaches the wrong person."""

    owners: dict[str, str] = field(default_factory=dict)  # contact string -> its owner
    allowed: set[tuple[str, str]] = field(default_factory=set)  # (recipient, contact)
    sent: list[Sent] = field(default_factory=list)
    inbox: dict[str, list[Reply]] = field(default_factory=dict)  # outbox, not looked at yet

    def record(self, to: str, reply: Reply, *, via: str) -> None:
        assert reply.text != nl("error.sorry"), f"{to} got the apology: a handler crashed"
        words = [reply.text, *(o.label for o in reply.options), *(o.key for o in reply.options)]
        blob = "\n".join(words)
        for contact, owner in self.owners.items():
            if contact in blob and owner != to:
                assert (to, contact) in self.allowed, (
                    f"{owner}'s contact {contact!r} reached {to} ({via}): {reply.text!r}"
                )
        self.sent.append(Sent(to, reply.text, reply.options, via))
        if via == "outbox":
            self.inbox.setdefault(to, []).append(reply)

    def received(self, name: str) -> list[Sent]:
        return [sent for sent in self.sent if sent.to == name]


@dataclass
class Member(Resident):
    """A resident or organiser with a phone number and a Telegram username."""

    username: str | None = None
    phone: str = ""
    person_id: int = 0
    world: World | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.first_name or "?"

    @property
    def typed_phone(self) -> str:
        return f"{self.phone[:2]} {self.phone[2:6]} {self.phone[6:]}"

    def contact(self, route: str) -> str | None:
        return {"phone": self.phone, "username": self.username}.get(route)

    def inbound(self, **values: object) -> Inbound:
        values.setdefault("username", self.username)
        return super().inbound(**values)

    async def deliver(self, inbound: Inbound) -> list[Reply]:
        replies = await super().deliver(inbound)
        assert self.world is not None
        for reply in replies:
            self.world.ledger.record(self.name, reply, via="reply")
        return replies


@dataclass
class World:
    app: App
    clock: Clock
    ledger: Ledger = field(default_factory=Ledger)
    members: dict[str, Member] = field(default_factory=dict)
    places: dict[str, int] = field(default_factory=dict)
    guarding: bool = False

    @classmethod
    async def build(cls, app: App, clock: Clock) -> World:
        world = cls(app, clock)
        async with app.database.unit_of_work() as store:
            await store.save_postcodes(DEMO_POSTCODES)
            for area in DEMO_AREAS:
                await store.save_area(area)
            organisation = await store.create_organisation("buurtteam-intro", "Buurtteam")
            for spec in SPECS:
                external_id = f"{spec.name.lower()}-intro"
                person = await store.create_person_with_consent(
                    channel=CHANNEL, external_id=external_id, username=spec.username,
                    language="nl", consent_version=CONSENT_VERSION,
                )  # fmt: skip
                if spec.organiser:
                    code = await store.create_invite(organisation.id)
                    assert await store.redeem_invite(code, person.id, clock.now) is not None
                changes: dict[str, Any] = {"first_name": spec.name}
                if spec.latitude is not None:
                    changes |= {
                        "postcode": "7607", "area_name": "Almelo",
                        "latitude": spec.latitude, "longitude": spec.longitude,
                        "gifts": spec.gifts, "wishes": spec.wishes, "times": ("any",),
                        "max_distance_m": 2000, "group_pref": "both", "free_only": False,
                        "intake_done_at": clock.now - 2 * DAY,
                        "neighbour_visible": True,  # they said neighbours may hear of them
                    }  # fmt: skip
                await store.update_person(person.id, changes)
                await store.save_conversation(ConversationState(person.id, "intake", DONE, 1))
                world.members[spec.name] = Member(
                    app.conversations, external_id=external_id, first_name=spec.name,
                    username=spec.username, phone=spec.phone, person_id=person.id, world=world,
                )  # fmt: skip
            for place in PLACES:
                initiative = await store.create_initiative(
                    organisation_id=organisation.id,
                    organiser_ids=[world.members[name].person_id for name in place.organisers],
                    title=place.title, description="", offers=place.offers, needs=place.needs,
                    postcode="7607", place_name="Almelo", latitude=place.latitude,
                    longitude=place.longitude, times=("any",), free=True, capacity=5,
                    status=place.status, now=clock.now,
                )  # fmt: skip
                world.places[place.key] = initiative.id
        for member in world.members.values():
            for contact in (member.phone, member.typed_phone, member.username or ""):
                world.ledger.owners[contact] = member.name
        return world

    def __getitem__(self, name: str) -> Member:
        return self.members[name]

    @property
    def soup(self) -> int:
        return self.places["soup"]

    def everybody_but(self, *names: str) -> list[Member]:
        return [m for name, m in self.members.items() if name not in names]

    async def entitle(self, recipient: Member, owner: Member, route: str) -> None:
        """From now on `recipient` may see `owner`'s contact for `route` (not for "bot").

        Whatever was queued before is judged first, without it."""
        await self.drain()
        contact = owner.contact(route)
        if contact is not None:
            self.ledger.allowed.add((recipient.name, contact))

    async def drain(self) -> None:
        """Claim every outbox message for everybody and put it through the ledger."""
        by_external = {m.external_id: m.name for m in self.members.values()}
        while True:
            async with self.app.database.unit_of_work() as store:
                claimed = await store.claim_outbox(CHANNEL, now=self.clock.now, limit=500)
            if not claimed:
                return
            for message, identity in claimed:
                to = by_external.get(identity.external_id, identity.external_id)
                options = tuple(Option(key, label) for key, label in message.options)
                self.ledger.record(to, Reply(message.text, options), via="outbox")

    async def take(self, member: Member) -> list[Reply]:
        """The outbox messages `member` received since the last look."""
        await self.drain()
        return self.ledger.inbox.pop(member.name, [])

    async def clear(self) -> None:
        """Everybody has looked at their messages (the ledger checked them all)."""
        for member in self.members.values():
            await self.take(member)

    async def assert_quiet(self) -> None:
        """Nobody has a message they did not look at."""
        await self.drain()
        waiting = {name: [r.text for r in replies] for name, replies in self.ledger.inbox.items()}
        assert {name: texts for name, texts in waiting.items() if texts} == {}

    async def run_due(self, at: datetime) -> int:
        """The real scheduler of the app, at `at`; no job may have failed."""
        self.clock.now = at
        fired = await build_scheduler(self.app).run_due(at)
        await self.drain()
        table = Base.metadata.tables["jobs"]
        async with self.app.database.engine.connect() as connection:
            payloads = (await connection.execute(select(table.c.kind, table.c.payload))).all()
        assert [(kind, p) for kind, p in payloads if FAILED_ATTEMPTS in (p or {})] == []
        return fired

    async def intro(self, intro_id: int) -> Introduction:
        async with self.app.database.unit_of_work() as store:
            found = await store.get_introduction(intro_id)
        assert found is not None
        return found

    async def intro_of(self, requester: Member, key: str) -> Introduction:
        letter, _, number = key.partition(":")
        field_name = "initiative_id" if letter == "i" else "neighbour_id"
        async with self.app.database.unit_of_work() as store:
            found = await store.find_introduction(requester.person_id, **{field_name: int(number)})
        assert found is not None
        return found

    async def pending_jobs(self, intro_id: int) -> list[Job]:
        async with self.app.database.unit_of_work() as store:
            return await store.list_pending_jobs(introduction_id=intro_id)

    @asynccontextmanager
    async def unchanged(self) -> AsyncIterator[None]:
        """The introductions, initiatives, jobs, dismissals, blocks and outbox stay as they
        are, and nothing waits in the outbox, while the block runs."""
        await self.assert_quiet()
        before = await self.snapshot()
        self.guarding = True
        try:
            yield
        finally:
            self.guarding = False
        async with self.app.database.unit_of_work() as store:
            assert await store.count_pending_outbox() == 0
        assert await self.snapshot() == before

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        tables = Base.metadata.tables
        result: dict[str, list[tuple[Any, ...]]] = {}
        async with self.app.database.engine.connect() as connection:
            for name in SNAPSHOT_TABLES:
                table = tables[name]
                rows = await connection.execute(select(table).order_by(*table.primary_key.columns))
                result[name] = [tuple(row) for row in rows]
        return result


@pytest.fixture
async def world(settings: Settings, database: Database) -> AsyncIterator[World]:
    """The app of `open_app` with a clock the test moves, and the small neighbourhood."""
    clock = Clock(T0)
    async with open_app(settings, clock=clock, apply_migrations=False) as app:  # `database` did
        built = await World.build(app, clock)
        yield built
        await built.drain()  # what was queued last goes through the ledger too


# -- steps -------------------------------------------------------------------------------


def target_key(world: World, kind: str) -> str:
    return f"i:{world.soup}" if kind == "i" else f"p:{world['Piet'].person_id}"


def side_of(world: World, kind: str) -> tuple[Member, str]:
    """The person who answers, and how the requester sees that side."""
    return (world["Henk"], SOUP) if kind == "i" else (world["Piet"], "Piet")


def route_line(route: str, owner: Member, name: str) -> str:
    if route == "phone":
        return nl("intro.contact_phone", name=name, contact=owner.phone)
    if route == "username":
        return nl("intro.contact_username", name=name, contact=owner.username)
    return nl("intro.via_bot", name=name)


async def choose_route(member: Member, route: str) -> None:
    if route == "bot":
        await member.tap("Via de bot")
    elif route == "username":
        await member.tap(f"@{member.username}")
    else:
        await member.tap("Mijn telefoonnummer")
        assert member.text == nl("intro.phone_question")
        await member.send(member.typed_phone)


async def ask(world: World, requester: Member, key: str, route: str) -> Introduction:
    await requester.press(f"s:{key}:intro")
    assert requester.last[0].text == nl("intro.route_question")
    await choose_route(requester, route)
    assert requester.last[0].text.startswith("Ik heb het aan ")
    return await world.intro_of(requester, key)


async def answer(target: Member, intro_id: int, route: str) -> None:
    await target.press(f"x:{intro_id}:accept")
    assert target.last[0].text == nl("intro.route_question")
    await choose_route(target, route)


async def through_the_bot(
    world: World, requester: Member, key: str, target: Member
) -> Introduction:
    """`requester` asks to be introduced to `key`, `target` says yes, both "via the bot": the
    relay is open. What the two were sent is taken (`world.clear`)."""
    intro = await ask(world, requester, key, "bot")
    await answer(target, intro.id, "bot")
    await world.clear()
    return intro


async def henk_writes_to_anna(world: World, text: str) -> tuple[Introduction, Reply]:
    """Anna and Henk (of the soup) through the bot; Henk writes `text` to Anna through the
    relay. The introduction, and the one message Anna received (its last button: "Melden")."""
    anna, henk = world["Anna"], world["Henk"]
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    await henk.press(f"x:{intro.id}:write")
    await henk.send(text)
    (relayed,) = await world.take(anna)
    return intro, relayed


async def refused(
    world: World,
    member: Member,
    key: str | None = None,
    *,
    tap: str | None = None,
    send: str | None = None,
    expect: str = "button.not_for_you",
) -> None:
    """Press `key` (or tap `tap`, or send `send`): a kind refusal. Only inside
    `World.unchanged`, which checks that nothing changed and nothing was queued for anybody."""
    assert world.guarding, "refusals are checked inside `async with world.unchanged()`"
    mark = len(world.ledger.sent)
    if tap is not None:
        await member.tap(tap)
    elif send is not None:
        await member.send(send)
    else:
        assert key is not None
        await member.press(key)
    allowed = {nl(expect)}
    answering = (key or "").endswith((":accept", ":decline")) or tap in (
        nl("button.accept"),
        nl("button.decline"),
        "Ja, graag",
        "Nee, liever niet",
    )
    if expect == "button.not_for_you" and answering:
        allowed.add(nl("intro.too_late"))  # the other side, once it is too late to answer
    if expect == "button.not_for_you":
        allowed.add(nl("intro.gone"))  # a button about an introduction that is no more
    assert member.last and member.last[0].text in allowed, (key, member.text)
    assert {(sent.to, sent.via) for sent in world.ledger.sent[mark:]} == {(member.name, "reply")}


# -- 1. contact details only once both said yes ------------------------------------------

# The routes on a channel with usernames; "via WhatsApp" has tests of its own.
CHAT_ROUTES = tuple(route for route in ROUTES if route != "whatsapp")
COMBOS = [
    pytest.param(kind, asker, answerer, id=f"{kind}-{asker}-{answerer}")
    for kind, asker, answerer in itertools.product(("i", "p"), CHAT_ROUTES, CHAT_ROUTES)
]


@pytest.mark.parametrize(("kind", "asker_route", "answer_route"), COMBOS)
async def test_contact_details_reach_only_the_other_side_once_both_said_yes(
    world: World, kind: str, asker_route: str, answer_route: str
) -> None:
    anna = world["Anna"]
    target, side = side_of(world, kind)
    co_targets = [world["Bram"]] if kind == "i" else []  # asked too, never answers
    key = target_key(world, kind)

    # Anna asks from the ideas she is shown.
    await anna.send("ideeën")
    await anna.tap_in(SOUP if kind == "i" else "Piet, een buur", "Stel me voor")
    assert anna.text.startswith(nl("intro.route_question"))
    await choose_route(anna, asker_route)
    assert anna.last[0].text == nl("intro.asked", name=side)
    intro = await world.intro_of(anna, key)
    assert (intro.status, intro.requester_route, intro.requester_contact) == (
        "requested", asker_route, anna.contact(asker_route),
    )  # fmt: skip
    assert (intro.target_route, intro.target_contact, intro.relay_open) == (None, None, False)
    for person in (target, *co_targets):
        (request,) = await world.take(person)
        assert request.text.startswith("👋 Anna uit Almelo wil graag")
        assert [o.key for o in request.options] == [
            f"x:{intro.id}:accept", f"x:{intro.id}:decline", f"x:{intro.id}:report"
        ]  # fmt: skip
    await world.assert_quiet()

    # Three days without an answer: one reminder each, still nothing to reach Anna by.
    assert await world.run_due(T0 + 3 * DAY) == 1
    reminders = {person.name: await world.take(person) for person in (target, *co_targets)}
    assert {name: len(got) for name, got in reminders.items()} == {
        p.name: 1 for p in (target, *co_targets)
    }
    assert all(got[0].text.startswith(nl("intro.reminder")) for got in reminders.values())
    await world.assert_quiet()

    # Day 4: the other side says yes from the reminder; each side gets the other's route.
    world.clock.now = T0 + 4 * DAY
    await world.entitle(target, anna, asker_route)
    await world.entitle(anna, target, answer_route)
    target.last = reminders[target.name]
    await target.tap("Ja, graag")
    await choose_route(target, answer_route)
    intro = await world.intro(intro.id)
    relay = "bot" in (asker_route, answer_route)
    assert (intro.status, intro.target_route, intro.target_contact, intro.relay_open) == (
        "accepted", answer_route, target.contact(answer_route), relay,
    )  # fmt: skip
    (to_anna,) = await world.take(anna)
    assert to_anna.text == nl("intro.accepted", name=side) + "\n" + route_line(
        answer_route, target, side
    )
    (to_target,) = await world.take(target)
    assert to_target.text == nl("intro.you_accepted", name="Anna") + "\n" + route_line(
        asker_route, anna, "Anna"
    )
    await world.assert_quiet()  # Bram, Carla, Eve, Gert (and Henk for Piet): nothing

    if asker_route == answer_route == "bot":
        # Talk through the bot: first names, no numbers; then Anna stops the conversation.
        target.last = [to_target]
        await target.tap("Bericht sturen")
        await target.send("Hoi Anna, kom je woensdag?")
        (relayed,) = await world.take(anna)
        sender = f"Henk ({SOUP})" if kind == "i" else "Piet"
        assert relayed.text == nl("relay.message", name=sender, text="Hoi Anna, kom je woensdag?")
        anna.last = [relayed]
        await anna.tap("Antwoorden")
        await anna.send("Ja, leuk!")
        assert [r.text for r in await world.take(target)] == [
            nl("relay.message", name="Anna", text="Ja, leuk!")
        ]
        for person in co_targets:
            await world.take(person)  # see test_an_organiser_who_did_not_answer_stays_out
        await anna.press(f"x:{intro.id}:end")
        assert anna.last[0].text == nl("relay.ended")
        assert [r.text for r in await world.take(target)] == [nl("relay.ended_by", name="Anna")]
        for person in co_targets:
            await world.take(person)
        async with world.unchanged():
            await refused(world, target, f"x:{intro.id}:write")
        # Later Anna wants to share after all: one side only, so nothing is revealed yet.
        await anna.press(f"x:{intro.id}:share")
        assert anna.last[0].text == nl("intro.route_share")
        await choose_route(anna, "phone")
        assert anna.last[0].text == nl("intro.share_waiting", name=side)
        (asked,) = await world.take(target)
        assert asked.text == nl("intro.share_asked", name="Anna")
        for person in co_targets:
            await world.take(person)
        await world.assert_quiet()
        assert (await world.intro(intro.id)).requester_route == "phone"
        # The other side shares too: both get the other's details, the relay stays closed.
        await world.entitle(target, anna, "phone")
        await world.entitle(anna, target, "username")
        target.last = [asked]
        await target.tap("Contact delen")
        await choose_route(target, "username")
        assert target.last[0].text == nl("intro.shared")
        (shared_to_anna,) = await world.take(anna)
        assert shared_to_anna.text.endswith(route_line("username", target, side))
        (shared_to_target,) = await world.take(target)
        assert shared_to_target.text.endswith(route_line("phone", anna, "Anna"))
    elif relay:
        # One side is reached through the bot; that side shares after all.
        bot_side, other = (anna, target) if asker_route == "bot" else (target, anna)
        name_of = {anna.name: side, target.name: "Anna"}
        await world.entitle(other, bot_side, "phone")
        await bot_side.press(f"x:{intro.id}:share")
        assert bot_side.last[0].text == nl("intro.route_share")
        await choose_route(bot_side, "phone")
        assert bot_side.last[0].text == nl("intro.shared")
        (to_other,) = await world.take(other)
        assert to_other.text.endswith(route_line("phone", bot_side, name_of[other.name]))
        await world.take(bot_side)  # the other side's route again
    await world.assert_quiet()
    intro = await world.intro(intro.id)
    assert intro.relay_open is False
    async with world.unchanged():
        await refused(world, anna, f"x:{intro.id}:write")
        await refused(world, target, f"x:{intro.id}:write")

    # A week after the yes: the follow-up, still without anybody else's details.
    assert await world.run_due(T0 + 11 * DAY) == 1
    (question,) = await world.take(anna)
    assert question.text == nl("followup.question", name=side)
    if kind == "p":
        (question,) = await world.take(target)
        assert question.text == nl("followup.question", name="Anna")
    await world.assert_quiet()
    for bystander in world.everybody_but("Anna", target.name, *(p.name for p in co_targets)):
        assert world.ledger.received(bystander.name) == []


# -- 2. forged and replayed presses ------------------------------------------------------

STATE_ROWS = {  # state: (status, relay_open)
    "requested": ("requested", False),
    "declined": ("declined", False),
    "expired": ("expired", False),
    "accepted_direct": ("accepted", False),
    "accepted_relay": ("accepted", True),
    "relay_ended": ("accepted", False),
    "share_asked": ("accepted", True),
}


async def bring_to(world: World, kind: str, state: str) -> Introduction:
    """An introduction from Anna to the soup café (Henk answers) or to Piet, in `state`."""
    anna = world["Anna"]
    target, side = side_of(world, kind)
    direct = state == "accepted_direct"
    asked_route, answer_route = ("phone", "username") if direct else ("bot", "bot")
    intro = await ask(world, anna, target_key(world, kind), asked_route)
    if state == "declined":
        await target.press(f"x:{intro.id}:decline")
    elif state == "expired":
        assert await world.run_due(T0 + 7 * DAY) == 2  # the reminder and the expiry
    elif state != "requested":
        await world.entitle(target, anna, asked_route)
        await world.entitle(anna, target, answer_route)
        await answer(target, intro.id, answer_route)
        if state == "relay_ended":
            await target.press(f"x:{intro.id}:end")
        elif state == "share_asked":
            await anna.press(f"x:{intro.id}:share")
            await choose_route(anna, "phone")
            assert anna.last[0].text == nl("intro.share_waiting", name=side)
    intro = await world.intro(intro.id)
    assert (intro.status, intro.relay_open) == STATE_ROWS[state]
    await world.clear()
    return intro


def forged_presses(world: World, kind: str, intro: Introduction) -> list[tuple[Member, str]]:
    """Every press that must be refused for `intro` in its current state, and by whom."""
    anna, eve = world["Anna"], world["Eve"]
    targets = [world["Henk"], world["Bram"]] if kind == "i" else [world["Piet"]]
    accepted = intro.status == "accepted"
    x = f"x:{intro.id}"
    presses: list[tuple[Member, str]] = []
    # Eve, a consenting resident who has nothing to do with it: every action and garbage.
    presses += [(eve, f"{x}:{action}") for action in (*ACTIONS, *GARBAGE)]
    if intro.status == "requested":  # malformed keys, whatever the state
        presses += [
            (eve, key)
            for key in (
                "x:",
                "x::",
                x,
                f"x:{intro.id + 999}:accept",
                "x:-1:accept",
                f"{x}x:accept",
                f"x: {intro.id}:accept",
            )
        ]
    # An organiser of another initiative, and residents who are not involved: nobody here.
    presses += [(world["Gert"], f"{x}:{a}") for a in ("accept", "decline", "write", "share")]
    bystanders = [world["Carla"], *([world["Piet"]] if kind == "i" else [])]
    presses += [(who, f"{x}:{a}") for who in bystanders for a in ("accept", "write", "no")]
    # Out of place for the two sides: accepting or declining her own request, a replayed
    # accept or decline once it is decided, anything but that before it is accepted, the
    # relay once it is closed, and garbage.
    out_of_place = [GARBAGE[1]]
    if not accepted:
        out_of_place += ["write", "end", "share", *OUTCOMES]
    elif not intro.relay_open:
        out_of_place += ["write", "end"]
    # A report: by her once it is accepted, by the other side while asked or accepted.
    ended = [] if intro.status in ("requested", "accepted") else ["report"]
    presses += [(anna, f"{x}:{a}") for a in ("accept", "decline", *out_of_place)]
    presses += [(anna, f"{x}:report")] if intro.status != "accepted" else []
    decided = [] if intro.status == "requested" else ["accept", "decline"]
    presses += [(t, f"{x}:{a}") for t in targets for a in (*decided, *out_of_place, *ended)]
    return presses


@pytest.mark.parametrize("state", list(STATE_ROWS))
@pytest.mark.parametrize("kind", ["i", "p"])
async def test_forged_and_replayed_presses_change_nothing(
    world: World, kind: str, state: str
) -> None:
    intro = await bring_to(world, kind, state)
    presses = forged_presses(world, kind, intro)
    assert len(presses) >= 25
    async with world.unchanged():
        for member, key in presses:
            await refused(world, member, key)
    await world.assert_quiet()


@pytest.mark.parametrize("ending", ["accepted", "declined", "expired"])
async def test_an_answer_started_before_the_request_ended_comes_too_late(
    world: World, ending: str
) -> None:
    """Bram taps "yes" but chooses his route only after Henk answered or the time ran out."""
    henk, bram = world["Henk"], world["Bram"]
    intro = await ask(world, world["Anna"], f"i:{world.soup}", "phone")
    await bram.press(f"x:{intro.id}:accept")
    assert bram.last[0].text == nl("intro.route_question")
    if ending == "accepted":
        await world.entitle(henk, world["Anna"], "phone")
        await answer(henk, intro.id, "bot")
    elif ending == "declined":
        await henk.press(f"x:{intro.id}:decline")
    else:
        assert await world.run_due(T0 + 7 * DAY) == 2
    await world.clear()
    await bram.tap("Mijn telefoonnummer")
    async with world.unchanged():
        await refused(world, bram, send=bram.typed_phone, expect="intro.too_late")
    assert (await world.intro(intro.id)).status == ending


async def test_forged_suggestion_and_organiser_presses_change_nothing(world: World) -> None:
    anna, eve, henk, gert = world["Anna"], world["Eve"], world["Henk"], world["Gert"]
    walk = world.places["walk"]
    await anna.press(f"s:i:{walk}:dismiss")
    assert anna.last[0].text == nl("ideas.dismissed")
    await ask(world, anna, f"i:{world.soup}", "bot")
    await world.clear()

    presses: list[tuple[Member, str]] = []
    for place in ("paused", "archived", "far"):  # each would fit Anna, were it open and near
        presses += [(anna, f"s:i:{world.places[place]}:{a}") for a in ("intro", "dismiss")]
    presses += [
        (anna, f"s:i:{world.soup}:intro"),  # already asked
        (anna, f"s:i:{walk}:intro"),  # dismissed
        (anna, f"s:i:{walk}:dismiss"),  # dismissed already
        (anna, f"s:p:{anna.person_id}:intro"),  # herself
        (anna, f"s:p:{henk.person_id}:intro"),  # an organiser, not a neighbour
        (eve, f"s:i:{world.soup}:intro"),  # does not fit Eve
        (eve, f"s:p:{eve.person_id}:intro"),
        (henk, f"o:{walk}:pause"),  # an organiser, of another initiative
        (henk, f"o:{world.soup}:open"),  # not paused
        (gert, f"o:{world.places['archived']}:pause"),
        (gert, f"o:{world.places['archived']}:open"),
    ]
    for key in ("s:i:999999:intro", "s:x:1:intro", f"s:i:{world.soup}:join", "s:", "g:nope"):
        presses.append((eve, key))
    for who in (eve, anna, gert):
        presses += [(who, f"o:{world.soup}:{a}") for a in ("pause", "open", "edit", "archive")]
    async with world.unchanged():
        for member, key in presses:
            await refused(world, member, key)
    await world.assert_quiet()


@pytest.mark.parametrize("route", ["bot", "phone"])
async def test_a_suggestion_that_closes_while_she_chooses_a_route_is_refused_once(
    world: World, route: str
) -> None:
    """Anna taps "Stel me voor"; the soup café pauses before she has chosen her route."""
    anna = world["Anna"]
    await anna.press(f"s:i:{world.soup}:intro")
    if route == "phone":
        await anna.tap("Mijn telefoonnummer")
    async with world.app.database.unit_of_work() as store:
        await store.set_initiative_status(world.soup, "paused", now=T0)
    async with world.unchanged():
        if route == "phone":
            await refused(world, anna, send=anna.typed_phone)
        else:
            await refused(world, anna, tap="Via de bot")
    # She is back at the menu, not stuck at a route question that is refused every time.
    assert anna.last[-1].text == nl("menu.question")
    state = await state_of(world.app.database, anna)
    assert state is not None and state.step == DONE


# -- 3. declined -------------------------------------------------------------------------


async def test_a_decline_is_passed_on_kindly_without_reasons_and_ideas_follow(
    world: World,
) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro = await ask(world, anna, f"i:{world.soup}", "phone")
    assert [job.kind for job in await world.pending_jobs(intro.id)] == [
        "intro_reminder", "intro_expiry",
    ]  # fmt: skip
    henk.last = await world.take(henk)
    await henk.tap("Nee, liever niet")
    assert henk.last[0].text == nl("intro.decline_noted")
    (told,) = await world.take(anna)
    assert told.text == nl("intro.declined", name=SOUP)
    assert [o.key for o in told.options] == ["g:ideas"]
    await world.take(world["Bram"])
    await world.assert_quiet()
    intro = await world.intro(intro.id)
    assert (intro.status, intro.answered_at, intro.target_route) == ("declined", T0, None)
    assert await world.pending_jobs(intro.id) == []
    assert await world.run_due(T0 + 30 * DAY) == 0
    await world.assert_quiet()

    anna.last = [told]
    await anna.tap("Ideeën voor mij")
    assert anna.last[0].text == nl("ideas.intro")
    assert WALK in anna.text and SOUP not in anna.text
    assert any(o.key == f"s:i:{world.places['walk']}:intro" for o in anna.options)


# -- 4. timers ---------------------------------------------------------------------------


async def test_no_answer_one_reminder_then_expiry(world: World) -> None:
    anna, henk, bram = world["Anna"], world["Henk"], world["Bram"]
    intro = await ask(world, anna, f"i:{world.soup}", "phone")
    (request,) = await world.take(henk)
    await world.take(bram)
    await henk.press(f"x:{intro.id}:accept")  # Henk starts to answer, then forgets

    assert await world.run_due(T0 + 3 * DAY - timedelta(seconds=1)) == 0
    await world.assert_quiet()
    assert await world.run_due(T0 + 3 * DAY) == 1
    for organiser in (henk, bram):
        (reminder,) = await world.take(organiser)
        assert reminder.text == nl("intro.reminder") + "\n\n" + request.text
        assert reminder.options == request.options
    await world.assert_quiet()
    for moment in (3 * DAY, 3 * DAY, 4 * DAY, 6 * DAY, 7 * DAY - timedelta(seconds=1)):
        assert await world.run_due(T0 + moment) == 0
    await world.assert_quiet()

    assert await world.run_due(T0 + 7 * DAY) == 1
    intro = await world.intro(intro.id)
    assert (intro.status, intro.answered_at) == ("expired", T0 + 7 * DAY)
    (told,) = await world.take(anna)
    assert told.text == nl("intro.expired", name=SOUP)
    assert [o.key for o in told.options] == ["g:ideas"]
    await world.assert_quiet()  # the organisers are not told again
    for later in (7 * DAY, 8 * DAY, 30 * DAY):
        assert await world.run_due(T0 + later) == 0
    await world.assert_quiet()

    # Their old buttons are refused; Henk's half-finished answer comes too late.
    bram.last = [request]
    async with world.unchanged():
        await refused(world, bram, tap="Ja, graag")
        bram.last = [request]
        await refused(world, bram, tap="Nee, liever niet")
        await refused(world, henk, tap="Via de bot", expect="intro.too_late")
    anna.last = [told]
    await anna.tap("Ideeën voor mij")
    assert WALK in anna.text and SOUP not in anna.text


async def test_an_accepted_introduction_to_an_initiative_gets_a_follow_up_for_the_requester(
    world: World,
) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro = await ask(world, anna, f"i:{world.soup}", "bot")
    world.clock.now = T0 + DAY
    await answer(henk, intro.id, "bot")
    assert [(j.kind, j.due_at, j.payload) for j in await world.pending_jobs(intro.id)] == [
        ("intro_followup", T0 + 8 * DAY, {"round": 1})
    ]
    await world.clear()
    for moment in (3 * DAY, 7 * DAY, 8 * DAY - timedelta(seconds=1)):
        assert await world.run_due(T0 + moment) == 0
    await world.assert_quiet()
    assert (await world.intro(intro.id)).status == "accepted"

    assert await world.run_due(T0 + 8 * DAY) == 1
    (question,) = await world.take(anna)
    assert question.text == nl("followup.question", name=SOUP)
    assert "hebben jullie elkaar ontmoet?" in question.text.lower()
    assert [o.key for o in question.options] == [f"x:{intro.id}:{o}" for o in OUTCOMES]
    await world.assert_quiet()  # the organisers are not asked
    anna.last = [question]
    await anna.tap("Ja, het was fijn")
    assert anna.last[0].text == nl("followup.thanks.met_good")
    intro = await world.intro(intro.id)
    assert (intro.requester_outcome, intro.target_outcome) == ("met_good", None)
    assert [(j.kind, j.payload) for j in await world.pending_jobs(intro.id)] == [
        ("intro_again", {"only": anna.person_id})  # weeks later: did they meet again?
    ]
    assert await world.run_due(T0 + 60 * DAY) == 1
    (again,) = await world.take(anna)
    assert again.text == nl("followup.again_question", name=SOUP)
    await world.assert_quiet()


def column_length(table: str, column: str) -> int:
    kind = Base.metadata.tables[table].c[column].type
    assert isinstance(kind, String) and kind.length is not None
    return kind.length


def test_every_route_and_outcome_fits_its_column() -> None:
    """PostgreSQL refuses a longer value (SQLite would silently store it)."""
    assert max(map(len, ROUTES)) <= column_length("introductions", "requester_route")
    assert max(map(len, OUTCOMES)) <= column_length("introductions", "requester_outcome")


@pytest.mark.parametrize("outcome", OUTCOMES)
async def test_each_follow_up_answer_is_stored_for_both_neighbours(
    world: World, outcome: str
) -> None:
    anna, piet = world["Anna"], world["Piet"]
    intro = await through_the_bot(world, anna, f"p:{piet.person_id}", piet)
    assert await world.run_due(T0 + 7 * DAY) == 1
    (to_anna,) = await world.take(anna)
    (to_piet,) = await world.take(piet)
    assert (to_anna.text, to_piet.text) == (
        nl("followup.question", name="Piet"), nl("followup.question", name="Anna"),
    )  # fmt: skip
    await world.assert_quiet()
    label = nl(f"button.outcome.{outcome}")
    anna.last = [to_anna]
    await anna.tap(label)
    assert anna.last[0].text == nl(f"followup.thanks.{outcome}")
    intro = await world.intro(intro.id)
    assert (intro.requester_outcome, intro.target_outcome) == (outcome, None)
    piet.last = [to_piet]
    await piet.tap(label)
    intro = await world.intro(intro.id)
    assert (intro.requester_outcome, intro.target_outcome) == (outcome, outcome)
    await world.assert_quiet()


async def test_not_yet_asks_once_more_a_week_later_and_only_once(world: World) -> None:
    anna, piet = world["Anna"], world["Piet"]
    intro = await through_the_bot(world, anna, f"p:{piet.person_id}", piet)
    assert await world.run_due(T0 + 7 * DAY) == 1
    await world.take(piet)
    anna.last = await world.take(anna)
    world.clock.now = T0 + 8 * DAY  # Anna answers a day later
    await anna.tap("Nog niet")
    assert anna.last[0].text == nl("followup.thanks.not_yet")
    assert [(j.due_at, j.payload) for j in await world.pending_jobs(intro.id)] == [
        (T0 + 15 * DAY, {"round": 2, "only": anna.person_id})
    ]
    assert await world.run_due(T0 + 15 * DAY - timedelta(seconds=1)) == 0
    await world.assert_quiet()
    assert await world.run_due(T0 + 15 * DAY) == 1
    (again,) = await world.take(anna)
    assert again.text == nl("followup.question", name="Piet")
    await world.assert_quiet()  # only Anna is asked again, not Piet

    world.clock.now = T0 + 16 * DAY
    anna.last = [again]
    await anna.tap("Nog niet")
    assert (await world.intro(intro.id)).requester_outcome == "not_yet"
    assert await world.pending_jobs(intro.id) == []  # no third time
    for later in (23 * DAY, 30 * DAY, 60 * DAY):
        assert await world.run_due(T0 + later) == 0
    await world.assert_quiet()
    anna.last = [again]
    await anna.tap("Ja, het was fijn")  # she can still tell how it went
    assert (await world.intro(intro.id)).requester_outcome == "met_good"


async def test_not_yet_from_both_neighbours_asks_each_of_them_again(world: World) -> None:
    anna, piet = world["Anna"], world["Piet"]
    intro = await through_the_bot(world, anna, f"p:{piet.person_id}", piet)
    assert await world.run_due(T0 + 7 * DAY) == 1
    anna.last, piet.last = await world.take(anna), await world.take(piet)
    world.clock.now = T0 + 8 * DAY
    await anna.tap("Nog niet")
    world.clock.now = T0 + 9 * DAY
    await piet.tap("Nog niet")
    assert [(j.due_at, j.payload["only"]) for j in await world.pending_jobs(intro.id)] == [
        (T0 + 15 * DAY, anna.person_id), (T0 + 16 * DAY, piet.person_id),
    ]  # fmt: skip
    assert await world.run_due(T0 + 16 * DAY) == 2
    assert [r.text for r in await world.take(anna)] == [nl("followup.question", name="Piet")]
    assert [r.text for r in await world.take(piet)] == [nl("followup.question", name="Anna")]
    await world.assert_quiet()


# -- 5. the relay ------------------------------------------------------------------------


async def test_the_relay_shows_first_names_hides_numbers_and_ends_for_both(world: World) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro = await ask(world, anna, f"i:{world.soup}", "bot")
    await answer(henk, intro.id, "bot")
    (to_anna,) = await world.take(anna)
    assert [o.key for o in to_anna.options] == [f"x:{intro.id}:{a}" for a in WRITE_SHARE_REPORT]
    await world.clear()

    anna.last = [to_anna]
    await anna.tap("Bericht sturen")
    assert anna.last[0].text == nl("relay.write", name=SOUP)
    await anna.send("Hallo! Ik kook graag mee.")
    assert anna.last[0].text == nl("relay.sent")
    (to_henk,) = await world.take(henk)
    assert to_henk.text == nl("relay.message", name="Anna", text="Hallo! Ik kook graag mee.")
    assert [o.key for o in to_henk.options] == [f"x:{intro.id}:{a}" for a in WRITE_END_REPORT]

    henk.last = [to_henk]
    await henk.tap("Antwoorden")
    assert henk.last[0].text == nl("relay.write", name="Anna")
    await henk.send("Welkom! Woensdag om 12 uur?")
    (back,) = await world.take(anna)
    assert back.text == nl(
        "relay.message", name=f"Henk ({SOUP})", text="Welkom! Woensdag om 12 uur?"
    )
    assert world.ledger.allowed == set()  # so the ledger saw no number or username pass

    # Henk starts another message; meanwhile Anna stops the conversation.
    await henk.press(f"x:{intro.id}:write")
    await world.take(world["Bram"])
    anna.last = [back]
    await anna.tap("Stop gesprek")
    assert anna.last[0].text == nl("relay.ended")
    assert [r.text for r in await world.take(henk)] == [nl("relay.ended_by", name="Anna")]
    assert (await world.intro(intro.id)).relay_open is False
    await world.take(world["Bram"])
    async with world.unchanged():
        await refused(world, henk, send="Of liever donderdag?", expect="relay.closed")
        henk.last = [to_henk]
        await refused(world, henk, tap="Antwoorden")
        await refused(world, anna, f"x:{intro.id}:write")
        await refused(world, anna, f"x:{intro.id}:end")
        await refused(world, henk, f"x:{intro.id}:end")
    assert (await world.intro(intro.id)).status == "accepted"


async def test_a_greeting_or_a_number_written_through_the_bot_is_passed_on(
    world: World,
) -> None:
    """Words for the other side are a message, whatever they look like: "Hallo!" is no
    greeting to the bot, "2" no button number, "Engels" or "weet ik niet" no command."""
    anna, henk = world["Anna"], world["Henk"]
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    said_words = ("Hallo!", "goedemorgen", "2", "12 uur?", "bedankt", "Engels", "weet ik niet",
                  "klaar", "ik snap het niet", "opnieuw")  # fmt: skip
    for said in said_words:
        await henk.press(f"x:{intro.id}:write")
        await henk.send(said)
        assert henk.last[0].text == nl("relay.sent"), said
        (got,) = await world.take(anna)
        assert got.text == nl("relay.message", name=f"Henk ({SOUP})", text=said)
    for command in ("stop", "help"):  # leaving and asking for help still work
        await henk.press(f"x:{intro.id}:write")
        await henk.send(command)
        assert henk.last[0].text != nl("relay.sent")
        assert await world.take(anna) == []


async def test_sharing_by_both_reveals_both_routes_and_closes_the_relay(world: World) -> None:
    anna, piet = world["Anna"], world["Piet"]
    intro = await through_the_bot(world, anna, f"p:{piet.person_id}", piet)

    # Choosing "via the bot" when asked to share keeps things as they are.
    await piet.press(f"x:{intro.id}:share")
    await choose_route(piet, "bot")
    assert piet.last[0].text == nl("intro.share_bot_kept")
    assert (await world.intro(intro.id)).relay_open is True
    await world.assert_quiet()

    await piet.press(f"x:{intro.id}:share")
    await choose_route(piet, "username")
    assert piet.last[0].text == nl("intro.share_waiting", name="Anna")
    (asked,) = await world.take(anna)
    assert asked.text == nl("intro.share_asked", name="Piet")
    await world.assert_quiet()
    assert (await world.intro(intro.id)).relay_open is True

    await world.entitle(anna, piet, "username")
    await world.entitle(piet, anna, "phone")
    anna.last = [asked]
    await anna.tap("Contact delen")
    assert anna.last[0].text == nl("intro.route_share")
    await choose_route(anna, "phone")
    assert anna.last[0].text == nl("intro.shared")
    (to_anna,) = await world.take(anna)
    assert to_anna.text.endswith(route_line("username", piet, "Piet"))
    (to_piet,) = await world.take(piet)
    assert to_piet.text.endswith(route_line("phone", anna, "Anna"))
    report = (Option(f"x:{intro.id}:report", nl("button.report")),)
    assert (to_anna.options, to_piet.options) == (report, report)
    await world.assert_quiet()
    intro = await world.intro(intro.id)
    assert (intro.relay_open, intro.requester_route, intro.target_route) == (
        False, "phone", "username",
    )  # fmt: skip
    async with world.unchanged():
        await refused(world, anna, f"x:{intro.id}:write")
        await refused(world, piet, f"x:{intro.id}:write")


async def test_contact_shared_later_reaches_the_organiser_who_accepted(world: World) -> None:
    anna, henk, bram = world["Anna"], world["Henk"], world["Bram"]
    intro = await ask(world, anna, f"i:{world.soup}", "bot")
    await world.entitle(anna, henk, "phone")
    await answer(henk, intro.id, "phone")
    await world.clear()
    await world.entitle(henk, anna, "username")
    await anna.press(f"x:{intro.id}:share")
    await choose_route(anna, "username")  # reaches Bram instead of Henk: the ledger fails
    (to_henk,) = await world.take(henk)
    assert to_henk.text.endswith(route_line("username", anna, "Anna"))
    assert await world.take(bram) == []


async def test_an_organiser_who_did_not_answer_stays_out(world: World) -> None:
    anna, henk, bram = world["Anna"], world["Henk"], world["Bram"]
    intro = await ask(world, anna, f"i:{world.soup}", "phone")
    await world.entitle(henk, anna, "phone")
    await answer(henk, intro.id, "bot")
    await world.clear()
    await anna.press(f"x:{intro.id}:write")
    await anna.send("Tot woensdag!")
    assert [r.text for r in await world.take(henk)] == [
        nl("relay.message", name="Anna", text="Tot woensdag!")
    ]
    assert await world.take(bram) == []
    async with world.unchanged():
        await refused(world, bram, f"x:{intro.id}:share")


# -- 6. room -----------------------------------------------------------------------------


async def test_a_full_initiative_is_no_longer_suggested(world: World) -> None:
    anna, carla = world["Anna"], world["Carla"]
    async with world.app.database.unit_of_work() as store:
        await store.update_initiative(world.soup, {"capacity": 1}, now=T0)

    async def soup_suggested_to(member: Member) -> bool:
        async with world.app.database.unit_of_work() as store:
            person = await store.get_person(member.person_id)
            assert person is not None and seeker_from(person) is not None
            found = await find_suggestions(store, person, now=world.clock.now, limit=10)
        return any(s.candidate.kind == "initiative" and s.candidate.id == world.soup for s in found)

    assert await soup_suggested_to(carla) and await soup_suggested_to(anna)
    intro = await ask(world, anna, f"i:{world.soup}", "bot")
    assert not await soup_suggested_to(carla)
    await world.clear()
    await carla.send("ideeën")
    assert carla.last[0].text == nl("ideas.intro") and SOUP not in carla.text
    async with world.unchanged():
        await refused(world, carla, f"s:i:{world.soup}:intro")

    # Declined, the place is free again; accepted, it is taken.
    await world["Henk"].press(f"x:{intro.id}:decline")
    assert await soup_suggested_to(carla)
    intro = await ask(world, carla, f"i:{world.soup}", "bot")
    await answer(world["Henk"], intro.id, "bot")
    eve = world["Eve"]  # Eve turns out to like cooking too
    async with world.app.database.unit_of_work() as store:
        await store.update_person(eve.person_id, {"gifts": ("cooking",)})
    assert not await soup_suggested_to(eve)
    await world.clear()
    async with world.unchanged():
        await refused(world, eve, f"s:i:{world.soup}:intro")
    async with world.app.database.unit_of_work() as store:
        await store.update_initiative(world.soup, {"capacity": 2}, now=T0)
    assert await soup_suggested_to(eve)
    assert not await soup_suggested_to(anna)  # she asked before, whatever the room


# -- 7. "vergeet mij" in the middle ------------------------------------------------------


async def rows_referring_to(world: World, person_id: int) -> dict[str, int]:
    """Per column that refers to people.id (and people.id itself): rows with `person_id`."""
    counts: dict[str, int] = {}
    async with world.app.database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                refers = any(fk.column.table.name == "people" for fk in column.foreign_keys)
                if refers or (table.name == "people" and column.name == "id"):
                    count = await connection.scalar(
                        select(func.count()).select_from(table).where(column == person_id)
                    )
                    counts[f"{table.name}.{column.name}"] = int(count or 0)
    return counts


async def test_forget_me_in_the_middle_of_introductions(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    anna, henk, bram, piet, eve = (world[n] for n in ("Anna", "Henk", "Bram", "Piet", "Eve"))
    requested = await ask(world, anna, f"i:{world.soup}", "phone")
    accepted = await ask(world, anna, f"p:{piet.person_id}", "bot")
    await answer(piet, accepted.id, "bot")
    await anna.press(f"s:i:{world.places['walk']}:dismiss")
    old = {m.name: await world.take(m) for m in world.members.values()}
    await henk.press(f"x:{requested.id}:accept")  # Henk is choosing his route
    await piet.press(f"x:{accepted.id}:write")  # Piet is typing a message for Anna
    assert piet.last[0].text == nl("relay.write", name="Anna")
    await anna.send("vergeet mij")
    assert anna.last[0].text == nl("forget.confirm")
    async with world.app.database.unit_of_work() as store:
        await store.add_block(eve.person_id, anna.person_id, now=T0)
        await store.queue_message(anna.person_id, "nog niet bezorgd")  # not delivered yet
    before = await rows_referring_to(world, anna.person_id)
    assert len(before) >= 15
    assert all(before[c] for c in ("introductions.requester_id", "dismissals.person_id",
                                   "blocks.blocked_id", "identities.person_id"))  # fmt: skip
    assert await world.pending_jobs(requested.id) and await world.pending_jobs(accepted.id)

    await anna.tap("Ja, wis alles")
    assert anna.last[0].text == nl("forget.done")

    assert await rows_referring_to(world, anna.person_id) == dict.fromkeys(before, 0)
    jobs = Base.metadata.tables["jobs"]
    async with world.app.database.engine.connect() as connection:
        left = await connection.scalar(
            select(func.count())
            .select_from(jobs)
            .where(jobs.c.introduction_id.in_([requested.id, accepted.id]))
        )
    assert left == 0
    # Piet was talking with her through the bot: he is told, without her name.
    (told,) = await world.take(piet)
    assert told.text == nl("intro.left") and "Anna" not in told.text
    await world.assert_quiet()

    # Old buttons and half-finished answers get a kind answer and change nothing.
    async with world.unchanged():
        await refused(world, henk, tap="Via de bot", expect="intro.gone")
        henk.last = old["Henk"]
        await refused(world, henk, tap="Ja, graag")
        bram.last = old["Bram"]
        await refused(world, bram, tap="Nee, liever niet")
        await refused(world, piet, send="Hoi Anna!", expect="relay.closed")
        for action in ACTIONS:
            await refused(world, piet, f"x:{accepted.id}:{action}")
    await world.assert_quiet()

    caplog.set_level(logging.WARNING, logger="bot.scheduler")
    for moment in (3 * DAY, 7 * DAY, 8 * DAY, 30 * DAY):
        assert await world.run_due(T0 + moment) == 0
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    await world.assert_quiet()

    # She may come back as a stranger: nothing of her is found.
    await anna.send("hallo")
    assert "ja, ik doe mee" in " ".join(o.label for o in anna.options).lower()


async def test_forget_me_leaves_her_contact_details_nowhere(world: World) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro = await ask(world, anna, f"i:{world.soup}", "phone")
    await world.entitle(henk, anna, "phone")
    await answer(henk, intro.id, "bot")
    await world.clear()
    await anna.send("vergeet mij")
    await anna.tap("Ja, wis alles")
    assert anna.last[0].text == nl("forget.done")
    found = []
    async with world.app.database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String):
                    hit = select(func.count()).select_from(table).where(column.contains(anna.phone))
                    if await connection.scalar(hit):
                        found.append(f"{table.name}.{column.name}")
    assert found == []
