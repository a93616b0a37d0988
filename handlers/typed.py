"""Typed answers to a flow's questions: each step's reader from `handlers/answers/`.

Every answer is said back in words ("Genoteerd: in je buurt (800 m)."), so a misreading is
visible at once; a button under the next question ("Dat klopt niet") asks it again. Where
two readings remain, the person is asked which one, with both as buttons.
"""

from __future__ import annotations

from handlers.answers import Either
from handlers.answers.distance import read_distance
from handlers.answers.free import read_free
from handlers.answers.group import read_group
from handlers.answers.names import read_name
from handlers.answers.places import (
    Gazetteer,
    find_place,
    read_place_name,
    read_postcode,
    villages_named,
)
from handlers.answers.rest import read_rest
from handlers.answers.summary import read_summary
from handlers.answers.tags import read_tags, says_nothing
from handlers.answers.times import WEEKEND_DAYS, named_days, read_times
from handlers.answers.yes_no import read_yes_no
from handlers.errors import InvalidAnswer
from handlers.flow import STEPS, Choice, Kind, Step
from handlers.i18n import LANGUAGES
from handlers.intake import (
    advance,
    edit,
    fill_rest,
    finish,
    flow_of,
    offers_rest,
    question_options,
    selected,
    set_place_named,
    set_postcode,
    set_single,
    store,
    undo,
)
from handlers.reading import Command, read_choices, read_command, read_short_text
from handlers.said import multi_words, plain, said_metres
from handlers.turn import Turn


async def answer_text(turn: Turn, text: str) -> None:
    """Free text for the current question."""
    step = STEPS[turn.state.step]
    if turn.state.context.get("typed") in STEPS and _no_to_what_was_said(step, text):
        await undo(turn)
        return
    if offers_rest(turn, step) and read_rest(text):  # "de rest maakt me niet uit"
        await fill_rest(turn)
        return
    if step.kind is Kind.TEXT and step.text == "name":
        name = read_name(text)
        if name is None:
            raise InvalidAnswer("name.invalid")
        await store(turn, **{step.field or "": name})
        await advance(turn, ack=turn.t("ack.name", name=name), typed=step.name)
    elif step.kind is Kind.TEXT:
        written = read_short_text(text, step.max_length)
        if written is None:
            raise InvalidAnswer("text.field_invalid", limit=step.max_length)
        await store(turn, **{step.field or "": written})
        await advance(turn, ack=turn.t("ack.noted_items", items=written.rstrip(".!? ")))
    elif step.kind is Kind.PLACE:
        await _answer_place(turn, text)
    elif step.kind is Kind.MULTI and step.tag_kind:
        await _answer_tags(turn, step, text)
    elif step.kind is Kind.MULTI:
        await _answer_times(turn, step, text)
    elif step.kind is Kind.SINGLE:
        await _answer_single(turn, step, text)
    else:
        await _answer_summary(turn, text)


def _no_to_what_was_said(step: Step, text: str) -> bool:
    """A plain "nee" right after an answer was said back, at a question it cannot answer."""
    takes_yes_no = step.kind is Kind.SUMMARY or any(
        isinstance(choice.stored, bool) for choice in step.choices
    )
    return not takes_yes_no and step.kind is not Kind.TEXT and read_yes_no(text) is False


async def _answer_place(turn: Turn, text: str) -> None:
    code = read_postcode(text)
    if code is not None:
        await set_postcode(turn, code)
        return
    wanted = read_place_name(text)
    for area in await turn.store.list_areas():  # the neighbourhoods of the list first
        if len(wanted) >= 4 and wanted in " ".join(read_place_name(area.name).split()):
            await set_postcode(turn, area.postcode, name=area.name, area=area)
            return
    gazetteer = Gazetteer.load()
    villages = villages_named(text, gazetteer)
    place = find_place(text, gazetteer)
    if villages and place is not None:  # "Hoeksche Waard": which of its villages?
        raise InvalidAnswer(
            "place.which_village", area=place.municipality, examples=", ".join(villages[:3])
        )
    if place is None:
        raise InvalidAnswer("place.not_understood")
    await set_place_named(turn, place)
    if turn.state.step in STEPS and turn.state.step != flow_of(turn).summary:
        turn.set_context(typed="place")  # a name read with typos: one tap asks again


async def _answer_tags(turn: Turn, step: Step, text: str) -> None:
    reading = read_tags(turn.taxonomy, text, step.tag_kind or "", turn.lang)
    if not reading.found and selected(turn, step) and read_yes_no(text) is True:
        await advance(turn, ack=turn.t("ack.noted"))  # "ja" after ticking: that's it
        return
    if not reading.found and not reading.dropped:
        if says_nothing(text) and step.tag_kind == "gift":
            raise InvalidAnswer("gifts.everyone_gives")  # kindly, and the question again
        if says_nothing(text) and not step.required:
            await advance(turn, ack=turn.t("ack.skipped"))  # "niks" wished: nothing to note
            return
        raise InvalidAnswer("multi.not_understood")
    kept = [tag for tag in selected(turn, step) if tag not in reading.dropped]
    await store(turn, **{step.field or "": tuple(dict.fromkeys([*kept, *reading.found]))})
    parts = []
    if reading.found:
        parts.append(turn.t("ack.noted_items", items=multi_words(turn, step, reading.found)))
    if reading.dropped:
        parts.append(turn.t("ack.not_noted", items=multi_words(turn, step, reading.dropped)))
    await advance(turn, ack=" ".join(parts), typed=step.name)


