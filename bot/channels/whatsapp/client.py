"""Sending one message to the WhatsApp Cloud API, with failures as typed errors.

`WhatsAppClient.send` posts one payload (from `render` or `templates`) to
`{base_url}/{version}/{phone_number_id}/messages` with the access token, and returns the
message id WhatsApp accepted ("wamid..."), or raises one of:

- `WindowClosed` (131047): the 24 hours since the person's last message are over; send a
  template instead (`templates.template_message`).
- `RateLimited` (130429, 131048, 131056, HTTP 429): try again later, after `retry_after`.
- `NotAuthorised` (190, 10, 200, HTTP 401/403): the token or its permissions are wrong; no
  message can go out until that is fixed, so keep the messages and alert a person.
- `PermanentError` (e.g. 131026 undeliverable, 131051 unsupported type, a bad template):
  this message will never go through; give it up.
- `TransientError` (HTTP 5xx, timeouts, broken connections, 131000, 131016, 133004): try
  again.

WhatsApp reports some of these later too, in a "failed" status webhook; `classify` turns
such a status's error code into the same error type, so the outbox treats both alike.

Why plain aiohttp and not a WhatsApp SDK such as pywa: the project keeps one HTTP stack
(aiohttp serves the webhooks and the dashboard already), and the inbox and outbox need the
raw payloads (stored as they are sent and received) and full control over retries. An SDK
builds its own payload objects, owns its web server and retries on its own terms. The Cloud
API's /messages call is one small JSON POST; typed dataclasses at the edges (parsed
webhooks, results, errors) give the safety an SDK would.

This client does not retry, wait or pace: the outbox deliverer does, per recipient in order,
within WhatsApp's throughput (80 messages a second per number by default; more after Meta
raises the number's tier) and its per-person pair limit (131056).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from .render import Payload

log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.facebook.com"
GRAPH_VERSION = "v21.0"

WINDOW_CLOSED = 131047
RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131048, 131056})
AUTH_CODES = frozenset({10, 190, 200})
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})


class WhatsAppError(Exception):
    """A message WhatsApp did not accept; `code` is the Graph API's error code, if any."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.retry_after = retry_after


class WindowClosed(WhatsAppError):
    """Free-form messages are not allowed: more than 24 hours since the person wrote."""


class RateLimited(WhatsAppError):
    """Too many messages; try again later (`retry_after` seconds, when WhatsApp says)."""


class NotAuthorised(WhatsAppError):
    """The access token is wrong, expired or lacks a permission."""


class PermanentError(WhatsAppError):
    """This message will never be accepted."""


class TransientError(WhatsAppError):
    """A passing failure on the way or at WhatsApp; the same message may succeed later."""


def classify(code: int | None, http_status: int | None = None) -> type[WhatsAppError]:
    """The error type for a Graph API error code (from an answer or a failed status)."""
    if code == WINDOW_CLOSED:
        return WindowClosed
    if code in RATE_LIMIT_CODES or http_status == 429:
        return RateLimited
    if code in AUTH_CODES or http_status in (401, 403):
        return NotAuthorised
    if code in TRANSIENT_CODES or (http_status is not None and http_status >= 500):
        return TransientError
    return PermanentError


class WhatsAppClient:
    """Sends messages from one WhatsApp business phone number.

    The session is owned by whoever built the client (the composition root), so one
    connection pool serves every channel.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        phone_number_id: str,
        access_token: str,
        base_url: str = GRAPH_URL,
        version: str = GRAPH_VERSION,
        timeout: float = 10.0,
    ) -> None:
        self._session = session
        self._url = f"{base_url.rstrip('/')}/{version}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:  # never the token
        return f"WhatsAppClient({self._url!r})"

    async def send(self, payload: Payload) -> str:
        """Send one message; returns the message id WhatsApp accepted."""
        try:
            async with self._session.post(
                self._url, json=payload, headers=self._headers, timeout=self._timeout
            ) as response:
                status = response.status
                retry_after = _retry_after(response.headers.get("Retry-After"))
                try:
                    answer: Any = await response.json(content_type=None)
                except ValueError:
                    answer = None
        except TimeoutError as error:
            raise TransientError("timed out sending to WhatsApp") from error
        except aiohttp.ClientError as error:
            raise TransientError(f"could not reach WhatsApp: {error}") from error
        if 200 <= status < 300:
            return _message_id(answer, status)
        raise _error(answer, status, retry_after)


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _message_id(answer: Any, status: int) -> str:
    messages = answer.get("messages") if isinstance(answer, dict) else None
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        message_id = messages[0].get("id")
        if isinstance(message_id, str) and message_id:
            log.debug("WhatsApp accepted message %s", message_id)
            return message_id
    raise TransientError("WhatsApp answered without a message id", http_status=status)


def _error(answer: Any, status: int, retry_after: float | None) -> WhatsAppError:
    error = answer.get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    details = error.get("error_data")
    detail = details.get("details") if isinstance(details, dict) else None
    message = str(detail or error.get("message") or f"HTTP {status}")
    kind = classify(code, status)
    log.info("WhatsApp refused a message: %s (code %s, HTTP %s)", kind.__name__, code, status)
    return kind(message, code=code, http_status=status, retry_after=retry_after)
