"""The moderator commands, run through `bot.cli.main` on a temporary SQLite database."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.cli import main
from storage.db import Database
from storage.models import PersonRow
from storage.records import Organisation
from storage.store import Store

T = TypeVar("T")
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
CODE = re.compile(r"Uitnodigingscode: ([A-Z0-9]{8})$", re.MULTILINE)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'moderation.db'}"


def in_store(url: str, work: Callable[[Store], Coroutine[Any, Any, T]]) -> T:
    """Run `work` in one unit of work on the database at `url`."""

    async def run() -> T:
        database = Database(url)
        try:
            async with database.unit_of_work() as store:
                return await work(store)
        finally:
            await database.dispose()

    return asyncio.run(run())


def cli(url: str, *args: str) -> int:
    return main(["--database-url", url, *args])


def seed_initiatives(url: str) -> dict[str, int]:
    """Three initiatives: pending, paused and approved; the first with two organisers."""
    assert cli(url, "migrate") == 0

    async def work(store: Store) -> dict[str, int]:
        henk = await store.create_person_with_consent(
            channel="terminal",
            external_id="henk",
            username=None,
            language="nl",
            consent_version="test",
        )
        truus = await store.create_person_with_consent(
            channel="terminal",
            external_id="truus",
            username=None,
            language="nl",
            consent_version="test",
        )
        ids = {}
        for title, status, organisers, place in (
            ("Moestuin De Groene Hoek", "pending", [henk.id, truus.id], "Almelo"),
            ("Breiclub", "paused", [truus.id], None),
            ("Wandelgroep Strijen", "approved", [], "Strijen"),
        ):
            initiative = await store.create_initiative(
                organisation_id=None,
                organiser_ids=organisers,
                title=title,
                postcode="7605" if place == "Almelo" else None,
                place_name=place,
                status=status,
                now=NOW,
            )
            ids[status] = initiative.id
        return ids

    return in_store(url, work)


def status_of(url: str, initiative_id: int) -> str | None:
    async def work(store: Store) -> str | None:
        initiative = await store.get_initiative(initiative_id)
        return initiative.status if initiative else None

    return in_store(url, work)


# -- invite-organiser --------------------------------------------------------------------


def test_invite_organiser_prints_a_code_that_redeems(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(url, "invite-organiser", "--org", "buurtteam-almelo") == 0
    out = capsys.readouterr().out
    match = CODE.search(out)
    assert match, out
    code = match.group(1)
    assert f'"organisator {code}"' in out
    assert f"https://t.me/<bot>?start={code}" in out
    assert "buurtteam-almelo" in out

    async def redeem(store: Store) -> tuple[Organisation | None, str, int | None]:
        person = await store.create_person_with_consent(
            channel="terminal",
            external_id="henk",
            username=None,
            language="nl",
            consent_version="test",
        )
        organisation = await store.redeem_invite(code.lower(), person.id, NOW)
        row = await store._session.get(PersonRow, person.id)
        assert row is not None
        return organisation, row.role, row.organisation_id

    organisation, role, organisation_id = in_store(url, redeem)
    assert organisation is not None
    assert (organisation.slug, organisation.name) == ("buurtteam-almelo", "buurtteam-almelo")
    assert role == "organiser" and organisation_id == organisation.id

    async def redeem_again(store: Store) -> Organisation | None:
        other = await store.create_person_with_consent(
            channel="terminal",
            external_id="gerda",
            username=None,
            language="nl",
            consent_version="test",
        )
        return await store.redeem_invite(code, other.id, NOW)

    assert in_store(url, redeem_again) is None


def test_invite_organiser_reuses_an_organisation_and_names_the_bot(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(url, "invite-organiser", "--org", "dorpsteam", "--name", "Dorpsteam Strijen") == 0
    first = capsys.readouterr().out
    assert "Nieuwe organisatie: Dorpsteam Strijen (dorpsteam)" in first

    assert cli(url, "invite-organiser", "--org", "dorpsteam", "--bot", "@MeedoenBot") == 0
    second = capsys.readouterr().out
    assert "Nieuwe organisatie" not in second
    assert "Dorpsteam Strijen (dorpsteam)" in second
    first_code, second_code = CODE.findall(first + second)
    assert first_code != second_code
    assert f"https://t.me/MeedoenBot?start={second_code}" in second

    async def organisation(store: Store) -> Organisation | None:
        return await store.get_organisation("dorpsteam")

    found = in_store(url, organisation)
    assert found is not None and found.name == "Dorpsteam Strijen"


def test_invite_organiser_refuses_a_bad_slug(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(url, "invite-organiser", "--org", "Buurt Team!") == 2
    captured = capsys.readouterr()
    assert "slug" in captured.err
    assert CODE.search(captured.out) is None


# -- list, approve, archive --------------------------------------------------------------


def test_list_initiatives(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(url, "list-initiatives") == 0
    assert "No initiatives. / Geen initiatieven." in capsys.readouterr().out

    ids = seed_initiatives(url)
    capsys.readouterr()
    assert cli(url, "list-initiatives") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    garden, knitting, walking = lines
    assert garden.split()[:2] == [str(ids["pending"]), "pending"]
    assert "Moestuin De Groene Hoek" in garden and "7605 Almelo" in garden
    assert garden.endswith("2 organisers")
    assert knitting.split()[:2] == [str(ids["paused"]), "paused"]
    assert knitting.endswith("1 organiser")
    assert walking.split()[:2] == [str(ids["approved"]), "approved"]
    assert "Strijen" in walking and walking.endswith("0 organisers")

    assert cli(url, "list-initiatives", "--status", "paused") == 0
    only = capsys.readouterr().out.strip().splitlines()
    assert len(only) == 1 and "Breiclub" in only[0]

    with pytest.raises(SystemExit):
        cli(url, "list-initiatives", "--status", "open")


def test_approve_initiative(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ids = seed_initiatives(url)
    capsys.readouterr()

    assert cli(url, "approve-initiative", str(ids["pending"])) == 0
    assert "pending -> approved" in capsys.readouterr().out
    assert status_of(url, ids["pending"]) == "approved"

    assert cli(url, "approve-initiative", str(ids["paused"])) == 0
    assert "paused -> approved" in capsys.readouterr().out
    assert status_of(url, ids["paused"]) == "approved"

    assert cli(url, "approve-initiative", str(ids["approved"])) == 0
    assert "already" in capsys.readouterr().out

    assert cli(url, "approve-initiative", "999") == 1
    captured = capsys.readouterr()
    assert "No initiative with id 999" in captured.err


def test_archive_initiative(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    ids = seed_initiatives(url)
    capsys.readouterr()

    assert cli(url, "archive-initiative", str(ids["approved"])) == 0
    assert "approved -> archived" in capsys.readouterr().out
    assert status_of(url, ids["approved"]) == "archived"

    assert cli(url, "archive-initiative", str(ids["approved"])) == 0
    assert "already" in capsys.readouterr().out

    assert cli(url, "approve-initiative", str(ids["approved"])) == 1  # archived stays archived
    assert "cannot become approved" in capsys.readouterr().err
    assert status_of(url, ids["approved"]) == "archived"

    assert cli(url, "archive-initiative", "999") == 1
    assert "No initiative with id 999" in capsys.readouterr().err
