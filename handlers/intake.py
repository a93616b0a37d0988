"""Asking the intake's questions and reading the answers, step by step (see `flow.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.errors import InvalidAnswer
from handlers.flow import DONE, STEPS, Choice, Kind, Step, next_step
from handlers.ideas import show_ideas
from handlers.menu import show_menu
from handlers.messages import Location, Option
from handlers.reading import (
    Command,
    fold,
    read_choices,
    read_command,
    read_distance_m,
    read_name,
    read_postcode,
    read_yes_no,
)
from handlers.turn import Turn
from storage.records import Area

CHECK = "✅ "
SKIP_KEY = "skip"
DONE_KEY = "done"
MORE_KEY = "more"

# -- asking ------------------------------------------------------------------------------


async def ask(turn: Turn, *, edit: bool = False, intro: str | None = None) -> None:
    """Ask the current step's question, with its buttons."""
    step = STEPS[turn.state.step]
    text = turn.t(step.question)
    if step.kind is Kind.SUMMARY:
        text = summary_text(turn) + "\n\n" + text
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
    options: list[Option] = []
    if step.kind is Kind.TEXT and turn.msg.first_name and read_name(turn.msg.first_name):
        options.append(turn.option("name:platform", f"👤 {read_name(turn.msg.first_name)}"))
    elif step.kind is Kind.PLACE:
        areas = await turn.store.list_areas()
        options += [turn.option(f"area:{a.slug}", f"📍 {a.name}") for a in areas[:8]]
    elif step.kind is Kind.MULTI:
        selected = set(_selected(turn, step))
        show_all = bool(turn.state.context.get("more")) or not step.featured
        for key, label in _multi_items(turn, step):
            if show_all or key in step.featured or key in selected:
                mark = CHECK if key in selected else ""
                options.append(turn.option(f"pick:{key}", mark + label))
        if not show_all:
            options.append(turn.option(MORE_KEY, turn.t("button.more")))
        if selected:
            return (*options, turn.option(DONE_KEY, turn.t("button.done")))
    elif step.kind is Kind.SINGLE:
        options += [turn.option(f"pick:{c.key}", turn.t(c.label)) for c in step.choices]
    elif step.kind is Kind.SUMMARY:
        options.append(turn.option("confirm", turn.t("button.confirm")))
        options += [
            turn.option(f"edit:{s.name}", turn.t(f"button.edit.{s.name}"))
            for s in STEPS.values()
            if s.kind is not Kind.SUMMARY
        ]
        return tuple(options)
    return (*options, turn.option(SKIP_KEY, turn.t("button.skip")))


def _multi_items(turn: Turn, step: Step) -> list[tuple[str, str]]:
    if step.tag_kind:
        return [(tag.id, tag.label(turn.lang)) for tag in turn.taxonomy.for_kind(step.tag_kind)]
    return [(c.key, turn.t(c.label)) for c in step.choices]


def _selected(turn: Turn, step: Step) -> tuple[str, ...]:
    value = getattr(turn.person, step.field or "", ())
    return tuple(value or ())


def summary_text(turn: Turn) -> str:
    p = turn.person
    nothing = turn.t("summary.nothing")

    def labels(step_name: str, keys: Sequence[str]) -> str:
        items = dict(_multi_items(turn, STEPS[step_name]))
        return ", ".join(items.get(k, k) for k in keys) or nothing

    def single(step_name: str, value: object) -> str:
        for choice in STEPS[step_name].choices:
            if choice.stored == value:
                return turn.t(choice.label)
        if step_name == "distance" and isinstance(value, int):
            return turn.t("summary.distance_m", metres=value)
        return nothing

    place = f"{p.area_name} ({p.postcode})" if p.postcode else (p.area_name or nothing)
    lines = [
        turn.t("summary.title"),
        turn.t("summary.name", value=p.first_name or nothing),
        turn.t("summary.place", value=place),
        turn.t("summary.gifts", value=labels("gifts", p.gifts)),
        turn.t("summary.wishes", value=labels("wishes", p.wishes)),
        turn.t("summary.times", value=labels("times", p.times)),
        turn.t("summary.distance", value=single("distance", p.max_distance_m)),
        turn.t("summary.group", value=single("group", p.group_pref)),
        turn.t("summary.free", value=single("free", p.free_only)),
    ]
    return "\n".join(lines)


