"""A simulated resident that talks to `Conversations` directly, channel-neutral."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from bot.app import App
from bot.demo import DEMO_AREAS, DEMO_POSTCODES, seed_demo
from handlers.conversation import Conversations
from handlers.flow import CONSENT_VERSION, DONE
from handlers.messages import Inbound, Location, MediaKind, Option, Reply
from storage.db import Database
from storage.models import AreaRow, Base, PostcodeRow
from storage.records import ConversationState, Person

_update_ids = itertools.count(1)


@dataclass
class Resident:
    conversations: Conversations
    external_id: str = "anna"
    first_name: str | None = "Anna"
    language_code: str | None = "nl"
    channel: str = "test"
    last: list[Reply] = field(default_factory=list)
    screen: list[Reply] = field(default_factory=list)  # everything received, oldest first
    taps: int = 0

    def inbound(self, **values: object) -> Inbound:
        return Inbound(
            channel=self.channel,
            external_id=self.external_id,
            update_id=str(next(_update_ids)),
            first_name=self.first_name,
            language_code=self.language_code,
            **values,  # type: ignore[arg-type]
        )

    async def deliver(self, inbound: Inbound) -> list[Reply]:
        self.last = await self.conversations.handle(inbound)
        self.screen.extend(self.last)
        return self.last

    async def send(self, text: str | None) -> list[Reply]:
        return await self.deliver(self.inbound(text=text))

    async def send_media(self, kind: MediaKind) -> list[Reply]:
        return await self.deliver(self.inbound(media=kind))

    async def send_location(self, latitude: float, longitude: float) -> list[Reply]:
        return await self.deliver(self.inbound(location=Location(latitude, longitude)))

    async def press(self, key: str) -> list[Reply]:
        return await self.deliver(self.inbound(choice=key))

    async def tap(self, label: str) -> list[Reply]:
        """Tap the button whose label contains `label` (case-insensitive) in the last replies."""
        option = self.find(label)
        self.taps += 1
        return await self.press(option.key)

    async def tap_in(self, text: str, label: str) -> list[Reply]:
        """Tap `label` on the message whose text contains `text`."""
        for reply in self.last:
            if text in reply.text:
                for option in reply.options:
                    if label.lower() in option.label.lower():
                        self.taps += 1
                        return await self.press(option.key)
        raise AssertionError(f"no {label!r} under {text!r} in {self.text}")

    async def tap_on_screen(self, text: str, label: str) -> list[Reply]:
        """Tap `label` on the newest message so far whose text contains `text`: a keyboard
        higher up in the chat that still takes taps."""
        for reply in reversed(self.screen):
            if text in reply.text:
                for option in reply.options:
                    if label.lower() in option.label.lower():
                        self.taps += 1
                        return await self.press(option.key)
        raise AssertionError(f"no {label!r} under {text!r} on the screen")

    def find(self, label: str) -> Option:
        for option in self.options:
            if label.lower() in option.label.lower():
                return option
        raise AssertionError(f"no button {label!r} in {[o.label for o in self.options]}")

    @property
    def options(self) -> list[Option]:
        return [option for reply in self.last for option in reply.options]

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.last)


async def person_of(database: Database, resident: Resident) -> Person | None:
    async with database.unit_of_work() as store:
        return await store.find_person_by_identity(resident.channel, resident.external_id)


async def state_of(database: Database, resident: Resident) -> ConversationState | None:
    async with database.unit_of_work() as store:
        person = await store.find_person_by_identity(resident.channel, resident.external_id)
        return await store.get_conversation(person.id) if person else None


async def snapshot(database: Database, resident: Resident) -> tuple[Person, ConversationState]:
    """The person and where they are (without the time it was saved)."""
    async with database.unit_of_work() as store:
        person = await store.find_person_by_identity(resident.channel, resident.external_id)
        assert person is not None
        state = await store.get_conversation(person.id)
        assert state is not None
    return person, replace(state, updated_at=None)


@dataclass
class FakeClock:
    """What the app takes for "now"; tests move it on to make timers due."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


# -- seeding -------------------------------------------------------------------------------


async def seed_places(app: App, *, community: bool = False) -> None:
    """The demo places; with `community`, all of `seed_demo` (people, initiatives: slower)."""
    if community:
        async with app.database.unit_of_work() as store:
            await seed_demo(store)
    else:  # the same places, in two statements: most tests need nothing else
        async with app.database.engine.begin() as connection:
            await connection.execute(insert(PostcodeRow), [vars(p) for p in DEMO_POSTCODES])
            await connection.execute(insert(AreaRow), [vars(a) for a in DEMO_AREAS])


async def add_person(
    database: Database,
    external_id: str = "101",
    *,
    channel: str = "telegram",
    reachable: bool = True,
) -> int:
    """Someone who consented (in Dutch) on `channel` and nothing more; their person id."""
    async with database.unit_of_work() as store:
        person = await store.create_person_with_consent(
            channel=channel,
            external_id=external_id,
            username=None,
            language="nl",
            consent_version="test",
        )
        if not reachable:
            await store.update_person(person.id, {"reachable": False})
        return person.id


async def seeded(app: App, external_id: str = "anna", *, community: bool = False) -> Resident:
    """`seed_places`, then a resident (not yet known to the bot) called `external_id`."""
    await seed_places(app, community=community)
    return Resident(app.conversations, external_id=external_id)


# -- reading what happened -----------------------------------------------------------------


def text_of(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


async def row_counts(database: Database) -> dict[str, int]:
    """Rows per table, for every table of the schema."""
    async with database.engine.connect() as connection:
        return {
            table.name: (
                await connection.execute(select(func.count()).select_from(table))
            ).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def assert_free_text_profile(person: Person | None) -> None:
    """The profile the free-text intake (as "Anneke", in her own words) leaves behind."""
    assert person is not None
    assert person.first_name == "Anneke"
    assert person.postcode == "7607"
    assert set(person.gifts) >= {"cooking", "diy"}
    assert "walking" in person.wishes
    assert set(person.times) == {"morning", "weekend"}
    assert person.max_distance_m == 1500
    assert person.group_pref == "group"
    assert person.free_only is True
    assert person.intake_done_at is not None


async def joined(
    app: App, external_id: str, first_name: str | None = None
) -> tuple[Resident, Person]:
    """A resident who said hello and yes: known to the bot from now on."""
    resident = Resident(app.conversations, external_id=external_id, first_name=first_name)
    await resident.send("hallo")
    await resident.tap("ja, ik doe mee")
    person = await person_of(app.database, resident)
    assert person is not None
    return resident, person


async def known(
    app: App,
    external_id: str,
    *,
    channel: str = "test",
    consent_version: str = CONSENT_VERSION,
    step: str = DONE,
    turn: int = 1,
    profile: dict[str, object] | None = None,
) -> int:
    """Someone who consented earlier (to `consent_version`), with this profile, at `step`;
    returns their person id."""
    async with app.database.unit_of_work() as store:
        person = await store.create_person_with_consent(
            channel=channel, external_id=external_id, username=None, language="nl",
            consent_version=consent_version,
        )  # fmt: skip
        if profile:
            await store.update_person(person.id, profile)
        await store.save_conversation(ConversationState(person.id, "intake", step, turn))
    return person.id
