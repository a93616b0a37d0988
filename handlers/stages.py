"""Where a person can be in the conversation, and the commands that work everywhere.

Each place (a step of a flow, the menu, a side question such as "forget me?") is a
`Stage`: how it asks, which buttons it offers, and how it reads a tapped button or words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from handlers import (
    ideas,
    intake,
    introductions,
    linking,
    menu,
    organiser,
    privacy,
    relay,
    taps,
    typed,
    visibility,
)
from handlers.errors import InvalidAnswer
from handlers.flow import DONE, FIRST_STEP, FLOW_OF, INTAKE_FLOW, STEPS, Kind
from handlers.i18n import LANGUAGES
from handlers.messages import Option
from handlers.reading import (
    Command,
    asks_for_ideas,
    asks_for_no_more_ideas,
    fold,
    read_yes_no,
)
from handlers.turn import Turn
from storage.records import ConversationState

LANGUAGE_STEP = "language"


@dataclass(frozen=True)
class Stage:
    """How one place in the conversation asks, offers buttons and reads answers."""

    ask: Callable[[Turn], Awaitable[None]]
    options: Callable[[Turn], Awaitable[tuple[Option, ...]]]
    choice: Callable[[Turn, str], Awaitable[None]]
    text: Callable[[Turn, str], Awaitable[None]]
    # Words for someone else, passed on as typed: "Hallo!" or "2" is a message, not a
    # greeting to answer or a button number; of the command words only stop, terug, a
    # plain help and vergeet mij act (`handlers.conversation`).
    passes_on: bool = False


async def _intake_options(turn: Turn) -> tuple[Option, ...]:
    return await intake.question_options(turn, STEPS[turn.state.step])


async def _resume(turn: Turn, *, intro: str | None = None) -> None:
    """Leave a side question (forget me, language) and go back to where the person was."""
    step = str(turn.state.context.get("resume", FIRST_STEP))
    turn.goto(step if step in STEPS or step == DONE else FIRST_STEP)
    await STAGES[turn.state.step].ask(turn) if intro is None else await _ask_with(turn, intro)


async def _ask_with(turn: Turn, intro: str) -> None:
    if turn.state.step == DONE:
        menu.show_menu(turn, intro=intro)
    else:
        await intake.ask(turn, intro=intro)


# -- the side questions and the menu -----------------------------------------------------


async def _ask_forget(turn: Turn) -> None:
    privacy.ask_forget(turn)


async def _forget_options(turn: Turn) -> tuple[Option, ...]:
    return privacy.forget_options(turn)


async def _forget_choice(turn: Turn, key: str) -> None:
    if key == "forget:yes":
        await privacy.erase(turn)
    elif key == "forget:no":
        await _resume(turn, intro=turn.t("forget.kept"))
    else:
        raise InvalidAnswer("button.unknown")


async def _forget_text(turn: Turn, text: str) -> None:
    answer = read_yes_no(text)
    if answer is None:
        raise InvalidAnswer("forget.not_understood")
    await _forget_choice(turn, "forget:yes" if answer else "forget:no")


async def _ask_language(turn: Turn) -> None:
    turn.say(turn.t("language.question"), await _language_options(turn))


async def _language_options(turn: Turn) -> tuple[Option, ...]:
    return tuple(
        turn.option(f"lang:{code}", turn.t(f"language.button.{code}")) for code in LANGUAGES
    )


async def _language_choice(turn: Turn, key: str) -> None:
    code = key.removeprefix("lang:")
    if code not in LANGUAGES:
        raise InvalidAnswer("button.unknown")
    await turn.update(language=code)
    await _resume(turn, intro=turn.t("language.changed"))


async def _language_text(turn: Turn, text: str) -> None:
    folded = fold(text)
    if folded in ("english", "engels", "en"):
        await _language_choice(turn, "lang:en")
    elif folded in ("nederlands", "dutch", "nl"):
        await _language_choice(turn, "lang:nl")
    else:
        raise InvalidAnswer("language.not_understood")


async def _ask_menu(turn: Turn) -> None:
    menu.show_menu(turn)


async def _menu_options(turn: Turn) -> tuple[Option, ...]:
    return menu.menu_options(turn)


async def _menu_choice(turn: Turn, key: str) -> None:
    if key == "menu:new":
        organiser.start_new(turn)
        return
    if key == "menu:mine":
        await organiser.list_mine(turn)
        menu.show_menu(turn)
        return
    if await relay.send_draft(turn, key):  # "send it on?" after typed words at the menu
        return
    if key == "menu:relay" and isinstance(turn.state.context.get("relay"), int):
        turn.goto(relay.RELAY_STEP, intro=turn.state.context["relay"], resume=turn.resume_point())
        turn.say(turn.t("relay.write_again"))
        return
    commands = {
        "menu:ideas": Command.IDEAS,
        "menu:change": Command.CHANGE,
        "menu:data": Command.MY_DATA,
        "menu:help": Command.HELP,
        "menu:requests": Command.REQUESTS,
    }
    if key not in commands:
        raise InvalidAnswer("button.unknown")
    await run_command(turn, commands[key], "")


async def _menu_text(turn: Turn, text: str) -> None:
    """Words at the menu: a suggestion named ("stel me voor bij de repair cafe"), or a
    message for the conversation this person last wrote in through the bot."""
    target = await ideas.find_shown(turn, text)
    if target is not None:
        await introductions.request(turn, *target)
        return
    if await relay.pass_on_typed(turn, text):
        return
    if asks_for_no_more_ideas(text) and await run_command(turn, Command.PAUSE, text):
        return
    if asks_for_ideas(text) and await run_command(turn, Command.IDEAS, text):
        return
    raise InvalidAnswer("menu.not_understood")


INTAKE_STAGE = Stage(
    ask=lambda turn: intake.ask(turn),
    options=_intake_options,
    choice=taps.answer_choice,
    text=typed.answer_text,
)
STAGES: dict[str, Stage] = {name: INTAKE_STAGE for name in STEPS}
STAGES[privacy.FORGET_STEP] = Stage(_ask_forget, _forget_options, _forget_choice, _forget_text)
STAGES[LANGUAGE_STEP] = Stage(_ask_language, _language_options, _language_choice, _language_text)
STAGES[DONE] = Stage(_ask_menu, _menu_options, _menu_choice, _menu_text)


async def _route_ask(turn: Turn) -> None:
    introductions.ask_route(turn)


async def _route_options(turn: Turn) -> tuple[Option, ...]:
    return introductions.route_options(turn)


async def _no_options(turn: Turn) -> tuple[Option, ...]:
    return ()


async def _no_choice(turn: Turn, key: str) -> None:
    raise InvalidAnswer("button.unknown")


async def _phone_ask(turn: Turn) -> None:
    introductions.ask_phone(turn)


async def _relay_ask(turn: Turn) -> None:
    turn.say(turn.t("relay.write_again"))


STAGES[introductions.ROUTE_STEP] = Stage(
    _route_ask, _route_options, introductions.route_choice, introductions.route_text
)
STAGES[introductions.PHONE_STEP] = Stage(
    _phone_ask, _no_options, _no_choice, introductions.phone_text
)
STAGES[relay.RELAY_STEP] = Stage(
    _relay_ask, _no_options, _no_choice, relay.relay_text, passes_on=True
)


async def _visibility_ask(turn: Turn) -> None:
    visibility.ask(turn)


async def _visibility_options(turn: Turn) -> tuple[Option, ...]:
    return visibility.options(turn)


async def _visibility_choice(turn: Turn, key: str) -> None:
    await visibility.choose(turn, key)
    then = visibility.then(turn)
    if then == "finish":
        await intake.finish_after_visibility(turn)
    else:
        turn.resume(then)


async def _visibility_text(turn: Turn, text: str) -> None:
    await _visibility_choice(turn, visibility.read(text))


STAGES[visibility.VISIBILITY_STEP] = Stage(
    _visibility_ask, _visibility_options, _visibility_choice, _visibility_text
)


# -- commands that work everywhere -------------------------------------------------------


async def run_command(turn: Turn, command: Command, text: str) -> bool:
    """Carry out a command word; False when it means nothing here (read it as an answer)."""
    step = turn.state.step
    stage = STAGES[step]
    if command is Command.HELP:
        turn.say(turn.t("help.menu") if step == DONE else turn.t("help.text"))
        await stage.ask(turn)
    elif command is Command.BACK:
        await _go_back(turn)
    elif command is Command.STOP:
        turn.state = with_stopped(turn.state, True)
        turn.say(turn.t("stop.done"))
    elif command is Command.MY_DATA:
        options = privacy.my_data_options(turn) + await linking.data_options(turn)
        turn.say(await privacy.my_data_text(turn), options)
        await stage.ask(turn)
    elif command is Command.FORGET:
        if step != privacy.FORGET_STEP:
            turn.goto(privacy.FORGET_STEP, resume=turn.resume_point())
        privacy.ask_forget(turn)
    elif command is Command.LANGUAGE:
        folded = fold(text)
        direct = {"english": "en", "engels": "en", "nederlands": "nl", "dutch": "nl"}
        if step == LANGUAGE_STEP and folded in direct:
            return False
        own_words = {"nl": ("engels", "nederlands"), "en": ("english", "dutch")}
        if folded in own_words.get(turn.lang, ()) and step in STEPS and STEPS[step].tag_kind:
            # "Engels" in a Dutch conversation, at "what can you do?", is an answer;
            # "English" there asks to switch.
            return False
        turn.goto(LANGUAGE_STEP, resume=turn.resume_point())
        if folded in direct:
            await _language_choice(turn, f"lang:{direct[folded]}")
        else:
            await _ask_language(turn)
    elif command is Command.START:
        turn.say(turn.t("welcome.back", name_sep=turn.name_sep))
        await stage.ask(turn)
    elif command is Command.SKIP and step in STEPS and STEPS[step].kind is not Kind.SUMMARY:
        await taps.answer_choice(turn, intake.SKIP_KEY)
    elif command is Command.DONE and step in STEPS and STEPS[step].kind is Kind.MULTI:
        await taps.answer_choice(turn, intake.DONE_KEY)
    elif command is Command.IDEAS and turn.person.intake_done_at is None:
        turn.say(turn.t("ideas.after_intake"))
        await stage.ask(turn)
    elif command is Command.IDEAS:
        await show_ideas(turn)
    elif command is Command.PAUSE and turn.person.intake_done_at is not None:
        await turn.update(suggestions_paused=True)
        turn.say(turn.t("ideas.paused"))
        await stage.ask(turn)
    elif command is Command.RESUME and turn.person.intake_done_at is not None:
        if not turn.person.blocked:  # a moderator's block is lifted by a moderator only
            await turn.update(suggestions_paused=False)
        turn.say(turn.t("ideas.none" if turn.person.blocked else "ideas.resumed"))
        await stage.ask(turn)
    elif command is Command.LINK:
        await linking.give_code(turn)
        await stage.ask(turn)
    elif command is Command.REQUESTS:
        await _open_requests(turn)
        await stage.ask(turn)
    elif command is Command.CHANGE and step in (DONE, INTAKE_FLOW.summary):
        turn.goto(INTAKE_FLOW.summary)
        turn.say(turn.t("summary.what_to_change"))
        await intake.ask(turn)
    else:
        return False
    return True


async def show_ideas(turn: Turn) -> None:
    """Show suggestions, then the menu; from the intake's end or from "ideeën"."""
    if turn.state.step not in (DONE,):
        turn.goto(DONE)
    await ideas.show_ideas(turn)
    menu.show_menu(turn)


