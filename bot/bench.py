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

The data set is built in `bot.synthetic`; `storage.synthetic` bulk-writes it (SQLAlchemy Core,
executemany in batches), refuses a database in use and removes the benchmark's rows again.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.postcodes import read_geonames
from bot.synthetic import generate
from handlers.matching import Suggestion, rank, seeker_from
from handlers.suggest import find_suggestions
from storage import synthetic
from storage.db import Database
from storage.migrate import migrate
from storage.records import Person, Postcode

DEFAULT_DATABASE = Path("data") / "bench.db"
SHARED_POSTCODES = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "geonames-NL-postcodes.tsv"
)
FULL_POSTCODE_TABLE = 1_000  # fewer stored postcodes (the demo's few) would crowd the data
WARM_UP = 20


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
    stored = await synthetic.list_postcodes(database)
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


async def _check_or_reset(database: Database, reset: bool, say: Callable[[str], None]) -> None:
    try:
        await synthetic.require_empty(database)
    except synthetic.DatabaseNotEmpty as in_use:
        held = synthetic.describe(in_use.held)
        if not reset:
            raise BenchRefused(
                f"the database already holds {held}; the benchmark only runs on an empty "
                "database (pass --reset to empty it first: this deletes ALL its data except "
                "postcodes)"
            ) from None
        say(f"--reset: deleting all data ({held}; postcodes and areas stay)")
        await synthetic.reset(database)


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
        ids = await synthetic.next_ids(
            database, people=options.residents, initiatives=options.initiatives
        )
        data = generate(options.seed, postcodes, now, ids)
        try:
            written = await synthetic.insert_set(database, data)
            await synthetic.analyze(database)
            result.setup_s = time.perf_counter() - started
            result.counts.update(
                residents=written["people"],
                initiatives=written["initiatives"],
                introductions=written["introductions"],
                dismissals=written["dismissals"],
                blocks=written["blocks"],
                postcodes=len(postcodes),
            )
            say(
                f"data: {written['people']} residents, {written['initiatives']} approved "
                f"initiatives, {written['introductions']} introductions, "
                f"{written['dismissals']} dismissals, {written['blocks']} blocks; "
                f"{len(postcodes)} postcodes from {source}"
            )
            say(f"setup (generate, bulk insert, ANALYZE): {result.setup_s:.1f} s")

            picker = random.Random(options.seed + 1)
            wanted = min(options.requests + WARM_UP, options.residents)
            asked = picker.sample(list(ids.people), wanted)
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
            held = (await synthetic.count_rows(database))["people"]
            if held != written["people"]:
                say(
                    f"WARNING: the database held {held} people at the end instead of "
                    f"{written['people']}; something else changed it during the run"
                )
        finally:
            if options.keep:
                await synthetic.advance_id_sequences(database)
                say("--keep: the benchmark data stays in the database")
            elif fresh_file:
                say(f"removed the benchmark data ({DEFAULT_DATABASE} is deleted)")
            else:
                await synthetic.remove(database, ids)
                say("removed the benchmark data")
    finally:
        await database.dispose()
        if fresh_file and not options.keep:
            _remove_sqlite_file(DEFAULT_DATABASE)
    say(result.last_line())
    return result
