"""WhatsApp's status webhooks update the outbox: the running bot, its web server and the
strict fake Graph API, which reports what became of each message it accepted in a signed
status webhook (`FakeWhatsApp.report`), as WhatsApp does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.whatsapp.templates import MESSAGE_WAITING
from bot.runner import Running
from bot.web import WHATSAPP_PATH
from storage.models import IdentityRow, OutboxRow, SentPartRow
from storage.outbox import HELD
from storage.records import Scope
from tests.channels import test_whatsapp_e2e as e2e
from tests.channels import whatsapp_webhooks as hook
from tests.channels.fake_whatsapp import FakeWhatsApp, Sent, status_body
from tests.channels.test_whatsapp_e2e import ANNA_WA, Phone, body_of, person_of, settle
from tests.harness import FakeClock

# The running bot and the fake Graph API, as the WhatsApp end-to-end tests build them (the
# clock and the fake Telegram: the conftest files).
wa, app, bot, anna = e2e.wa, e2e.app, e2e.bot, e2e.anna


@pytest.fixture
async def reporting(wa: FakeWhatsApp, bot: Running) -> AsyncIterator[FakeWhatsApp]:
    """The fake, told where the bot's webhook is, so it can report statuses."""
    wa.webhook_url = bot.web_url + WHATSAPP_PATH
    yield wa


async def row_of(app: App, sent: Sent) -> Any:
    """The outbox row of a message the fake accepted, found by its wamid."""
    async with app.database.engine.connect() as connection:
        statement = (
            select(OutboxRow)
            .join(SentPartRow, SentPartRow.outbox_id == OutboxRow.id)
            .where(SentPartRow.platform_id == sent.message_id)
        )
        return (await connection.execute(statement)).one()


async def whatsapp_reachable(app: App) -> bool:
    async with app.database.engine.connect() as connection:
        value = await connection.scalar(
            select(IdentityRow.reachable).where(
                IdentityRow.channel == "whatsapp", IdentityRow.external_id == ANNA_WA
            )
        )
    return bool(value)


async def joined(anna: Phone) -> None:
    await anna.say("hallo")
    await anna.tap("Ja, ik doe mee")
    await anna.tap("Anna")


async def test_delivered_and_read_are_noted_on_the_row(
    app: App, anna: Phone, reporting: FakeWhatsApp
) -> None:
    welcome = (await anna.say("hallo"))[-1]
    row = await row_of(app, welcome)
    assert row.sent_at is not None
    assert (row.delivered_at, row.read_at) == (None, None)
    assert await reporting.report(welcome.message_id, "sent") == (200, "ok")
    assert (await row_of(app, welcome)).delivered_at is None
    assert (await reporting.report(welcome.message_id, "delivered"))[0] == 200
    delivered = await row_of(app, welcome)
    assert delivered.delivered_at is not None and delivered.read_at is None
    assert (await reporting.report(welcome.message_id, "read"))[0] == 200
    read = await row_of(app, welcome)
    assert read.read_at is not None
    assert read.delivered_at == delivered.delivered_at  # the first report counts


async def test_every_part_of_a_long_message_is_kept_under_its_wamid(
    app: App, anna: Phone, reporting: FakeWhatsApp
) -> None:
    await joined(anna)
    async with app.database.unit_of_work() as store:
        long = "\n\n".join(f"Alinea {n}. " + "Dit is een zin. " * 60 for n in range(8))
        message_id = await store.queue_reply("whatsapp", ANNA_WA, long)
    before = len(anna.messages())
    await settle(app)
    parts = anna.messages()[before:]
    assert len(parts) >= 2
    async with app.database.engine.connect() as connection:
        kept = (
            await connection.execute(
                select(SentPartRow.platform_id, SentPartRow.part)
                .where(SentPartRow.outbox_id == message_id)
                .order_by(SentPartRow.part)
            )
        ).all()
    assert [tuple(k) for k in kept] == [(p.message_id, n) for n, p in enumerate(parts)]
    # a report about the second part reaches the same row
    assert (await reporting.report(parts[1].message_id, "read"))[0] == 200
    assert (await row_of(app, parts[1])).read_at is not None


