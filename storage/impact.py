"""What the impact figures are made of, read within a moderator's scope: facts without
names or ids, which `handlers.impact` counts per neighbourhood and month."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import InitiativeRow, IntroductionRow, PersonRow, TicketRow
from storage.moderation import initiatives_in, people_in
from storage.records import ImpactFacts, IntroductionFacts, ResidentFacts, Scope
from storage.verbs import Verbs, aware

MET = "met_good"


def _area(person: PersonRow) -> str:
    return person.area_name or person.postcode or "?"


class ImpactVerbs(Verbs):
    async def impact_facts(self, scope: Scope) -> ImpactFacts:
        people = list(await self._session.scalars(select(PersonRow).where(people_in(scope))))
        residents = tuple(
            ResidentFacts(
                area=_area(p),
                consented_at=aware(p.created_at),
                intake_done_at=aware(p.intake_done_at),
                gifts=tuple(p.gifts or ()),
                wishes=tuple(p.wishes or ()),
            )
            for p in people
            if p.role == "resident"
        )
        rows = await self._session.execute(
            select(IntroductionRow, PersonRow)
            .join(PersonRow, PersonRow.id == IntroductionRow.requester_id)
            .where(people_in(scope))
        )
        introductions = tuple(
            IntroductionFacts(
                area=_area(person),
                requested_at=aware(intro.created_at),
                introduced_at=aware(intro.answered_at) if intro.status != "declined" else None,
                met=MET in (intro.requester_outcome, intro.target_outcome),
            )
            for intro, person in rows
        )
        answers = await self._session.execute(
            select(TicketRow.created_at, TicketRow.first_answer_at)
            .join(PersonRow, PersonRow.id == TicketRow.person_id)
            .where(people_in(scope), TicketRow.first_answer_at.is_not(None))
        )
        offered: set[str] = set()
        for offers in await self._session.scalars(
            select(InitiativeRow.offers).where(
                initiatives_in(scope), InitiativeRow.status == "approved"
            )
        ):
            offered.update(offers or ())
        return ImpactFacts(
            residents=residents,
            introductions=introductions,
            first_answers=tuple((aware(a), aware(b)) for a, b in answers if b is not None),
            offered=frozenset(offered),
        )
