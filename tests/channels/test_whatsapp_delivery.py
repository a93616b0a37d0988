"""Sending on WhatsApp through the outbox deliverer, against the strict fake Graph API.

The WhatsApp channel and a deliverer are built as `bot.runner.open_whatsapp` builds them,
and each round of delivery runs explicitly (`deliver_pending`), against a clock the test
moves on: the 24-hour rule (a template, and the message held until the person writes),
WhatsApp's own 131047, passing and permanent errors, 429, and status webhooks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.inbound import CHANNEL
from bot.deliverer import Deliverer
from bot.runner import open_whatsapp
from bot.settings import Settings
from storage.models import IdentityRow, OutboxRow
from storage.outbox import HELD
from tests.channels import whatsapp_webhooks as hook
from tests.channels.fake_whatsapp import FakeWhatsApp
from tests.channels.whatsapp_harness import graph_api, with_whatsapp
from tests.harness import FakeClock, Resident

WA_ID = "31611112222"


@pytest.fixture
async def wa(clock: FakeClock) -> AsyncIterator[FakeWhatsApp]:
    async with graph_api(now=clock) as server:
        yield server


@dataclass(frozen=True)
class Wired:
    app: App
    channel: WhatsAppChannel
    deliverer: Deliverer


@pytest.fixture
async def wired(
    app: App, settings: Settings, wa: FakeWhatsApp, clock: FakeClock
) -> AsyncIterator[Wired]:
    """`app` with WhatsApp configured for the fake, on the test's clock."""
    configured = with_whatsapp(settings, wa, verify_token="verify")
    moved = replace(app, settings=configured, clock=clock)
    async with open_whatsapp(moved) as (channel, deliverer):
        yield Wired(moved, channel, deliverer)


async def joined(app: App) -> None:
    """Anna said hello and yes on WhatsApp (straight to the conversations: no inbox row,
    so as far as the 24-hour rule knows, she never wrote)."""
    anna = Resident(app.conversations, external_id=WA_ID, channel=CHANNEL)
    await anna.send("hallo")
    await anna.tap("ja, ik doe mee")
    await anna.tap("Anna")


async def queue(app: App, text: str, options: tuple[tuple[str, str], ...] = ()) -> int:
    async with app.database.unit_of_work() as store:
        return await store.queue_reply(CHANNEL, WA_ID, text, options)


async def outbox_row(app: App, message_id: int) -> Any:
    async with app.database.engine.connect() as connection:
        statement = select(OutboxRow).where(OutboxRow.id == message_id)
        return (await connection.execute(statement)).one()


async def writes(wired: Wired, wa: FakeWhatsApp, text: str) -> None:
    """Anna writes: a webhook body through the channel, handled by the inbox."""
    wa.person(WA_ID, last_inbound=wa.now())
    await wired.channel.receive(json.dumps(hook.text(WA_ID, text)).encode())
    await wired.app.inbox.handle_pending()


async def test_outside_the_window_a_template_goes_and_the_message_waits(
    wired: Wired, wa: FakeWhatsApp
) -> None:
    app, deliverer = wired.app, wired.deliverer
    await joined(app)
    wa.person(WA_ID, last_inbound=None)
    message_id = await queue(app, "Hoe gaat het?", (("a", "Goed"), ("b", "Niet zo")))
    await deliverer.deliver_pending()
    [template] = wa.sent_to(WA_ID)
    assert template.payload["template"]["name"] == "meedoen_message_waiting"
    parameters = template.payload["template"]["components"][0]["parameters"]
    assert parameters == [{"type": "text", "text": "Anna"}]
    held = await outbox_row(app, message_id)
    assert (held.sent_at, held.failed_at, held.last_error) == (None, None, HELD)
    assert await deliverer.deliver_pending() == 0  # held: no second template
    assert wa.refused == []

    # Anna writes: the waiting message goes first, free-form, with its buttons.
    await writes(wired, wa, "hoi")
    await deliverer.deliver_pending()
    sent = wa.sent_to(WA_ID)
    assert sent[1].kind == "interactive.button"
    assert sent[1].payload["interactive"]["body"]["text"] == "Hoe gaat het?"
    assert (await outbox_row(app, message_id)).sent_at is not None
    assert all(s.kind != "template" for s in sent[1:])


