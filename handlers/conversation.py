"""The conversation's front door: every inbound message comes through `Conversations.handle`.

It takes the message in order per sender, handles each platform update once, routes the
message to the step the person is at (commands such as help, back, stop, my data and
forget me work at every step), and always answers: odd input gets a kind explanation and
the current question again; a failure gets an apology and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime

from handlers import ideas, intake, introductions, menu, privacy
from handlers.errors import InvalidAnswer, NotAllowed
from handlers.flow import CONSENT_VERSION, DONE, FIRST_STEP, STEPS, Kind, previous_step
from handlers.i18n import LANGUAGES, Texts, pick_language
from handlers.messages import Inbound, Location, Option, Reply
from handlers.ordering import SenderQueue
from handlers.reading import (
    MAX_TEXT,
    Command,
    clean,
    fold,
    has_words,
    is_greeting,
    read_command,
    read_numbers,
    read_yes_no,
)
from handlers.taxonomy import Taxonomy
from handlers.turn import Turn
from handlers.welcome import read_stranger
from storage.records import ConversationState, Person
from storage.store import Store, utcnow

log = logging.getLogger(__name__)

UnitOfWork = Callable[[], AbstractAsyncContextManager[Store]]
LANGUAGE_STEP = "language"


@dataclass(frozen=True)
class Stage:
    """How one place in the conversation asks, offers buttons and reads answers."""

    ask: Callable[[Turn], Awaitable[None]]
    options: Callable[[Turn], Awaitable[tuple[Option, ...]]]
    choice: Callable[[Turn, str], Awaitable[None]]
    text: Callable[[Turn, str], Awaitable[None]]


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
    raise InvalidAnswer("menu.not_understood")


INTAKE_STAGE = Stage(
    ask=lambda turn: intake.ask(turn),
    options=_intake_options,
    choice=intake.answer_choice,
    text=intake.answer_text,
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
STAGES[introductions.RELAY_STEP] = Stage(
    _relay_ask, _no_options, _no_choice, introductions.relay_text
)


# -- commands that work everywhere -------------------------------------------------------


async def run_command(turn: Turn, command: Command, text: str) -> bool:
    """Carry out a command word; False when it means nothing here (read it as an answer)."""
    step = turn.state.step
    stage = STAGES[step]
    if command is Command.HELP:
        turn.say(turn.t("help.text"))
        await stage.ask(turn)
    elif command is Command.BACK:
        await _go_back(turn)
    elif command is Command.STOP:
        turn.state = _with_stopped(turn.state, True)
        turn.say(turn.t("stop.done"))
    elif command is Command.MY_DATA:
        turn.say(await privacy.my_data_text(turn))
        await stage.ask(turn)
    elif command is Command.FORGET:
        if step != privacy.FORGET_STEP:
            turn.goto(privacy.FORGET_STEP, resume=_resume_point(turn))
        privacy.ask_forget(turn)
    elif command is Command.LANGUAGE:
        folded = fold(text)
        direct = {"english": "en", "engels": "en", "nederlands": "nl", "dutch": "nl"}
        if step == LANGUAGE_STEP and folded in direct:
            return False
        turn.goto(LANGUAGE_STEP, resume=_resume_point(turn))
        if folded in direct:
            await _language_choice(turn, f"lang:{direct[folded]}")
        else:
            await _ask_language(turn)
    elif command is Command.START:
        turn.say(turn.t("welcome.back", name_sep=turn.name_sep))
        await stage.ask(turn)
    elif command is Command.SKIP and step in STEPS and STEPS[step].kind is not Kind.SUMMARY:
        await intake.answer_choice(turn, intake.SKIP_KEY)
    elif command is Command.DONE and step in STEPS and STEPS[step].kind is Kind.MULTI:
        await intake.answer_choice(turn, intake.DONE_KEY)
    elif command is Command.IDEAS and turn.person.intake_done_at is not None:
        await _ideas(turn)
    elif command is Command.PAUSE and turn.person.intake_done_at is not None:
        await turn.update(suggestions_paused=True)
        turn.say(turn.t("ideas.paused"))
        await stage.ask(turn)
    elif command is Command.RESUME and turn.person.intake_done_at is not None:
        await turn.update(suggestions_paused=False)
        turn.say(turn.t("ideas.resumed"))
        await stage.ask(turn)
    elif command is Command.REQUESTS:
        await _open_requests(turn)
        await stage.ask(turn)
    elif command is Command.CHANGE and step in (DONE, "summary"):
        turn.goto("summary")
        turn.say(turn.t("summary.what_to_change"))
        await intake.ask(turn)
    else:
        return False
    return True


async def _ideas(turn: Turn) -> None:
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


def _resume_point(turn: Turn) -> str:
    step = turn.state.step
    if step in STEPS or step == DONE:
        return step
    return str(turn.state.context.get("resume", FIRST_STEP))


def _with_stopped(state: ConversationState, stopped: bool) -> ConversationState:
    return replace(state, stopped=stopped)


async def _go_back(turn: Turn) -> None:
    step = turn.state.step
    if step not in STEPS and step != DONE:
        await _resume(turn)
        return
    if turn.state.context.get("return_to") == "summary" or step == DONE:
        turn.drop_context("return_to")
        turn.goto("summary")
        await intake.ask(turn)
        return
    previous = previous_step(step)
    if previous is None:
        turn.say(turn.t("back.first"))
        await intake.ask(turn)
        return
    turn.goto(previous)
    await intake.ask(turn)


# -- the front door ----------------------------------------------------------------------


class Conversations:
    """Handles every inbound message of every channel; returns the replies to send."""

    def __init__(
        self,
        *,
        unit_of_work: UnitOfWork,
        texts: Texts,
        taxonomy: Taxonomy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._texts = texts
        self._taxonomy = taxonomy
        self._clock = clock
        self._senders = SenderQueue()
        self._outbox_listeners: list[Callable[[], None]] = []

    def on_outbox(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever messages for other people were queued."""
        self._outbox_listeners.append(listener)

    async def handle(self, msg: Inbound) -> list[Reply]:
        """Answer one message; one sender's messages are taken strictly in order."""
        return await self._senders.run(
            f"{msg.channel}:{msg.external_id}", lambda: self._handle_safely(msg)
        )

    async def mark_unreachable(self, channel: str, external_id: str) -> None:
        """The platform says we cannot reach this person (they blocked the bot)."""
        async with self._unit_of_work() as store:
            person = await store.find_person_by_identity(channel, external_id)
            if person is not None:
                await store.update_person(person.id, {"reachable": False})

    async def _handle_safely(self, msg: Inbound) -> list[Reply]:
        try:
            return await self._handle(msg)
        except Exception:  # the boundary: log it, apologise, and keep the old state
            log.exception("failed to handle a %s message", msg.channel)
            return [Reply(self._texts(pick_language(msg.language_code), "error.sorry"))]

    async def _handle(self, msg: Inbound) -> list[Reply]:
        async with self._unit_of_work() as store:
            await store.lock_sender(msg.channel, msg.external_id)
            if msg.update_id is not None and not await store.mark_update_processed(
                msg.channel, msg.update_id
            ):
                log.info("update %s on %s was handled before", msg.update_id, msg.channel)
                return []
            person = await store.find_person_by_identity(msg.channel, msg.external_id)
            if person is None:
                answer = read_stranger(self._texts, msg)
                if answer.consent_language is None:
                    return list(answer.replies)
                person = await store.create_person_with_consent(
                    channel=msg.channel,
                    external_id=msg.external_id,
                    username=msg.username,
                    language=answer.consent_language,
                    consent_version=CONSENT_VERSION,
                )
                state = ConversationState(person.id, "intake", FIRST_STEP, 1)
                turn = self._turn(store, msg, person, state)
                turn.say(turn.t("consent.thanks"))
                await intake.ask(turn)
            else:
                state = await store.get_conversation(person.id) or ConversationState(
                    person.id, "intake", FIRST_STEP, 1
                )
                turn = self._turn(store, msg, person, state)
                await respond(turn)
            if not turn.erased:
                await store.save_conversation(turn.state)
                await _log_turn(store, turn)
            queued = await _queue_for_others(store, turn)
        if queued:
            for listener in self._outbox_listeners:
                listener()
        return [reply for reply in turn.replies if reply.to_person is None]

    def _turn(self, store: Store, msg: Inbound, person: Person, state: ConversationState) -> Turn:
        return Turn(store, self._texts, self._taxonomy, msg, person, state, self._clock())


