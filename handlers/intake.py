"""Asking a flow's questions and reading the answers, step by step (see `flow.py`).

The same engine runs the resident's intake (it fills the person's profile) and an
organiser's description of an initiative (it fills a draft kept in the conversation).
"""

from __future__ import annotations

from handlers import visibility
from handlers.answers.names import read_name
from handlers.answers.places import Gazetteer, Place
from handlers.errors import InvalidAnswer
from handlers.flow import DONE, FLOW_OF, STEPS, Choice, Flow, Kind, Step
from handlers.ideas import show_ideas
from handlers.menu import show_menu
from handlers.messages import Location, Option
from handlers.organiser import save_draft
from handlers.said import multi_words, said_choice, said_metres
from handlers.turn import Turn
from storage.records import Area, Postcode

CHECK = "✅ "
SKIP_KEY = "skip"
DONE_KEY = "done"
MORE_KEY = "more"
UNDO_KEY = "undo"  # "Dat klopt niet": ask the question answered in words again
REST_KEY = "rest"  # "De rest maakt me niet uit": fill what is left and go to the summary


def flow_of(turn: Turn) -> Flow:
    return FLOW_OF[turn.state.step]


def _value(turn: Turn, field: str) -> object:
    """What the flow's subject holds for a field: the person's profile, or the draft."""
    if flow_of(turn).subject == "person":
        return getattr(turn.person, field, None)
    return dict(turn.state.context.get("draft", {})).get(field)


async def store(turn: Turn, **changes: object) -> None:
    if flow_of(turn).subject == "person":
        await turn.update(**changes)
        return
    draft = dict(turn.state.context.get("draft", {}))
    draft.update({k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()})
    turn.set_context(draft=draft)


# -- asking ------------------------------------------------------------------------------


async def ask(turn: Turn, *, edit: bool = False, intro: str | None = None) -> None:
    """Ask the current step's question, with its buttons."""
    step = STEPS[turn.state.step]
    text = turn.t(step.question)
    if step.kind is Kind.SUMMARY:
        text = summary_text(turn, flow_of(turn)) + "\n\n" + text
    if intro:
        text = intro + "\n\n" + text
    options = await question_options(turn, step)
    if step.kind is Kind.PLACE:  # the location button and the list go in two messages
        turn.say(text, request_location=turn.t("button.share_location"))
        turn.say(turn.t("ask.place_list"), options)
        return
    turn.say(text, options, edit_in_place=edit, columns=step.columns)


async def question_options(turn: Turn, step: Step) -> tuple[Option, ...]:
    """The buttons of a step, in the order numbers refer to them."""
    which = turn.state.context.get("which")
    if which and step.kind is Kind.SINGLE:  # "Bedoel je ... of ...?": only those two
        return tuple(turn.option(str(key), str(label)) for key, label in which)
    options: list[Option] = []
    name = read_name(turn.msg.first_name or "")
    if step.kind is Kind.TEXT and step.text == "name" and name:
        options.append(turn.option("name:platform", f"👤 {name}"))
    elif step.kind is Kind.PLACE:
        areas = await turn.store.list_areas()
        options += [turn.option(f"area:{a.slug}", f"📍 {a.name}") for a in areas[:8]]
    elif step.kind is Kind.MULTI:
        ticked = set(selected(turn, step))
        show_all = bool(turn.state.context.get("more")) or not step.featured
        for key, label in multi_items(turn, step):
            if show_all or key in step.featured or key in ticked:
                mark = CHECK if key in ticked else ""
                options.append(turn.option(f"pick:{key}", mark + label))
        if not show_all:
            options.append(turn.option(MORE_KEY, turn.t("button.more")))
        if ticked:
            return (*options, turn.option(DONE_KEY, turn.t("button.done")))
    elif step.kind is Kind.SINGLE:
        options += [turn.option(f"pick:{c.key}", turn.t(c.label)) for c in step.choices]
    elif step.kind is Kind.SUMMARY:
        options.append(turn.option("confirm", turn.t("button.confirm")))
        options += [
            turn.option(f"edit:{s.name}", turn.t(f"button.edit.{s.name}"))
            for s in flow_of(turn).steps
            if s.kind is not Kind.SUMMARY
        ]
        return tuple(options)
    if not step.required:
        options.append(turn.option(SKIP_KEY, turn.t("button.skip")))
    if offers_rest(turn, step):
        options.append(turn.option(REST_KEY, turn.t("button.rest")))
    if turn.state.context.get("typed"):
        options.append(turn.option(UNDO_KEY, turn.t("button.undo")))
    return tuple(options)