async def test_whatsapps_own_131047_falls_back_to_the_template(
    wired: Wired, wa: FakeWhatsApp, clock: FakeClock
) -> None:
    app, deliverer = wired.app, wired.deliverer
    await joined(app)
    await writes(wired, wa, "hoi")  # we think the window is open ...
    await deliverer.deliver_pending()
    before = len(wa.sent_to(WA_ID))
    wa.person(WA_ID, last_inbound=clock() - timedelta(days=2))  # ... WhatsApp knows better
    message_id = await queue(app, "Nog een vraag.")
    await deliverer.deliver_pending()
    [(_payload, error)] = wa.refused
    assert error.code == 131047
    [template] = wa.sent_to(WA_ID)[before:]
    assert template.kind == "template"
    assert (await outbox_row(app, message_id)).last_error == HELD


async def test_passing_errors_are_tried_again_and_permanent_ones_give_up(
    wired: Wired, wa: FakeWhatsApp, clock: FakeClock
) -> None:
    app, deliverer = wired.app, wired.deliverer
    await joined(app)
    await writes(wired, wa, "hoi")
    await deliverer.deliver_pending()
    wa.fail_next(131000, http_status=500)
    first = await queue(app, "Eerste bericht.")
    await deliverer.deliver_pending()
    waiting = await outbox_row(app, first)
    assert (waiting.sent_at, waiting.failed_at, waiting.attempts) == (None, None, 1)
    clock.advance(timedelta(minutes=10))
    await deliverer.deliver_pending()
    assert (await outbox_row(app, first)).sent_at is not None
    assert wa.sent[-1].payload["text"]["body"] == "Eerste bericht."

    wa.fail_next(130429, http_status=429, retry_after=0)
    second = await queue(app, "Tweede bericht.")
    await deliverer.deliver_pending()
    limited = await outbox_row(app, second)
    assert (limited.sent_at, limited.failed_at, limited.attempts) == (None, None, 0)
    clock.advance(timedelta(minutes=1))
    await deliverer.deliver_pending()
    assert (await outbox_row(app, second)).sent_at is not None

    wa.fail_next(131026, title="Message undeliverable")
    third = await queue(app, "Derde bericht.")
    await deliverer.deliver_pending()
    assert (await outbox_row(app, third)).failed_at is not None


async def reachable(app: App) -> bool:
    async with app.database.engine.connect() as connection:
        value = await connection.scalar(
            select(IdentityRow.reachable).where(
                IdentityRow.channel == CHANNEL, IdentityRow.external_id == WA_ID
            )
        )
    return bool(value)


async def test_status_webhooks(wired: Wired, wa: FakeWhatsApp) -> None:
    app, channel = wired.app, wired.channel
    await joined(app)
    for state in ("sent", "delivered", "read"):
        await channel.receive(json.dumps(hook.status("wamid.X", WA_ID, state)).encode())
    assert await reachable(app)
    failed = hook.status("wamid.X", WA_ID, "failed", error_code=131026, error_title="gone")
    await channel.receive(json.dumps(failed).encode())
    assert not await reachable(app)
    await writes(wired, wa, "hoi")  # writing again makes the number reachable again
    assert await reachable(app)


def test_the_whatsapp_secrets_are_redacted(settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "whatsapp_access_token": "EAAG-token",
            "whatsapp_app_secret": "app-secret",
            "whatsapp_verify_token": "verify-word",
        }
    )
    assert {"EAAG-token", "app-secret", "verify-word"} <= set(configured.secrets())


async def test_the_channels_own_words_are_in_the_persons_language(
    wired: Wired, wa: FakeWhatsApp
) -> None:
    app, deliverer = wired.app, wired.deliverer
    await joined(app)
    await writes(wired, wa, "hoi")
    options = tuple((f"o{n}", f"Keuze {n}") for n in range(12))
    await queue(app, "Kies maar.", options)
    await deliverer.deliver_pending()
    dutch = wa.sent_to(WA_ID)[-1].payload["interactive"]
    assert dutch["action"]["button"] == app.texts("nl", "whatsapp.list_button")
    async with app.database.unit_of_work() as store:
        anna = await store.find_person_by_identity(CHANNEL, WA_ID)
        assert anna is not None
        await store.update_person(anna.id, {"language": "en"})
    await queue(app, "Choose.", options)
    await deliverer.deliver_pending()
    english = wa.sent_to(WA_ID)[-1].payload["interactive"]
    assert english["action"]["button"] == app.texts("en", "whatsapp.list_button")
    assert english["action"]["button"] != dutch["action"]["button"]
    rows = [row["title"] for s in english["action"]["sections"] for row in s["rows"]]
    assert app.texts("en", "whatsapp.more_choices") in rows
    assert app.texts("nl", "whatsapp.more_choices") not in rows