async def _queue_for_others(store: Store, turn: Turn) -> int:
    """Messages for other people go into the outbox, in the same transaction."""
    count = 0
    for reply in turn.replies:
        if reply.to_person is not None:
            options = [(option.key, option.label) for option in reply.options]
            await store.queue_message(reply.to_person, reply.text, options)
            count += 1
    return count


async def _log_turn(store: Store, turn: Turn) -> None:
    msg = turn.msg
    if msg.choice is not None:
        body = f"[button] {msg.choice}"
    elif msg.location is not None:
        body = "[location]"
    elif msg.media is not None:
        body = f"[{msg.media.value}]"
    else:
        body = clean(msg.text)[:MAX_TEXT]
    await store.log_message(turn.person.id, direction="in", channel=msg.channel, body=body)
    for reply in turn.replies:
        if reply.to_person is not None:
            continue
        await store.log_message(
            turn.person.id, direction="out", channel=msg.channel, body=reply.text
        )


async def respond(turn: Turn) -> None:
    """Route one message from a consenting person to where they are."""
    msg = turn.msg
    stage = STAGES.get(turn.state.step, INTAKE_STAGE)
    if turn.state.step not in STAGES:  # a step removed in a newer flow: start that part again
        turn.goto(FIRST_STEP)
        stage = INTAKE_STAGE
    try:
        if msg.choice is not None and msg.choice[:2] in GLOBAL_PREFIXES:
            await _on_global_choice(turn, msg.choice)
        elif msg.choice is not None:
            await _on_choice(turn, stage, msg.choice)
        elif msg.location is not None:
            await _on_location(turn, stage, msg.location)
        elif msg.media is not None:
            turn.say(turn.t("media.unreadable"))
            await stage.ask(turn)
        else:
            await _on_text(turn, stage, clean(msg.text))
    except InvalidAnswer as problem:
        turn.say(turn.t(problem.text_key, **problem.values))
        await STAGES[turn.state.step].ask(turn)
    except NotAllowed as refusal:
        log.info("refused a button: %s", refusal)
        turn.say(turn.t("button.not_for_you"))
        await STAGES[turn.state.step].ask(turn)
    else:
        if turn.ask_after and not turn.erased:
            await STAGES[turn.state.step].ask(turn)


