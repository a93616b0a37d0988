"""A person takes over: tickets open from the conversation, a moderator holds it, replies
reach the resident through the outbox, and closing hands the conversation back."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import App
from handlers import moderation
from storage.records import Moderator, Scope, Ticket
from storage.store import Store
from storage.verbs import utcnow
from tests.harness import Resident, joined, seed_places, state_of

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def _outbox(app: App, resident: Resident) -> list[str]:
    async with app.database.unit_of_work() as store:
        claimed = await store.claim_outbox(
            resident.channel, now=utcnow(), external_id=resident.external_id
        )
    return [message.text for message, _ in claimed]


async def _moderator(app: App, *, postcode: str = "7607") -> Moderator:
    async with app.database.unit_of_work() as store:
        org = await store.create_organisation("buurtteam-almelo", "Buurtteam Almelo")
        await store.add_organisation_area(org.id, postcode)
        return await store.create_moderator(
            email="fatima@example.org",
            name="Fatima",
            organisation_id=org.id,
            role="moderator",
            password_hash="x",
            now=NOW,
        )


async def _only_ticket(app: App, moderator: Moderator) -> Ticket:
    async with app.database.unit_of_work() as store:
        tickets = await store.list_tickets(moderator.scope)
    assert len(tickets) == 1, tickets
    return tickets[0]


async def _lives_in(app: App, resident: Resident, postcode: str) -> None:
    state = await state_of(app.database, resident)
    assert state is not None
    async with app.database.unit_of_work() as store:
        name = resident.first_name
        await store.update_person(state.person_id, {"postcode": postcode, "first_name": name})


async def test_a_moderator_takes_over_replies_and_hands_back(app: App) -> None:
    await seed_places(app)
    anna, _ = await joined(app, "anna", "Anna")
    question = anna.text
    await _lives_in(app, anna, "7607")
    fatima = await _moderator(app)

    await anna.send("ik wil iemand spreken")
    assert "mens" in anna.text
    ticket = await _only_ticket(app, fatima)
    assert (ticket.reason, ticket.status, ticket.first_name) == ("asked_for_human", "open", "Anna")
    before = await state_of(app.database, anna)

    async with app.database.unit_of_work() as store:
        assert await moderation.assign(store, app.texts, fatima, ticket, now=NOW)
        ticket = await _only_ticket_in(store, fatima)
        assert ticket.status == "assigned" and ticket.assignee_name == "Fatima"
        assert await moderation.reply(
            store, app.texts, fatima, ticket, "Hoi Anna, hoe gaat het?", now=NOW
        )
    sent = await _outbox(app, anna)
    assert "Fatima (Buurtteam Almelo) helpt je nu" in sent[0]
    assert sent[1] == "Fatima (Buurtteam Almelo): Hoi Anna, hoe gaat het?"

    await anna.send("Het gaat wel, ik zoek hulp met mijn tuin")
    assert "doorgegeven aan Fatima" in anna.text
    async with app.database.unit_of_work() as store:
        lines = await store.list_ticket_messages(fatima.scope, ticket.id)
    assert [line.body for line in lines if line.kind == "resident"] == [
        "ik wil iemand spreken",
        "Het gaat wel, ik zoek hulp met mijn tuin",
    ]
    after = await state_of(app.database, anna)
    assert after is not None and before is not None
    assert (after.step, after.turn) == (before.step, before.turn)  # the bot stayed quiet

    async with app.database.unit_of_work() as store:
        assert await moderation.close(store, app.texts, fatima, ticket, now=NOW)
    assert "weer met mij" in (await _outbox(app, anna))[0]
    await anna.send("hallo")
    assert "doorgegeven" not in anna.text
    assert question.splitlines()[-1] in anna.text  # the bot asks its question again


async def _only_ticket_in(store: Store, moderator: Moderator) -> Ticket:
    tickets = await store.list_tickets(moderator.scope)
    assert len(tickets) == 1
    return tickets[0]


async def test_distress_gets_the_numbers_at_once_and_the_highest_priority(app: App) -> None:
    await seed_places(app)
    anna, _ = await joined(app, "anna", "Anna")
    bert, _ = await joined(app, "bert", "Bert")
    for resident in (anna, bert):
        await _lives_in(app, resident, "7607")
    fatima = await _moderator(app)

    await bert.send("help van een mens")
    await anna.send("Ik wil niet meer leven")
    for number in ("113", "0800-0113", "112"):
        assert number in anna.text
    async with app.database.unit_of_work() as store:
        tickets = await store.list_tickets(fatima.scope)
    assert [(t.first_name, t.reason) for t in tickets] == [
        ("Anna", "distress"),
        ("Bert", "asked_for_human"),
    ]
    assert tickets[0].priority > tickets[1].priority


async def test_distress_in_english_gets_english_numbers(app: App) -> None:
    await seed_places(app)
    john = Resident(app.conversations, external_id="john", first_name="John", language_code="en")
    await john.send("hello")
    await john.tap("yes")
    await john.send("I want to kill myself")
    assert "113 Suicide Prevention" in john.text and "112" in john.text


async def test_the_plants_being_dead_opens_no_ticket(app: App) -> None:
    await seed_places(app)
    anna, _ = await joined(app, "anna", "Anna")
    await anna.send("de plantjes zijn dood")
    async with app.database.unit_of_work() as store:
        assert await store.list_tickets(Scope(None)) == []


async def test_three_misunderstood_answers_in_a_row_open_a_ticket(app: App) -> None:
    await seed_places(app)
    anna, person = await joined(app, "anna", "Anna")
    await anna.send("vergeet mij")
    for _ in range(2):
        await anna.send("blauwe giraf")
        assert "mens" not in anna.text
    async with app.database.unit_of_work() as store:
        assert await store.get_active_ticket(person.id) is None
    await anna.send("blauwe giraf")
    assert "mens" in anna.text
    async with app.database.unit_of_work() as store:
        ticket = await store.get_active_ticket(person.id)
    assert ticket is not None and ticket.reason == "not_understood"


async def test_an_understood_answer_starts_the_count_again(app: App) -> None:
    await seed_places(app)
    anna, person = await joined(app, "anna", "Anna")
    await anna.send("vergeet mij")
    await anna.send("blauwe giraf")
    await anna.send("blauwe giraf")
    await anna.send("nee")  # understood: she keeps her data
    await anna.send("vergeet mij")
    await anna.send("blauwe giraf")
    async with app.database.unit_of_work() as store:
        assert await store.get_active_ticket(person.id) is None


async def test_forget_me_still_works_while_a_moderator_holds_the_conversation(app: App) -> None:
    await seed_places(app)
    anna, person = await joined(app, "anna", "Anna")
    await _lives_in(app, anna, "7607")
    fatima = await _moderator(app)
    await anna.send("ik wil iemand spreken")
    async with app.database.unit_of_work() as store:
        ticket = await _only_ticket_in(store, fatima)
        assert await moderation.assign(store, app.texts, fatima, ticket, now=NOW)
    await anna.send("vergeet mij")
    await anna.tap("ja")
    async with app.database.unit_of_work() as store:
        assert await store.get_person(person.id) is None
        assert await store.list_tickets(fatima.scope) == []
