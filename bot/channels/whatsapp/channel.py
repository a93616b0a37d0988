"""WhatsApp wired in: webhook bodies into the inbox, the outbox out through the Cloud API.

In: `receive` splits a verified webhook body into one stored update per message (an
envelope of the same shape holding just that message, under its "wamid"), commits them
before the web server answers 200, and applies the status events in it to the outbox rows
of the messages they are about (`statuses.apply_status`: delivered and read times; a late
failure gives the message up, or sends it again, as a template when the window had
closed). A person's message also lets go of what was held for them (below).

Out: a message is rendered by `render` (reply buttons, a list, a location request; numbered
text when an option cannot be shown). Before the first part goes, the 24-hour rule is
checked against the person's last message, which the inbox knows: every update is stored
with its arrival time, and handled rows are kept a day, as long as the window lasts (so
nothing about people who never consented is stored for it). Outside the window the right
template goes out instead (an organiser's new request, a reminder, the follow-up, or
"er is een bericht voor je"), and the message is held until the person writes again;
WhatsApp's own 131047 leads to the same. Each part sent returns WhatsApp's id for it, which
the outbox keeps for the status reports. The channel's own words (the list button, "Meer
keuzes") are in the person's language. A tapped "Meer keuzes" row asks the inbox for the
next page of the person's last options.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn

from bot.deliverer import Held, Rejected, Transient
from bot.deliverer import RateLimited as RetryLater
from bot.inbox import Draft, Inbox, Incoming, reply_drafts
from bot.scheduler import Clock, UnitOfWork
from handlers.i18n import LANGUAGES, Texts
from handlers.introductions import OUTCOMES
from handlers.messages import Option, Reply
from handlers.parties import first_name, side_name
from storage.delivery_status import WINDOW_CLOSED_AT
from storage.records import Outgoing
from storage.store import Store

from . import client as wa
from .inbound import CHANNEL, MalformedWebhook, parse_webhook
from .render import MAX_BODY, Labels, Payload, more_page, numbered, page_of, render
from .statuses import apply_status
from .templates import (
    FOLLOWUP,
    INTRO_REQUEST,
    MESSAGE_WAITING,
    REMINDER,
    Template,
    free_form_allowed,
    template_message,
)

log = logging.getLogger(__name__)

# How long a message waits for the person to write again before a template asks once more.
HOLD = timedelta(days=30)
REQUEST_ACTIONS = frozenset({"accept", "decline"})


def _dicts(items: object) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def split_messages(body: bytes) -> list[tuple[str, str, dict[str, Any]]]:
    """(wamid, wa_id, envelope) for each message in a webhook body; each envelope is a
    webhook body of its own holding that one message and its sender's profile."""
    data = json.loads(body)
    found: list[tuple[str, str, dict[str, Any]]] = []
    for entry in _dicts(data.get("entry") if isinstance(data, dict) else None):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            for message in _dicts(value.get("messages")):
                sender, wamid = message.get("from"), message.get("id")
                if not isinstance(sender, str) or not isinstance(wamid, str) or not sender:
                    continue
                single = {
                    "messaging_product": "whatsapp",
                    "metadata": value.get("metadata"),
                    "contacts": [
                        c for c in _dicts(value.get("contacts")) if c.get("wa_id") == sender
                    ],
                    "messages": [message],
                }
                only = {"field": "messages", "value": single}
                envelope = {
                    "object": data["object"],
                    "entry": [{"id": entry.get("id"), "changes": [only]}],
                }
                found.append((wamid, sender, envelope))
    return found


