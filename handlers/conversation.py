"""The conversation's front door: every inbound message comes through `Conversations.handle`.

It takes the message in order per sender, handles each platform update once, routes the
message to the step the person is at (commands such as help, back, stop, my data and
forget me work at every step), and always answers: odd input gets a kind explanation and
the current question again; a failure gets an apology and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers import (
    ideas,
    intake,
    introductions,
    linking,
    moderation,
    organiser,
    taps,
    typed,
    visibility,
)
from handlers.errors import InvalidAnswer, NotAllowed
from handlers.flow import CONSENT_VERSION, DONE, FIRST_STEP, STEPS, Kind
from handlers.i18n import Texts, pick_language
from handlers.messages import Inbound, Location, Reply
from handlers.ordering import SenderQueue
from handlers.reading import (
    MAX_TEXT,
    Command,
    clean,
    fold,
    has_words,
    is_greeting,
    is_thanks,
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
from handlers.ticket_reasons import ModeratorAlert
from handlers.turn import Turn
from handlers.welcome import STRANGER_TURN, read_stranger
from storage.records import ConversationState, Person
from storage.store import Store
from storage.verbs import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handled:
    """What one message led to: the replies to the sender, and who the sender is (None for
    someone who has not consented, or who was just erased)."""

    replies: list[Reply]
    person_id: int | None
    queued: int = 0  # messages queued for other people
    # The message answered the place question, whose "share my location" keyboard the
    # first reply takes away: channels keep that reply a message of its own.
    answers_location_question: bool = False


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
        alert: ModeratorAlert | None = None,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._alert = alert
        self._texts = texts
        self._taxonomy = taxonomy
        self._clock = clock
        self._senders = SenderQueue()
        self._outbox_listeners: list[Callable[[], None]] = []

    def on_outbox(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever messages for other people were queued."""
        self._outbox_listeners.append(listener)

    async def handle(self, msg: Inbound) -> list[Reply]:
        """Answer one message in a unit of work of its own; one sender's messages are taken
        strictly in order. The replies to the sender are returned, not queued."""
        return await self._senders.run(
            f"{msg.channel}:{msg.external_id}", lambda: self._handle_safely(msg)
        )

    async def handle_within(self, store: Store, msg: Inbound) -> Handled:
        """Answer one message inside the caller's transaction (the inbox's, which holds the
        sender). A failure raises: the caller's transaction rolls back, nothing of this
        message stays, and the caller tries it again or apologises (`bot.inbox`)."""
        handled = await self._handle_in(store, msg, from_inbox=True)
        self._notify_outbox(handled.queued)
        return handled

    async def mark_unreachable(self, channel: str, external_id: str) -> None:
        """The platform says we cannot reach this person (they blocked the bot)."""
        async with self._unit_of_work() as store:
            await store.mark_account_unreachable(channel, external_id)

    @staticmethod
    async def _welcomed(store: Store, msg: Inbound) -> bool:
        """Whether the consent question is the last question this chat was sent."""
        last = await store.last_options_message(msg.channel, msg.external_id)
        return last is not None and any(k.startswith(f"{STRANGER_TURN}:") for k, _ in last.options)

    def _sorry(self, msg: Inbound) -> Reply:
        return Reply(self._texts(pick_language(msg.language_code), "error.sorry"))

    async def _handle_safely(self, msg: Inbound) -> list[Reply]:
        try:
            async with self._unit_of_work() as store:
                handled = await self._handle_in(store, msg)
        except Exception:  # the boundary: log it, apologise, and keep the old state
            log.exception("failed to handle a %s message", msg.channel)
            return [self._sorry(msg)]
        self._notify_outbox(handled.queued)
        return handled.replies

    def _notify_outbox(self, queued: int) -> None:
        if queued:
            for listener in self._outbox_listeners:
                listener()

    async def _handle_in(self, store: Store, msg: Inbound, *, from_inbox: bool = False) -> Handled:
        """`from_inbox`: the update comes from the inbox, whose row is marked handled in this
        transaction: that already makes it once only."""
        kind = "button" if msg.choice else "location" if msg.location else msg.media or "text"
        log.debug("handling a %s on %s (update %s)", kind, msg.channel, msg.update_id)  # no text
        await store.lock_sender(msg.channel, msg.external_id)
        if (
            not from_inbox
            and msg.update_id is not None
            and not await store.mark_update_processed(msg.channel, msg.update_id)
        ):
            log.info("update %s on %s was handled before", msg.update_id, msg.channel)
            return Handled([], None)
        sender = await store.load_sender(msg.channel, msg.external_id)
        person = sender.person if sender is not None else None
        linked = None
        if person is None:
            link = await linking.read_stranger_link(store, self._texts, msg, self._clock())
            if link is not None and link.person_id is None:
                return Handled(list(link.replies), None)
            if link is not None and link.person_id is not None:
                linked = await store.get_person(link.person_id)
        if linked is not None:  # this chat was just linked: go on where the person is
            person = linked
            state = await store.get_conversation(person.id) or ConversationState(
                person.id, "intake", FIRST_STEP, 1
            )
            turn = self._turn(store, msg, person, state)
            turn.say(turn.t("link.welcome", name_sep=turn.name_sep))
            await STAGES.get(state.step, INTAKE_STAGE).ask(turn)
            at_place = False
        elif person is None:
            welcomed = msg.welcomed or await self._welcomed(store, msg)
            answer = read_stranger(self._texts, msg, welcomed=welcomed)
            if answer.consent_language is None:
                return Handled(list(answer.replies), None)
            person = await store.create_person_with_consent(
                channel=msg.channel,
                external_id=msg.external_id,
                username=msg.username,
                language=answer.consent_language,
                consent_version=CONSENT_VERSION,
            )
            await store.mark_account_seen(msg.channel, msg.external_id, now=self._clock())
            state = ConversationState(person.id, "intake", FIRST_STEP, 1)
            turn = self._turn(store, msg, person, state)
            turn.say(turn.t("consent.thanks"))
            if answer.invite is None or not await organiser.join(turn, answer.invite):
                if answer.invite is not None:
                    turn.say(turn.t("organiser.invalid_code"))
                await intake.ask(turn)
            at_place = False
        else:
            assert sender is not None
            if sender.needs_seen_mark():
                await store.mark_account_seen(msg.channel, msg.external_id, now=self._clock())
            if not person.reachable:  # they wrote to us, so they can be reached again
                await store.mark_account_reachable(msg.channel, msg.external_id)
                person = await store.update_person(person.id, {"reachable": True})
            state = sender.conversation or ConversationState(person.id, "intake", FIRST_STEP, 1)
            step = STEPS.get(state.step)
            at_place = step is not None and step.kind is Kind.PLACE
            turn = self._turn(store, msg, person, state)
            turn.ticket_active = sender.ticket_active
            turn.misunderstood = sender.misunderstood
            await respond(turn)
            if await _needs_new_consent(store, turn, sender.consent_version):
                visibility.start(turn, then=turn.resume_point(), intro=turn.t("consent.changed"))
        if not turn.erased:
            await store.save_conversation(turn.state)
            await _log_turn(store, turn)
        queued = await _queue_for_others(store, turn)
        return Handled(
            [reply for reply in turn.replies if reply.to_person is None],
            None if turn.erased else person.id,
            queued,
            answers_location_question=at_place,
        )

    def _turn(self, store: Store, msg: Inbound, person: Person, state: ConversationState) -> Turn:
        return Turn(
            store, self._texts, self._taxonomy, msg, person, state, self._clock(),
            alert=self._alert,
        )  # fmt: skip


