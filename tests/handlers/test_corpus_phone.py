"""The readers measured on answers as typed on a phone, Dutch and English (`PHONE`, `UNTUNED`).

`PHONE` (179 answers) was written before the readers were read; `UNTUNED` was written after
the changes it led to and was not tuned on. An answer is understood when every wanted
reading is there and no avoided one is; `None` wanted means nothing may be read, so the
question is asked again. A wrong guess is a reading that is there but not wanted; nonsense
("asdf", "😀", "???") must never be read as anything.

Figures (understood; wrong guesses):

    FIGURES
"""

from __future__ import annotations

import pytest

from handlers.answers import Either
from handlers.answers.distance import read_distance
from handlers.answers.free import read_free
from handlers.answers.group import read_group
from handlers.answers.names import read_name
from handlers.answers.places import Gazetteer, read_place
from handlers.answers.tags import read_tags
from handlers.answers.times import read_times
from handlers.taxonomy import Taxonomy
from tests.handlers.corpus import Case
from tests.handlers.corpus.phone import PHONE

ENGLISH = frozenset(
    {
        "i", "i'm", "i'd", "i've", "my", "the", "to", "with", "help", "and", "someone", "somebody",
        "like", "go", "fix", "please", "only", "not", "of", "is", "it's", "this", "name's", "you",
        "near", "zip", "postal", "live", "can", "can't", "don't", "just", "one", "person", "group",
        "people", "either", "way", "doesn't", "matter", "few", "euros", "money", "whenever",
        "evening", "mornings", "afternoons", "weekends", "after", "around", "within", "car", "walk",
        "far", "trips", "buddy", "talk", "company",
    }
)  # fmt: skip


def language(text: str) -> str:
    said = set(text.lower().replace(",", " ").replace(".", " ").split())
    return "en" if len(ENGLISH & said) >= 1 and not {"ik", "de", "het", "een"} & said else "nl"


def reading(case: Case) -> object:
    """What the reader of the case's question makes of it: a value, a tuple, or None."""
    if case.question == "name":
        return read_name(case.text)
    if case.question == "place":
        return read_place(case.text, Gazetteer.load())
    if case.question == "group":
        return read_group(case.text)
    if case.question == "free":
        return read_free(case.text)
    if case.question == "distance":
        return read_distance(case.text)
    if case.question == "times":
        return read_times(case.text) or None
    kind = "gift" if case.question == "gifts" else "wish"
    found = read_tags(Taxonomy.load(), case.text, kind, language(case.text)).found
    return tuple(found) or None


def judge(case: Case) -> str:
    """"right", "asked" (nothing read, or a choice offered) or "wrong" (a silent bad guess)."""
    read = reading(case)
    if case.question == "distance" and case.want != (None,):
        if isinstance(read, int):
            low, high = case.want
            return "right" if low <= read <= high else "wrong"  # type: ignore[operator]
        return "asked"
    if case.question in ("times", "gifts", "wishes"):
        if read is None:
            return "right" if case.want in ((None,), ()) else "asked"
        if case.want == (None,):
            return "wrong"
        found = set(read)  # type: ignore[call-overload]
        if set(case.want) <= found and not set(case.avoid) & found:
            return "right"
        return "wrong"
    if read in case.want:
        return "right"
    if read is None or isinstance(read, Either):
        return "asked"
    return "wrong"


def share(cases: tuple[Case, ...]) -> tuple[float, int, list[str]]:
    verdicts = [(case, judge(case)) for case in cases]
    right = sum(verdict == "right" for _, verdict in verdicts) / len(cases)
    wrong = sum(verdict == "wrong" for _, verdict in verdicts)
    missed = [
        f"  {verdict} ({case.question}): {case.text!r} -> {reading(case)!r}"
        for case, verdict in verdicts
        if verdict != "right"
    ]
    return right, wrong, missed


@pytest.mark.parametrize("name, cases", [("phone", PHONE)])
def test_answers_typed_on_a_phone_are_understood(
    name: str, cases: tuple[Case, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    right, wrong, missed = share(cases)
    with capsys.disabled():
        print(f"\n{name}: {right:.1%} of {len(cases)} understood, {wrong} wrong guesses")
        print("\n".join(missed))
    assert right >= 0.0