def multi_items(turn: Turn, step: Step) -> list[tuple[str, str]]:
    if step.tag_kind:
        return [(tag.id, tag.label(turn.lang)) for tag in turn.taxonomy.for_kind(step.tag_kind)]
    return [(c.key, turn.t(c.label)) for c in step.choices]


def selected(turn: Turn, step: Step) -> tuple[str, ...]:
    value = _value(turn, step.field or "")
    return tuple(value) if isinstance(value, list | tuple) else ()


def summary_text(turn: Turn, flow: Flow) -> str:
    """What the flow's subject holds, one line per question."""
    nothing = turn.t("summary.nothing")
    lines = [turn.t("summary.title")]
    subject = _subject_values(turn, flow)
    for step in flow.steps:
        if step.kind is Kind.SUMMARY:
            continue
        value = subject.get(step.field or "")
        if step.kind is Kind.PLACE:
            area, code = subject.get("area_name"), value
            shown = f"{area} ({code})" if code else str(area or nothing)
        elif step.kind is Kind.MULTI:
            keys = value if isinstance(value, list | tuple) else ()
            shown = multi_words(turn, step, (str(k) for k in keys)) or nothing
        elif step.kind is Kind.SINGLE:
            shown = _single_label(turn, step, value) or nothing
        else:
            shown = str(value) if value else nothing
        lines.append(turn.t(f"summary.{step.name}", value=shown))
    return "\n".join(lines)


def _subject_values(turn: Turn, flow: Flow) -> dict[str, object]:
    if flow.subject == "person":
        return {name: getattr(turn.person, name) for name in vars(turn.person)}
    return dict(turn.state.context.get("draft", {}))


def _single_label(turn: Turn, step: Step, value: object) -> str | None:
    for choice in step.choices:
        if choice.stored == value:
            return said_choice(turn, step, choice)
    if step.name == "distance" and isinstance(value, int):
        return said_metres(turn, step, value)
    return None


# -- moving on ---------------------------------------------------------------------------


async def advance(turn: Turn, *, ack: str | None = None, typed: str | None = None) -> None:
    """The current question is answered: go to the next one (or back to the summary).

    `typed` names a step answered in words: the next question then offers "Dat klopt niet"."""
    flow = flow_of(turn)
    back_to = turn.state.context.get("return_to")
    if back_to == flow.summary:
        turn.drop_context("return_to")
        turn.goto(flow.summary)
    else:
        turn.goto(flow.next_step(turn.state.step))
    if typed is not None and turn.state.step in STEPS and turn.state.step != flow.summary:
        turn.set_context(typed=typed)
    if turn.state.step == DONE:
        await finish(turn, flow)
        return
    await ask(turn, intro=ack)


async def finish(turn: Turn, flow: Flow) -> None:
    """The summary is confirmed: save what was noted and show what can be done now."""
    turn.drop_context("live")  # the keyboards of the questions take no more ticks
    if flow.subject == "draft":
        if turn.state.step != DONE:
            turn.goto(DONE)
        await save_draft(turn)
        return
    first_time = turn.person.intake_done_at is None
    await turn.update(intake_done_at=turn.person.intake_done_at or turn.now)
    turn.say(turn.t("done.thanks", name_sep=turn.name_sep))
    if first_time:  # may neighbours hear about them? asked once, apart from the rest
        visibility.start(turn, then="finish")
        return
    await finish_after_visibility(turn)


async def finish_after_visibility(turn: Turn) -> None:
    """What the end of the intake shows next: the first suggestions and the menu."""
    if turn.state.step != DONE:
        turn.goto(DONE)
    await show_ideas(turn)
    show_menu(turn)


# -- the rest does not matter -----------------------------------------------------------


def offers_rest(turn: Turn, step: Step) -> bool:
    """On the way through the questions (not when changing one from the summary)."""
    return step.rest is not None and turn.state.context.get("return_to") is None


def _rest_value(step: Step) -> object:
    choice = next(c for c in step.choices if c.key == step.rest)
    return (choice.key,) if step.kind is Kind.MULTI else choice.stored


