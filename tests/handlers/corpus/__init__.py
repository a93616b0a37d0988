"""Realistic answers to every question, as residents type them, with what they must mean.

Written from how people answer, not from the readers: short and long answers, typos,
negation, "maar", some dialect and some English. `Case.want` is what must be understood
(every tag of a list question, or one of the acceptable values of a single answer);
`Case.avoid` is what must not be (the opposite, a gift she no longer has).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    question: str
    text: str
    want: tuple[object, ...]
    avoid: tuple[object, ...] = ()


def case(question: str, text: str, *want: object, avoid: tuple[object, ...] = ()) -> Case:
    return Case(question, text, tuple(want), avoid)