async def _needs_new_consent(store: Store, turn: Turn, before: str | None) -> bool:
    """They agreed to an older text: once their message is answered, ask the new question
    — unless they are in a side question (forget me?, a contact route, the relay), which
    goes first; the question then comes with a later message. `before` is the version
    they had agreed to when the message came (a version only ever gets newer)."""
    if turn.erased or (turn.state.step not in STEPS and turn.state.step != DONE):
        return False
    if not visibility.needs_new_consent(before):
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
        body = f"[button] {scrub(msg.choice)}"
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
    lines = [("in", body)]
    lines += [("out", scrub(r.text)) for r in turn.replies if r.to_person is None]
    await store.log_lines(turn.person.id, channel=msg.channel, lines=lines, about=about)


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
    if msg.choice is not None and msg.choice[:2] not in GLOBAL_PREFIXES and _tapped_twice(
        turn, msg.choice
    ):
        log.info("ignored a repeated tap")
        return
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
        if msg.choice is not None and not turn.erased:
            turn.set_context(**{LAST_TAP: [msg.choice, turn.now.isoformat()]})
        if turn.ask_after and not turn.erased:
            await STAGES[turn.state.step].ask(turn)
        if not turn.erased:
            await moderation.understood(turn)


LAST_TAP = "last_tap"  # context: the last button tapped, and when
REPEAT_WINDOW = timedelta(seconds=2)