async def _open_requests(turn: Turn) -> None:
    """Introduction requests waiting for this person's answer, each with its buttons."""
    waiting = await turn.store.list_open_requests_for(turn.person.id)
    if not waiting:
        turn.say(turn.t("intro.no_requests"))
        return
    for intro in waiting:
        turn.mention(intro.requester_id)
        requester = await turn.store.get_person(intro.requester_id)
        name = (requester.first_name if requester else None) or turn.t("intro.someone")
        turn.say(
            turn.t("intro.waiting", name=name, area=(requester.area_name if requester else "")),
            (
                Option(f"x:{intro.id}:accept", turn.t("button.accept")),
                Option(f"x:{intro.id}:decline", turn.t("button.decline")),
            ),
            columns=2,
        )


def with_stopped(state: ConversationState, stopped: bool) -> ConversationState:
    return replace(state, stopped=stopped)


async def _go_back(turn: Turn) -> None:
    step = turn.state.step
    if step == visibility.VISIBILITY_STEP:  # back to the summary, or to where they were
        then = visibility.then(turn)
        turn.goto(INTAKE_FLOW.summary if then == "finish" else then)
        await STAGES[turn.state.step].ask(turn)
        return
    if step not in STEPS and step != DONE:
        await _resume(turn)
        return
    if step == DONE:
        if turn.person.intake_done_at is None:
            turn.say(turn.t("back.first"))
            menu.show_menu(turn)
            return
        turn.goto(INTAKE_FLOW.summary)
        await intake.ask(turn)
        return
    back_to = turn.state.context.get("return_to")
    if isinstance(back_to, str):
        turn.drop_context("return_to")
        turn.goto(back_to)
        await intake.ask(turn)
        return
    previous = FLOW_OF[step].previous_step(step)
    if previous is None:
        turn.say(turn.t("back.first"))
        await intake.ask(turn)
        return
    turn.goto(previous)
    await intake.ask(turn)