async def test_a_late_131047_sends_the_template_and_the_message_again_later(
    app: App, anna: Phone, reporting: FakeWhatsApp, clock: FakeClock
) -> None:
    await joined(anna)
    last = anna.messages()[-1]
    # WhatsApp accepted it, then found the window closed after all.
    clock.advance(timedelta(minutes=1))
    reporting.person(ANNA_WA, last_inbound=clock() - timedelta(days=2))
    status, _ = await reporting.report(last.message_id, "failed", error_code=131047)
    assert status == 200
    await settle(app)
    template = anna.messages()[-1]
    assert template.kind == "template"
    assert template.payload["template"]["name"] == MESSAGE_WAITING.name
    row = await row_of(app, last)
    assert (row.sent_at, row.failed_at, row.last_error) == (None, None, HELD)
    assert reporting.refused == []  # no free-form message tried outside the window

    # Anna writes again: the message she missed goes first, then the answer to her.
    clock.advance(timedelta(hours=3))
    anna.seen = len(anna.messages())
    new = await anna.post(hook.text(ANNA_WA, "hoi"))
    assert body_of(new[0]) == body_of(last)
    assert (await row_of(app, new[0])).sent_at is not None


async def test_a_late_permanent_failure_shows_the_row_as_failed_and_stops_whatsapp_only(
    app: App, anna: Phone, reporting: FakeWhatsApp
) -> None:
    await joined(anna)
    last = anna.messages()[-1]
    status, _ = await reporting.report(
        last.message_id, "failed", error_code=131026, error_title="Message undeliverable"
    )
    assert status == 200
    row = await row_of(app, last)
    assert row.failed_at is not None
    assert row.last_error == "whatsapp 131026: Message undeliverable"
    person = await person_of(app, anna)
    assert person is not None
    async with app.database.unit_of_work() as store:
        failed = await store.list_failed_outbox()
        tickets = await store.list_tickets(Scope(None))
    assert [(m.id, error) for m, error in failed] == [(row.id, row.last_error)]
    assert [t.person_id for t in tickets] == [person.id]
    assert not await whatsapp_reachable(app)


async def test_a_failure_about_the_message_itself_keeps_the_number_reachable(
    app: App, anna: Phone, reporting: FakeWhatsApp
) -> None:
    await joined(anna)
    last = anna.messages()[-1]
    await reporting.report(last.message_id, "failed", error_code=131051, error_title="type")
    assert (await row_of(app, last)).failed_at is not None
    assert await whatsapp_reachable(app)


async def test_statuses_need_the_signature_and_unknown_ones_change_nothing(
    app: App, anna: Phone, reporting: FakeWhatsApp, bot: Running
) -> None:
    welcome = (await anna.say("hallo"))[-1]
    url = bot.web_url + WHATSAPP_PATH
    forged = json.loads(json.dumps(_status_like(reporting, welcome, "read")))
    assert (await reporting.post_webhook(url, forged, secret="not-the-secret"))[0] == 403
    assert (await row_of(app, welcome)).read_at is None
    unknown = _status_like(reporting, welcome, "failed")
    unknown["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = "wamid.NOT-OURS"
    assert (await reporting.post_webhook(url, unknown))[0] == 200
    row = await row_of(app, welcome)
    assert (row.failed_at, row.read_at) == (None, None)


def _status_like(wa: FakeWhatsApp, sent: Sent, state: str) -> dict[str, Any]:
    return status_body(
        sent.message_id,
        sent.to,
        state,
        phone_number_id=wa.phone_number_id,
        timestamp=int(wa.now().timestamp()),
        error_code=131026 if state == "failed" else None,
    )


async def test_erasure_forgets_the_wamids_and_a_late_report_finds_nothing(
    app: App, anna: Phone, reporting: FakeWhatsApp
) -> None:
    await joined(anna)
    last = anna.messages()[-1]
    person = await person_of(app, anna)
    assert person is not None
    async with app.database.unit_of_work() as store:
        await store.erase_person(person.id)
    async with app.database.engine.connect() as connection:
        kept = (
            await connection.execute(
                select(SentPartRow.platform_id, OutboxRow.id, OutboxRow.person_id).join(
                    OutboxRow, OutboxRow.id == SentPartRow.outbox_id, isouter=True
                )
            )
        ).all()
    # Only the answers from before her "yes" are left (they name nobody), no orphans.
    assert kept and all(row is not None and person is None for _, row, person in kept)
    assert last.message_id not in {platform_id for platform_id, _, _ in kept}
    assert (await reporting.report(last.message_id, "read"))[0] == 200
