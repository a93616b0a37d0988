"""Who is who in an introduction: the requester, and the other side (a neighbour, or the
organiser who answered for an initiative); how each side names the other."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from handlers.i18n import Texts
from handlers.messages import Option
from handlers.turn import Turn
from storage.records import Introduction, Person
from storage.store import Store


class Queue(Protocol):
    """Puts a message for someone else in the outbox: `Store.queue_message` for timers,
    and `told(turn)` during a conversation, so that the conversation wakes the delivery.
    `introduction_id` and `about` (the people it names) let erasure cancel it."""

    async def __call__(
        self,
        person_id: int,
        text: str,
        options: Sequence[tuple[str, str]] = (),
        *,
        introduction_id: int | None = None,
        about: Collection[int] = (),
    ) -> object: ...


def told(turn: Turn) -> Queue:
    """Messages for others through `turn.tell`: queued in the same transaction, and the
    conversation's outbox listeners (the delivery's wake) are called after the commit."""

    async def queue(
        person_id: int,
        text: str,
        options: Sequence[tuple[str, str]] = (),
        *,
        introduction_id: int | None = None,
        about: Collection[int] = (),
    ) -> None:
        turn.tell(
            person_id,
            text,
            tuple(Option(key, label) for key, label in options),
            about=tuple(about),
            introduction_id=introduction_id,
        )

    return queue


async def target_people(store: Store, intro: Introduction) -> list[int]:
    """The other side: the neighbour; for an initiative, the organiser who said yes, or
    (while nobody answered yet) all its organisers."""
    if intro.neighbour_id is not None:
        return [intro.neighbour_id]
    if intro.answered_by_id is not None:
        return [intro.answered_by_id]
    assert intro.initiative_id is not None
    return await store.list_organiser_ids(intro.initiative_id)


async def is_target(store: Store, intro: Introduction, person_id: int) -> bool:
    if intro.neighbour_id is not None:
        return intro.neighbour_id == person_id
    if intro.answered_by_id is not None:
        return intro.answered_by_id == person_id
    assert intro.initiative_id is not None
    return await store.is_organiser_of(person_id, intro.initiative_id)


async def side_name(store: Store, intro: Introduction, texts: Texts, language: str) -> str:
    """How the requester sees the other side: a first name, or the initiative's title."""
    if intro.neighbour_id is not None:
        neighbour = await store.get_person(intro.neighbour_id)
        return (neighbour.first_name if neighbour else None) or texts(language, "intro.someone")
    initiative = await store.get_initiative(intro.initiative_id or 0)
    return initiative.title if initiative else texts(language, "intro.someone")


def first_name(person: Person | None, texts: Texts, language: str) -> str:
    return (person.first_name if person else None) or texts(language, "intro.someone")


def named_people(intro: Introduction) -> tuple[int, ...]:
    """The people a text about this introduction may name: requester and other side."""
    return tuple(p for p in (intro.requester_id, intro.neighbour_id, intro.answered_by_id) if p)


async def others(turn: Turn, intro: Introduction, as_requester: bool) -> list[int]:
    return await target_people(turn.store, intro) if as_requester else [intro.requester_id]


async def other_name(turn: Turn, intro: Introduction, as_requester: bool) -> str:
    """How this person names the other side; the turn's log now names them."""
    turn.mention(*named_people(intro))
    if as_requester:
        return await side_name(turn.store, intro, turn.texts, turn.lang)
    return first_name(await turn.store.get_person(intro.requester_id), turn.texts, turn.lang)
