"""Saying back what was understood, in words that read well inside a sentence.

"Genoteerd: in je buurt (800 m)." A button label ("🚶 In mijn buurt (800 m)") is not always
such words, so a choice or tag may have a short form in the catalogs: `said.<step>.<key>`
for a choice, `tag.<id>` for a gift or wish ("koffie en een praatje").
"""

from __future__ import annotations

from collections.abc import Iterable

from handlers.flow import Choice, Step
from handlers.turn import Turn


def plain(label: str) -> str:
    """A button label as words in a sentence: no emoji in front, no capital."""
    words = label.lstrip("".join(c for c in label if not c.isalnum() and c not in "'"))
    return words[:1].lower() + words[1:]


def said_choice(turn: Turn, step: Step, choice: Choice) -> str:
    """A choice as words inside a sentence: "in je buurt (800 m)"."""
    key = f"said.{step.name}.{choice.key}"
    said = turn.t(key)
    return said if said != key else plain(turn.t(choice.label))


def said_metres(turn: Turn, step: Step, metres: int) -> str:
    """A distance as words: a choice's words when it is one, else "tot 1,5 km"."""
    for choice in step.choices:
        if choice.stored == metres:
            return said_choice(turn, step, choice)
    if metres < 1000:
        return turn.t("said.distance_m", distance=f"{metres} m")
    km = f"{metres / 1000:.1f}".replace(".", "," if turn.lang == "nl" else ".")
    return turn.t("said.distance_m", distance=km.removesuffix(",0").removesuffix(".0") + " km")


def tag_phrase(turn: Turn, tag_id: str, language: str | None = None) -> str:
    """A gift or wish as words: its short form, or its label without emoji."""
    lang = language or turn.lang
    short = turn.texts(lang, f"tag.{tag_id}")
    if short != f"tag.{tag_id}":
        return short
    if tag_id in turn.taxonomy:
        return plain(turn.taxonomy.get(tag_id).label(lang))
    return tag_id


def joined(turn: Turn, names: list[str], language: str | None = None) -> str:
    """ "koken, bakken en tuinieren"."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + turn.texts(language or turn.lang, "ideas.and") + names[-1]


def multi_words(turn: Turn, step: Step, keys: Iterable[str]) -> str:
    """The items of a list question as one phrase, in the order of the question."""
    wanted = set(keys)
    if step.tag_kind:
        tags = [tag.id for tag in turn.taxonomy.for_kind(step.tag_kind) if tag.id in wanted]
        return joined(turn, [tag_phrase(turn, tag) for tag in tags])
    return joined(turn, [said_choice(turn, step, c) for c in step.choices if c.key in wanted])
