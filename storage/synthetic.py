"""Synthetic rows for the matching benchmark, written and removed at table level.

`python -m bot bench matching` fills a database with many seeded residents, initiatives,
introductions, dismissals and blocks (built in `bot.synthetic`). No storage verb writes in
bulk, so this module does, like the migrations, with SQLAlchemy Core: executemany in batches
of `BATCH` rows, in one transaction. It also keeps the benchmark away from real data:

* `require_empty` refuses a database that holds people or initiatives; `reset` empties one
  (all data except postcodes and areas);
* synthetic rows carry ids from the ranges that `next_ids` hands out and a mark
  (`PERSON_MARK` at the start of a first name, `INITIATIVE_MARK` of a title); `insert_set`
  refuses rows without them, and links that reach outside them, and `remove` deletes only
  rows that have both, with what refers to them.

Rows go in as plain dicts (typed below), counts come out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import Table, delete, func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database
from storage.models import Base, InitiativeRow, PersonRow, PostcodeRow
from storage.records import Postcode

PERSON_MARK = "Bench "
"""Every synthetic person's first name starts with this."""

INITIATIVE_MARK = "Bench initiative "
"""Every synthetic initiative's title starts with this."""

BATCH = 5_000
KEPT_ON_RESET = frozenset({"postcodes", "areas"})
HELD = ("people", "initiatives")
TABLES = ("people", "initiatives", "introductions", "dismissals", "blocks")


class SyntheticPerson(TypedDict):
    id: int
    role: str
    language: str
    first_name: str
    postcode: str
    area_name: str
    latitude: float
    longitude: float
    gifts: list[str]
    wishes: list[str]
    times: list[str]
    max_distance_m: int
    group_pref: str
    free_only: bool
    intake_done_at: datetime
    reachable: bool
    suggestions_paused: bool
    neighbour_visible: bool
    organisation_id: int | None
    created_at: datetime


class SyntheticInitiative(TypedDict):
    id: int
    organisation_id: int | None
    title: str
    description: str
    offers: list[str]
    needs: list[str]
    postcode: str
    place_name: str
    latitude: float
    longitude: float
    times: list[str]
    free: bool
    wheelchair: bool
    capacity: int
    status: str
    created_at: datetime
    updated_at: datetime


class SyntheticIntroduction(TypedDict):
    requester_id: int
    initiative_id: int | None
    neighbour_id: int | None
    status: str
    reason: str
    relay_open: bool
    created_at: datetime
    answered_at: datetime | None


class SyntheticDismissal(TypedDict):
    person_id: int
    initiative_id: int | None
    neighbour_id: int | None
    created_at: datetime


class SyntheticBlock(TypedDict):
    person_id: int
    blocked_id: int
    created_at: datetime


@dataclass(frozen=True)
class IdRanges:
    """The ids synthetic people and initiatives are numbered with."""

    people: range
    initiatives: range


@dataclass(frozen=True)
class SyntheticSet:
    ids: IdRanges
    people: Sequence[SyntheticPerson]
    initiatives: Sequence[SyntheticInitiative]
    introductions: Sequence[SyntheticIntroduction]
    dismissals: Sequence[SyntheticDismissal]
    blocks: Sequence[SyntheticBlock]

    def rows(self) -> dict[str, Sequence[Any]]:
        """The rows by table, in the order they can be inserted."""
        return {
            "people": self.people,
            "initiatives": self.initiatives,
            "introductions": self.introductions,
            "dismissals": self.dismissals,
            "blocks": self.blocks,
        }


class DatabaseNotEmpty(RuntimeError):
    """The database holds people or initiatives, and was not to be reset."""

    def __init__(self, held: dict[str, int]) -> None:
        self.held = held
        super().__init__(f"the database holds {describe(held)}")


def describe(counts: dict[str, int]) -> str:
    """Counts as words: 3000 people, 300 initiatives."""
    return ", ".join(f"{n} {what}" for what, n in counts.items())


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


async def _count(connection: AsyncConnection, name: str) -> int:
    return int(await connection.scalar(select(func.count()).select_from(_table(name))) or 0)


async def count_rows(database: Database) -> dict[str, int]:
    """How many people, initiatives, introductions, dismissals and blocks there are."""
    async with database.engine.connect() as connection:
        return {name: await _count(connection, name) for name in TABLES}


async def require_empty(database: Database) -> None:
    """Raise `DatabaseNotEmpty` if the database holds people or initiatives."""
    async with database.engine.connect() as connection:
        held = {name: await _count(connection, name) for name in HELD}
    if any(held.values()):
        raise DatabaseNotEmpty(held)


async def reset(database: Database) -> None:
    """Delete ALL data, except postcodes and areas."""
    async with database.engine.connect() as connection:
        existing = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    async with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in existing and table.name not in KEPT_ON_RESET:
                await connection.execute(delete(table))


