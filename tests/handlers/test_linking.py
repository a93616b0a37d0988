"""One person on WhatsApp and Telegram, only when they say so: a one-time code, typed in
the other chat and confirmed there, adds that chat to the same person."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import App, open_app
from bot.settings import Settings
from storage.db import Database
from storage.models import LinkCodeRow, MessageLogRow, OutboxRow
from tests.handlers.test_introductions import T0, TEXTS, Clock, nl
from tests.harness import Resident, known, person_of, row_counts, seed_places

PHONE = "31612345678"


@pytest.fixture
async def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
async def linked_app(
    settings: Settings, database: Database, clock: Clock
) -> AsyncIterator[App]:
    async with open_app(settings, clock=clock, apply_migrations=False) as app:
        await seed_places(app)
        yield app


async def anna_on_telegram(app: App) -> tuple[Resident, int]:
    person_id = await known(app, "anna-tg", channel="telegram", profile={"first_name": "Anna"})
    return Resident(app.conversations, external_id="anna-tg", channel="telegram"), person_id


def whatsapp(app: App, external_id: str = PHONE) -> Resident:
    return Resident(app.conversations, external_id=external_id, channel="whatsapp")


async def code_of(resident: Resident) -> str:
    await resident.send("koppel")
    found = re.search(r"\b(\d{3}) (\d{3})\b", resident.text)
    assert found, resident.text
    assert "binnen 10 minuten" in resident.text
    return found.group(1) + found.group(2)


async def links_to(app: App, phone: Resident, code: str, person_id: int) -> None:
    """Typing Anna's code in the phone's chat, and saying yes, links it to her."""
    await phone.send(code)
    assert phone.text == nl("link.confirm", name="Anna")
    await phone.tap("Ja, dat ben ik")
    linked = await person_of(app.database, phone)
    assert linked is not None and linked.id == person_id


async def test_a_code_typed_and_confirmed_links_whatsapp_to_the_same_person(
    linked_app: App,
) -> None:
    anna, person_id = await anna_on_telegram(linked_app)
    code = await code_of(anna)
    phone = whatsapp(linked_app)
    before = await row_counts(linked_app.database)

    await phone.send(code)
    assert phone.text == nl("link.confirm", name="Anna")
    assert await person_of(linked_app.database, phone) is None  # nothing before yes
    after = await row_counts(linked_app.database)
    assert after["identities"] == before["identities"] and after["people"] == before["people"]

    await phone.tap("Ja, dat ben ik")
    assert nl("link.welcome", name_sep=", Anna") in phone.text
    assert nl("menu.question") in phone.text  # on where she was: the menu
    linked = await person_of(linked_app.database, phone)
    assert linked is not None and linked.id == person_id

    async with linked_app.database.unit_of_work() as store:
        channels = [i.channel for i in await store.list_linked_identities(person_id)]
        export = await store.export_person(person_id)
    assert channels == ["telegram", "whatsapp"]
    assert export is not None and {i.channel for i in export.identities} == set(channels)
    async with linked_app.database.engine.connect() as connection:
        logged = [body for (body,) in await connection.execute(select(MessageLogRow.body))]
        hashes = [h for (h,) in await connection.execute(select(LinkCodeRow.code_hash))]
    assert logged and not any(code in body or code[:3] + " " in body for body in logged)
    assert code not in hashes

    # "mijn gegevens" names both chats; the code was used once only
    await phone.send("mijn gegevens")
    assert "Telegram" in phone.text and "WhatsApp" in phone.text
    other = whatsapp(linked_app, "31699999999")
    await other.send(code)
    assert nl("link.wrong") in other.text


async def test_no_stores_nothing(linked_app: App) -> None:
    anna, _ = await anna_on_telegram(linked_app)
    code = await code_of(anna)
    phone = whatsapp(linked_app)
    before = await row_counts(linked_app.database)
    await phone.send(code)
    await phone.tap("Nee")
    assert phone.text == nl("link.declined")
    after = await row_counts(linked_app.database)
    before.pop("processed_updates", None)
    after.pop("processed_updates", None)
    assert after == before
    assert await person_of(linked_app.database, phone) is None


async def test_a_wrong_code_is_refused_kindly(linked_app: App) -> None:
    await anna_on_telegram(linked_app)
    phone = whatsapp(linked_app)
    await phone.send("123 456")
    assert nl("link.wrong") in phone.text
    assert phone.find("ja, ik doe mee")  # and the consent question stays open
    assert await person_of(linked_app.database, phone) is None


async def test_an_expired_code_no_longer_works(linked_app: App, clock: Clock) -> None:
    anna, _ = await anna_on_telegram(linked_app)
    code = await code_of(anna)
    clock.now += timedelta(minutes=11)
    phone = whatsapp(linked_app)
    await phone.send(code)
    assert nl("link.wrong") in phone.text

    # typed in time, but yes tapped too late
    clock.now += timedelta(minutes=1)
    code = await code_of(anna)
    await phone.send(code)
    clock.now += timedelta(minutes=10, seconds=1)
    await phone.tap("Ja, dat ben ik")
    assert nl("link.expired") in phone.text
    assert await person_of(linked_app.database, phone) is None


async def test_five_wrong_codes_in_an_hour_stop_the_guessing(
    linked_app: App, clock: Clock
) -> None:
    anna, person_id = await anna_on_telegram(linked_app)
    phone = whatsapp(linked_app)
    code = await code_of(anna)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        await phone.send(wrong)
        assert nl("link.wrong") in phone.text
    await phone.send(code)  # even the right one, now
    assert phone.text == nl("link.too_many")
    clock.now += timedelta(minutes=61)
    code = await code_of(anna)
    await links_to(linked_app, phone, code, person_id)


async def test_a_chat_with_a_profile_of_its_own_is_not_merged(linked_app: App) -> None:
    anna, anna_id = await anna_on_telegram(linked_app)
    bert_id = await known(linked_app, PHONE, channel="whatsapp", profile={"first_name": "Bert"})
    code = await code_of(anna)
    phone = whatsapp(linked_app)
    await phone.send(code)
    assert nl("link.has_profile") in phone.text
    assert "vergeet mij" in phone.text
    still = await person_of(linked_app.database, phone)
    assert still is not None and still.id == bert_id != anna_id
    await anna.send(code)  # her own code, in her own chat
    assert nl("link.own_code") in anna.text


async def linked_pair(app: App) -> tuple[Resident, Resident, int]:
    anna, person_id = await anna_on_telegram(app)
    code = await code_of(anna)
    phone = whatsapp(app)
    await phone.send(code)
    await phone.tap("Ja, dat ben ik")
    return anna, phone, person_id


async def test_another_chat_can_be_unlinked_but_not_the_last(linked_app: App) -> None:
    anna, phone, person_id = await linked_pair(linked_app)
    await anna.send("mijn gegevens")
    labels = [o.label for o in anna.options]
    assert nl("button.unlink", channel="WhatsApp") in labels
    assert nl("button.unlink", channel="Telegram") not in labels  # not the chat she is in
    await anna.tap("Haal WhatsApp weg")
    assert nl("link.unlinked", channel="WhatsApp") in anna.text
    assert await person_of(linked_app.database, phone) is None
    await anna.send("mijn gegevens")
    assert not any(o.label.startswith("Haal ") for o in anna.options)

    async with linked_app.database.unit_of_work() as store:
        (only,) = await store.list_linked_identities(person_id)
        assert not await store.unlink_identity(person_id, only.id)  # that is "vergeet mij"
    await anna.press(f"l:off:{only.id}")
    assert nl("button.not_for_you") in anna.text
    assert await person_of(linked_app.database, anna) is not None


async def test_forget_me_removes_both_chats_and_the_codes(linked_app: App) -> None:
    anna, phone, _ = await linked_pair(linked_app)
    await anna.send("koppel")  # a code still waiting
    await phone.send("vergeet mij")
    await phone.tap("Ja, wis alles")
    counts = await row_counts(linked_app.database)
    assert counts["identities"] == 0 and counts["link_codes"] == 0 and counts["people"] == 0
    assert await person_of(linked_app.database, anna) is None


async def test_messages_go_to_the_reachable_chat_she_last_wrote_from(
    linked_app: App, clock: Clock
) -> None:
    anna, phone, person_id = await linked_pair(linked_app)

    async def addressed() -> tuple[str | None, str | None]:
        async with linked_app.database.unit_of_work() as store:
            message_id = await store.queue_message(person_id, "Hallo")
        async with linked_app.database.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(OutboxRow.channel, OutboxRow.external_id).where(
                        OutboxRow.id == message_id
                    )
                )
            ).one()
        return row[0], row[1]

    clock.now += timedelta(minutes=1)
    await phone.send("hallo")
    assert await addressed() == ("whatsapp", PHONE)
    clock.now += timedelta(minutes=1)
    await anna.send("hallo")
    assert await addressed() == ("telegram", "anna-tg")
    clock.now += timedelta(minutes=1)
    await phone.send("hallo")
    assert await addressed() == ("whatsapp", PHONE)
    async with linked_app.database.unit_of_work() as store:
        await store.mark_account_unreachable("whatsapp", PHONE)
    assert await addressed() == ("telegram", "anna-tg")  # WhatsApp blocked: Telegram
    person = await person_of(linked_app.database, anna)
    assert person is not None and person.reachable  # reachability is per chat


# -- asking to link in a chat that is still new ------------------------------------------


@pytest.mark.parametrize("word", ["koppel", "Koppelen", "link", "kopel", "koppelne"])
async def test_asking_to_link_in_a_new_chat_explains_how_and_the_code_still_works(
    linked_app: App, word: str
) -> None:
    phone = whatsapp(linked_app)
    before = await row_counts(linked_app.database)
    await phone.send(word)
    assert nl("link.before_consent") in phone.text  # how it works from this side
    assert "‘koppel’" in phone.text and "code" in phone.text
    assert phone.last[-1].text == nl("welcome.consent")  # then the question, as usual
    assert phone.find("ja, ik doe mee")
    assert await person_of(linked_app.database, phone) is None  # nothing stored
    after = await row_counts(linked_app.database)
    assert after["people"] == before["people"] and after["identities"] == before["identities"]

    # as explained: a code from the chat she already uses, typed here
    anna, person_id = await anna_on_telegram(linked_app)
    code = await code_of(anna)
    await links_to(linked_app, phone, code, person_id)


async def test_the_explanation_comes_in_english_too(linked_app: App) -> None:
    phone = Resident(
        linked_app.conversations, external_id=PHONE, channel="whatsapp", language_code="en"
    )
    await phone.send("link")
    assert TEXTS("en", "link.before_consent") in phone.text
    assert "‘link’" in phone.text
    assert phone.last[-1].text == TEXTS("en", "welcome.consent")
    assert nl("link.before_consent") not in phone.text


async def test_other_words_in_a_new_chat_get_no_linking_hint(linked_app: App) -> None:
    phone = whatsapp(linked_app)
    for text in ("hallo", "koffie", "kop"):
        await phone.send(text)
        assert nl("link.before_consent") not in phone.text, text


async def test_koppel_in_a_chat_with_a_profile_still_gives_a_code(linked_app: App) -> None:
    anna, _ = await anna_on_telegram(linked_app)
    await anna.send("koppel")
    assert nl("link.before_consent") not in anna.text
    assert re.search(r"\b\d{3} \d{3}\b", anna.text)
