"""The terminal chat: be a resident on the command line, one message per input line.

Buttons are shown as numbered lines `[1] label`, numbered on across the messages of one
answer; type the number, or answer in words.
Reading stdin line by line keeps it scriptable: `printf 'ja\\nAnna\\n' | python -m bot chat`.
Messages that other people's actions left for this resident (the outbox) are shown under
"— bericht —" before the answer to each line, when a unit of work is given.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TextIO

from bot.delivery import OutboxDelivery
from bot.scheduler import UnitOfWork
from handlers.conversation import Conversations
from handlers.messages import Inbound, Reply
from handlers.welcome import STRANGER_TURN
from storage.records import Identity

log = logging.getLogger(__name__)

CHANNEL = "terminal"
OUTBOX_HEADER = "— bericht —"


def render(reply: Reply, first: int = 1) -> str:
    """A reply as terminal text: the message, then its buttons as numbered lines."""
    lines = [reply.text]
    if reply.request_location:
        lines.append(f"    ({reply.request_location}: niet in de terminal / not in the terminal)")
    lines += [f"  [{number}] {option.label}" for number, option in enumerate(reply.options, first)]
    return "\n".join(lines)


class Screen:
    """What the terminal showed last: numbers run on across messages, so "5" is one button."""

    def __init__(self, stdout: TextIO) -> None:
        self._stdout = stdout
        self._keys: dict[int, str] = {}
        self.welcomed = False  # the consent question is what it showed last

    def clear(self) -> None:
        self._keys = {}

    def show(self, reply: Reply, header: str | None = None) -> None:
        first = len(self._keys) + 1
        if reply.options:
            self.welcomed = any(o.key.startswith(f"{STRANGER_TURN}:") for o in reply.options)
        for number, option in enumerate(reply.options, first):
            self._keys[number] = option.key
        text = render(reply, first)
        self._stdout.write(f"\n{header}\n{text}\n" if header else f"\n{text}\n")

    def choice(self, line: str) -> str | None:
        """The button key for a typed number, if it names a shown button."""
        stripped = line.strip()
        return self._keys.get(int(stripped)) if stripped.isdigit() else None


async def chat(
    conversations: Conversations,
    *,
    name: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    language: str = "nl",
    unit_of_work: UnitOfWork | None = None,
) -> None:
    """Talk as `name` until the input ends (Ctrl-D) or is interrupted (Ctrl-C).

    With `unit_of_work`, this resident's outbox messages are delivered before each answer.
    """
    loop = asyncio.get_running_loop()
    sender = name.strip().lower() or "resident"
    screen = Screen(stdout)

    async def show(_identity: Identity, reply: Reply) -> bool:
        screen.show(reply, OUTBOX_HEADER)
        return True

    outbox = (
        None
        if unit_of_work is None
        else OutboxDelivery(unit_of_work, CHANNEL, show, external_id=sender)
    )

    async def send(text: str) -> None:
        choice = screen.choice(text)
        inbound = Inbound(
            channel=CHANNEL,
            external_id=sender,
            text=None if choice else text,
            choice=choice,
            first_name=name,
            language_code=language,
            welcomed=screen.welcomed,
        )
        replies = await conversations.handle(inbound)
        screen.clear()
        if outbox is not None:
            try:
                await outbox.deliver_pending()
            except Exception:  # the chat goes on; the messages wait for the next line
                log.exception("could not deliver the outbox in the terminal")
        for reply in replies:
            if reply.to_person is None:
                screen.show(reply)
        stdout.write("> " if stdin.isatty() else "")
        stdout.flush()

    await send("hallo" if language == "nl" else "hello")
    while True:
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            stdout.write("\n")
            return
        if not stdin.isatty():
            stdout.write(f"> {line.rstrip()}\n")
        await send(line.rstrip("\n"))
