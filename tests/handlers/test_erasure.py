"""'Vergeet mij' leaves no trace, whatever state an introduction is in, on either side.

For every state an introduction can be in (requested, declined, expired, accepted with
contact details, in a relay, relay ended, contact sharing asked), to an initiative or to a
neighbour, with the erased person as the one who asked or as the other side: after
erasure, no row refers to them, no text column of any table names them (as a whole word)
or holds a contact detail they gave, and no message delivered afterwards does either — the
timers (reminder, expiry, follow-up) included.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import JSON, String, Text, select

from storage.models import Base
from tests.handlers.test_introductions import (
    DAY,
    STATE_ROWS,
    T0,
    Member,
    World,
    bring_to,
    nl,
    rows_referring_to,
    side_of,
    world,
)

__all__ = ["world"]  # the fixture, shared with the introductions' tests


def traces(member: Member) -> list[re.Pattern[str]]:
    """What must not be found of `member`: the first name as a whole word, and every
    contact detail (phone as stored and as typed, username)."""
    literal = [member.phone, member.typed_phone, member.username or ""]
    return [re.compile(rf"\b{re.escape(member.name)}\b", re.IGNORECASE)] + [
        re.compile(re.escape(value)) for value in literal if value
    ]


async def texts_in_every_table(world: World) -> list[tuple[str, str]]:
    """Every text (and JSON, as text) stored in any column of any table."""
    found: list[tuple[str, str]] = []
    async with world.app.database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            for row in await connection.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is not None:
                        found.append((f"{table.name}.{column.name}", str(value)))
    return found


async def name_it_everywhere(world: World, erased: Member, others: list[Member]) -> None:
    """Make the others' logs and queues name `erased`: they ask for their requests and, in
    a relay, write to them by name."""
    for other in others:
        await other.send("verzoeken")
        for reply in other.last:
            for option in reply.options:
                if option.key.endswith(":write"):
                    await other.press(option.key)
                    await other.send(f"Hallo {erased.name}, tot woensdag!")
                    break


@pytest.mark.parametrize("side", ["requester", "other side"])
@pytest.mark.parametrize("state", list(STATE_ROWS))
@pytest.mark.parametrize("kind", ["i", "p"])
async def test_erasure_leaves_no_trace(world: World, kind: str, state: str, side: str) -> None:
    anna = world["Anna"]
    target, _ = side_of(world, kind)
    intro = await bring_to(world, kind, state)
    erased, other = (anna, target) if side == "requester" else (target, anna)
    if intro.relay_open:  # a relayed message that names the other, still to be delivered
        await other.press(f"x:{intro.id}:write")
        await other.send(f"Dag {erased.name}, wanneer zie ik je?")
    await name_it_everywhere(world, erased, [m for m in world.members.values() if m != erased])
    # Everything the others got so far was delivered; what is queued now must be cancelled.
    if intro.relay_open:
        await other.press(f"x:{intro.id}:write")
        await other.send(f"Nog een vraag, {erased.name}: om 10 uur?")

    await erased.send("vergeet mij")
    await erased.tap("Ja, wis alles")
    assert erased.last[0].text == nl("forget.done")
    mark = len(world.ledger.sent)

    counts = await rows_referring_to(world, erased.person_id)
    assert counts == dict.fromkeys(counts, 0)
    patterns = traces(erased)
    stored = [
        (column, text)
        for column, text in await texts_in_every_table(world)
        if any(p.search(text) for p in patterns)
    ]
    assert stored == []

    for moment in (3 * DAY, 7 * DAY, 8 * DAY, 14 * DAY, 30 * DAY):
        await world.run_due(T0 + moment)
    await world.drain()
    delivered = [
        (sent.to, sent.text)
        for sent in world.ledger.sent[mark:]
        if any(p.search(text) for p in patterns for text in (sent.text, *_labels(sent)))
    ]
    assert delivered == []
    # Whoever was waiting for them in an open introduction was told, kindly and nameless.
    # (A request to an initiative stays open while another organiser can still answer it.)
    told = [s for s in world.ledger.sent[mark:] if s.text == nl("intro.left")]
    waiting = intro.status == "accepted" or (
        intro.status == "requested" and erased != anna and kind == "p"
    )
    assert bool(told) == waiting, [s.text for s in world.ledger.sent[mark:]]


def _labels(sent: Any) -> list[str]:
    return [o.label for o in sent.options]
