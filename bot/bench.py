"""`python -m bot bench matching`: how fast are suggestions with many residents?

The benchmark fills a database with synthetic, seeded (so reproducible) residents with
completed profiles and approved initiatives, spread uniformly over the Dutch 4-digit postcodes
(each point jittered by about 300 m around its centroid), plus some introductions, dismissals
and blocks so that exclusions and fairness have work to do. It then:

* asks `handlers.suggest.find_suggestions`, the path the chat uses, for suggestions for
  `--requests` random residents, each in its own unit of work, and times each request
  (`time.perf_counter`, from opening the unit of work to its commit; the person record is
  loaded beforehand, as the chat has it already);
* measures a naive baseline in the same run: every candidate loaded into memory once, and
  for each of a sample of requests the exclusions read and the very same `score` applied to
  every candidate; it checks that both paths suggest the same.

The last line of the output is `p95_ms=<p95 of the indexed path> speedup_vs_scan=<naive
p50 / indexed p50>`.

Safety: without `--database-url` it works in a fresh SQLite file `data/bench.db`; it never
reads DATABASE_URL. It refuses a database that already holds people or initiatives, unless
`--reset` is given, which empties it first (postcodes and areas stay). Afterwards it removes
everything it wrote, unless `--keep`: the rows it numbered that carry its mark ("Bench ..."
as first name or title), with what refers to them; the default file is deleted.

Like the migrations, the benchmark works at table level: it bulk-writes rows with
SQLAlchemy Core (executemany in batches), which no storage verb does.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.postcodes import read_geonames
from handlers.flow import DISTANCES, GROUP, TIMES
from handlers.matching import Suggestion, rank, seeker_from
from handlers.suggest import find_suggestions
from handlers.taxonomy import Taxonomy
from storage.db import Database
from storage.migrate import migrate
from storage.models import (
    Base,
    InitiativeRow,
    PersonRow,
    PostcodeRow,
)
from storage.records import Person, Postcode

DEFAULT_DATABASE = Path("data") / "bench.db"
SHARED_POSTCODES = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "geonames-NL-postcodes.tsv"
)
KEPT_ON_RESET = frozenset({"postcodes", "areas"})
PERSON_MARK = "Bench "  # first names and titles mark the rows that the clean-up may remove
INITIATIVE_MARK = "Bench initiative "
FULL_POSTCODE_TABLE = 1_000  # fewer stored postcodes (the demo's few) would crowd the data
BATCH = 5_000
WARM_UP = 20
JITTER_M = 300.0
METRES_PER_DEGREE = 111_195.0
INTRODUCTION_STATUSES = (
    ("requested", 0.3),
    ("accepted", 0.4),
    ("declined", 0.15),
    ("expired", 0.15),
)


class BenchRefused(RuntimeError):
    """The benchmark will not touch this database (it holds data, and --reset was not given)."""


@dataclass(frozen=True)
class BenchOptions:
    residents: int = 100_000
    initiatives: int = 10_000
    requests: int = 1_000
    naive_requests: int = 50
    seed: int = 7
    database_url: str | None = None  # None: a fresh SQLite file data/bench.db
    postcodes_file: Path | None = None
    reset: bool = False
    keep: bool = False
    limit: int = 3


@dataclass(frozen=True)
class Timings:
    """Latencies in milliseconds."""

    samples: tuple[float, ...]

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    @property
    def max(self) -> float:
        return max(self.samples)

    def line(self) -> str:
        return f"p50 {self.p50:.2f} ms, p95 {self.p95:.2f} ms, max {self.max:.2f} ms"


@dataclass
class BenchResult:
    counts: dict[str, int] = field(default_factory=dict)
    setup_s: float = 0.0
    indexed: Timings = Timings((0.0,))
    naive: Timings = Timings((0.0,))
    naive_load_s: float = 0.0
    same_results: int = 0
    compared: int = 0

    @property
    def speedup(self) -> float:
        return self.naive.p50 / self.indexed.p50 if self.indexed.p50 > 0 else math.inf

    def last_line(self) -> str:
        return f"p95_ms={self.indexed.p95:.2f} speedup_vs_scan={self.speedup:.1f}"


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    index = max(0, math.ceil(pct / 100 * len(ordered)) - 1)
    return ordered[min(index, len(ordered) - 1)]


def load_postcodes_file(path: Path) -> list[Postcode]:
    return read_geonames(path.read_text(encoding="utf-8").splitlines())


async def _postcodes(database: Database, options: BenchOptions) -> tuple[list[Postcode], str]:
    """From the postcodes table if it holds a full import, else from --postcodes FILE, else
    from the GeoNames file in ../shared/data next to the repository (else the few stored)."""
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
        stored = [Postcode(*row) for row in rows]
    if len(stored) >= FULL_POSTCODE_TABLE:
        return stored, "the postcodes table"
    path = options.postcodes_file
    if path is None and SHARED_POSTCODES.exists():
        path = SHARED_POSTCODES
    if path is None and stored:
        return stored, f"the postcodes table (only {len(stored)}: the data will be crowded)"
    if path is None:
        raise BenchRefused(
            "no postcodes: fill the postcodes table (import-postcodes) or pass --postcodes FILE"
        )
    found = load_postcodes_file(path)
    if not found:
        raise BenchRefused(f"no Dutch 4-digit postcodes in {path}")
    return found, str(path)


# -- synthetic data --------------------------------------------------------------------------


class _Generator:
    """Seeded rows for residents, initiatives, introductions, dismissals and blocks."""

    def __init__(self, seed: int, postcodes: Sequence[Postcode], now: datetime) -> None:
        self.rng = random.Random(seed)
        self.postcodes = list(postcodes)
        self.now = now
        taxonomy = Taxonomy.load()
        self.gift_tags = [tag.id for tag in taxonomy.for_kind("gift")]
        self.wish_tags = [tag.id for tag in taxonomy.for_kind("wish")]
        self.day_times = [c.key for c in TIMES if c.key != "any"]
        self.distances = [int(c.stored) for c in DISTANCES]
        self.groups = [c.key for c in GROUP]

    def _place(self) -> tuple[Postcode, float, float]:
        rng = self.rng
        postcode = rng.choice(self.postcodes)
        latitude = postcode.latitude + rng.gauss(0.0, JITTER_M) / METRES_PER_DEGREE
        scale = METRES_PER_DEGREE * math.cos(math.radians(postcode.latitude))
        longitude = postcode.longitude + rng.gauss(0.0, JITTER_M) / scale
        return postcode, round(latitude, 6), round(longitude, 6)

    def _times(self) -> list[str]:
        if self.rng.random() < 0.25:
            return ["any"]
        chosen = set(self.rng.sample(self.day_times, self.rng.randint(1, 3)))
        return [key for key in self.day_times if key in chosen]

    def _ago(self, days: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(0.0, days))

    def residents(self, first_id: int, count: int) -> list[dict[str, Any]]:
        rng = self.rng
        rows = []
        for number in range(count):
            postcode, latitude, longitude = self._place()
            done = self._ago(365)
            rows.append(
                {
                    "id": first_id + number,
                    "role": "resident",
                    "language": "nl" if rng.random() < 0.85 else "en",
                    "first_name": f"{PERSON_MARK}{number + 1}",
                    "postcode": postcode.code,
                    "area_name": postcode.place,
                    "latitude": latitude,
                    "longitude": longitude,
                    "gifts": rng.sample(self.gift_tags, rng.randint(1, 4)),
                    "wishes": rng.sample(self.wish_tags, rng.randint(1, 3)),
                    "times": self._times(),
                    "max_distance_m": rng.choice(self.distances),
                    "group_pref": rng.choice(self.groups),
                    "free_only": rng.random() < 0.4,
                    "intake_done_at": done,
                    "reachable": rng.random() >= 0.02,
                    "suggestions_paused": rng.random() < 0.03,
                    "organisation_id": None,
                    "created_at": done - timedelta(minutes=10),
                }
            )
        return rows

    def initiatives(self, first_id: int, count: int) -> list[dict[str, Any]]:
        rng = self.rng
        rows = []
        for number in range(count):
            postcode, latitude, longitude = self._place()
            created = self._ago(720)
            rows.append(
                {
                    "id": first_id + number,
                    "organisation_id": None,
                    "title": f"{INITIATIVE_MARK}{number + 1}",
                    "description": "",
                    "offers": rng.sample(self.wish_tags, rng.randint(1, 3)),
                    "needs": rng.sample(self.gift_tags, rng.randint(0, 2)),
                    "postcode": postcode.code,
                    "place_name": postcode.place,
                    "latitude": latitude,
                    "longitude": longitude,
                    "times": self._times(),
                    "free": rng.random() < 0.7,
                    "wheelchair": rng.random() < 0.5,
                    "capacity": rng.randint(2, 15),
                    "status": "approved",
                    "created_at": created,
                    "updated_at": created,
                }
            )
        return rows

    def links(
        self, residents: Sequence[dict[str, Any]], initiatives: Sequence[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """Introductions, dismissals and blocks, mostly between people of one postcode."""
        rng = self.rng
        people_at: dict[str, list[int]] = defaultdict(list)
        initiatives_at: dict[str, list[int]] = defaultdict(list)
        for row in residents:
            people_at[row["postcode"]].append(row["id"])
        for row in initiatives:
            initiatives_at[row["postcode"]].append(row["id"])
        people: list[int] = [row["id"] for row in residents]
        postcode_of: dict[int, str] = {row["id"]: row["postcode"] for row in residents}
        all_initiatives: list[int] = [row["id"] for row in initiatives]
        statuses = [s for s, _ in INTRODUCTION_STATUSES]
        weights = [w for _, w in INTRODUCTION_STATUSES]

        def near_person(person: int) -> int:
            local = people_at[postcode_of[person]]
            other = rng.choice(local if len(local) > 1 else people)
            return other if other != person else rng.choice(people)

        def near_initiative(person: int) -> int | None:
            local = initiatives_at.get(postcode_of[person]) or all_initiatives
            return rng.choice(local) if local else None

        introductions: list[dict[str, Any]] = []
        seen: set[tuple[int, str, int]] = set()
        for _ in range(len(residents) // 5):
            requester = rng.choice(people)
            to_initiative = rng.random() < 0.6
            target = near_initiative(requester) if to_initiative else near_person(requester)
            if target is None or target == requester:
                continue
            key = (requester, "i" if to_initiative else "p", target)
            if key in seen:
                continue
            seen.add(key)
            status = rng.choices(statuses, weights)[0]
            created = self._ago(60)
            introductions.append(
                {
                    "requester_id": requester,
                    "initiative_id": target if to_initiative else None,
                    "neighbour_id": None if to_initiative else target,
                    "status": status,
                    "reason": "",
                    "relay_open": False,
                    "created_at": created,
                    "answered_at": None if status == "requested" else created,
                }
            )
        dismissals: list[dict[str, Any]] = []
        for _ in range(len(residents) // 50):
            person = rng.choice(people)
            to_initiative = rng.random() < 0.5
            target = near_initiative(person) if to_initiative else near_person(person)
            if target is None or target == person:
                continue
            dismissals.append(
                {
                    "person_id": person,
                    "initiative_id": target if to_initiative else None,
                    "neighbour_id": None if to_initiative else target,
                    "created_at": self._ago(90),
                }
            )
        blocks: list[dict[str, Any]] = []
        blocked: set[tuple[int, int]] = set()
        for _ in range(len(residents) // 100):
            person = rng.choice(people)
            other = near_person(person)
            if other == person or (person, other) in blocked:
                continue
            blocked.add((person, other))
            blocks.append({"person_id": person, "blocked_id": other, "created_at": self._ago(90)})
        return introductions, dismissals, blocks


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


async def _insert(
    connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    for start in range(0, len(rows), BATCH):
        await connection.execute(insert(table), list(rows[start : start + BATCH]))


# -- safety and clean-up ---------------------------------------------------------------------


async def _existing_tables(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names)


async def _count(connection: AsyncConnection, table: Table) -> int:
    return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def _check_or_reset(database: Database, reset: bool, say: Callable[[str], None]) -> None:
    async with database.engine.connect() as connection:
        found = {name: await _count(connection, _table(name)) for name in ("people", "initiatives")}
    if not any(found.values()):
        return
    held = ", ".join(f"{n} {what}" for what, n in found.items())
    if not reset:
        raise BenchRefused(
            f"the database already holds {held}; the benchmark only runs on an empty database "
            "(pass --reset to empty it first: this deletes ALL its data except postcodes)"
        )
    say(f"--reset: deleting all data ({held}; postcodes and areas stay)")
    existing = await _existing_tables(database)
    async with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in existing and table.name not in KEPT_ON_RESET:
                await connection.execute(delete(table))


async def _clean_up(database: Database, people: range, initiatives: range) -> None:
    """Remove what the benchmark wrote: its ids, and its marks, so that nothing else goes."""
    person, initiative = _table("people").c, _table("initiatives").c
    intro, dismissal, block = (_table(t).c for t in ("introductions", "dismissals", "blocks"))
    ours = (
        select(person.id)
        .where(person.id.between(people.start, people.stop - 1))
        .where(person.first_name.startswith(PERSON_MARK))
    )
    our_initiatives = (
        select(initiative.id)
        .where(initiative.id.between(initiatives.start, initiatives.stop - 1))
        .where(initiative.title.startswith(INITIATIVE_MARK))
    )
    async with database.engine.begin() as connection:
        for condition in (
            intro.requester_id.in_(ours),
            intro.neighbour_id.in_(ours),
            intro.initiative_id.in_(our_initiatives),
        ):
            await connection.execute(delete(_table("introductions")).where(condition))
        await connection.execute(delete(_table("dismissals")).where(dismissal.person_id.in_(ours)))
        await connection.execute(delete(_table("blocks")).where(block.person_id.in_(ours)))
        await connection.execute(
            delete(_table("initiatives")).where(initiative.id.in_(our_initiatives))
        )
        await connection.execute(delete(_table("people")).where(person.id.in_(ours)))


async def _advance_sequences(database: Database) -> None:
    """PostgreSQL: the rows were written with explicit ids; move the id sequences past them."""
    if database.is_sqlite:
        return
    async with database.engine.begin() as connection:
        for name in ("people", "initiatives"):
            await connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
            )


# -- measuring -------------------------------------------------------------------------------


def _keys(suggestions: Sequence[Suggestion]) -> list[tuple[str, int]]:
    return [(s.candidate.kind, s.candidate.id) for s in suggestions]


async def _load_people(database: Database, ids: Sequence[int]) -> list[Person]:
    people = []
    async with database.unit_of_work() as store:
        for person_id in ids:
            person = await store.get_person(person_id)
            if person is not None:
                people.append(person)
    return people


async def _measure_indexed(
    database: Database,
    people: Sequence[Person],
    warm_up: Sequence[Person],
    now: datetime,
    limit: int,
) -> tuple[Timings, dict[int, list[tuple[str, int]]]]:
    for person in warm_up:
        async with database.unit_of_work() as store:
            await find_suggestions(store, person, now=now, limit=limit)
    samples = []
    results: dict[int, list[tuple[str, int]]] = {}
    for person in people:
        started = time.perf_counter()
        async with database.unit_of_work() as store:
            found = await find_suggestions(store, person, now=now, limit=limit)
        samples.append((time.perf_counter() - started) * 1000)
        results[person.id] = _keys(found)
    return Timings(tuple(samples)), results


async def _measure_naive(
    database: Database,
    people: Sequence[Person],
    now: datetime,
    limit: int,
    indexed: dict[int, list[tuple[str, int]]],
    result: BenchResult,
) -> None:
    started = time.perf_counter()
    async with database.unit_of_work() as store:
        everyone = await store.list_all_match_candidates(now=now)
    result.naive_load_s = time.perf_counter() - started
    result.counts["candidates in memory"] = len(everyone)
    samples = []
    for person in people:
        seeker = seeker_from(person)
        if seeker is None:
            continue
        started = time.perf_counter()
        async with database.unit_of_work() as store:
            exclusions = await store.list_match_exclusions(person.id)
        found = rank(seeker, everyone, exclusions, limit=limit)
        samples.append((time.perf_counter() - started) * 1000)
        result.compared += 1
        result.same_results += _keys(found) == indexed.get(person.id)
    result.naive = Timings(tuple(samples) or (0.0,))


def _remove_sqlite_file(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


async def run_matching_bench(
    options: BenchOptions, say: Callable[[str], None] = print
) -> BenchResult:
    """Build the data set, measure both paths, clean up; prints as it goes."""
    if options.residents < 2 or options.initiatives < 1 or options.requests < 1:
        raise BenchRefused("need at least 2 residents, 1 initiative and 1 request")
    fresh_file = options.database_url is None
    url = options.database_url or f"sqlite+aiosqlite:///{DEFAULT_DATABASE}"
    if fresh_file:
        _remove_sqlite_file(DEFAULT_DATABASE)
    database = Database(url)
    shown_url = make_url(database.url).render_as_string(hide_password=True)
    result = BenchResult()
    try:
        engine = "SQLite" if database.is_sqlite else "PostgreSQL"
        say(f"Matching benchmark on {engine}: {shown_url} (seed {options.seed})")
        await migrate(database)
        await _check_or_reset(database, options.reset, say)
        postcodes, source = await _postcodes(database, options)
        now = datetime.now(UTC)

        started = time.perf_counter()
        async with database.engine.connect() as connection:
            first_person = int(await connection.scalar(select(func.max(PersonRow.id))) or 0) + 1
            first_initiative = (
                int(await connection.scalar(select(func.max(InitiativeRow.id))) or 0) + 1
            )
        people_ids = range(first_person, first_person + options.residents)
        initiative_ids = range(first_initiative, first_initiative + options.initiatives)
        generator = _Generator(options.seed, postcodes, now)
        residents = generator.residents(first_person, options.residents)
        initiatives = generator.initiatives(first_initiative, options.initiatives)
        introductions, dismissals, blocks = generator.links(residents, initiatives)
        try:
            async with database.engine.begin() as connection:
                for name, rows in (
                    ("people", residents),
                    ("initiatives", initiatives),
                    ("introductions", introductions),
                    ("dismissals", dismissals),
                    ("blocks", blocks),
                ):
                    await _insert(connection, _table(name), rows)
            async with database.engine.connect() as connection:
                await connection.execute(text("ANALYZE"))
                await connection.commit()
            result.setup_s = time.perf_counter() - started
            result.counts.update(
                residents=len(residents),
                initiatives=len(initiatives),
                introductions=len(introductions),
                dismissals=len(dismissals),
                blocks=len(blocks),
                postcodes=len(postcodes),
            )
            say(
                f"data: {len(residents)} residents, {len(initiatives)} approved initiatives, "
                f"{len(introductions)} introductions, {len(dismissals)} dismissals, "
                f"{len(blocks)} blocks; {len(postcodes)} postcodes from {source}"
            )
            say(f"setup (generate, bulk insert, ANALYZE): {result.setup_s:.1f} s")

            picker = random.Random(options.seed + 1)
            wanted = min(options.requests + WARM_UP, options.residents)
            asked = picker.sample(list(people_ids), wanted)
            people = await _load_people(database, asked[: options.requests])
            warm_up = await _load_people(database, asked[options.requests :] or asked[:WARM_UP])
            result.indexed, indexed = await _measure_indexed(
                database, people, warm_up, now, options.limit
            )
            served = sum(1 for keys in indexed.values() if keys)
            say(
                f"indexed (find_suggestions, one unit of work each, {len(people)} requests "
                f"after {len(warm_up)} warm-up requests): {result.indexed.line()}; "
                f"{served} of {len(people)} got a suggestion"
            )
            sample = people[: options.naive_requests]
            await _measure_naive(database, sample, now, options.limit, indexed, result)
            say(
                f"naive scan ({result.counts['candidates in memory']} candidates loaded once in "
                f"{result.naive_load_s:.1f} s; per request the exclusions query plus `score` "
                f"on every candidate, {len(sample)} requests): {result.naive.line()}"
            )
            say(
                f"same suggestions on both paths: {result.same_results} of {result.compared}; "
                f"speedup_vs_scan = naive p50 / indexed p50 = {result.speedup:.1f}"
            )
            async with database.engine.connect() as connection:
                held = await _count(connection, _table("people"))
            if held != len(residents):
                say(
                    f"WARNING: the database held {held} people at the end instead of "
                    f"{len(residents)}; something else changed it during the run"
                )
        finally:
            if options.keep:
                await _advance_sequences(database)
                say("--keep: the benchmark data stays in the database")
            elif fresh_file:
                say(f"removed the benchmark data ({DEFAULT_DATABASE} is deleted)")
            else:
                await _clean_up(database, people_ids, initiative_ids)
                say("removed the benchmark data")
    finally:
        await database.dispose()
        if fresh_file and not options.keep:
            _remove_sqlite_file(DEFAULT_DATABASE)
    say(result.last_line())
    return result
