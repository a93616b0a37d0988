"""One sender's messages are handled one at a time, in arrival order; senders in parallel.

Within one process this is a chain per sender, taken synchronously when a message arrives,
so order is arrival order. Across processes the unit of work also takes a database lock
per sender (see `Store.lock_sender`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class SenderQueue:
    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future[None]] = {}

    def __len__(self) -> int:
        return len(self._tails)

    async def run(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` after every earlier call with the same key has finished."""
        previous = self._tails.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine

        def release(_: object = None) -> None:
            mine.set_result(None)
            if self._tails.get(key) is mine:
                del self._tails[key]

        try:
            if previous is not None:
                await asyncio.shield(previous)
            return await work()
        finally:
            if previous is not None and not previous.done():
                # Cancelled while waiting: the next in line still waits for `previous`.
                previous.add_done_callback(release)
            else:
                release()