async def _answer_times(turn: Turn, step: Step, text: str) -> None:
    found = read_times(text)
    if not found:
        if selected(turn, step) and read_yes_no(text) is True:
            await advance(turn, ack=turn.t("ack.noted"))
            return
        raise InvalidAnswer("multi.not_understood")
    await store(turn, **{step.field or "": found})
    ack = turn.t("ack.noted_items", items=multi_words(turn, step, found))
    await advance(turn, ack=_with_days(turn, ack, text, found), typed=step.name)


def _with_days(turn: Turn, ack: str, text: str, found: tuple[str, ...]) -> str:
    """A day of the week cannot be kept: say so, and what was noted in its place."""
    days = named_days(text)
    if not days or found == ("any",):
        return ack
    if not set(days) & set(WEEKEND_DAYS) and "weekend" not in found:
        return ack + " " + turn.t("ack.days_weekdays")
    if set(days) <= set(WEEKEND_DAYS) and "weekend" in found:
        return ack + " " + turn.t("ack.days_weekend")
    return ack + " " + turn.t("ack.days")


def _reader_choices(step: Step, text: str) -> list[Choice] | None:
    """The choices an intake reader finds; None for steps without a reader of their own."""
    by_value = {choice.stored: choice for choice in step.choices}
    if step.name == "group":
        key = read_group(text)
        return [c for c in step.choices if c.key == key]
    if step.name == "free":
        free = read_free(text)
        return [by_value[free]] if free is not None else []
    return None


async def _answer_single(turn: Turn, step: Step, text: str) -> None:
    if step.name == "distance":
        metres = read_distance(text)
        if isinstance(metres, Either):
            ask_which_distance(turn, step, metres.readings)
            return
        if metres is not None:
            await store(turn, max_distance_m=metres)
            ack = turn.t("ack.noted_items", items=said_metres(turn, step, metres))
            await advance(turn, ack=ack, typed=step.name)
            return
    found = _reader_choices(step, text)
    if found is None:
        found = _fallback_choices(turn, step, text)
    if len(found) > 1:
        ask_which(turn, found)
        return
    if not found:
        raise InvalidAnswer("single.not_understood")
    await set_single(turn, step, found[0], typed=True)


def _fallback_choices(turn: Turn, step: Step, text: str) -> list[Choice]:
    yes_no = read_yes_no(text)
    by_truth = {c.stored: c for c in step.choices if isinstance(c.stored, bool)}
    if yes_no is not None and yes_no in by_truth:  # "ja" to a yes/no question
        return [by_truth[yes_no]]
    labels = [turn.t(c.label) for c in step.choices]
    return read_choices(text, step.choices, labels)


def ask_which(turn: Turn, choices: list[Choice]) -> None:
    """Two readings remain: ask which one, with both as buttons (and numbers 1 and 2)."""
    _ask_which(turn, [(f"pick:{c.key}", plain(turn.t(c.label))) for c in choices])


def ask_which_distance(turn: Turn, step: Step, readings: tuple[int, ...]) -> None:
    _ask_which(turn, [(f"metres:{metres}", said_metres(turn, step, metres)) for metres in readings])


def _ask_which(turn: Turn, readings: list[tuple[str, str]]) -> None:
    words = [said for _, said in readings]
    buttons = [(key, said[:1].upper() + said[1:]) for key, said in readings]
    turn.set_context(which=buttons)  # until answered, the question offers just these two
    turn.say(
        turn.t("ask.which", first=", ".join(words[:-1]), second=words[-1]),
        tuple(turn.option(key, label) for key, label in buttons),
    )


async def _answer_summary(turn: Turn, text: str) -> None:
    flow = flow_of(turn)
    items = {
        step.name: [
            word
            for lang in (turn.lang, *LANGUAGES)
            for word in turn.texts(lang, f"words.{step.name}").split(",")
        ]
        for step in flow.steps
        if step.kind is not Kind.SUMMARY
    }
    answer = read_summary(text, items)
    if answer is True:
        await finish(turn, flow)
    elif answer is False or read_command(text) is Command.CHANGE:
        options = await question_options(turn, STEPS[flow.summary])
        turn.say(turn.t("summary.what_to_change"), options)
    elif isinstance(answer, str):
        await edit(turn, answer)
    else:
        raise InvalidAnswer("summary.not_understood")