# -- moving on ---------------------------------------------------------------------------


async def advance(turn: Turn, *, ack: str | None = None) -> None:
    """The current question is answered: go to the next one (or back to the summary)."""
    if turn.state.context.get("return_to") == "summary":
        turn.drop_context("return_to")
        turn.goto("summary")
    else:
        turn.goto(next_step(turn.state.step))
    if turn.state.step == DONE:
        await finish(turn)
        return
    await ask(turn, intro=ack)


async def finish(turn: Turn) -> None:
    """The summary is confirmed: thank the person and show what they can do now."""
    await turn.update(intake_done_at=turn.person.intake_done_at or turn.now)
    turn.say(turn.t("done.thanks", name_sep=turn.name_sep))
    await show_ideas(turn)
    show_menu(turn)


# -- answering ---------------------------------------------------------------------------


async def answer_choice(turn: Turn, key: str) -> None:
    """A button of the current question was tapped (already checked to be current)."""
    step = STEPS[turn.state.step]
    if key == SKIP_KEY and step.kind is not Kind.SUMMARY:
        await advance(turn, ack=turn.t("ack.skipped"))
        return
    if step.kind is Kind.TEXT and key == "name:platform":
        name = read_name(turn.msg.first_name or "")
        if name is None:
            raise InvalidAnswer("name.invalid")
        await turn.update(first_name=name)
        await advance(turn, ack=turn.t("ack.name", name=name))
    elif step.kind is Kind.PLACE and key.startswith("area:"):
        areas = {a.slug: a for a in await turn.store.list_areas()}
        area = areas.get(key.removeprefix("area:"))
        if area is None:
            raise InvalidAnswer("button.unknown")
        await _set_area(turn, area)
    elif step.kind is Kind.MULTI and key == MORE_KEY:
        turn.set_context(more=True)
        await ask(turn, edit=True)
    elif step.kind is Kind.MULTI and (key == DONE_KEY or key.startswith("pick:")):
        await _toggle(turn, step, key)
    elif step.kind is Kind.SINGLE and key.startswith("pick:"):
        choice = next((c for c in step.choices if c.key == key.removeprefix("pick:")), None)
        if choice is None:
            raise InvalidAnswer("button.unknown")
        await _set_single(turn, step, choice)
    elif step.kind is Kind.SUMMARY and key == "confirm":
        turn.goto(DONE)
        await finish(turn)
    elif step.kind is Kind.SUMMARY and key.startswith("edit:"):
        await edit(turn, key.removeprefix("edit:"))
    else:
        raise InvalidAnswer("button.unknown")


async def edit(turn: Turn, step_name: str) -> None:
    """Change one item from the summary: ask that question, then come back."""
    if step_name not in STEPS or STEPS[step_name].kind is Kind.SUMMARY:
        raise InvalidAnswer("button.unknown")
    turn.goto(step_name, return_to="summary")
    await ask(turn)


async def _toggle(turn: Turn, step: Step, key: str) -> None:
    field = step.field or ""
    if key == DONE_KEY:
        await advance(turn, ack=turn.t("ack.noted"))
        return
    item = key.removeprefix("pick:")
    valid = dict(_multi_items(turn, step))
    if item not in valid:
        raise InvalidAnswer("button.unknown")
    choice = next((c for c in step.choices if c.key == item), None)
    if choice is not None and choice.finishes:
        await turn.update(**{field: (item,)})
        await advance(turn, ack=turn.t("ack.noted"))
        return
    selected = [k for k in _selected(turn, step) if k in valid and k != "any"]
    selected = [k for k in selected if k != item] if item in selected else [*selected, item]
    await turn.update(**{field: tuple(selected)})
    await ask(turn, edit=True)


async def _set_single(turn: Turn, step: Step, choice: Choice) -> None:
    await turn.update(**{step.field or "": choice.stored})
    await advance(turn, ack=turn.t("ack.noted"))


async def _set_area(turn: Turn, area: Area) -> None:
    await turn.update(
        postcode=area.postcode,
        area_name=area.name,
        latitude=area.latitude,
        longitude=area.longitude,
    )
    turn.say(turn.t("ack.place", place=area.name))
    await advance(turn)


