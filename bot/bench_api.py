"""A small Bot API server on loopback for the delivery and throughput benchmarks.

It speaks just enough of the Bot API (getMe, getUpdates with long polling, sendMessage,
editMessageText/ReplyMarkup, answerCallbackQuery, setMyCommands, set/deleteWebhook) for the
bot and for a bare python-telegram-bot echo bot. It enforces Telegram's limits as a fake:
more than `rate` sends in any one-second window, or more than one a second to one chat,
answers 429 with retry_after (and counts it).

Simulated residents (`add_residents`) each send their script of texts, one at a time: the
next as soon as the bot answered the previous one; the time from an update being offered
to the first answer in that chat is its latency. Updates wait for getUpdates, or, when
`push_to` names webhook URLs, are posted there as Telegram does (a resident always to the
same worker; again until it answers 200).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

BOT = {"id": 1, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}


@dataclass
class Resident:
    chat_id: int
    script: Sequence[str]
    step: int = 0
    offered_at: float = 0.0
    waiting: bool = False


@dataclass
class Figures:
    sends: int = 0
    edits: int = 0
    n429: int = 0
    latencies: list[float] = field(default_factory=list)
    first_send: float = 0.0
    last_send: float = 0.0


class BenchBotApi:
    def __init__(
        self, *, rate: int = 30, per_chat: float = 1.0, limits: bool = True, first_update: int = 1
    ) -> None:
        self.rate = rate
        self.per_chat = per_chat
        self.limits = limits
        self.figures = Figures()
        self.residents: dict[int, Resident] = {}
        self.finished = asyncio.Event()
        self._sent = asyncio.Condition()
        self._recent: collections.deque[float] = collections.deque()
        self._chat_last: dict[int, float] = {}
        self._updates: list[dict[str, Any]] = []
        # A run against a database that saw an earlier run's updates starts past their ids
        # (the bot takes each update id once).
        self._next_update = first_update
        self._message_ids = 1
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.push_to: list[str] = []
        self.secret = ""
        self._session: aiohttp.ClientSession | None = None
        self._posts: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/bot"

    async def stop(self) -> None:
        for task in list(self._posts):
            task.cancel()
        await asyncio.gather(*self._posts, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        async with self._cond:
            self._cond.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for_sends(self, count: int) -> None:
        async with self._sent:
            await self._sent.wait_for(lambda: self.figures.sends >= count)

    # -- residents -------------------------------------------------------------------------

    async def add_residents(self, count: int, script: Sequence[str], first_id: int) -> None:
        for chat_id in range(first_id, first_id + count):
            self.residents[chat_id] = Resident(chat_id, script)
        for resident in list(self.residents.values()):
            await self._offer(resident)

    async def _offer(self, resident: Resident) -> None:
        if resident.step >= len(resident.script):
            if all(r.step >= len(r.script) and not r.waiting for r in self.residents.values()):
                self.finished.set()
            return
        text = resident.script[resident.step]
        resident.step += 1
        resident.waiting = True
        resident.offered_at = time.perf_counter()
        person = {"id": resident.chat_id, "is_bot": False, "first_name": "Bewoner"}
        update = {
            "update_id": self._next_update,
            "message": {
                "message_id": self._next_update,
                "from": {**person, "language_code": "nl"},
                "chat": {"id": resident.chat_id, "type": "private", "first_name": "Bewoner"},
                "date": int(time.time()),
                "text": text,
            },
        }
        self._next_update += 1
        if self.push_to:
            task = asyncio.create_task(self._post(resident.chat_id, update))
            self._posts.add(task)
            task.add_done_callback(self._posts.discard)
            return
        async with self._cond:
            self._updates.append(update)
            self._cond.notify_all()

    async def _post(self, chat_id: int, update: dict[str, Any]) -> None:
        """Telegram's way: post the update to the chat's worker until it answers 200."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = self.push_to[chat_id % len(self.push_to)]
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        while True:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with self._session.post(url, json=update, headers=headers) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)

    async def _answered(self, chat_id: int) -> None:
        resident = self.residents.get(chat_id)
        if resident is None or not resident.waiting:
            return
        resident.waiting = False
        self.figures.latencies.append(time.perf_counter() - resident.offered_at)
        await self._offer(resident)

    # -- the API ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(await request.post())
        if method == "getupdates":
            return _ok(await self._get_updates(params))
        if method == "getme":
            return _ok(BOT)
        if method in ("sendmessage", "editmessagetext", "editmessagereplymarkup"):
            return await self._send(method, params)
        return _ok(True)  # setMyCommands, deleteWebhook, answerCallbackQuery, ...

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        async with self._cond:
            while True:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates:
                    return self._updates[:100]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                try:
                    await asyncio.wait_for(self._cond.wait(), remaining)
                except TimeoutError:
                    return []

    async def _send(self, method: str, params: dict[str, Any]) -> web.Response:
        chat_id = int(params["chat_id"])
        now = time.monotonic()
        if self.limits:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            last = self._chat_last.get(chat_id)
            if len(self._recent) >= self.rate or (
                last is not None and now - last < self.per_chat * 0.95
            ):
                self.figures.n429 += 1
                body = {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                }
                return web.json_response(body, status=429)
            self._recent.append(now)
            self._chat_last[chat_id] = now
        figures = self.figures
        if method == "sendmessage":
            figures.sends += 1
        else:
            figures.edits += 1
        figures.first_send = figures.first_send or now
        figures.last_send = now
        self._message_ids += 1
        async with self._sent:
            self._sent.notify_all()
        message = {
            "message_id": self._message_ids,
            "from": BOT,
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            "text": str(params.get("text", "")),
        }
        asyncio.get_running_loop().call_soon(
            lambda: asyncio.ensure_future(self._answered(chat_id))
        )
        return _ok(message)


def _ok(result: Any) -> web.Response:
    body = json.dumps({"ok": True, "result": result})
    return web.Response(text=body, content_type="application/json")
