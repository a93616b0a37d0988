"""`python -m bot run` with WhatsApp only: no Telegram token, a real process, the fake Graph
API. The bot starts, answers a WhatsApp message through its webhook, and stops on SIGTERM.
Without any channel it refuses to start, saying what to set.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from bot.processes import free_port, healthy, start_run
from bot.web import WHATSAPP_PATH
from storage.db import Database
from tests.channels import whatsapp_webhooks as hook
from tests.channels.fake_whatsapp import FakeWhatsApp
from tests.channels.whatsapp_harness import graph_api, whatsapp_environment

APP_SECRET = "wa-only-app-secret"
WA_ID = "31687654321"
STARTUP = 60.0


def environment(database_url: str, port: int, **values: str) -> dict[str, str]:
    """The process's settings: ours only (no .env value of these leaks in)."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WHATSAPP_"))}
    return {
        **kept,
        "DATABASE_URL": database_url,
        "WEB_PORT": str(port),
        "TELEGRAM_BOT_TOKEN": "",
        "THROTTLE_PER_MINUTE": "0",
        "LOG_LEVEL": "INFO",
        **values,
    }


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP
    while not await check():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.1)


@pytest.fixture
async def wa() -> AsyncIterator[FakeWhatsApp]:
    async with graph_api(app_secret=APP_SECRET) as server:
        yield server


async def test_the_bot_runs_with_whatsapp_settings_only(
    database: Database, database_url: str, wa: FakeWhatsApp, tmp_path: Path
) -> None:
    port = free_port()
    env = environment(database_url, port, **whatsapp_environment(wa, "verify-me"))
    log = tmp_path / "bot.log"
    with log.open("w") as out:
        process = await start_run(env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:

        async def up() -> bool:
            assert process.returncode is None, log.read_text()
            async with aiohttp.ClientSession() as session:
                return await healthy(session, url)

        await eventually(up, "the bot did not start")
        assert await wa.verify_webhook(url + WHATSAPP_PATH, "verify-me", "42") == (200, "42")
        status, _ = await wa.post_webhook(url + WHATSAPP_PATH, hook.text(WA_ID, "hallo"))
        assert status == 200

        async def answered() -> bool:
            return bool(wa.sent_to(WA_ID))

        await eventually(answered, "no answer on WhatsApp")
        assert wa.refused == []
        assert wa.sent_to(WA_ID)[0].kind.startswith("interactive")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), STARTUP) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = log.read_text()
    assert "running on WhatsApp, web server" in output
    assert "Telegram" not in output.split("running on", 1)[1].splitlines()[0]


async def test_without_any_channel_the_bot_says_what_to_set(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    process = await start_run(
        environment(database_url, free_port()),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), STARTUP)
    assert process.returncode == 2
    assert b"WHATSAPP_ACCESS_TOKEN" in output and b"TELEGRAM_BOT_TOKEN" in output
