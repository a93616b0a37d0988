"""Realistic WhatsApp Cloud API webhook bodies, shaped as Meta documents and sends them.

Each builder returns the whole body WhatsApp posts (`object`, `entry`, `changes`, `value`
with `metadata`, `contacts` and `messages`, or `statuses`), so tests parse exactly what a
real webhook call carries. `combine` puts several changes in one body, as WhatsApp batches.
"""

from __future__ import annotations

import itertools
from typing import Any

JSONDict = dict[str, Any]

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "15550783881"
TIMESTAMP = 1764590400  # 2025-12-01 12:00 UTC

_ids = itertools.count(1)


def message_id() -> str:
    return f"wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQTU{next(_ids):06d}AA=="


def _envelope(value: JSONDict) -> JSONDict:
    metadata = {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID}
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def message(
    wa_id: str,
    kind: str,
    content: JSONDict | list[JSONDict],
    *,
    name: str | None = "Anna de Vries",
    wamid: str | None = None,
    timestamp: int = TIMESTAMP,
) -> JSONDict:
    """A body with one message of `kind` from `wa_id`; `content` goes under the kind's key."""
    value: JSONDict = {
        "messages": [
            {
                "from": wa_id,
                "id": wamid or message_id(),
                "timestamp": str(timestamp),
                "type": kind,
                kind: content,
            }
        ]
    }
    if name is not None:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
    return _envelope(value)


def text(wa_id: str, body: str, **kw: Any) -> JSONDict:
    return message(wa_id, "text", {"body": body}, **kw)


def button_reply(wa_id: str, key: str, title: str, **kw: Any) -> JSONDict:
    content = {"type": "button_reply", "button_reply": {"id": key, "title": title}}
    body = message(wa_id, "interactive", content, **kw)
    _first(body)["context"] = {"from": DISPLAY_NUMBER, "id": message_id()}
    return body


def list_reply(wa_id: str, key: str, title: str, description: str = "", **kw: Any) -> JSONDict:
    reply = {"id": key, "title": title, "description": description}
    return message(wa_id, "interactive", {"type": "list_reply", "list_reply": reply}, **kw)


def location(wa_id: str, latitude: float, longitude: float, **kw: Any) -> JSONDict:
    content = {"latitude": latitude, "longitude": longitude, "name": "", "address": ""}
    return message(wa_id, "location", content, **kw)


def media(wa_id: str, kind: str, **kw: Any) -> JSONDict:
    """An image, audio (a voice note with `voice=True`), video, sticker or document."""
    voice = kw.pop("voice", None)
    content: JSONDict = {
        "id": "1037543291543636",
        "mime_type": {"audio": "audio/ogg; codecs=opus", "sticker": "image/webp"}.get(
            kind, "image/jpeg"
        ),
        "sha256": "ZTIxODg1NjRhYjk4ODhmOTU0NGQyNWY2ZTRhNzE3ZjgxNzE3YzY4Mzc5OWFjMmMw",
    }
    if voice is not None:
        content["voice"] = voice
    if kind == "document":
        content["filename"] = "rooster.pdf"
    if kind == "sticker":
        content["animated"] = False
    return message(wa_id, kind, content, **kw)


def contacts(wa_id: str, **kw: Any) -> JSONDict:
    card = {
        "name": {"first_name": "Piet", "formatted_name": "Piet"},
        "phones": [{"phone": "+31 6 12345678", "type": "CELL", "wa_id": "31612345678"}],
    }
    return message(wa_id, "contacts", [card], **kw)


def reaction(wa_id: str, emoji: str = "👍", **kw: Any) -> JSONDict:
    return message(wa_id, "reaction", {"message_id": message_id(), "emoji": emoji}, **kw)


def unsupported(wa_id: str, **kw: Any) -> JSONDict:
    body = message(wa_id, "unsupported", {}, **kw)
    del _first(body)["unsupported"]
    _first(body)["errors"] = [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ]
    return body


def status(
    wamid: str,
    wa_id: str,
    state: str,
    *,
    error_code: int | None = None,
    error_title: str = "",
    timestamp: int = TIMESTAMP,
) -> JSONDict:
    """A status webhook: "sent", "delivered", "read" or "failed" (with an error code)."""
    event: JSONDict = {
        "id": wamid,
        "status": state,
        "timestamp": str(timestamp),
        "recipient_id": wa_id,
    }
    if state != "read":
        event["conversation"] = {
            "id": "CONVERSATION_ID",
            "origin": {"type": "service"},
        }
        event["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
    if error_code is not None:
        event["errors"] = [
            {
                "code": error_code,
                "title": error_title,
                "message": error_title,
                "error_data": {"details": error_title},
            }
        ]
    return _envelope({"statuses": [event]})


def combine(*bodies: JSONDict) -> JSONDict:
    """Several bodies as one webhook call: one entry holding all their changes."""
    changes = [change for body in bodies for change in body["entry"][0]["changes"]]
    return {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": changes}]}


def _first(body: JSONDict) -> JSONDict:
    first: JSONDict = body["entry"][0]["changes"][0]["value"]["messages"][0]
    return first
