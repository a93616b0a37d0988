"""WhatsApp webhooks in: signatures, the handshake, and every kind of message and status."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.channels.whatsapp.client import PermanentError, WindowClosed, classify
from bot.channels.whatsapp.inbound import (
    MalformedWebhook,
    handshake,
    parse_webhook,
    signature,
    verify_signature,
)
from bot.channels.whatsapp.render import more_page
from handlers.messages import Inbound, Location, MediaKind

from . import whatsapp_webhooks as hooks

SECRET = "app-secret-123"
ANNA = "31612345678"
WHEN = datetime.fromtimestamp(hooks.TIMESTAMP, UTC)


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def only(body: dict[str, Any]) -> Inbound:
    webhook = parse_webhook(raw(body))
    assert webhook.statuses == ()
    [received] = webhook.messages
    assert received.sent_at == WHEN
    assert received.phone_number_id == hooks.PHONE_NUMBER_ID
    return received.inbound


# -- signature -----------------------------------------------------------------------------


def test_a_good_signature_is_accepted() -> None:
    body = raw(hooks.text(ANNA, "hallo"))
    header = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signature(body, SECRET) == header
    assert verify_signature(body, header, SECRET)
    assert verify_signature(body, header.upper().replace("SHA256=", "sha256="), SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        "sha1=" + hmac.new(SECRET.encode(), b"{}", hashlib.sha1).hexdigest(),
    ],
)
def test_a_missing_or_wrong_signature_is_refused(header: str | None) -> None:
    assert not verify_signature(b"{}", header, SECRET)


def test_a_signature_with_another_secret_or_body_is_refused() -> None:
    body = raw(hooks.text(ANNA, "hallo"))
    assert not verify_signature(body, signature(body, "other-secret"), SECRET)
    assert not verify_signature(body + b" ", signature(body, SECRET), SECRET)
    assert not verify_signature(body, signature(body, ""), "")  # no secret configured


# -- handshake -----------------------------------------------------------------------------


def test_the_handshake_echoes_the_challenge_for_our_token() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "meedoen", "hub.challenge": "1158201444"}
    assert handshake(params, "meedoen") == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "meedoen", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "meedoen"},
        {"hub.verify_token": "meedoen", "hub.challenge": "1"},
        {},
    ],
)
def test_the_handshake_refuses_anything_else(params: dict[str, str]) -> None:
    assert handshake(params, "meedoen") is None


def test_no_handshake_without_a_configured_token() -> None:
    assert (
        handshake({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, "")
        is None
    )


# -- messages ------------------------------------------------------------------------------


def test_a_text_message() -> None:
    body = hooks.text(ANNA, "Ik kook graag", wamid="wamid.ABC123")
    assert only(body) == Inbound(
        channel="whatsapp",
        external_id=ANNA,
        update_id="wamid.ABC123",
        text="Ik kook graag",
        first_name="Anna",
    )


def test_without_a_profile_name_there_is_no_first_name() -> None:
    inbound = only(hooks.text(ANNA, "hoi", name=None))
    assert inbound.first_name is None and inbound.text == "hoi"


def test_a_tapped_reply_button_is_a_choice() -> None:
    inbound = only(hooks.button_reply(ANNA, "t3:pick:cooking", "Koken"))
    assert inbound.choice == "t3:pick:cooking"
    assert inbound.text is None and inbound.media is None


def test_a_list_row_is_a_choice_and_more_choices_is_recognised() -> None:
    assert only(hooks.list_reply(ANNA, "t3:pick:music", "Muziek")).choice == "t3:pick:music"
    more = only(hooks.list_reply(ANNA, "more:2", "Meer keuzes", "Nog 7 keuzes"))
    assert more_page(more.choice) == 2


def test_a_template_quick_reply_reads_as_its_text() -> None:
    inbound = only(hooks.message(ANNA, "button", {"payload": "show", "text": "Laat zien"}))
    assert inbound.text == "Laat zien" and inbound.choice is None


def test_a_shared_location() -> None:
    inbound = only(hooks.location(ANNA, 52.3567, 6.6625))
    assert inbound.location == Location(52.3567, 6.6625)


def test_a_broken_location_is_other_media() -> None:
    inbound = only(hooks.message(ANNA, "location", {"latitude": "noord"}))
    assert inbound.location is None and inbound.media is MediaKind.OTHER


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (hooks.media(ANNA, "image"), MediaKind.PHOTO),
        (hooks.media(ANNA, "audio", voice=True), MediaKind.VOICE),
        (hooks.media(ANNA, "audio", voice=False), MediaKind.AUDIO),
        (hooks.media(ANNA, "video"), MediaKind.VIDEO),
        (hooks.media(ANNA, "sticker"), MediaKind.STICKER),
        (hooks.media(ANNA, "document"), MediaKind.DOCUMENT),
        (hooks.contacts(ANNA), MediaKind.CONTACT),
        (hooks.reaction(ANNA), MediaKind.OTHER),
        (hooks.unsupported(ANNA), MediaKind.OTHER),
        (hooks.message(ANNA, "order", {"catalog_id": "1", "product_items": []}), MediaKind.OTHER),
        (hooks.message(ANNA, "interactive", {"type": "nfm_reply"}), MediaKind.OTHER),
    ],
)
def test_what_the_bot_cannot_read_is_media(body: dict[str, Any], kind: MediaKind) -> None:
    inbound = only(body)
    assert inbound.media is kind
    assert inbound.text is None and inbound.choice is None
    assert inbound.external_id == ANNA and inbound.update_id


def test_each_message_keeps_its_own_id_and_sender() -> None:
    first, second = hooks.text(ANNA, "een"), hooks.text("31687654321", "twee", name="Kees Jansen")
    webhook = parse_webhook(raw(hooks.combine(first, second)))
    senders = [
        (m.inbound.external_id, m.inbound.first_name, m.inbound.text) for m in webhook.messages
    ]
    assert senders == [(ANNA, "Anna", "een"), ("31687654321", "Kees", "twee")]
    ids = [m.inbound.update_id for m in webhook.messages]
    assert len(set(ids)) == 2 and all(i and i.startswith("wamid.") for i in ids)


def test_a_message_without_sender_is_skipped() -> None:
    body = hooks.text(ANNA, "hallo")
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    assert parse_webhook(raw(body)).messages == ()


# -- statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["sent", "delivered", "read"])
def test_status_events(state: str) -> None:
    webhook = parse_webhook(raw(hooks.status("wamid.OUT1", ANNA, state)))
    assert webhook.messages == ()
    [event] = webhook.statuses
    assert (event.message_id, event.recipient_id, event.status) == ("wamid.OUT1", ANNA, state)
    assert event.at == WHEN and event.error_code is None


def test_a_failed_status_carries_its_error_code() -> None:
    body = hooks.status(
        "wamid.OUT2", ANNA, "failed", error_code=131047, error_title="Re-engagement message"
    )
    [event] = parse_webhook(raw(body)).statuses
    assert event.status == "failed"
    assert (event.error_code, event.error_title) == (131047, "Re-engagement message")
    assert classify(event.error_code) is WindowClosed
    undeliverable = hooks.status("wamid.OUT3", ANNA, "failed", error_code=131026)
    [event] = parse_webhook(raw(undeliverable)).statuses
    assert classify(event.error_code) is PermanentError


def test_messages_and_statuses_in_one_call() -> None:
    body = hooks.combine(hooks.status("wamid.OUT4", ANNA, "read"), hooks.text(ANNA, "dank je"))
    webhook = parse_webhook(raw(body))
    assert [s.status for s in webhook.statuses] == ["read"]
    assert [m.inbound.text for m in webhook.messages] == ["dank je"]


def test_unknown_statuses_and_other_fields_are_ignored() -> None:
    odd = hooks.status("wamid.OUT5", ANNA, "deleted")
    assert parse_webhook(raw(odd)).statuses == ()
    other = hooks.text(ANNA, "hallo")
    other["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    assert parse_webhook(raw(other)) == parse_webhook(raw(hooks.combine()))


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"object": "page", "entry": []}',
        b'{"object": "whatsapp_business_account"}',
    ],
)
def test_a_body_that_is_no_whatsapp_webhook_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedWebhook):
        parse_webhook(body)
