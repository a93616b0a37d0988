"""The conversation's front door: every inbound message comes through `Conversations.handle`.

It takes the message in order per sender, handles each platform update once, routes the
message to the step the person is at (commands such as help, back, stop, my data and
forget me work at every step), and always answers: odd input gets a kind explanation and
the current question again; a failure gets an apology and changes nothing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from handlers import ideas, intake, introductions, moderation, organiser, visibility
from handlers.errors import InvalidAnswer, NotAllowed
from handlers.flow import CONSENT_VERSION, FIRST_STEP, STEPS
from handlers.i18n import Texts, pick_language
from handlers.messages import Inbound, Location, Reply
from handlers.ordering import SenderQueue
from handlers.reading import (
    MAX_TEXT,
    Command,
    clean,
    has_words,
    is_greeting,
    read_command,
    read_numbers,
    read_yes_no,
)
from handlers.scrub import scrub
from handlers.stages import (
    INTAKE_STAGE,
    STAGES,
    Stage,
    run_command,
    show_ideas,
    with_stopped,
)
from handlers.taxonomy import Taxonomy
from handlers.turn import Turn
from handlers.welcome import read_stranger
from storage.records import ConversationState, Person
from storage.store import Store
from storage.verbs import utcnow

log = logging.getLogger(__name__)

UnitOfWork = Callable[[], AbstractAsyncContextManager[Store]]


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
        kind = "button" if msg.choice else "location" if msg.location else msg.media or "text"
        log.debug("handling a %s on %s (update %s)", kind, msg.channel, msg.update_id)  # no text
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
                if answer.invite is None or not await organiser.join(turn, answer.invite):
                    if answer.invite is not None:
                        turn.say(turn.t("organiser.invalid_code"))
                    await intake.ask(turn)
            else:
                if not person.reachable:  # they wrote to us, so they can be reached again
                    person = await store.update_person(person.id, {"reachable": True})
                state = await store.get_conversation(person.id) or ConversationState(
                    person.id, "intake", FIRST_STEP, 1
                )
                turn = self._turn(store, msg, person, state)
                if await _needs_new_consent(store, turn):
                    visibility.start(
                        turn, then=turn.resume_point(), intro=turn.t("consent.changed")
                    )
                else:
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


async def _needs_new_consent(store: Store, turn: Turn) -> bool:
    """They agreed to an older text: ask the new question first (commands still work)."""
    if turn.state.step == visibility.VISIBILITY_STEP or read_command(clean(turn.msg.text)):
        return False
    return visibility.needs_new_consent(await store.get_consent_version(turn.person.id))


async def _queue_for_others(store: Store, turn: Turn) -> int:
    """Messages for other people go into the outbox, in the same transaction."""
    count = 0
    for reply in turn.replies:
        if reply.to_person is not None:
            options = [(option.key, option.label) for option in reply.options]
            await store.queue_message(
                reply.to_person,
                reply.text,
                options,
                introduction_id=reply.introduction_id,
                about=reply.about,
            )
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
        body = scrub(clean(msg.text)[:MAX_TEXT])
    # Whom this turn named: erasing any of them redacts these lines of the log.
    about = set(turn.mentions)
    for reply in turn.replies:
        about.update(reply.about)
    log = functools.partial(store.log_message, turn.person.id, channel=msg.channel, about=about)
    await log(direction="in", body=body)
    for reply in turn.replies:
        if reply.to_person is None:
            await log(direction="out", body=scrub(reply.text))


async def respond(turn: Turn) -> None:
    """Route one message from a consenting person to where they are.

    Moderation comes first: while a moderator holds the conversation, or when the message
    asks for a person or shows distress, a person takes it from here (handlers.moderation).
    """
    if await moderation.take_over(turn):
        return
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
        await moderation.misunderstood(turn, problem)
    except NotAllowed as refusal:
        log.info("refused a button: %s", refusal)
        turn.say(turn.t("button.not_for_you"))
        await STAGES[turn.state.step].ask(turn)
    else:
        if turn.ask_after and not turn.erased:
            await STAGES[turn.state.step].ask(turn)
        if not turn.erased:
            await moderation.understood(turn)


GLOBAL_PREFIXES = ("s:", "x:", "g:", "o:")


async def _on_global_choice(turn: Turn, choice: str) -> None:
    """Buttons that are not tied to the current question: suggestions and introductions."""
    if turn.state.stopped:
        turn.state = with_stopped(turn.state, False)
    if choice.startswith("x:"):
        await introductions.act(turn, choice)
    elif choice.startswith("o:"):
        await organiser.act(turn, choice)
    elif choice == ideas.IDEAS_KEY and turn.person.intake_done_at is not None:
        await show_ideas(turn)
    elif choice == visibility.VISIBILITY_KEY:
        visibility.start(turn, then=turn.resume_point())
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
        turn.state = with_stopped(turn.state, False)
    await stage.choice(turn, key)


async def _on_location(turn: Turn, stage: Stage, location: Location) -> None:
    if turn.state.step in STEPS:
        turn.state = with_stopped(turn.state, False)
        await intake.answer_location(turn, location)
    else:
        raise InvalidAnswer("location.not_now")


async def _on_text(turn: Turn, stage: Stage, text: str) -> None:
    if not text or (
        not has_words(text) and read_yes_no(text) is None and read_command(text) is None
    ):  # "👍" is a yes and "?" asks for help: neither is an empty message
        raise InvalidAnswer("text.empty")
    if len(text) > MAX_TEXT:
        raise InvalidAnswer("text.too_long", limit=MAX_TEXT)
    command = read_command(text)
    if turn.state.stopped:
        turn.state = with_stopped(turn.state, False)
        # "verder" (go on) after a stop means "carry on", not an answer such as "further"
        if command in (None, Command.START, Command.DONE) or is_greeting(text):
            turn.say(turn.t("welcome.back", name_sep=turn.name_sep))
            await stage.ask(turn)
            return
    if command is not None and await run_command(turn, command, text):
        return
    invite = organiser.read_invite(text)
    if invite is not None:
        if not await organiser.join(turn, invite):
            raise InvalidAnswer("organiser.invalid_code")
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