def _tapped_twice(turn: Turn, choice: str) -> bool:
    """The same button again within two seconds: an unsteady double tap, not a new answer."""
    last = turn.state.context.get(LAST_TAP)
    if not isinstance(last, list) or len(last) != 2 or last[0] != choice:
        return False
    try:
        at = datetime.fromisoformat(str(last[1]))
    except ValueError:
        return False
    return timedelta(0) <= turn.now - at < REPEAT_WINDOW


GLOBAL_PREFIXES = ("s:", "x:", "g:", "o:", "l:")


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
    elif choice.startswith(ideas.WIDER_KEY):
        await ideas.look_further(turn, choice)
    elif choice.startswith("l:"):
        await linking.act(turn, choice)
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
        if await taps.tap_live(turn, int(given_turn), key):
            return
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
    if command is not None and stage.passes_on and not _works_while_writing(command, text):
        command = None  # "klaar", "Engels" or "weet ik niet" are words for the other side
    if await linking.on_code(turn, text):
        return
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
    if stage.passes_on:
        await stage.text(turn, text)
        return
    if is_greeting(text):
        turn.say(turn.t("welcome.back", name_sep=turn.name_sep))
        await stage.ask(turn)
        return
    if is_thanks(text):
        turn.say(turn.t("thanks.welcome"))
        await stage.ask(turn)
        return
    numbers = read_numbers(text)
    if numbers is not None:
        await _on_numbers(turn, stage, numbers)
        return
    await stage.text(turn, text)


# While writing to someone through the bot, only leaving, erasing and a plain "help" work
# as commands: any other command word is a message like the rest.
_WHILE_WRITING = (Command.STOP, Command.BACK, Command.FORGET)


def _works_while_writing(command: Command, text: str) -> bool:
    if command in _WHILE_WRITING:
        return True
    return command is Command.HELP and fold(text) in ("help", "hulp")


async def _on_numbers(turn: Turn, stage: Stage, numbers: list[int]) -> None:
    """ "3" picks the third button; "1 4" picks several in a list question; a number that
    is not there is named, and at a one-answer question two numbers ask which one."""
    options = await stage.options(turn)
    valid = list(dict.fromkeys(n for n in numbers if 1 <= n <= len(options)))
    missing = list(dict.fromkeys(n for n in numbers if not 1 <= n <= len(options)))
    if not valid:
        if missing:
            turn.say(taps.missing_numbers(turn, missing))
        raise InvalidAnswer(
            "number.only_one" if len(options) == 1 else "number.out_of_range", count=len(options)
        )
    keys = [options[n - 1].key.partition(":")[2] for n in valid]
    step = STEPS.get(turn.state.step)
    if len(keys) > 1 and step is not None and all(k.startswith("pick:") for k in keys):
        items = [k.removeprefix("pick:") for k in keys]
        if step.kind is Kind.MULTI:
            await taps.pick_many(turn, step, items, missing)
            return
        if step.kind is Kind.SINGLE:
            typed.ask_which(turn, [c for c in step.choices if c.key in items])
            return
    if len(keys) > 1:
        raise InvalidAnswer("number.one_at_a_time")
    if missing:
        turn.say(taps.missing_numbers(turn, missing))
    await stage.choice(turn, keys[0])
