"""`python -m bot run` as a process of its own, on a free loopback port: for what drives the
real program from outside, the benchmark's workers (`bot.bench_workers`) and the tests that
start the bot as a process."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import aiohttp

PROJECT = Path(__file__).resolve().parents[1]

Stream = int | IO[Any] | None  # as `asyncio.create_subprocess_exec` takes stdout and stderr


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_run(
    env: Mapping[str, str], *, stdout: Stream = None, stderr: Stream = None
) -> asyncio.subprocess.Process:
    """`python -m bot run` in the project folder, with exactly `env` as its environment
    (WEB_PORT, DATABASE_URL and the channel's settings among it)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=PROJECT, env=dict(env), stdout=stdout, stderr=stderr
    )


async def healthy(session: aiohttp.ClientSession, url: str) -> bool:
    """Whether the bot at `url` answers /healthz with 200 (up, its database reachable);
    False while nothing answers there."""
    try:
        async with session.get(url + "/healthz") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False
