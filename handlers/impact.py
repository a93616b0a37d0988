"""The impact figures: per neighbourhood and month, how many residents joined, finished
the intake, were shown suggestions, asked for an introduction, were introduced, met, and
met again; how soon a person first answered a ticket; the most common gifts and wishes,
and wishes nothing nearby answers.

"Suggested" counts residents once per month in which they were shown suggestions. "Met"
and "met again" count introductions, in the month they were made: "met" when a side
answered the follow-up "hebben jullie elkaar ontmoet?" with yes, "met again" when a side
then answered the later question "hebben jullie elkaar nog eens gezien?" with yes.

Pure counting over `ImpactFacts`. The export never shows a count under `MIN_CELL`.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from storage.records import ImpactFacts

MIN_CELL = 5  # an exported cell under this many people would point at people
SMALL = f"<{MIN_CELL}"
MEASURES = ("consented", "intake_done", "suggested", "asked", "introduced", "met", "met_again")


@dataclass(frozen=True)
class MonthRow:
    area: str
    month: str  # "2026-12"
    consented: int = 0
    intake_done: int = 0
    suggested: int = 0
    asked: int = 0
    introduced: int = 0
    met: int = 0
    met_again: int = 0


def _month(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def monthly(facts: ImpactFacts) -> list[MonthRow]:
    """One row per neighbourhood and month in which anything happened, oldest first."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for resident in facts.residents:
        counts[(resident.area, _month(resident.consented_at), "consented")] += 1
        if resident.intake_done_at is not None:
            counts[(resident.area, _month(resident.intake_done_at), "intake_done")] += 1
    for intro in facts.introductions:
        counts[(intro.area, _month(intro.requested_at), "asked")] += 1
        if intro.introduced_at is not None:
            counts[(intro.area, _month(intro.introduced_at), "introduced")] += 1
            if intro.met:
                counts[(intro.area, _month(intro.introduced_at), "met")] += 1
            if intro.met_again:
                counts[(intro.area, _month(intro.introduced_at), "met_again")] += 1
    for area, month in facts.suggested:
        counts[(area, month, "suggested")] += 1
    keys = sorted({(area, month) for area, month, _ in counts}, key=lambda k: (k[1], k[0]))
    return [
        MonthRow(area, month, **{m: counts[(area, month, m)] for m in MEASURES})
        for area, month in keys
    ]


def totals_by_month(rows: Iterable[MonthRow]) -> list[MonthRow]:
    """All neighbourhoods together, per month (for the charts)."""
    summed: dict[str, Counter[str]] = {}
    for row in rows:
        counter = summed.setdefault(row.month, Counter())
        for measure in MEASURES:
            counter[measure] += getattr(row, measure)
    return [
        MonthRow("", month, **{m: summed[month][m] for m in MEASURES}) for month in sorted(summed)
    ]


def median_first_answer(facts: ImpactFacts) -> timedelta | None:
    waits = [(answered - opened).total_seconds() for opened, answered in facts.first_answers]
    return timedelta(seconds=statistics.median(waits)) if waits else None


def top_tags(facts: ImpactFacts, kind: str, limit: int = 5) -> list[tuple[str, int]]:
    """The most common gifts ("gifts") or wishes ("wishes"), with how many residents."""
    counts: Counter[str] = Counter()
    for resident in facts.residents:
        counts.update(set(getattr(resident, kind)))
    return counts.most_common(limit)


def unmet_wishes(facts: ImpactFacts, limit: int = 5) -> list[tuple[str, int]]:
    """Wishes no approved initiative in the organisation's neighbourhoods offers."""
    counts: Counter[str] = Counter()
    for resident in facts.residents:
        counts.update(set(resident.wishes) - facts.offered)
    return counts.most_common(limit)


def export_cell(count: int) -> str:
    """A count as the export shows it: nothing under `MIN_CELL` (0 stays 0: nobody)."""
    return str(count) if count == 0 or count >= MIN_CELL else SMALL


def export_rows(rows: Iterable[MonthRow]) -> list[list[str]]:
    """The CSV: a header and one line per neighbourhood and month, small counts hidden."""
    names = [f.name for f in fields(MonthRow)]
    lines = [names]
    for row in rows:
        lines.append([row.area, row.month, *(export_cell(getattr(row, m)) for m in MEASURES)])
    return lines
