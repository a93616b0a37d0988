"""One person on two chats, only when they say so ("koppel").

The conversation, as data: in a chat they already use, the person asks for a code
("koppel", or the button under "mijn gegevens") and gets six digits, valid ten minutes and
once. In the other chat (WhatsApp, Telegram or the web chat) they type it; before anything
is stored there they confirm: "Does this conversation belong to Anna too?". Yes adds that
chat as another identity of the same person, and the conversation goes on where it was.
No stores nothing. Nothing is ever merged by phone number.

Choices written down here:

- A chat that already has a profile of its own is never merged with another one: two
  profiles cannot be joined without losing or mixing answers. Typing a code there gets a
  kind answer: this chat has its own profile; say "vergeet mij" here first to keep only
  the other one, then type the code again.
- Before yes, a stranger's chat gets nothing stored: the code travels in the yes button
  (as the language does in the consent buttons), and is checked again when it is tapped.
  Only wrong codes are counted, under a hash of the chat, to stop guessing: five in an
  hour and we kindly refuse until the hour is over.
- The code is stored only as a hash and never logged: the message log keeps "[code]"
  (handlers.scrub), also for the yes button that carried it.
- Unlinking ("Haal WhatsApp weg" under "mijn gegevens") removes one of the other chats;
  the chat one is writing from, and the last chat, stay: leaving completely is
  "vergeet mij".
- Each chat keeps its own reachability (a blocked bot on WhatsApp does not stop Telegram);
  messages for the person go to the reachable chat they last wrote from.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from handlers.errors import NotAllowed
from handlers.i18n import LANGUAGES, Texts, pick_language
from handlers.messages import Inbound, Option, Reply
from handlers.turn import Turn
from handlers.welcome import STRANGER_TURN, welcome
from storage.store import Store

LINK_KEY = "l:code"  # global button: give me a code
UNLINK_PREFIX = "l:off:"  # global button: remove that chat (identity id follows)
MAX_ATTEMPTS = 5  # wrong codes per chat per hour
_CODE = re.compile(r"^\s*(?:(?:koppel|link|code)\s*[:]?\s*)?(\d{3})[\s.-]?(\d{3})\s*$", re.I)
_YES, _NO = "link", "nolink"

CHANNEL_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp", "web": "webchat"}


def channel_name(channel: str) -> str:
    """The chat's name in plain words."""
    return CHANNEL_NAMES.get(channel, channel.capitalize())


def read_code(text: str | None) -> str | None:
    """Six digits, also written "123 456" or "koppel 123456"."""
    match = _CODE.match(text or "")
    return match.group(1) + match.group(2) if match else None


def _shown(code: str) -> str:
    return f"{code[:3]} {code[3:]}"


# -- in the chat the person already uses --------------------------------------------------


async def give_code(turn: Turn) -> None:
    """A new one-time code, and how to use it."""
    for _ in range(10):
        code = f"{secrets.randbelow(10**6):06d}"
        if await turn.store.save_link_code(turn.person.id, code, now=turn.now):
            turn.say(turn.t("link.code", code=_shown(code)), secret=True)
            return
    turn.say(turn.t("error.sorry"))  # ten live codes in a row: practically never


async def on_code(turn: Turn, text: str) -> bool:
    """A code typed in a chat that has a profile: this chat is not merged (see above).
    False when the text is not a code."""
    code = read_code(text)
    if code is None:
        return False
    msg, store = turn.msg, turn.store
    if await store.count_link_attempts(msg.channel, msg.external_id, now=turn.now) >= MAX_ATTEMPTS:
        turn.say(turn.t("link.too_many"))
    else:
        owner = await store.find_link_code(code, now=turn.now)
        if owner is None:
            await store.add_link_attempt(msg.channel, msg.external_id, now=turn.now)
            turn.say(turn.t("link.wrong"))
        elif owner == turn.person.id:
            turn.say(turn.t("link.own_code"))
        else:
            turn.say(turn.t("link.has_profile"))
    turn.ask_after = True
    return True


async def data_options(turn: Turn) -> tuple[Option, ...]:
    """Under "mijn gegevens": link another chat, and unlink each other one."""
    identities = await turn.store.list_linked_identities(turn.person.id)
    here = (turn.msg.channel, turn.msg.external_id)
    options = [Option(LINK_KEY, turn.t("button.link"))]
    if len(identities) > 1:
        for identity in identities:
            if (identity.channel, identity.external_id) != here:
                label = turn.t("button.unlink", channel=channel_name(identity.channel))
                options.append(Option(f"{UNLINK_PREFIX}{identity.id}", label))
    return tuple(options)


async def act(turn: Turn, choice: str) -> None:
    """The linking buttons under "mijn gegevens"."""
    if choice == LINK_KEY:
        await give_code(turn)
        turn.ask_after = True
        return
    number = choice.removeprefix(UNLINK_PREFIX)
    if not choice.startswith(UNLINK_PREFIX) or not number.isdigit():
        raise NotAllowed("unknown linking button")
    identities = await turn.store.list_linked_identities(turn.person.id)
    chosen = next((i for i in identities if i.id == int(number)), None)
    here = (turn.msg.channel, turn.msg.external_id)
    if chosen is None or (chosen.channel, chosen.external_id) == here:
        raise NotAllowed("not a chat of this person, or this chat")
    if await turn.store.unlink_identity(turn.person.id, chosen.id):
        turn.say(turn.t("link.unlinked", channel=channel_name(chosen.channel)))
    else:
        turn.say(turn.t("link.last_chat"))
    turn.ask_after = True


# -- in the new chat, before it belongs to anyone -----------------------------------------


@dataclass(frozen=True)
class StrangerLink:
    """What a stranger's message means for linking: replies, or the person this chat now
    belongs to (then the conversation goes on as theirs)."""

    replies: tuple[Reply, ...] = ()
    person_id: int | None = None


async def read_stranger_link(
    store: Store, texts: Texts, msg: Inbound, now: datetime
) -> StrangerLink | None:
    """A code typed by someone without a profile here, or their yes or no to it. None when
    the message is not about linking."""
    language = pick_language(msg.language_code)
    if msg.choice is not None:
        turn, _, rest = msg.choice.partition(":")
        action, _, rest = rest.partition(":")
        chosen, _, code = rest.partition(":")
        if turn != STRANGER_TURN or action not in (_YES, _NO):
            return None
        language = chosen if chosen in LANGUAGES else language
        if action == _NO:
            return StrangerLink((Reply(texts(language, "link.declined")),))
        person_id = await store.link_identity(
            code, msg.channel, msg.external_id, msg.username, now=now
        )
        if person_id is None:
            return StrangerLink(welcome(texts, language, intro_key="link.expired"))
        return StrangerLink(person_id=person_id)
    typed = read_code(msg.text)
    if typed is None:
        return None
    if await store.count_link_attempts(msg.channel, msg.external_id, now=now) >= MAX_ATTEMPTS:
        return StrangerLink((Reply(texts(language, "link.too_many")),))
    person_id = await store.find_link_code(typed, now=now)
    person = await store.get_person(person_id) if person_id is not None else None
    if person is None:
        await store.add_link_attempt(msg.channel, msg.external_id, now=now)
        return StrangerLink(welcome(texts, language, intro_key="link.wrong"))
    name = person.first_name or texts(language, "link.someone")
    options = (
        Option(f"{STRANGER_TURN}:{_YES}:{language}:{typed}", texts(language, "button.link_yes")),
        Option(f"{STRANGER_TURN}:{_NO}:{language}", texts(language, "button.link_no")),
    )
    return StrangerLink((Reply(texts(language, "link.confirm", name=name), options),))
