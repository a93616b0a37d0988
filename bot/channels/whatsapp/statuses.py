"""WhatsApp's status webhooks applied to the outbox: what became of a message after it went.

Each part the Cloud API accepted is kept under its "wamid" (see `storage.delivery_status`),
so a status finds its outbox row:

- "sent" changes nothing (the row is sent already); "delivered" and "read" note their time;
- "failed" with 131047 (the 24-hour window had closed after all): the message goes again
  from the part that failed, first in its chat, and because the window is closed that
  means the matching template now and the message itself once the person writes: never
  silence;
- "failed" with a passing error (WhatsApp's own trouble, a rate limit): the message goes
  again a minute later, at most `MAX_LATE_RETRIES` times, then it is given up;
- any other "failed": the message is given up, kept with its error for the moderators'
  `list_failed_outbox`, and a ticket tells them the bot cannot reach the person. When the
  error is about the recipient rather than about this one message (anything but the
  errors in `MESSAGE_ERRORS`), that WhatsApp number is marked unreachable: only this
  channel, the person's other identities are reached as before.

A status for a message we do not know (a template, or one erased since) only does the
last: a permanent error about the recipient still marks the number unreachable.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from handlers.ticket_reasons import PRIORITY
from storage.store import Store

from . import client as wa
from .inbound import CHANNEL, StatusEvent

log = logging.getLogger(__name__)

MAX_LATE_RETRIES = 3
LATE_RETRY_AFTER = timedelta(minutes=1)
# Permanent errors about one message's content, not about who receives it.
MESSAGE_ERRORS = frozenset(
    {100, 131008, 131009, 131051, 131052, 131053, 132000, 132001, 132005, 132007, 132012}
)


def status_error(event: StatusEvent) -> str:
    """The error a failed status reports, short enough for the outbox row."""
    title = f": {event.error_title}" if event.error_title else ""
    return f"whatsapp {event.error_code}{title}"[:80]


async def apply_status(store: Store, event: StatusEvent, *, now: datetime) -> None:
    """Apply one status event to the outbox, in the caller's transaction."""
    at = event.at or now
    sent = await store.find_sent_part(CHANNEL, event.message_id)
    if event.status == "delivered" and sent is not None:
        await store.mark_message_delivered(sent.message_id, at=at)
    elif event.status == "read" and sent is not None:
        await store.mark_message_read(sent.message_id, at=at)
    if event.status != "failed":
        return
    kind = wa.classify(event.error_code)
    log.info("a WhatsApp message failed later: %s", kind.__name__)
    if sent is not None and not sent.failed:
        if kind is wa.WindowClosed:
            await store.send_message_again(
                sent.message_id,
                from_part=sent.part,
                at=now,
                error=status_error(event),
                window_closed_at=at,
            )
            return
        if kind in (wa.TransientError, wa.RateLimited) and sent.attempts < MAX_LATE_RETRIES:
            await store.send_message_again(
                sent.message_id,
                from_part=sent.part,
                at=now + LATE_RETRY_AFTER,
                error=status_error(event),
            )
            return
        await store.fail_sent_message(sent.message_id, at=now, error=status_error(event))
        if sent.person_id is not None:
            ticket, created = await store.open_ticket(
                sent.person_id,
                reason="undeliverable",
                priority=PRIORITY["undeliverable"],
                now=now,
            )
            if created:
                log.info("ticket %s opened (undeliverable)", ticket.id)
    recipient = event.recipient_id or (sent.external_id if sent is not None else "")
    if kind is wa.PermanentError and event.error_code not in MESSAGE_ERRORS and recipient:
        await store.mark_account_unreachable(CHANNEL, recipient)
