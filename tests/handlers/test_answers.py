"""Each reader against the table of examples kept beside it in `handlers/answers/`."""

from __future__ import annotations

import pytest

from handlers.answers import (
    distance,
    free,
    group,
    names,
    places,
    rest,
    summary,
    tags,
    times,
    yes_no,
)
from handlers.taxonomy import Taxonomy


@pytest.mark.parametrize(("text", "expected"), yes_no.EXAMPLES)
def test_yes_no(text: str, expected: bool | None) -> None:
    assert yes_no.read_yes_no(text) is expected


@pytest.mark.parametrize(("text", "expected"), names.EXAMPLES)
def test_names(text: str, expected: str | None) -> None:
    assert names.read_name(text) == expected


@pytest.mark.parametrize(("text", "expected"), places.EXAMPLES)
def test_places(text: str, expected: str | None) -> None:
    assert places.read_place(text, places.Gazetteer.load()) == expected


@pytest.mark.parametrize(("kind", "text", "found", "dropped"), tags.EXAMPLES)
def test_tags(kind: str, text: str, found: tuple[str, ...], dropped: tuple[str, ...]) -> None:
    reading = tags.read_tags(Taxonomy.load(), text, kind)
    assert (reading.found, reading.dropped) == (found, dropped)


@pytest.mark.parametrize(("text", "expected"), rest.EXAMPLES)
def test_rest(text: str, expected: bool) -> None:
    assert rest.read_rest(text) is expected


@pytest.mark.parametrize(("text", "expected"), times.EXAMPLES)
def test_times(text: str, expected: tuple[str, ...]) -> None:
    assert times.read_times(text) == expected


@pytest.mark.parametrize(("text", "expected"), distance.EXAMPLES)
def test_distance(text: str, expected: object) -> None:
    assert distance.read_distance(text) == expected


@pytest.mark.parametrize(("text", "expected"), group.EXAMPLES)
def test_group(text: str, expected: str | None) -> None:
    assert group.read_group(text) == expected


@pytest.mark.parametrize(("text", "expected"), free.EXAMPLES)
def test_free(text: str, expected: bool | None) -> None:
    assert free.read_free(text) is expected


@pytest.mark.parametrize(("text", "expected"), summary.EXAMPLES)
def test_summary(text: str, expected: bool | str | None) -> None:
    assert summary.read_summary(text, summary.EXAMPLE_ITEMS) == expected


def test_every_dutch_postcode_is_in_the_shipped_table() -> None:
    gazetteer = places.Gazetteer.load()
    assert len(gazetteer.by_code) > 4000
    assert gazetteer.by_code["7607"].name == "Almelo"
    assert gazetteer.find("Strijen") is not None
    assert gazetteer.find("Xyzzyplaats") is None


def test_a_municipality_of_several_villages_names_them_and_a_town_does_not() -> None:
    gazetteer = places.Gazetteer.load()
    villages = gazetteer.villages("Hoeksche Waard")
    assert {"Oud-Beijerland", "Strijen", "Maasdam"} <= set(villages)
    assert villages[0] == "Oud-Beijerland"  # the largest first
    assert gazetteer.villages("hoekse waard") == villages  # typos allowed
    assert gazetteer.villages("Almelo") == ()
    assert gazetteer.villages("Strijen") == ()  # a village of it: no question
