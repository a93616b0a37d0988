"""The impact figures from real conversations: a resident shown suggestions is counted once
a month; "met again" comes from the question weeks after "we met"; and after an erasure
the anonymised introduction and the suggestion mark still count in their neighbourhood,
for their own organisation only, without anyone in them."""

from __future__ import annotations

from sqlalchemy import select

from handlers import impact
from storage.models import IntroductionRow, SuggestionMarkRow
from storage.records import Scope
from tests.handlers.test_introductions import DAY, SOUP, T0, World, nl, through_the_bot, world

__all__ = ["world"]  # the neighbourhood fixture of test_introductions


async def _rows(world: World, scope: Scope) -> list[impact.MonthRow]:
    async with world.app.database.unit_of_work() as store:
        return impact.monthly(await store.impact_facts(scope))


async def _organisation(world: World, slug: str, postcode: str) -> Scope:
    async with world.app.database.unit_of_work() as store:
        org = await store.create_organisation(slug, slug)
        await store.add_organisation_area(org.id, postcode)
    return Scope(org.id)


async def _met_and_met_again(world: World) -> int:
    anna, henk = world["Anna"], world["Henk"]
    await anna.send("ideeën")
    await anna.send("ideeën")  # twice in a month: counted once
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    assert await world.run_due(T0 + 8 * DAY) == 1
    (question,) = await world.take(anna)
    anna.last = [question]
    await anna.tap("Ja, het was fijn")
    assert (await world.intro(intro.id)).met_again_at is None

    assert await world.run_due(T0 + 36 * DAY - DAY) == 0  # four weeks after "we met"
    assert await world.run_due(T0 + 36 * DAY) == 1
    (again,) = await world.take(anna)
    assert again.text == nl("followup.again_question", name=SOUP)
    assert [o.key for o in again.options] == [f"x:{intro.id}:again_yes", f"x:{intro.id}:again_no"]
    await world.assert_quiet()  # the organisers are not asked
    anna.last = [again]
    await anna.tap(nl("button.again_yes"))
    assert anna.last[0].text == nl("followup.again_thanks.yes")
    assert (await world.intro(intro.id)).met_again_at is not None
    return intro.id


async def test_suggested_and_met_again_are_counted(world: World) -> None:
    here = await _organisation(world, "woonstad", "7607")
    elsewhere = await _organisation(world, "elders", "1011")
    await _met_and_met_again(world)

    [row] = [r for r in await _rows(world, here) if r.month == "2026-03"]
    assert (row.area, row.suggested) == ("Almelo", 1)
    assert (row.asked, row.introduced, row.met, row.met_again) == (1, 1, 1, 1)
    assert await _rows(world, elsewhere) == []  # another organisation sees none of it


async def test_a_no_to_meeting_again_counts_nothing(world: World) -> None:
    anna, henk = world["Anna"], world["Henk"]
    intro = await through_the_bot(world, anna, f"i:{world.soup}", henk)
    await world.run_due(T0 + 8 * DAY)
    anna.last = await world.take(anna)
    await anna.tap("Ja, het was fijn")
    await world.run_due(T0 + 36 * DAY)
    anna.last = await world.take(anna)
    await anna.tap(nl("button.again_no"))
    assert anna.last[0].text == nl("followup.again_thanks.no")
    assert (await world.intro(intro.id)).met_again_at is None
    async with world.app.database.unit_of_work() as store:
        facts = await store.impact_facts(Scope(None))
    assert [i.met_again for i in facts.introductions] == [False]


async def test_after_an_erasure_the_figures_stay_in_their_neighbourhood(world: World) -> None:
    here = await _organisation(world, "woonstad", "7607")
    elsewhere = await _organisation(world, "elders", "1011")
    intro_id = await _met_and_met_again(world)
    before = [r for r in await _rows(world, here) if r.month == "2026-03"]

    anna = world["Anna"]
    await anna.send("vergeet mij")
    await anna.tap("Ja, wis alles")
    assert anna.last[0].text == nl("forget.done")

    async with world.app.database.engine.connect() as connection:
        intro = (
            await connection.execute(select(IntroductionRow).where(IntroductionRow.id == intro_id))
        ).one()
        marks = (await connection.execute(select(SuggestionMarkRow))).all()
    assert intro.requester_id is None and intro.anonymised_at is not None
    assert (intro.area_postcode, intro.area_name) == ("7607", "Almelo")
    assert [(m.person_id, m.postcode, m.month) for m in marks] == [(None, "7607", "2026-03")]

    after = [r for r in await _rows(world, here) if r.month == "2026-03"]
    assert len(after) == 1 and after == before  # nothing of these figures fell out
    assert (after[0].suggested, after[0].asked, after[0].introduced) == (1, 1, 1)
    assert (after[0].met, after[0].met_again) == (1, 1)
    assert await _rows(world, elsewhere) == []