class WhatsAppChannel:
    """WhatsApp's side of the inbox (reading stored bodies, writing drafts) and of the
    deliverer (sending a message part by part, within the 24-hour rule)."""

    channel = CHANNEL
    max_text = MAX_BODY

    def __init__(
        self,
        client: wa.WhatsAppClient,
        inbox: Inbox,
        *,
        unit_of_work: UnitOfWork,
        texts: Texts,
        clock: Clock,
        language: str = "nl",
    ) -> None:
        self._client = client
        self._inbox = inbox
        self._unit_of_work = unit_of_work
        self._texts = texts
        self._clock = clock
        self._language = language
        self._labels = {lang: Labels.load(texts, lang) for lang in LANGUAGES}
        if language not in self._labels:
            self._labels[language] = Labels.load(texts, language)
        inbox.add_reader(CHANNEL, self)

    # -- in ----------------------------------------------------------------------------------

    async def receive(self, body: bytes) -> None:
        """Store the messages of a verified body and apply its status events; returns once
        committed. Raises `MalformedWebhook` for a body that is no WhatsApp webhook."""
        webhook = parse_webhook(body)
        messages = split_messages(body)
        if messages:
            await self._inbox.receive(CHANNEL, messages)
        senders = {sender for _, sender, _ in messages}
        if not senders and not webhook.statuses:
            return
        async with self._unit_of_work() as store:
            for sender in senders:
                await store.mark_account_reachable(CHANNEL, sender)
                await store.release_held_deliveries(CHANNEL, sender)
            for event in webhook.statuses:
                await apply_status(store, event, now=self._clock())

    def read(self, payload: Mapping[str, Any]) -> Incoming | None:
        try:
            webhook = parse_webhook(payload)
        except MalformedWebhook:
            log.warning("a stored WhatsApp update cannot be read")
            return None
        if not webhook.messages:
            return None
        inbound = webhook.messages[0].inbound
        page = more_page(inbound.choice)
        return Incoming(inbound, {"page": page} if page is not None else {})

    def drafts(self, incoming: Incoming, replies: Sequence[Reply]) -> list[Draft]:
        """Replies as outbox rows; a long list answered on a later page comes back there."""
        drafts = reply_drafts(replies)
        choice = incoming.inbound.choice
        return [
            Draft(
                d.text,
                d.options,
                {**d.extra, "page": page_of(reply, choice)} if choice else d.extra,
                d.introduction_id,
                d.about,
            )
            for d, reply in zip(drafts, replies, strict=True)
        ]

    # -- out ---------------------------------------------------------------------------------

    def payloads(self, message: Outgoing) -> list[Payload]:
        """The Cloud API messages that show an outbox message, in order (the channel's
        own words in the default language)."""
        return self._payloads(message, self._labels[self._language])

    def _payloads(self, message: Outgoing, labels: Labels) -> list[Payload]:
        reply = Reply(
            message.text,
            options=tuple(Option(key, label) for key, label in message.options),
            request_location=message.extra.get("location"),
        )
        to = message.external_id
        try:
            return render(reply, to=to, labels=labels, page=int(message.extra.get("page", 0)))
        except ValueError:  # an option WhatsApp cannot carry: numbered lines work always
            return numbered(reply, to=to, labels=labels)

    def parts(self, message: Outgoing) -> int:
        return len(self.payloads(message))

    async def send_part(self, message: Outgoing, index: int) -> str:
        """Send part `index`, with the channel's words (list button, "meer keuzes") in the
        person's language; returns WhatsApp's id for it. Raises a `DeliveryError` when it
        did not go (`Held` when a template went instead)."""
        async with self._unit_of_work() as store:
            person = await store.find_person_by_identity(CHANNEL, message.external_id)
            last = await store.last_inbound_at(CHANNEL, message.external_id)
        if index == message.parts_sent and not self._window_open(message, last):
            await self._send_template(message)
        payloads = self.payloads(message)
        if person is not None and person.language in self._labels:
            theirs = self._payloads(message, self._labels[person.language])
            if len(theirs) == len(payloads):  # the parts counted stay the parts sent
                payloads = theirs
        try:
            return await self._client.send(payloads[index])
        except wa.WindowClosed:
            await self._send_template(message)
        except wa.WhatsAppError as error:
            raise _delivery_error(error) from error

    def _window_open(self, message: Outgoing, last: datetime | None) -> bool:
        """Free-form messages may go: the person wrote within 24 hours, and after WhatsApp
        last said the window had closed for this message (a late 131047)."""
        closed = message.extra.get(WINDOW_CLOSED_AT)
        if closed and (last is None or last < datetime.fromisoformat(str(closed))):
            return False
        return free_form_allowed(last, self._clock())

    async def _send_template(self, message: Outgoing) -> NoReturn:
        """Ask the person to write (a template), then hold the message until they do."""
        async with self._unit_of_work() as store:
            template, language, values = await self._template_for(store, message)
        payload = template_message(message.external_id, template, language=language, values=values)
        try:
            await self._client.send(payload)
        except wa.WhatsAppError as error:
            raise _delivery_error(error) from error
        log.info("sent template %s for message %d", template.name, message.id)
        raise Held(HOLD)

    async def _template_for(
        self, store: Store, message: Outgoing
    ) -> tuple[Template, str, dict[str, str]]:
        """The template that says what waits: an organiser's new request or its reminder,
        the follow-up a week later, or else "er is een bericht voor je"."""
        person = await store.find_person_by_identity(CHANNEL, message.external_id)
        lang = person.language if person is not None else self._language
        values = {"first_name": first_name(person, self._texts, lang)}
        intro_id, action = _introduction_option(message.options)
        intro = await store.get_introduction(intro_id) if intro_id is not None else None
        if intro is None or person is None:
            return MESSAGE_WAITING, lang, values
        if action in REQUEST_ACTIONS and intro.initiative_id is not None:
            reminder = message.text.startswith(self._texts(lang, "intro.reminder"))
            initiative = await side_name(store, intro, self._texts, lang)
            template = REMINDER if reminder else INTRO_REQUEST
            return template, lang, {**values, "initiative": initiative}
        if action in OUTCOMES:
            if person.id == intro.requester_id:
                other = await side_name(store, intro, self._texts, lang)
            else:
                requester = await store.get_person(intro.requester_id)
                other = first_name(requester, self._texts, lang)
            return FOLLOWUP, lang, {**values, "other": other}
        return MESSAGE_WAITING, lang, values


def _introduction_option(options: Sequence[tuple[str, str]]) -> tuple[int | None, str | None]:
    """The introduction and the action its buttons (`x:<id>:<action>`) answer, if any."""
    for key, _ in options:
        parts = key.split(":")
        if len(parts) == 3 and parts[0] == "x" and parts[1].isdigit():
            return int(parts[1]), parts[2]
    return None, None


def _delivery_error(error: wa.WhatsAppError) -> Transient | RetryLater | Rejected:
    if isinstance(error, wa.RateLimited):
        return RetryLater(error.retry_after or 1.0)
    if isinstance(error, wa.NotAuthorised):
        log.error("WhatsApp refuses our access token; messages wait until it is fixed")
        return Transient(str(error))
    if isinstance(error, wa.PermanentError):
        return Rejected(str(error))
    return Transient(str(error))