GLOBAL_PREFIXES = ("s:", "x:", "g:")


async def _on_global_choice(turn: Turn, choice: str) -> None:
    """Buttons that are not tied to the current question: suggestions and introductions."""
    if turn.state.stopped:
        turn.state = _with_stopped(turn.state, False)
    if choice.startswith("x:"):
        await introductions.act(turn, choice)
    elif choice == ideas.IDEAS_KEY and turn.person.intake_done_at is not None:
        await _ideas(turn)
    elif choice.startswith("s:"):
        body, _, action = choice[2:].rpartition(":")
        kind, target_id = ideas.parse_target(body)
        if action == "intro":
            await introductions.request(turn, kind, target_id)
        elif action == "dismiss":
            await ideas.dismiss(turn, kind, target_id)
            turn.ask_after = True
        else:
            raise NotAllowed("unknown suggestion action")
    else:
        raise NotAllowed("unknown button")


async def _on_choice(turn: Turn, stage: Stage, choice: str) -> None:
    given_turn, _, key = choice.partition(":")
    if not given_turn.isdigit() or not key:
        raise InvalidAnswer("button.unknown")
    if int(given_turn) != turn.state.turn:
        raise InvalidAnswer("button.stale")
    if turn.state.stopped:
        turn.state = _with_stopped(turn.state, False)
    await stage.choice(turn, key)


async def _on_location(turn: Turn, stage: Stage, location: Location) -> None:
    if turn.state.step in STEPS:
        turn.state = _with_stopped(turn.state, False)
        await intake.answer_location(turn, location)
    else:
        raise InvalidAnswer("location.not_now")


async def _on_text(turn: Turn, stage: Stage, text: str) -> None:
    if not text or (not has_words(text) and read_yes_no(text) is None):
        raise InvalidAnswer("text.empty")
    if len(text) > MAX_TEXT:
        raise InvalidAnswer("text.too_long", limit=MAX_TEXT)
    command = read_command(text)
    if turn.state.stopped:
        turn.state = _with_stopped(turn.state, False)
        if command is None or command is Command.START or is_greeting(text):
            turn.say(turn.t("welcome.back", name_sep=turn.name_sep))
            await stage.ask(turn)
            return
    if command is not None and await run_command(turn, command, text):
        return
    if is_greeting(text):
        turn.say(turn.t("welcome.back", name_sep=turn.name_sep))
        await stage.ask(turn)
        return
    numbers = read_numbers(text)
    if numbers is not None:
        await _on_numbers(turn, stage, numbers)
        return
    await stage.text(turn, text)


async def _on_numbers(turn: Turn, stage: Stage, numbers: list[int]) -> None:
    """ "3" picks the third button; "1 4" picks several in a multi-select."""
    options = await stage.options(turn)
    if not options or any(not 1 <= n <= len(options) for n in numbers):
        raise InvalidAnswer("number.out_of_range", count=len(options))
    keys = [options[n - 1].key.partition(":")[2] for n in numbers]
    if len(keys) > 1 and not all(k.startswith("pick:") for k in keys):
        raise InvalidAnswer("number.one_at_a_time")
    step = turn.state.step
    for index, key in enumerate(keys):
        if turn.state.step != step:
            break
        if index:
            turn.replies.clear()  # several ticks at once: show the keyboard once, at the end
        await stage.choice(turn, key)
