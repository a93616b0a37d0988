"""MODERATOR_CHAT_ID: when a ticket of the highest priority opens, the moderators' Telegram
group gets a link to it through the outbox, never the resident's words.

The real Telegram channel long-polls `FakeTelegram`; the group is a chat the bot may write
to (the fake knows chats by id; a group's id is negative, as on Telegram)."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.settings import Settings
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.test_telegram_intake import Chat, person_of, run_polling, start_with_buttons, t
from tests.harness import seed_places

GROUP = -1001234567890
DASHBOARD = "https://meedoen.example.org/dashboard"
WORDS = "Mijn man slaat me als hij drinkt"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"moderator_chat_id": str(GROUP), "dashboard_url": DASHBOARD + "/"}
    )


def to_group(tg: FakeTelegram) -> list[str]:
    return [r.text or "" for r in tg.sent if r.chat_id == GROUP and r.method == "sendMessage"]


async def test_the_moderators_group_gets_a_link_to_an_urgent_ticket_without_words(
    app: App, tg: FakeTelegram
) -> None:
    await seed_places(app)
    group = tg.user(GROUP, first_name="Moderatoren", started=True)
    async with run_polling(app, tg):
        anna = Chat(tg, tg.user(5201, first_name="Anna"))
        await start_with_buttons(app, anna)
        [asked] = await anna.say("ik wil iemand spreken", 1)  # not urgent: no alert
        assert asked.text == t(app, "moderation.asked")
        await tg.wait_until_idle()
        assert to_group(tg) == []

        await anna.say(WORDS, 1)  # distress: the same ticket, now most urgent
        [alert] = await group.wait_for_messages(1, timeout=10.0)

    person = await person_of(app, anna.user)
    assert person is not None
    async with app.database.unit_of_work() as store:
        ticket = await store.get_active_ticket(person.id)
    assert ticket is not None and ticket.reason == "distress"
    link = f"{DASHBOARD}/tickets/{ticket.id}"
    assert alert.text == t(app, "dash.alert.urgent", link=link)
    assert to_group(tg) == [alert.text]  # once
    for word in ("slaat", "drinkt", "Anna", "spreken", "Almelo"):
        assert word not in (alert.text or ""), word
