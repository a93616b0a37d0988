"""Why a ticket opens, and how urgent each reason is: the inbox shows the highest first.

A module of its own so that every part of the conversation that opens tickets (the
take-over, reports, erasure) can name them without importing the others."""

from __future__ import annotations

from dataclasses import dataclass

PRIORITY = {
    "distress": 100,
    "reported": 60,
    "asked_for_human": 50,
    "not_understood": 40,
    "undeliverable": 20,
    "no_organiser": 10,
}
HIGHEST = max(PRIORITY.values())


@dataclass(frozen=True)
class ModeratorAlert:
    """Where to say that a ticket of the highest priority opened: a chat of the moderators
    (`channel`, `chat_id`: an outbox address, not a person) and the link to a ticket
    (`ticket_url` with `{id}`). The message carries the link only, never the words."""

    channel: str
    chat_id: str
    ticket_url: str
