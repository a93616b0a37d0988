"""'Via WhatsApp' as a contact route: the number a resident writes from, one tap away, and
shown to the other side — who may be on another channel — only once both said yes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.app import App
from storage.models import OutboxRow
from tests.handlers.test_introductions import nl
from tests.harness import Resident, known, seed_places

NUMBER = "31612345678"


async def _someone(app: App, channel: str, external_id: str, name: str, **profile: object) -> int:
    return await known(app, external_id, channel=channel, profile={"first_name": name, **profile})


async def _queued(app: App) -> list[tuple[int | None, str]]:
    async with app.database.engine.connect() as connection:
        rows = await connection.execute(select(OutboxRow.person_id, OutboxRow.text))
        return [(person_id, text) for person_id, text in rows]


async def test_a_whatsapp_resident_and_a_telegram_organiser(app: App) -> None:
    await seed_places(app)
    anna_id = await _someone(
        app, "whatsapp", NUMBER, "Anna", postcode="7607", area_name="Almelo",
        latitude=52.3549, longitude=6.6676, gifts=("cooking",), wishes=("eat_together",),
        intake_done_at=datetime.now(UTC),
    )  # fmt: skip
    henk_id = await _someone(app, "telegram", "5001", "Henk", role="organiser")
    async with app.database.unit_of_work() as store:
        soup = await store.create_initiative(
            organisation_id=None, organiser_ids=[henk_id], title="Soepcafé", description="",
            offers=("eat_together",), needs=("cooking",), postcode="7607", place_name="Almelo",
            latitude=52.3556, longitude=6.6684, times=("any",), free=True, capacity=5,
            status="approved", now=datetime.now(UTC),
        )  # fmt: skip
    anna = Resident(app.conversations, external_id=NUMBER, first_name="Anna", channel="whatsapp")
    henk = Resident(app.conversations, external_id="5001", first_name="Henk", channel="telegram")

    await anna.press(f"s:i:{soup.id}:intro")
    assert anna.last[0].text == nl("intro.route_question")
    assert "+31612345678" in anna.find("WhatsApp").label  # one tap, her own number
    await anna.tap("WhatsApp")
    request = [text for person, text in await _queued(app) if person == henk_id]
    assert request and not any(NUMBER in text for text in request)  # not before a yes

    async with app.database.unit_of_work() as store:
        (intro,) = await store.list_open_requests_for(henk_id)
    assert (intro.requester_route, intro.requester_contact) == ("whatsapp", "+31612345678")
    await henk.press(f"x:{intro.id}:accept")
    await henk.tap("Via de bot")
    to_henk = [text for person, text in await _queued(app) if person == henk_id]
    assert nl("intro.contact_whatsapp", name="Anna", contact="+31612345678") in to_henk[-1]
    to_anna = [text for person, text in await _queued(app) if person == anna_id]
    assert not any(NUMBER in text for text in to_anna)  # her own number is not echoed back


async def test_the_whatsapp_route_is_only_offered_on_whatsapp(app: App) -> None:
    await seed_places(app)
    bea_id = await _someone(
        app, "telegram", "6001", "Bea", postcode="7607", area_name="Almelo",
        latitude=52.3549, longitude=6.6676, gifts=("cooking",), wishes=("eat_together",),
        intake_done_at=datetime.now(UTC),
    )  # fmt: skip
    async with app.database.unit_of_work() as store:
        soup = await store.create_initiative(
            organisation_id=None, organiser_ids=[], title="Soepcafé", description="",
            offers=("eat_together",), needs=("cooking",), postcode="7607", place_name="Almelo",
            latitude=52.3556, longitude=6.6684, times=("any",), free=True, capacity=5,
            status="approved", now=datetime.now(UTC),
        )  # fmt: skip
    bea = Resident(app.conversations, external_id="6001", first_name="Bea", channel="telegram")
    await bea.press(f"s:i:{soup.id}:intro")
    assert "WhatsApp" not in " ".join(o.label for o in bea.options)
    turn = bea.options[0].key.partition(":")[0]
    await bea.press(f"{turn}:route:whatsapp")  # forged: never offered on Telegram
    assert bea.last[0].text == nl("button.unknown")
    async with app.database.unit_of_work() as store:
        assert await store.find_introduction(bea_id, initiative_id=soup.id) is None
