"""WhatsApp webhooks in: the signature, the verification handshake, and parsed bodies (pure).

A webhook body (`object: whatsapp_business_account`) holds entries of changes; a change of
field "messages" holds the messages people sent (with `contacts[].profile.name`) and the
status of messages the bot sent (sent / delivered / read / failed). Each message becomes an
`Inbound` whose `update_id` is the platform's message id ("wamid...") and whose
`external_id` is the sender's wa_id; `first_name` is the first word of their profile name
(nothing more of it is kept). What the bot cannot read (media, reactions, types WhatsApp
calls "unsupported") becomes a `MediaKind`, so the core always answers kindly. WhatsApp
sends no language: `language_code` stays empty and the core's default applies.

The web server checks the signature on the raw bytes before it parses or stores anything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from handlers.messages import Inbound, Location, MediaKind

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
STATUSES = frozenset({"sent", "delivered", "read", "failed"})

_MEDIA = {
    "image": MediaKind.PHOTO,
    "sticker": MediaKind.STICKER,
    "audio": MediaKind.AUDIO,
    "video": MediaKind.VIDEO,
    "document": MediaKind.DOCUMENT,
    "contacts": MediaKind.CONTACT,
}


class MalformedWebhook(ValueError):
    """A body that is not a WhatsApp webhook at all (not JSON, or not the expected shape)."""


@dataclass(frozen=True)
class Received:
    """A person's message: the `Inbound` for the core, and when WhatsApp says it was sent
    (the start of the 24-hour window)."""

    inbound: Inbound
    sent_at: datetime | None
    phone_number_id: str | None = None


@dataclass(frozen=True)
class StatusEvent:
    """What happened to a message the bot sent, to update its outbox row."""

    message_id: str
    recipient_id: str
    status: str
    at: datetime | None
    error_code: int | None = None
    error_title: str | None = None


@dataclass(frozen=True)
class Webhook:
    """Everything one webhook body carries, in the order WhatsApp listed it."""

    messages: tuple[Received, ...] = ()
    statuses: tuple[StatusEvent, ...] = ()


def signature(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` header value WhatsApp sends with `body`."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(body: bytes, header: str | None, app_secret: str) -> bool:
    """True when `header` is the HMAC-SHA256 of the raw `body` with the app secret."""
    if not header or not app_secret:
        return False
    expected = signature(body, app_secret).encode()
    return hmac.compare_digest(header.strip().lower().encode(), expected)


def handshake(params: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to echo for a subscription request carrying our verify token, else None.

    WhatsApp calls GET with `hub.mode=subscribe`, `hub.verify_token` and `hub.challenge`; the
    server answers 200 with the challenge as the body, or 403 when this returns None.
    """
    mode = params.get("hub.mode")
    token = params.get("hub.verify_token", "")
    challenge = params.get("hub.challenge")
    if mode != "subscribe" or challenge is None or not verify_token:
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return challenge


def parse_webhook(body: bytes | str | Mapping[str, Any]) -> Webhook:
    """The messages and status events in a webhook body; raises `MalformedWebhook`."""
    data = _load(body)
    messages: list[Received] = []
    statuses: list[StatusEvent] = []
    for value in _values(data):
        names = _names(value.get("contacts"))
        metadata = value.get("metadata")
        number_id = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
        for message in _dicts(value.get("messages")):
            received = _message(message, names, number_id)
            if received is not None:
                messages.append(received)
        for status in _dicts(value.get("statuses")):
            event = _status(status)
            if event is not None:
                statuses.append(event)
    return Webhook(tuple(messages), tuple(statuses))


def _load(body: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, bytes | str):
        try:
            loaded = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise MalformedWebhook("not JSON") from error
    else:
        loaded = body
    if not isinstance(loaded, Mapping) or not isinstance(loaded.get("entry"), list):
        raise MalformedWebhook("no entries")
    if loaded.get("object") != "whatsapp_business_account":
        raise MalformedWebhook(f"not a WhatsApp webhook: {loaded.get('object')!r}")
    return loaded


def _dicts(items: object) -> Iterator[dict[str, Any]]:
    if isinstance(items, list):
        yield from (item for item in items if isinstance(item, dict))


def _values(data: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in _dicts(data.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") == "messages" and isinstance(value, dict):
                yield value


def _names(contacts: object) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in _dicts(contacts):
        profile = contact.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        if isinstance(name, str) and name.strip() and isinstance(contact.get("wa_id"), str):
            names[contact["wa_id"]] = name.strip()
    return names


def _time(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _message(
    message: dict[str, Any], names: dict[str, str], number_id: str | None
) -> Received | None:
    sender, message_id = message.get("from"), message.get("id")
    if not isinstance(sender, str) or not isinstance(message_id, str) or not sender:
        log.warning("skipping a WhatsApp message without sender or id")
        return None
    first_name = names.get(sender)
    base = Inbound(
        channel=CHANNEL,
        external_id=sender,
        update_id=message_id,
        first_name=first_name.split()[0] if first_name else None,
    )
    return Received(_content(base, message), _time(message.get("timestamp")), number_id)


def _content(base: Inbound, message: dict[str, Any]) -> Inbound:
    """The message's content on the channel-neutral `Inbound`."""
    kind = message.get("type")
    content = message.get(kind) if isinstance(kind, str) else None
    content = content if isinstance(content, dict) else {}
    if kind == "text" and isinstance(content.get("body"), str):
        return _with(base, text=content["body"])
    if kind == "interactive":
        reply = content.get(str(content.get("type")))
        if content.get("type") in ("button_reply", "list_reply") and isinstance(reply, dict):
            return _with(base, choice=str(reply.get("id", "")))
    if kind == "button" and isinstance(content.get("text"), str):  # a template's quick reply
        return _with(base, text=content["text"])
    if kind == "location":
        try:
            where = Location(float(content["latitude"]), float(content["longitude"]))
        except (KeyError, TypeError, ValueError):
            return _with(base, media=MediaKind.OTHER)
        return _with(base, location=where)
    if kind == "audio" and content.get("voice") is True:
        return _with(base, media=MediaKind.VOICE)
    return _with(base, media=_MEDIA.get(str(kind), MediaKind.OTHER))


def _with(base: Inbound, **values: Any) -> Inbound:
    return replace(base, **values)


def _status(status: dict[str, Any]) -> StatusEvent | None:
    message_id, recipient = status.get("id"), status.get("recipient_id")
    state = status.get("status")
    if not isinstance(message_id, str) or state not in STATUSES:
        log.info("skipping a WhatsApp status of kind %r", state)
        return None
    error = next(_dicts(status.get("errors")), {})
    code = error.get("code") if isinstance(error.get("code"), int) else None
    title = str(error.get("title") or error.get("message") or "") or None
    return StatusEvent(
        message_id=message_id,
        recipient_id=str(recipient or ""),
        status=str(state),
        at=_time(status.get("timestamp")),
        error_code=code,
        error_title=title,
    )
