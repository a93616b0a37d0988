"""What the impact figures are made of, read within a moderator's scope: facts without
names or ids, which `handlers.impact` counts per neighbourhood and month.

Two kinds of rows outlive the person they were about, and so carry their neighbourhood
themselves: an anonymised introduction (`area_*`, written when it is anonymised) and a
mark that someone was shown suggestions in a month (`suggestion_marks`). They are scoped
by that postcode and organisation, as a person is by theirs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true

from storage.models import (
    InitiativeRow,
    IntroductionRow,
    OrganisationAreaRow,
    PersonRow,
    SuggestionMarkRow,
    TicketRow,
)
from storage.moderation import initiatives_in, people_in
from storage.records import (
    ImpactFacts,
    IntroductionFacts,
    Person,
    ResidentFacts,
    Scope,
)
from storage.verbs import Verbs, aware

MET = "met_good"


def _area(person: PersonRow) -> str:
    return person.area_name or person.postcode or "?"


def _kept_in(scope: Scope, postcode: Any, organisation_id: Any) -> ColumnElement[bool]:
    """The scope condition for a row that keeps its own postcode and organisation."""
    if scope.organisation_id is None:
        return true()
    areas = select(OrganisationAreaRow.postcode).where(
        OrganisationAreaRow.organisation_id == scope.organisation_id
    )
    return or_(organisation_id == scope.organisation_id, postcode.in_(areas))


def _introduction(intro: IntroductionRow, area: str) -> IntroductionFacts:
    return IntroductionFacts(
        area=area,
        requested_at=aware(intro.created_at),
        introduced_at=aware(intro.answered_at) if intro.status != "declined" else None,
        met=MET in (intro.requester_outcome, intro.target_outcome),
        met_again=intro.met_again_at is not None,
    )


class ImpactVerbs(Verbs):
    async def mark_suggestions_shown(self, person: Person, *, now: datetime) -> None:
        """This resident was shown suggestions this month (counted once per month)."""
        month = now.strftime("%Y-%m")
        exists = await self._session.scalar(
            select(SuggestionMarkRow.id).where(
                SuggestionMarkRow.person_id == person.id, SuggestionMarkRow.month == month
            )
        )
        if exists is None:
            self._session.add(
                SuggestionMarkRow(
                    person_id=person.id,
                    month=month,
                    postcode=person.postcode,
                    area_name=person.area_name,
                    organisation_id=person.organisation_id,
                )
            )
            await self._session.flush()

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
        introductions = [_introduction(intro, _area(person)) for intro, person in rows]
        anonymous = await self._session.scalars(
            select(IntroductionRow).where(
                IntroductionRow.requester_id.is_(None),
                IntroductionRow.area_postcode.is_not(None)
                | IntroductionRow.area_organisation_id.is_not(None),
                _kept_in(
                    scope, IntroductionRow.area_postcode, IntroductionRow.area_organisation_id
                ),
            )
        )
        introductions += [
            _introduction(intro, intro.area_name or intro.area_postcode or "?")
            for intro in anonymous
        ]
        marks = await self._session.execute(
            select(
                SuggestionMarkRow.area_name, SuggestionMarkRow.postcode, SuggestionMarkRow.month
            ).where(
                _kept_in(scope, SuggestionMarkRow.postcode, SuggestionMarkRow.organisation_id)
            )
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
            introductions=tuple(introductions),
            first_answers=tuple((aware(a), aware(b)) for a, b in answers if b is not None),
            offered=frozenset(offered),
            suggested=tuple((name or code or "?", month) for name, code, month in marks),
        )
