"""The terminal chat: be a resident on the command line, one message per input line.

Buttons are shown as numbered lines `[1] label`; type the number or answer in words.
Reading stdin line by line keeps it scriptable: `printf 'ja\\nAnna\\n' | python -m bot chat`.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from handlers.conversation import Conversations
from handlers.messages import Inbound, Reply

CHANNEL = "terminal"


def render(reply: Reply) -> str:
    """A reply as terminal text: the message, then its buttons as numbered lines."""
    lines = [reply.text]
    if reply.request_location:
        lines.append(f"    ({reply.request_location}: niet in de terminal / not in the terminal)")
    lines += [f"  [{number}] {option.label}" for number, option in enumerate(reply.options, 1)]
    return "\n".join(lines)


async def chat(
    conversations: Conversations,
    *,
    name: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    language: str = "nl",
) -> None:
    """Talk as `name` until the input ends (Ctrl-D) or is interrupted (Ctrl-C)."""
    loop = asyncio.get_running_loop()
    sender = name.strip().lower() or "resident"

    async def send(text: str) -> None:
        inbound = Inbound(
            channel=CHANNEL,
            external_id=sender,
            text=text,
            first_name=name,
            language_code=language,
        )
        for reply in await conversations.handle(inbound):
            if reply.to_person is None:
                stdout.write("\n" + render(reply) + "\n")
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