async def fill_rest(turn: Turn) -> None:
    """ "De rest maakt me niet uit": every question from here on that is still open takes
    the choice most people make; say back what was filled in, then show the summary."""
    flow = flow_of(turn)
    names = [step.name for step in flow.steps]
    filled: list[str] = []
    for step in flow.steps[names.index(turn.state.step) :]:
        if step.rest is None or _value(turn, step.field or "") not in (None, (), []):
            continue
        value = _rest_value(step)
        await store(turn, **{step.field or "": value})
        if step.kind is Kind.MULTI:
            filled.append(multi_words(turn, step, (str(step.rest),)))
        else:
            filled.append(_single_label(turn, step, value) or "")
    turn.goto(flow.summary)
    lines = "\n".join(f"• {item}" for item in filled)
    ack = turn.t("ack.rest", items=lines) if filled else turn.t("ack.noted")
    await ask(turn, intro=ack)


# -- answering ---------------------------------------------------------------------------


async def edit(turn: Turn, step_name: str) -> None:
    """Change one item from the summary: ask that question, then come back."""
    flow = flow_of(turn)
    if step_name not in STEPS or FLOW_OF[step_name] is not flow:
        raise InvalidAnswer("button.unknown")
    if STEPS[step_name].kind is Kind.SUMMARY:
        raise InvalidAnswer("button.unknown")
    turn.goto(step_name, return_to=flow.summary)
    await ask(turn)


async def undo(turn: Turn) -> None:
    """ "Dat klopt niet" (or "nee") under a question: ask the one answered in words again."""
    turn.goto(str(turn.state.context["typed"]))
    await ask(turn, intro=turn.t("ack.undo"))


async def set_single(turn: Turn, step: Step, choice: Choice, *, typed: bool = False) -> None:
    await store(turn, **{step.field or "": choice.stored})
    ack = turn.t("ack.noted_items", items=said_choice(turn, step, choice))
    await advance(turn, ack=ack, typed=step.name if typed else None)


async def _set_place(
    turn: Turn, *, postcode: str, name: str, latitude: float, longitude: float
) -> None:
    """Where the person lives (or the initiative is) is known: note it and move on."""
    await store(turn, postcode=postcode, area_name=name, latitude=latitude, longitude=longitude)
    turn.say(turn.t("ack.place", place=name))
    await advance(turn)


async def set_area(turn: Turn, area: Area) -> None:
    await _set_place(
        turn,
        postcode=area.postcode,
        name=area.name,
        latitude=area.latitude,
        longitude=area.longitude,
    )


async def set_postcode(
    turn: Turn, code: str, *, name: str | None = None, area: Area | None = None
) -> None:
    """A postcode: from the database (imported) or else from the shipped table."""
    if area is not None:
        await set_area(turn, area)
        return
    postcode = await turn.store.get_postcode(code)
    if postcode is not None:
        await _set_place(
            turn,
            postcode=postcode.code,
            name=name or postcode.place,
            latitude=postcode.latitude,
            longitude=postcode.longitude,
        )
        return
    place = Gazetteer.load().by_code.get(code)
    if place is None:
        raise InvalidAnswer("place.unknown_postcode", code=code)
    await set_place_named(turn, place)


async def set_place_named(turn: Turn, place: Place) -> None:
    await _set_place(
        turn,
        postcode=place.code,
        name=place.name,
        latitude=place.latitude,
        longitude=place.longitude,
    )


async def answer_location(turn: Turn, location: Location) -> None:
    step = STEPS[turn.state.step]
    if step.kind is not Kind.PLACE:
        raise InvalidAnswer("location.not_now")
    if not (-90 <= location.latitude <= 90 and -180 <= location.longitude <= 180):
        raise InvalidAnswer("location.invalid")
    postcode = await turn.store.find_nearest_postcode(location.latitude, location.longitude)
    if postcode is None:
        place = Gazetteer.load().nearest(location.latitude, location.longitude)
        if place is None:
            raise InvalidAnswer("location.too_far")
        postcode = Postcode(place.code, place.name, place.municipality, 0.0, 0.0)
    # Keep the location rounded to about 100 m: enough to find what is near.
    await _set_place(
        turn,
        postcode=postcode.code,
        name=postcode.place,
        latitude=round(location.latitude, 3),
        longitude=round(location.longitude, 3),
    )
