"""`python -m bot bench matching` at a tiny scale, on throw-away SQLite files."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo import DEMO_POSTCODES
from storage import synthetic
from storage.db import Database
from storage.migrate import migrate

LAST_LINE = re.compile(r"^p95_ms=\d+\.\d+ speedup_vs_scan=\d+\.\d+$")


@pytest.fixture
def postcodes(tmp_path: Path) -> Path:
    """A GeoNames file with the demo postcodes (Almelo and the Hoeksche Waard)."""
    path = tmp_path / "NL.txt"
    path.write_text(
        "".join(
            f"NL\t{pc.code}\t{pc.place}\tProvincie\t01\t{pc.municipality} Municipality\t0001"
            f"\t\t\t{pc.latitude}\t{pc.longitude}\t6\n"
            for pc in DEMO_POSTCODES
        ),
        encoding="utf-8",
    )
    return path


def tiny(url: str, postcodes: Path, *extra: str) -> list[str]:
    return [
        "bench",
        "matching",
        "--residents",
        "300",
        "--initiatives",
        "30",
        "--requests",
        "20",
        "--naive-requests",
        "10",
        "--database-url",
        url,
        "--postcodes",
        str(postcodes),
        *extra,
    ]


async def _counts(url: str) -> tuple[int, int]:
    database = Database(url)
    try:
        counts = await synthetic.count_rows(database)
        return counts["people"], counts["initiatives"]
    finally:
        await database.dispose()


async def _add_someone(url: str) -> None:
    database = Database(url)
    try:
        await migrate(database)
        async with database.unit_of_work() as store:
            await store.create_person_with_consent(
                channel="test",
                external_id="1",
                username=None,
                language="nl",
                consent_version="v1",
            )
    finally:
        await database.dispose()


def test_the_bench_runs_small_and_cleans_up(
    tmp_path: Path, postcodes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    assert main(tiny(url, postcodes, "--seed", "3")) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert LAST_LINE.match(lines[-1]), lines[-1]
    output = "\n".join(lines)
    assert "300 residents, 30 approved initiatives" in output
    assert "same suggestions on both paths: 10 of 10" in output
    assert "naive p50 / indexed p50" in output
    assert asyncio.run(_counts(url)) == (0, 0)


def test_the_bench_refuses_a_database_with_people(
    tmp_path: Path, postcodes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'used.db'}"
    asyncio.run(_add_someone(url))
    assert main(tiny(url, postcodes)) == 2
    assert "--reset" in capsys.readouterr().err
    assert asyncio.run(_counts(url)) == (1, 0)

    # The global option works as well, and --reset empties the database first.
    arguments = tiny(url, postcodes, "--reset")
    at = arguments.index("--database-url")
    del arguments[at : at + 2]
    assert main(["--database-url", url, *arguments]) == 0
    assert LAST_LINE.match(capsys.readouterr().out.strip().splitlines()[-1])
    assert asyncio.run(_counts(url)) == (0, 0)


def test_the_bench_can_keep_its_data(tmp_path: Path, postcodes: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    assert main(tiny(url, postcodes, "--keep")) == 0
    assert asyncio.run(_counts(url)) == (300, 30)


async def _clean_up_around_someone_else(url: str) -> tuple[int, int]:
    await _add_someone(url)  # not the benchmark's, and numbered within its range
    database = Database(url)
    try:
        await synthetic.remove(database, synthetic.IdRanges(range(1, 400), range(1, 40)))
    finally:
        await database.dispose()
    return await _counts(url)


def test_the_clean_up_removes_only_what_the_bench_wrote(tmp_path: Path, postcodes: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    assert main(tiny(url, postcodes, "--keep")) == 0
    assert asyncio.run(_clean_up_around_someone_else(url)) == (1, 0)
