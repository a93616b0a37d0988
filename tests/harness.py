"""A simulated resident that talks to `Conversations` directly, channel-neutral."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from handlers.conversation import Conversations
from handlers.messages import Inbound, Location, MediaKind, Option, Reply
from storage.db import Database
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
