"""Hello and consent, for someone we have stored nothing about.

Nothing is written here until the person says yes: the language they pick before that
travels inside the button itself ("0:yes:en"), not in the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.i18n import LANGUAGES, Texts, pick_language
from handlers.messages import Inbound, Option, Reply
from handlers.organiser import read_invite
from handlers.reading import (
    Command,
    clean,
    fold,
    has_words,
    is_greeting,
    is_link_request,
    read_command,
    read_yes_no,
)

STRANGER_TURN = "0"
ENGLISH_WORDS = frozenset({"yes", "yes please", "sure", "okay", "english", "y", "hello", "hi"})


@dataclass(frozen=True)
class StrangerAnswer:
    """What a stranger's message means: consent in a language, or replies to send."""

    consent_language: str | None
    replies: tuple[Reply, ...] = ()
    invite: str | None = None  # an organiser's invite code, carried through the buttons


def _consent_options(texts: Texts, language: str, invite: str | None) -> tuple[Option, ...]:
    other = "en" if language == "nl" else "nl"
    code = f":{invite}" if invite else ""
    return (
        Option(f"{STRANGER_TURN}:yes:{language}{code}", texts(language, "button.consent_yes")),
        Option(f"{STRANGER_TURN}:no:{language}", texts(language, "button.consent_no")),
        Option(f"{STRANGER_TURN}:lang:{other}{code}", texts(other, "button.switch_language")),
    )


def welcome(
    texts: Texts, language: str, *, intro_key: str | None = None, invite: str | None = None
) -> tuple[Reply, ...]:
    hello = texts(language, "welcome.hello")
    if intro_key:
        hello = texts(language, intro_key) + "\n\n" + hello
    options = _consent_options(texts, language, invite)
    return (Reply(hello), Reply(texts(language, "welcome.consent"), options))


def ask_again(texts: Texts, language: str) -> tuple[Reply, ...]:
    """Words that are neither yes nor no: say so, and ask only the consent question again."""
    text = texts(language, "welcome.not_understood") + "\n\n" + texts(language, "welcome.consent")
    return (Reply(text, _consent_options(texts, language, None)),)


def greet_again(texts: Texts, language: str) -> tuple[Reply, ...]:
    """A second hello while the consent question waits: a short hello and only the question,
    not the whole welcome once more."""
    return (Reply(texts(language, "welcome.greeted"), _consent_options(texts, language, None)),)


def read_stranger(texts: Texts, msg: Inbound, *, welcomed: bool = False) -> StrangerAnswer:
    """Decide what to do with a message from someone who has not (yet) said yes.

    `welcomed`: the consent question was the last thing we sent this chat."""
    language = pick_language(msg.language_code)
    if msg.choice is not None:
        turn, _, rest = msg.choice.partition(":")
        action, _, rest = rest.partition(":")
        chosen, _, carried = rest.partition(":")
        code = read_invite(f"code {carried}") if carried else None
        if turn != STRANGER_TURN or chosen not in LANGUAGES:
            return StrangerAnswer(None, welcome(texts, language, intro_key="button.stale"))
        if action == "yes":
            return StrangerAnswer(chosen, invite=code)
        if action == "no":
            return StrangerAnswer(None, (Reply(texts(chosen, "consent.declined")),))
        if action == "lang":
            return StrangerAnswer(None, welcome(texts, chosen, invite=code))
        return StrangerAnswer(None, welcome(texts, language, intro_key="button.stale"))
    text = clean(msg.text)
    if not text:
        key = "media.before_consent" if msg.media or msg.location else None
        return StrangerAnswer(None, welcome(texts, language, intro_key=key))
    code = read_invite(text)
    if code is not None:
        return StrangerAnswer(
            None, welcome(texts, language, intro_key="welcome.organiser", invite=code)
        )
    if is_link_request(text):  # linking from this side: how it works, then the question
        return StrangerAnswer(None, welcome(texts, language, intro_key="link.before_consent"))
    yes_no = read_yes_no(text)
    command = read_command(text)
    for lang in LANGUAGES:  # the button's words, typed
        if fold(text) == fold(texts(lang, "button.consent_yes")):
            return StrangerAnswer(lang)
        if fold(text) == fold(texts(lang, "button.consent_no")):
            yes_no = False
    if yes_no is True:
        return StrangerAnswer("en" if fold(text) in ENGLISH_WORDS else language)
    if yes_no is False or command in (Command.STOP, Command.FORGET):
        return StrangerAnswer(None, (Reply(texts(language, "consent.declined")),))
    if command is Command.MY_DATA:
        return StrangerAnswer(None, welcome(texts, language, intro_key="data.nothing"))
    if command is Command.LANGUAGE:
        folded = fold(text)
        chosen = "en" if folded in ("english", "engels") else "nl"
        if folded in ("taal", "language"):
            chosen = "en" if language == "nl" else "nl"
        return StrangerAnswer(None, welcome(texts, chosen))
    if command is Command.HELP:
        return StrangerAnswer(None, welcome(texts, language, intro_key="help.before_consent"))
    if is_greeting(text) or not has_words(text):
        if welcomed:
            return StrangerAnswer(None, greet_again(texts, language))
        return StrangerAnswer(None, welcome(texts, language))
    return StrangerAnswer(None, ask_again(texts, language))
