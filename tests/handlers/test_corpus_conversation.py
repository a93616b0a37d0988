"""What the readers understand, the conversation understands: every answer of the corpus
to an intake question, sent at that question, moves the intake on exactly when its reader
reads it as the case wants (and a name is kept as the reader reads it). A reader measured
on its own is worth nothing if the conversation does something else with the same words:
this found the place question not reading a town inside a sentence ("ik woon in het
centrum van Almelo"), and "iemand die me helpt in de tuin" sent to a person instead of
read as a wish."""

from __future__ import annotations

import pytest

from bot.app import App
from handlers.answers import places
from handlers.answers.names import read_name
from tests.handlers.corpus import Case
from tests.handlers.corpus.held_out import HELD_OUT
from tests.handlers.test_commands import put_at
from tests.handlers.test_corpus import CORPUS, understood
from tests.harness import Resident, seed_places, snapshot

STEPS = ("name", "place", "gifts", "wishes", "times", "distance", "group", "free")


def _cases(step: str) -> list[Case]:
    """The corpus's answers to `step`, and for "place" the reader's own examples."""
    examples = [Case("place", text, (want,), ()) for text, want in places.EXAMPLES]
    return [case for case in (*CORPUS, *HELD_OUT, *examples) if case.question == step]


@pytest.mark.parametrize("step", STEPS)
async def test_the_conversation_understands_what_its_reader_does(app: App, step: str) -> None:
    await seed_places(app)
    cases = _cases(step)
    assert cases
    disagree: list[str] = []
    for number, case in enumerate(cases):
        resident = Resident(app.conversations, external_id=f"{step}-{number}")
        await put_at(app, resident, step)
        replies = await resident.send(case.text)
        person, state = await snapshot(app.database, resident)
        moved_on = state.step != step
        # Read as the case wants, unless it wants nothing read ("weet ik veel" is no place).
        expected = understood(case) and case.want != (None,)
        if moved_on != expected:
            shown = replies[0].text[:60] if replies else ""
            disagree.append(f"{case.text!r}: reader {expected}, conversation {shown!r}")
        elif step == "name" and moved_on and person.first_name != read_name(case.text):
            disagree.append(f"{case.text!r}: kept {person.first_name!r}")
    assert not disagree, "\n".join(disagree)


async def test_the_welcome_understands_a_yes_or_no_as_its_reader_does(app: App) -> None:
    """Consent: after the welcome, a yes makes someone a participant, anything else not."""
    await seed_places(app)
    cases = [case for case in (*CORPUS, *HELD_OUT) if case.question == "consent"]
    assert {case.want for case in cases} >= {(True,), (False,)}
    disagree: list[str] = []
    for number, case in enumerate(cases):
        resident = Resident(app.conversations, external_id=f"consent-{number}")
        await resident.send("hoi")  # the welcome and its question
        replies = await resident.send(case.text)
        async with app.database.unit_of_work() as store:
            joined = await store.find_person_by_identity(resident.channel, resident.external_id)
        expected = understood(case) and case.want == (True,)
        if (joined is not None) != expected:
            shown = replies[0].text[:60] if replies else ""
            disagree.append(f"{case.text!r}: reader {expected}, conversation {shown!r}")
    assert not disagree, "\n".join(disagree)
