"""One inbound message being handled: who sent it, where they are, what we will say."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from handlers.flow import DONE, FIRST_STEP, FLOW_OF
from handlers.i18n import Texts
from handlers.messages import Inbound, Option, Reply
from handlers.taxonomy import Taxonomy
from handlers.ticket_reasons import ModeratorAlert
from storage.records import ConversationState, Person
from storage.store import Store

STICKY = ("return_to", "draft", "initiative_id", "live", "relay")


@dataclass
class Turn:
    store: Store
    texts: Texts
    taxonomy: Taxonomy
    msg: Inbound
    person: Person
    state: ConversationState
    now: datetime
    replies: list[Reply] = field(default_factory=list)
    erased: bool = False
    ask_after: bool = False  # ask the current step's question once this message is handled
    mentions: set[int] = field(default_factory=set)  # other people this turn names
    alert: ModeratorAlert | None = None  # where urgent tickets are announced, if anywhere
    # Known when the message came (None: not known, ask the store).
    ticket_active: bool | None = None  # an open or assigned ticket of theirs exists
    misunderstood: int | None = None  # answers in a row the bot did not understand

    @property
    def lang(self) -> str:
        return self.person.language

    @property
    def name_sep(self) -> str:
        """ ", Anna" when we know the name, else nothing: for "Welcome back, Anna!"."""
        return f", {self.person.first_name}" if self.person.first_name else ""

    def t(self, key: str, **values: Any) -> str:
        return self.texts(self.lang, key, **values)

    def say(self, text: str, options: tuple[Option, ...] = (), **flags: Any) -> None:
        self.replies.append(Reply(text=text, options=options, **flags))

    def tell(
        self,
        person_id: int,
        text: str,
        options: tuple[Option, ...] = (),
        *,
        about: tuple[int, ...] = (),
        introduction_id: int | None = None,
    ) -> None:
        """A message for someone else; it goes out through the outbox after commit.

        `about`: who else it names (the sender is added); erasing them cancels it."""
        self.replies.append(
            Reply(
                text=text,
                options=options,
                to_person=person_id,
                # once erased, the sender is no one to name (and no row to refer to)
                about=tuple(sorted(set(about) if self.erased else {*about, self.person.id})),
                introduction_id=introduction_id,
            )
        )

    def mention(self, *person_ids: int) -> None:
        """This turn names other people: its lines in the log are redacted if they go."""
        self.mentions.update(person_ids)

    def option(self, key: str, label: str) -> Option:
        """A button valid for the current question only (stale once the step moves on)."""
        return Option(key=f"{self.state.turn}:{key}", label=label)

    async def update(self, **changes: Any) -> None:
        self.person = await self.store.update_person(self.person.id, changes)

    def goto(self, step: str, **context: Any) -> None:
        """Move to another step; buttons of the previous question become stale.

        What a flow is building up (a draft, where to return to) travels along."""
        kept = {k: v for k, v in self.state.context.items() if k in STICKY}
        kept.update(context)
        flow = FLOW_OF[step].name if step in FLOW_OF else self.state.flow
        self.state = replace(
            self.state, flow=flow, step=step, turn=self.state.turn + 1, context=kept
        )

    def resume_point(self) -> str:
        """Where to come back to after a side question: this step if it is part of a flow
        or the menu, else the place the side question itself will return to."""
        step = self.state.step
        if step in FLOW_OF or step == DONE:
            return step
        return str(self.state.context.get("resume", FIRST_STEP))

    def resume(self, step: str) -> None:
        """Leave a side question and go back to `step`; its question is asked at the end."""
        self.goto(step)
        self.ask_after = True

    def set_context(self, **context: Any) -> None:
        self.state = replace(self.state, context={**self.state.context, **context})

    def drop_context(self, *names: str) -> None:
        self.state = replace(
            self.state, context={k: v for k, v in self.state.context.items() if k not in names}
        )
