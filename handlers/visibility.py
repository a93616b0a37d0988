"""May neighbours who fit be told about this person? A choice of its own, default no.

Asked once after the intake's summary is first confirmed, again when someone who agreed
to an older consent text writes (the text changed: being suggested to neighbours is now
asked separately), and changeable from "mijn gegevens" at any time. A neighbour who is
told sees only a first name and an area, never where the person lives.
"""

from __future__ import annotations

from handlers.answers.words import has_phrase, words
from handlers.errors import InvalidAnswer
from handlers.flow import CONSENT_VERSION, DONE, FIRST_STEP, STEPS
from handlers.messages import Option
from handlers.reading import read_yes_no
from handlers.turn import Turn

VISIBILITY_STEP = "neighbours"
VISIBILITY_KEY = "g:neighbours"  # "change who may hear about me", from "mijn gegevens"


def options(turn: Turn) -> tuple[Option, ...]:
    return (
        turn.option("visible:yes", turn.t("button.visible_yes")),
        turn.option("visible:no", turn.t("button.visible_no")),
    )


def ask(turn: Turn) -> None:
    turn.say(turn.t("visibility.question"), options(turn))


def start(turn: Turn, *, then: str, intro: str | None = None) -> None:
    """Go to the question; `then` is "finish" (the intake's end) or a step to resume."""
    turn.goto(VISIBILITY_STEP, then=then)
    if intro:
        turn.say(intro)
    ask(turn)


def needs_new_consent(version: str | None) -> bool:
    """Someone who agreed to an older text is asked again when they next write."""
    return version is not None and version != CONSENT_VERSION


# Not sure yet: that is a no for now, which they can change at any time.
NOT_YET = "visible:not_yet"
_UNDECIDED = (
    "weet ik niet", "weet ik nog niet", "weet niet", "geen idee", "twijfel", "misschien",
    "later", "nog niet", "nadenken", "denk er over na", "not sure", "maybe", "dont know",
    "no idea", "not yet", "think about it",
)  # fmt: skip


_QUESTION_WORDS = frozenset({"wat", "waarom", "hoe", "wie", "welke", "what", "why", "how", "who"})


def _asks_what_it_means(text: str) -> bool:
    """ "Wat betekent dat?", "waarom wil je dat weten": a question about the question."""
    said = words(text)
    return text.rstrip().endswith("?") or bool(said and said[0] in _QUESTION_WORDS)


async def choose(turn: Turn, key: str) -> None:
    if key not in ("visible:yes", "visible:no", NOT_YET):
        raise InvalidAnswer("button.unknown")
    visible = key == "visible:yes"
    await turn.update(neighbour_visible=visible)
    await turn.store.record_consent(turn.person.id, version=CONSENT_VERSION, language=turn.lang)
    ack = {"visible:yes": "visibility.yes", "visible:no": "visibility.no"}.get(key)
    turn.say(turn.t(ack or "visibility.not_yet"))


def then(turn: Turn) -> str:
    """Where the conversation goes after the answer: "finish" or a step to resume."""
    step = str(turn.state.context.get("then", DONE))
    return step if step == "finish" or step in STEPS or step == DONE else FIRST_STEP


def read(text: str) -> str:
    """The button key that typed words mean; InvalidAnswer when they are neither."""
    answer = read_yes_no(text)
    if answer is None and any(has_phrase(words(text), phrase) for phrase in _UNDECIDED):
        return NOT_YET
    if answer is None and _asks_what_it_means(text):
        raise InvalidAnswer("visibility.explained")  # then the question again
    if answer is None:
        raise InvalidAnswer("visibility.not_understood")
    return "visible:yes" if answer else "visible:no"