async def answer_location(turn: Turn, location: Location) -> None:
    step = STEPS[turn.state.step]
    if step.kind is not Kind.PLACE:
        raise InvalidAnswer("location.not_now")
    if not (-90 <= location.latitude <= 90 and -180 <= location.longitude <= 180):
        raise InvalidAnswer("location.invalid")
    postcode = await turn.store.find_nearest_postcode(location.latitude, location.longitude)
    if postcode is None:
        raise InvalidAnswer("location.too_far")
    # Keep the location rounded to about 100 m: enough to find what is near.
    await turn.update(
        postcode=postcode.code,
        area_name=postcode.place,
        latitude=round(location.latitude, 3),
        longitude=round(location.longitude, 3),
    )
    turn.say(turn.t("ack.place", place=postcode.place))
    await advance(turn)


async def answer_text(turn: Turn, text: str) -> None:
    """Free text for the current question."""
    step = STEPS[turn.state.step]
    if step.kind is Kind.TEXT:
        name = read_name(text)
        if name is None:
            raise InvalidAnswer("name.invalid")
        await turn.update(first_name=name)
        await advance(turn, ack=turn.t("ack.name", name=name))
    elif step.kind is Kind.PLACE:
        await _answer_place_text(turn, text)
    elif step.kind is Kind.MULTI:
        await _answer_multi_text(turn, step, text)
    elif step.kind is Kind.SINGLE:
        await _answer_single_text(turn, step, text)
    else:
        await _answer_summary_text(turn, text)


async def _answer_place_text(turn: Turn, text: str) -> None:
    code = read_postcode(text)
    if code is not None:
        postcode = await turn.store.get_postcode(code)
        if postcode is None:
            raise InvalidAnswer("place.unknown_postcode", code=code)
        await turn.update(
            postcode=postcode.code,
            area_name=postcode.place,
            latitude=postcode.latitude,
            longitude=postcode.longitude,
        )
        turn.say(turn.t("ack.place", place=postcode.place))
        await advance(turn)
        return
    areas = await turn.store.list_areas()
    wanted = fold(text)
    for area in areas:
        if fold(area.name) == wanted or (len(wanted) >= 4 and wanted in fold(area.name)):
            await _set_area(turn, area)
            return
    raise InvalidAnswer("place.not_understood")


async def _answer_multi_text(turn: Turn, step: Step, text: str) -> None:
    field = step.field or ""
    if step.tag_kind:
        found = turn.taxonomy.read(text, step.tag_kind, turn.lang)
    else:
        labels = [turn.t(c.label) for c in step.choices]
        found = [c.key for c in read_choices(text, step.choices, labels)]
        if "any" in found:
            found = ["any"]
    if not found:
        raise InvalidAnswer("multi.not_understood")
    merged = list(dict.fromkeys([*_selected(turn, step), *found]))
    if "any" in found:
        merged = ["any"]
    await turn.update(**{field: tuple(merged)})
    names = dict(_multi_items(turn, step))
    noted = ", ".join(names.get(k, k) for k in found)
    await advance(turn, ack=turn.t("ack.noted_items", items=noted))


async def _answer_single_text(turn: Turn, step: Step, text: str) -> None:
    if step.name == "distance":
        metres = read_distance_m(text)
        if metres is not None:
            await turn.update(max_distance_m=metres)
            await advance(turn, ack=turn.t("ack.noted"))
            return
    if step.name == "free":
        yes_no = read_yes_no(text)
        if yes_no is not None:
            await _set_single(turn, step, step.choices[0 if yes_no else 1])
            return
    labels = [turn.t(c.label) for c in step.choices]
    found = read_choices(text, step.choices, labels)
    if len(found) != 1:
        raise InvalidAnswer("single.not_understood")
    await _set_single(turn, step, found[0])


async def _answer_summary_text(turn: Turn, text: str) -> None:
    yes_no = read_yes_no(text)
    if yes_no is True:
        turn.goto(DONE)
        await finish(turn)
        return
    if yes_no is False or read_command(text) is Command.CHANGE:
        turn.say(turn.t("summary.what_to_change"), await question_options(turn, STEPS["summary"]))
        return
    folded = fold(text)
    for step in STEPS.values():
        if step.kind is not Kind.SUMMARY and any(
            w in folded.split() for w in turn.t(f"words.{step.name}").split(",")
        ):
            await edit(turn, step.name)
            return
    raise InvalidAnswer("summary.not_understood")