async def list_postcodes(database: Database) -> list[Postcode]:
    """Every stored postcode, by code."""
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(
                PostcodeRow.code,
                PostcodeRow.place,
                PostcodeRow.municipality,
                PostcodeRow.latitude,
                PostcodeRow.longitude,
            ).order_by(PostcodeRow.code)
        )
        return [Postcode(*row) for row in rows]


async def next_ids(database: Database, *, people: int, initiatives: int) -> IdRanges:
    """Ranges of `people` and `initiatives` ids after the highest ones in use."""
    async with database.engine.connect() as connection:
        first_person = int(await connection.scalar(select(func.max(PersonRow.id))) or 0) + 1
        first_initiative = int(await connection.scalar(select(func.max(InitiativeRow.id))) or 0) + 1
    return IdRanges(
        people=range(first_person, first_person + people),
        initiatives=range(first_initiative, first_initiative + initiatives),
    )


def _check(data: SyntheticSet) -> None:
    """Refuse rows that `remove` would not find again, and links to anything else."""
    people, initiatives = data.ids.people, data.ids.initiatives

    def refuse(what: str) -> None:
        raise ValueError(f"not a synthetic row (ids {people}, {initiatives}): {what}")

    def targets_ours(initiative_id: int | None, neighbour_id: int | None) -> bool:
        if initiative_id is None:
            return neighbour_id in people
        return neighbour_id is None and initiative_id in initiatives

    for person in data.people:
        if person["id"] not in people or not person["first_name"].startswith(PERSON_MARK):
            refuse(f"person {person['id']} {person['first_name']!r}")
    for initiative in data.initiatives:
        if initiative["id"] not in initiatives or not initiative["title"].startswith(
            INITIATIVE_MARK
        ):
            refuse(f"initiative {initiative['id']} {initiative['title']!r}")
    for introduction in data.introductions:
        if introduction["requester_id"] not in people or not targets_ours(
            introduction["initiative_id"], introduction["neighbour_id"]
        ):
            refuse(f"introduction {introduction}")
    for dismissal in data.dismissals:
        if dismissal["person_id"] not in people or not targets_ours(
            dismissal["initiative_id"], dismissal["neighbour_id"]
        ):
            refuse(f"dismissal {dismissal}")
    for block in data.blocks:
        if block["person_id"] not in people or block["blocked_id"] not in people:
            refuse(f"block {block}")


async def _insert(connection: AsyncConnection, table: Table, rows: Sequence[Any]) -> None:
    for start in range(0, len(rows), BATCH):
        await connection.execute(insert(table), list(rows[start : start + BATCH]))


async def insert_set(database: Database, data: SyntheticSet) -> dict[str, int]:
    """Write the whole set in one transaction; returns how many rows went into each table."""
    _check(data)
    async with database.engine.begin() as connection:
        for name, rows in data.rows().items():
            await _insert(connection, _table(name), rows)
    return {name: len(rows) for name, rows in data.rows().items()}


async def analyze(database: Database) -> None:
    """Refresh the planner's statistics after a bulk write."""
    async with database.engine.connect() as connection:
        await connection.execute(text("ANALYZE"))
        await connection.commit()


async def advance_id_sequences(database: Database) -> None:
    """PostgreSQL: the rows were written with explicit ids; move the id sequences past them,
    so that rows created afterwards get fresh ids. (SQLite needs nothing.)"""
    if database.is_sqlite:
        return
    async with database.engine.begin() as connection:
        for name in HELD:
            await connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
            )


async def remove(database: Database, ids: IdRanges) -> dict[str, int]:
    """Delete the synthetic rows: people and initiatives numbered within `ids` that carry the
    mark, and the introductions, dismissals and blocks of or to them (whatever else refers to
    them goes by its foreign key). Nothing else is touched. Returns the rows deleted per table.
    """
    person, initiative = _table("people").c, _table("initiatives").c
    intro, dismissal, block = (_table(t).c for t in ("introductions", "dismissals", "blocks"))
    ours = (
        select(person.id)
        .where(person.id.between(ids.people.start, ids.people.stop - 1))
        .where(person.first_name.startswith(PERSON_MARK))
    )
    our_initiatives = (
        select(initiative.id)
        .where(initiative.id.between(ids.initiatives.start, ids.initiatives.stop - 1))
        .where(initiative.title.startswith(INITIATIVE_MARK))
    )
    deletions = (
        ("introductions", intro.requester_id.in_(ours)),
        ("introductions", intro.neighbour_id.in_(ours)),
        ("introductions", intro.initiative_id.in_(our_initiatives)),
        ("dismissals", dismissal.person_id.in_(ours)),
        ("blocks", block.person_id.in_(ours)),
        ("initiatives", initiative.id.in_(our_initiatives)),
        ("people", person.id.in_(ours)),
    )
    removed = dict.fromkeys(TABLES, 0)
    async with database.engine.begin() as connection:
        for name, condition in deletions:
            result = await connection.execute(delete(_table(name)).where(condition))
            removed[name] += max(result.rowcount, 0)
    return removed
