"""Answers by button, and by option number, for a flow's questions.

A list question (what you enjoy, what you would like, when) moves on at the first tick: the
next question is asked at once, and the ticked keyboard stays usable ("live") until the
summary, so more items are one tap each and "Klaar" is not needed. A tap repeated within
two seconds is ignored (see `conversation.respond`), so an unsteady double tap never undoes.
"""

from __future__ import annotations

from handlers.answers.names import read_name
from handlers.errors import InvalidAnswer
from handlers.flow import FLOW_OF, STEPS, Kind, Step
from handlers.intake import (
    CHECK,
    DONE_KEY,
    MORE_KEY,
    REST_KEY,
    SKIP_KEY,
    UNDO_KEY,
    advance,
    ask,
    edit,
    fill_rest,
    finish,
    flow_of,
    multi_items,
    offers_rest,
    selected,
    set_area,
    set_single,
    store,
    undo,
)
from handlers.messages import Option
from handlers.said import joined, multi_words, said_metres
from handlers.turn import Turn

LIVE = "live"  # context: the list questions whose keyboards still take ticks, by turn


async def answer_choice(turn: Turn, key: str) -> None:
    """A button of the current question was tapped (already checked to be current)."""
    step = STEPS[turn.state.step]
    if key == UNDO_KEY and turn.state.context.get("typed") in STEPS:
        await undo(turn)
        return
    if key == SKIP_KEY and step.required:
        raise InvalidAnswer("answer.required")
    if key == REST_KEY and offers_rest(turn, step):
        await fill_rest(turn)
        return
    if key == SKIP_KEY and step.kind is not Kind.SUMMARY:
        await advance(turn, ack=turn.t("ack.skipped"))
        return
    if step.kind is Kind.TEXT and step.text == "name" and key == "name:platform":
        name = read_name(turn.msg.first_name or "")
        if name is None:
            raise InvalidAnswer("name.invalid")
        await store(turn, **{step.field or "": name})
        await advance(turn, ack=turn.t("ack.name", name=name))
    elif step.kind is Kind.PLACE and key.startswith("area:"):
        areas = {a.slug: a for a in await turn.store.list_areas()}
        area = areas.get(key.removeprefix("area:"))
        if area is None:
            raise InvalidAnswer("button.unknown")
        await set_area(turn, area)
    elif step.kind is Kind.MULTI and key == MORE_KEY:
        turn.set_context(more=True)
        await ask(turn, edit=True)
    elif step.kind is Kind.MULTI and key == DONE_KEY:
        await advance(turn, ack=_noted(turn, step, selected(turn, step)))
    elif step.kind is Kind.MULTI and key.startswith("pick:"):
        await _tick(turn, step, key.removeprefix("pick:"))
    elif step.name == "distance" and key.removeprefix("metres:").isdigit():
        metres = min(max(int(key.removeprefix("metres:")), 100), 50_000)
        await store(turn, max_distance_m=metres)
        await advance(turn, ack=turn.t("ack.noted_items", items=said_metres(turn, step, metres)))
    elif step.kind is Kind.SINGLE and key.startswith("pick:"):
        choice = next((c for c in step.choices if c.key == key.removeprefix("pick:")), None)
        if choice is None:
            raise InvalidAnswer("button.unknown")
        await set_single(turn, step, choice)
    elif step.kind is Kind.SUMMARY and key == "confirm":
        await finish(turn, flow_of(turn))
    elif step.kind is Kind.SUMMARY and key.startswith("edit:"):
        await edit(turn, key.removeprefix("edit:"))
    else:
        raise InvalidAnswer("button.unknown")


def _noted(turn: Turn, step: Step, keys: tuple[str, ...] | list[str]) -> str:
    if not keys:
        return turn.t("ack.noted")
    return turn.t("ack.noted_items", items=multi_words(turn, step, keys))


def _ticked(turn: Turn, step: Step, item: str) -> tuple[str, ...]:
    """The ticks after tapping `item`: on when it was off, off when it was on."""
    valid = dict(multi_items(turn, step))
    if item not in valid:
        raise InvalidAnswer("button.unknown")
    choice = next((c for c in step.choices if c.key == item), None)
    if choice is not None and choice.finishes:
        return (item,)
    ticked = [k for k in selected(turn, step) if k in valid and k != "any"]
    return tuple(k for k in ticked if k != item) if item in ticked else (*ticked, item)


def keyboard(turn: Turn, step: Step, at_turn: int, *, show_all: bool) -> tuple[Option, ...]:
    """A list question's items with their ticks, as buttons of turn `at_turn`."""
    ticked = set(selected(turn, step))
    return tuple(
        Option(f"{at_turn}:pick:{key}", (CHECK if key in ticked else "") + label)
        for key, label in multi_items(turn, step)
        if show_all or not step.featured or key in step.featured or key in ticked
    )


async def _tick(turn: Turn, step: Step, item: str) -> None:
    before = selected(turn, step)
    after = _ticked(turn, step, item)
    await store(turn, **{step.field or "": after})
    if item in before or not after:  # a tick taken off: stay, show the ticks and "Klaar"
        await ask(turn, edit=True)
        return
    finished = after == ("any",)
    if not finished:
        show_all = bool(turn.state.context.get("more")) or not step.featured
        options = keyboard(turn, step, turn.state.turn, show_all=show_all)
        turn.say(turn.t(step.question), options, edit_in_place=True, columns=step.columns)
        live = {**dict(turn.state.context.get(LIVE, {})), step.name: [turn.state.turn, show_all]}
    ack = _noted(turn, step, after) + ("" if finished else " " + turn.t("ack.tick_more"))
    await advance(turn, ack=ack)
    now_at = STEPS.get(turn.state.step)
    if not finished and now_at is not None and now_at.kind is not Kind.SUMMARY:
        turn.set_context(**{LIVE: live})


async def tap_live(turn: Turn, at_turn: int, key: str) -> bool:
    """A tick on the keyboard of a list question answered before; False if it is not live."""
    live = dict(turn.state.context.get(LIVE, {}))
    name = next((n for n, (t, _) in live.items() if t == at_turn), None)
    here = turn.state.step
    if name is None or not key.startswith("pick:") or here not in STEPS:
        return False
    if FLOW_OF[here] is not FLOW_OF[name] or STEPS[here].kind is Kind.SUMMARY:
        return False
    step = STEPS[name]  # a step of the same flow: it fills the same subject
    await store(turn, **{step.field or "": _ticked(turn, step, key.removeprefix("pick:"))})
    options = keyboard(turn, step, at_turn, show_all=bool(live[name][1]))
    turn.say(turn.t(step.question), options, edit_in_place=True, columns=step.columns)
    return True


async def pick_many(turn: Turn, step: Step, items: list[str], missing: list[int]) -> None:
    """Several option numbers at once ("1 3 5"): tick them all, say what was not there."""
    valid = dict(multi_items(turn, step))
    chosen = [item for item in items if item in valid]
    if "any" in chosen:
        chosen = ["any"]
    merged = (
        ("any",) if chosen == ["any"] else tuple(dict.fromkeys([*selected(turn, step), *chosen]))
    )
    await store(turn, **{step.field or "": merged})
    ack = _noted(turn, step, merged)
    if missing:
        ack = missing_numbers(turn, missing) + " " + ack
    await advance(turn, ack=ack)


def missing_numbers(turn: Turn, missing: list[int]) -> str:
    """ "99 staat er niet bij." / "8 en 99 staan er niet bij."."""
    key = "number.missing_one" if len(missing) == 1 else "number.missing_many"
    return turn.t(key, numbers=joined(turn, [str(n) for n in missing]))
