"""`python -m bot`, run as a real process: help texts, `run` without a token, and the
terminal chat scripted through stdin."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.channels.terminal import render
from bot.cli import main, parser
from bot.settings import Settings
from handlers.i18n import Texts
from handlers.messages import Option, Reply
from storage.db import Database
from storage.records import ConversationState, Person

PROJECT = Path(__file__).resolve().parents[2]
DOCUMENTED_COMMANDS = {"chat", "run", "migrate", "seed-demo", "import-postcodes", "flow-diagram"}
BUTTON = re.compile(r"^\s+\[(\d+)\] \S", re.MULTILINE)
TIMEOUT = 120


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


def environment() -> dict[str, str]:
    """This environment without the program's own settings (TELEGRAM_BOT_TOKEN, ...).

    The commands run in a temporary directory, so no `.env` is read; PYTHONPATH points at
    the project so that `-m bot` imports this source tree however it was installed.
    """
    settings = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in settings}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    return env


async def meedoen(*args: str, cwd: Path, stdin: str = "") -> Finished:
    """`python -m bot ARGS` with `stdin` as its input; waits until it ends."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=environment(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin.encode()), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Finished(process.returncode, stdout.decode(), stderr.decode())


def button_numbers(output: str) -> list[list[int]]:
    """The numbers of each block of button lines in a chat's output."""
    keyboards: list[list[int]] = []
    previous_was_button = False
    for line in output.splitlines():
        button = BUTTON.match(line)
        if button and previous_was_button:
            keyboards[-1].append(int(button[1]))
        elif button:
            keyboards.append([int(button[1])])
        previous_was_button = button is not None
    return keyboards


def words(text: str) -> str:
    return " ".join(text.split())


def subcommands() -> dict[str, argparse.ArgumentParser]:
    for action in parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("the command line has no subcommands")


# -- help and refusal ------------------------------------------------------------------------


COMMANDS = subcommands()


