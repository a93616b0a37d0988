"""`create-moderator` prints a one-time password that must be changed; `add-area` gives an
organisation its neighbourhoods."""

from __future__ import annotations

import re

import pytest

from bot.web.dashboard.security import password_matches
from storage.store import Store
from tests.bot.test_cli_moderation import cli, in_store, url  # noqa: F401  (fixture)

PASSWORD = re.compile(r"Eenmalig wachtwoord: (\S+)$", re.MULTILINE)


def test_create_moderator_prints_a_one_time_password(
    url: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(url, "invite-organiser", "--org", "woonstad", "--name", "Woonstad") == 0
    capsys.readouterr()
    assert cli(url, "create-moderator", "Fatima@Example.org", "--org", "woonstad") == 0
    out = capsys.readouterr().out
    found = PASSWORD.search(out)
    assert found, out
    password = found.group(1)

    async def read(store: Store) -> tuple[bool, bool, str]:
        moderator = await store.find_moderator_by_email("fatima@example.org")
        assert moderator is not None
        return (
            password_matches(moderator.password_hash, password),
            moderator.must_change_password,
            moderator.role,
        )

    assert in_store(url, read) == (True, True, "moderator")
    assert password not in in_store(url, _hash_of)  # stored hashed, never as typed


async def _hash_of(store: Store) -> str:
    moderator = await store.find_moderator_by_email("fatima@example.org")
    assert moderator is not None
    return moderator.password_hash


def test_create_moderator_refuses_an_unknown_organisation_and_a_second_account(
    url: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(url, "migrate") == 0
    assert cli(url, "create-moderator", "a@example.org", "--org", "nowhere") == 1
    assert cli(url, "invite-organiser", "--org", "woonstad") == 0
    assert cli(url, "create-moderator", "a@example.org", "--org", "woonstad", "--admin") == 0
    assert cli(url, "create-moderator", "a@example.org", "--org", "woonstad") == 1
    assert cli(url, "create-moderator", "not-an-email", "--org", "woonstad") == 2


def test_add_area_gives_an_organisation_its_postcodes(
    url: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(url, "invite-organiser", "--org", "woonstad", "--name", "Woonstad") == 0
    assert cli(url, "add-area", "--org", "woonstad", "7607", "7608") == 0
    assert "Woonstad: 7607, 7608" in capsys.readouterr().out
    assert cli(url, "add-area", "--org", "woonstad", "76") == 2
