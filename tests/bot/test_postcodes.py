"""Reading GeoNames postal-code files, and the `import-postcodes` command."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from bot.postcodes import read_geonames
from storage.db import Database
from storage.records import Postcode
from tests.conftest import POSTCODES_FILE

# The Netherlands (European part), generously.
NL_LATITUDES = (50.7, 53.7)
NL_LONGITUDES = (3.2, 7.3)


def geonames_line(
    code: str,
    place: str = "Almelo",
    latitude: str = "52.3549",
    longitude: str = "6.6676",
    *,
    country: str = "NL",
    municipality: str = "Almelo Municipality",
) -> str:
    """One row of a GeoNames postal-code export: 12 tab-separated columns."""
    columns = [country, code, place, "Overijssel", "15", municipality, "0141", "", ""]
    return "\t".join([*columns, latitude, longitude, ""])


def test_a_stray_row_far_away_does_not_move_the_centre() -> None:
    (utrecht,) = read_geonames(
        [
            geonames_line("3523", "Utrecht", "52.07", "5.12", municipality="Utrecht"),
            geonames_line("3523", "Utrecht", "52.08", "5.13", municipality="Utrecht"),
            geonames_line("3523", "Ouddorp", "51.81", "3.93", municipality="Goeree"),
        ]
    )
    assert utrecht.latitude == pytest.approx(52.075)
    assert utrecht.longitude == pytest.approx(5.125)


def test_reads_a_row() -> None:
    assert read_geonames([geonames_line("7607")]) == [
        Postcode("7607", "Almelo", "Almelo", 52.3549, 6.6676)
    ]


def test_rows_of_one_code_are_averaged_and_codes_sorted() -> None:
    postcodes = read_geonames(
        [
            geonames_line("7608", "Almelo", "52.36", "6.66"),
            geonames_line("1096", "Amsterdam", "52.0", "4.0", municipality="Amsterdam"),
            geonames_line("7608", "Aadorp", "52.39", "6.69"),
            geonames_line("7608", "Bornerbroek", "52.36", "6.69"),
        ]
    )
    assert [p.code for p in postcodes] == ["1096", "7608"]
    almelo = postcodes[1]
    assert (almelo.place, almelo.municipality) == ("Almelo", "Almelo")  # the first row's
    assert almelo.latitude == pytest.approx(52.37)
    assert almelo.longitude == pytest.approx(6.68)
    assert postcodes[0] == Postcode("1096", "Amsterdam", "Amsterdam", 52.0, 4.0)


def test_a_full_postcode_is_cut_to_its_four_digits() -> None:
    [postcode] = read_geonames([geonames_line("7607 AB"), geonames_line(" 7607")])
    assert postcode.code == "7607"


def test_malformed_and_foreign_lines_are_skipped() -> None:
    good = geonames_line("3291", "Strijen", "51.7445", "4.5511", municipality="Hoeksche Waard")
    lines = [
        "",
        "\n",
        "# a comment",
        "NL\t3292\tStrijensas",  # too few columns
        good.replace("\t", " "),  # not tab-separated
        geonames_line("1000", "Brussel", "50.85", "4.35", country="BE"),
        geonames_line("AB12"),
        geonames_line("329"),
        geonames_line(""),
        good,
    ]
    assert read_geonames(lines) == [Postcode("3291", "Strijen", "Hoeksche Waard", 51.7445, 4.5511)]


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        ("", "6.6"),
        ("52.3", ""),
        ("abc", "6.6"),
        ("52,3", "6,6"),
        ("nan", "6.6"),
        ("52.3", "inf"),
        ("-inf", "6.6"),
        ("91.0", "6.6"),
        ("52.3", "181.0"),
    ],
)
def test_rows_with_bad_coordinates_are_skipped(latitude: str, longitude: str) -> None:
    lines = [geonames_line("7601", latitude=latitude, longitude=longitude), geonames_line("7607")]
    assert [p.code for p in read_geonames(lines)] == ["7607"]


def test_a_code_with_only_bad_rows_is_left_out_but_good_rows_still_count() -> None:
    lines = [
        geonames_line("7607", latitude="nan"),
        geonames_line("7607", latitude="52.0", longitude="6.0"),
    ]
    assert read_geonames(lines) == [Postcode("7607", "Almelo", "Almelo", 52.0, 6.0)]


def test_long_names_are_cut_and_an_empty_municipality_is_none() -> None:
    [postcode] = read_geonames([geonames_line("7607", "A" * 120, municipality="")])
    assert postcode.place == "A" * 80
    assert postcode.municipality is None


needs_postcodes_file = pytest.mark.skipif(
    not POSTCODES_FILE.exists(),
    reason=f"the shared GeoNames file is not there: {POSTCODES_FILE}",
)


@needs_postcodes_file
def test_the_shared_geonames_file() -> None:
    lines = POSTCODES_FILE.read_text(encoding="utf-8").splitlines()
    postcodes = read_geonames(lines)

    assert len(postcodes) >= 4000
    codes = [p.code for p in postcodes]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 4 and code.isdigit() for code in codes)
    assert all(NL_LATITUDES[0] < p.latitude < NL_LATITUDES[1] for p in postcodes)
    assert all(NL_LONGITUDES[0] < p.longitude < NL_LONGITUDES[1] for p in postcodes)
    assert all(p.place for p in postcodes)
    by_code = {p.code: p for p in postcodes}
    assert by_code["7607"].place == "Almelo"
    assert by_code["3291"].place == "Strijen"
    # A code with several rows is their average.
    rows = [line.split("\t") for line in lines if line.startswith("NL\t1096\t")]
    assert len(rows) > 1
    assert by_code["1096"].latitude == pytest.approx(sum(float(r[9]) for r in rows) / len(rows))
    assert by_code["1096"].longitude == pytest.approx(sum(float(r[10]) for r in rows) / len(rows))


# -- the command -----------------------------------------------------------------------------


async def stored_postcodes(url: str, *codes: str) -> dict[str, Postcode | None]:
    database = Database(url)
    try:
        async with database.unit_of_work() as store:
            return {code: await store.get_postcode(code) for code in codes}
    finally:
        await database.dispose()


async def import_postcodes(url: str, file: Path) -> int:
    # The command runs its own event loop, so it gets a thread of its own.
    return await asyncio.to_thread(main, ["--database-url", url, "import-postcodes", str(file)])


async def test_import_postcodes_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working directory
    url = f"sqlite+aiosqlite:///{tmp_path / 'import.db'}"
    file = tmp_path / "NL.txt"
    file.write_text(
        "\n".join(
            [
                geonames_line("7607"),
                geonames_line("3291", "Strijen", "51.7", "4.5", municipality="Hoeksche Waard"),
                geonames_line("3291", "Strijen", "51.8", "4.6", municipality="Hoeksche Waard"),
                geonames_line("1000", "Brussel", "50.85", "4.35", country="BE"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    assert await import_postcodes(url, file) == 0
    assert "Imported 2 postcodes" in capsys.readouterr().out

    stored = await stored_postcodes(url, "7607", "3291", "1000")
    assert stored["7607"] == Postcode("7607", "Almelo", "Almelo", 52.3549, 6.6676)
    strijen = stored["3291"]
    assert strijen is not None
    assert strijen.latitude == pytest.approx(51.75)
    assert strijen.longitude == pytest.approx(4.55)
    assert stored["1000"] is None

    # Importing a newer file again replaces the centroids.
    file.write_text(geonames_line("7607", "Almelo", "52.0", "6.0") + "\n", encoding="utf-8")
    assert await import_postcodes(url, file) == 0
    again = await stored_postcodes(url, "7607", "3291")
    assert again["7607"] == Postcode("7607", "Almelo", "Almelo", 52.0, 6.0)
    assert again["3291"] == strijen