def test_the_documented_commands_exist() -> None:
    assert set(COMMANDS) >= DOCUMENTED_COMMANDS


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_with_its_description(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    description = COMMANDS[name].description
    assert description, f"{name} has no description"

    with pytest.raises(SystemExit) as exited:
        main([name, "--help"])

    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: meedoen {name}" in out
    assert words(description) in words(out)


async def test_help_from_python_dash_m_bot(tmp_path: Path) -> None:
    overview, chat = await asyncio.gather(
        meedoen("--help", cwd=tmp_path), meedoen("chat", "--help", cwd=tmp_path)
    )

    assert overview.returncode == 0, overview.stderr
    assert all(name in overview.stdout for name in COMMANDS)
    assert chat.returncode == 0, chat.stderr
    assert "Chat in the terminal as a resident." in chat.stdout
    assert "--as" in chat.stdout


async def test_run_without_a_token_refuses_clearly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"

    finished = await meedoen("--database-url", url, "run", cwd=tmp_path)

    assert finished.returncode != 0
    assert "TELEGRAM_BOT_TOKEN is not set" in finished.stderr
    assert "python -m bot chat" in finished.stderr  # and what to try instead
    assert "Traceback" not in finished.stderr


# -- the terminal chat -----------------------------------------------------------------------

TEXTS = Texts.load()


def nl(key: str, **values: str) -> str:
    assert key in TEXTS.keys("nl"), f"no Dutch text {key!r}"
    return TEXTS("nl", key, **values)


def first_line(key: str, **values: str) -> str:
    return nl(key, **values).splitlines()[0]


async def bram(url: str) -> tuple[Person | None, ConversationState | None]:
    database = Database(url)
    try:
        async with database.unit_of_work() as store:
            person = await store.find_person_by_identity("terminal", "bram")
            state = await store.get_conversation(person.id) if person else None
            return person, state
    finally:
        await database.dispose()


@pytest.fixture
async def demo_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    seeded = await meedoen("--database-url", url, "seed-demo", cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "Demo data ready" in seeded.stdout
    return url


WHOLE_INTAKE = [
    "ja",  # consent, in words
    "1",  # name: the button with the chat name
    "7607",  # postcode
    "ik kook graag",  # gifts, in words
    "wandelen",  # wishes, in words
    "5",  # time: does not matter
    "2",  # distance: in my neighbourhood (800 m)
    "2",  # in a group
    "1",  # free only
    "ja",  # the summary is right
]


async def test_a_whole_intake_in_the_terminal(tmp_path: Path, demo_url: str) -> None:
    finished = await meedoen(
        "--database-url", demo_url, "chat", "--as", "Bram",
        cwd=tmp_path, stdin="\n".join(WHOLE_INTAKE) + "\n",
    )  # fmt: skip

    assert finished.returncode == 0, finished.stderr
    out = finished.stdout
    assert "Traceback" not in finished.stderr
    # Every line typed is echoed, in order, after the bot's question.
    echoed = [line[2:] for line in out.splitlines() if line.startswith("> ")]
    assert echoed == WHOLE_INTAKE
    # Buttons are numbered lines, 1, 2, 3, ... under every question.
    assert "  [1] 👤 Bram" in out
    keyboards = button_numbers(out)
    assert len(keyboards) >= len(WHOLE_INTAKE)
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in keyboards)
    # The questions came in order, and the summary shows the answers.
    for key in ("welcome.consent", "ask.gifts", "ask.wishes", "summary.title"):
        assert first_line(key) in out, key
    assert out.index(first_line("ask.gifts")) < out.index(first_line("ask.wishes"))
    summary = out[out.index(nl("summary.title")) :]
    for answer in ("Bram", "7607", "koken", "wandelen", "800 m"):
        assert answer in summary, answer
    assert nl("done.thanks", name_sep=", Bram") in summary

    person, state = await bram(demo_url)
    assert person is not None
    assert (person.first_name, person.postcode, person.area_name) == ("Bram", "7607", "Almelo")
    assert (person.gifts, person.wishes) == (("cooking",), ("walking",))
    assert (person.max_distance_m, person.group_pref, person.free_only) == (800, "group", True)
    assert person.intake_done_at is not None
    assert state is not None


async def test_a_hello_after_the_welcome_is_answered_briefly(tmp_path: Path, demo_url: str) -> None:
    finished = await meedoen(
        "--database-url", demo_url, "chat", "--as", "Bram",
        cwd=tmp_path, stdin="goeiemiddag\nja hoor\n",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    out = finished.stdout
    assert out.count(first_line("welcome.hello")) == 1  # the start's "hallo" got it, once
    assert nl("welcome.greeted") in out
    assert out.index(nl("welcome.greeted")) < out.index(first_line("consent.thanks"))


async def test_a_second_chat_continues_where_the_first_stopped(
    tmp_path: Path, demo_url: str
) -> None:
    first = await meedoen(
        "--database-url", demo_url, "chat", "--as", "Bram", cwd=tmp_path, stdin="ja\n1\n7607\n"
    )
    assert first.returncode == 0, first.stderr
    # It stopped at the gifts question, the last thing it asked.
    assert first_line("ask.gifts") in first.stdout[first.stdout.rindex("> 7607") :]
    person, state = await bram(demo_url)
    assert person is not None
    assert (person.first_name, person.postcode, person.intake_done_at) == ("Bram", "7607", None)
    assert state is not None
    assert state.step == "gifts"

    second = await meedoen(
        "--database-url", demo_url, "chat", "--as", "Bram", cwd=tmp_path, stdin="ik kook graag\n"
    )

    assert second.returncode == 0, second.stderr
    out = second.stdout
    welcome_back = nl("welcome.back", name_sep=", Bram")
    assert welcome_back in out
    assert first_line("welcome.consent") not in out  # no second consent
    assert out.index(welcome_back) < out.index(first_line("ask.gifts")) < out.index("> ik kook")
    assert first_line("ask.wishes") in out[out.index("> ik kook") :]
    person, state = await bram(demo_url)
    assert person is not None
    assert person.gifts == ("cooking",)
    assert state is not None
    assert state.step == "wishes"


# -- rendering -------------------------------------------------------------------------------


def test_render_a_plain_reply() -> None:
    assert render(Reply("Hallo!\nHoe gaat het?")) == "Hallo!\nHoe gaat het?"


def test_render_numbers_the_buttons() -> None:
    reply = Reply("Wil je meedoen?", (Option("consent:yes", "✅ Ja"), Option("consent:no", "Nee")))
    assert render(reply) == "Wil je meedoen?\n  [1] ✅ Ja\n  [2] Nee"


def test_render_says_a_location_button_cannot_be_used() -> None:
    reply = Reply(
        "Waar woon je?",
        tuple(Option(f"area:{n}", f"Buurt {n}") for n in range(1, 11)),
        request_location="📍 Deel mijn locatie",
    )
    lines = render(reply).splitlines()
    assert lines[0] == "Waar woon je?"
    assert lines[1].strip().startswith("(📍 Deel mijn locatie:")
    assert "terminal" in lines[1]
    assert lines[2:] == [f"  [{n}] Buurt {n}" for n in range(1, 11)]
