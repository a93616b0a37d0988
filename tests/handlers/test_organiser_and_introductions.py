"""From an organiser's invite to a resident's introduction, through `Conversations`."""

from __future__ import annotations

from bot.app import App
from bot.demo import seed_demo
from handlers.messages import Option, Reply
from storage.verbs import utcnow
from tests.harness import Resident, person_of


async def _outbox(app: App, resident: Resident) -> list[Reply]:
    """Messages waiting for `resident` (what their channel would deliver next)."""
    async with app.database.unit_of_work() as store:
        claimed = await store.claim_outbox(
            resident.channel, now=utcnow(), external_id=resident.external_id
        )
    return [Reply(m.text, tuple(Option(k, label) for k, label in m.options)) for m, _ in claimed]


async def _invite(app: App) -> str:
    async with app.database.unit_of_work() as store:
        await seed_demo(store)
        org = await store.get_organisation("buurtteam-demo") or await store.create_organisation(
            "buurtteam-demo", "Buurtteam"
        )
        return await store.create_invite(org.id)


async def test_organiser_describes_an_initiative_that_waits_for_approval(app: App) -> None:
    code = await _invite(app)
    henk = Resident(app.conversations, external_id="henk-test", first_name="Henk")
    await henk.send(f"organisator {code}")
    assert "uitnodiging" in henk.text
    await henk.tap("ja, ik doe mee")
    assert "organisator" in henk.text.lower()
    await henk.tap("Nieuw initiatief")
    assert "Hoe heet je initiatief" in henk.text
    await henk.send("Soepcafé De Pan")
    await henk.send("Elke week samen soep koken en eten.")
    await henk.send("samen eten en koffie")
    await henk.send("koken")
    await henk.send("7607")
    await henk.tap("Middag")
    await henk.send("ja")
    await henk.tap("Ja")
    await henk.tap("Ongeveer 5")
    assert "Soepcafé De Pan" in henk.text and "Klopt dit?" in henk.text
    await henk.tap("dit klopt")
    assert "medewerker" in henk.text
    person = await person_of(app.database, henk)
    assert person is not None and person.role == "organiser"
    async with app.database.unit_of_work() as store:
        mine = await store.list_initiatives_of(person.id)
    assert [(i.title, i.status, i.postcode, i.free, i.capacity) for i in mine] == [
        ("Soepcafé De Pan", "pending", "7607", True, 5)
    ]
    assert set(mine[0].offers) >= {"eat_together"} and "cooking" in mine[0].needs


async def _resident_done(app: App, name: str, lines: list[str]) -> Resident:
    resident = Resident(app.conversations, external_id=f"{name.lower()}-test", first_name=name)
    await resident.send("hallo")
    await resident.tap("ja, ik doe mee")
    for line in lines:
        await resident.send(line)
    return resident


async def test_double_opt_in_from_suggestion_to_follow_up(app: App) -> None:
    code = await _invite(app)
    henk = Resident(app.conversations, external_id="henk-test", first_name="Henk")
    await henk.send(f"organisator {code}")
    await henk.tap("ja, ik doe mee")
    await henk.tap("Nieuw initiatief")
    for line in ("Soepcafé De Pan", "Samen soep koken.", "samen eten", "koken", "7607"):
        await henk.send(line)
    await henk.send("maakt niet uit")
    for line in ("ja", "ja", "5", "ja"):
        await henk.send(line)
    person = await person_of(app.database, henk)
    assert person is not None
    async with app.database.unit_of_work() as store:
        (soup,) = await store.list_initiatives_of(person.id)
        await store.set_initiative_status(soup.id, "approved", now=utcnow())

    anna = await _resident_done(
        app,
        "Anna",
        [
            "Anna",
            "7607",
            "ik kook graag",
            "samen eten",
            "maakt niet uit",
            "400 m",
            "groep",
            "nee",
            "ja",
            "nee",  # neighbours may not hear about her
        ],
    )
    assert "Soepcafé De Pan" in anna.text
    await anna.tap_in("Soepcafé De Pan", "Stel me voor")
    assert "Hoe wil je contact" in anna.text
    await anna.tap("Via de bot")
    assert "gevraagd" in anna.text

    (request,) = await _outbox(app, henk)
    assert "Anna" in request.text and "Soepcafé De Pan" in request.text
    assert "06" not in request.text
    henk.last = [request]
    await henk.tap("Ja, graag")
    await henk.tap("Mijn telefoonnummer")
    await henk.send("06 1234 5678")
    (to_anna,) = await _outbox(app, anna)
    assert "0612345678" in to_anna.text
    (to_henk,) = [r for r in await _outbox(app, henk)]
    assert "Anna" in to_henk.text and "Bericht sturen" in " ".join(o.label for o in to_henk.options)

    henk.last = [to_henk]
    await henk.tap("Bericht sturen")
    await henk.send("Welkom Anna! Woensdag om 12 uur?")
    (relayed,) = await _outbox(app, anna)
    assert "Henk" in relayed.text and "Woensdag" in relayed.text
