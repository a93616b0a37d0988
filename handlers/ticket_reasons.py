"""Why a ticket opens, and how urgent each reason is: the inbox shows the highest first.

A module of its own so that every part of the conversation that opens tickets (the
take-over, reports, erasure) can name them without importing the others."""

from __future__ import annotations

PRIORITY = {
    "distress": 100,
    "reported": 60,
    "asked_for_human": 50,
    "not_understood": 40,
    "undeliverable": 20,
    "no_organiser": 10,
}
HIGHEST = max(PRIORITY.values())
