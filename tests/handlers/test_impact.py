"""Impact figures: counted per neighbourhood and month; the export hides small counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers import impact
from storage.records import ImpactFacts, IntroductionFacts, ResidentFacts

DEC = datetime(2026, 12, 3, tzinfo=UTC)
NOV = datetime(2026, 11, 3, tzinfo=UTC)


def _facts() -> ImpactFacts:
    residents = [
        ResidentFacts("Centrum", DEC, DEC, ("cooking",), ("walking", "gardening")) for _ in range(6)
    ] + [ResidentFacts("Noord", NOV, None, ("diy",), ("chess",)) for _ in range(2)]
    intros = [
        IntroductionFacts("Centrum", DEC, DEC, met=index < 5, met_again=index < 2)
        for index in range(7)
    ]
    return ImpactFacts(
        residents=tuple(residents),
        introductions=tuple(intros),
        first_answers=(
            (DEC, DEC + timedelta(hours=1)),
            (DEC, DEC + timedelta(hours=3)),
            (DEC, DEC + timedelta(hours=8)),
        ),
        offered=frozenset({"walking"}),
        suggested=(("Centrum", "2026-12"),) * 6 + (("Noord", "2026-11"),),
    )


def test_counts_per_neighbourhood_and_month() -> None:
    rows = impact.monthly(_facts())
    assert rows == [
        impact.MonthRow("Noord", "2026-11", consented=2, suggested=1),
        impact.MonthRow(
            "Centrum", "2026-12", consented=6, intake_done=6, suggested=6, asked=7,
            introduced=7, met=5, met_again=2,
        ),
    ]


def test_median_wait_tags_and_unmet_wishes() -> None:
    facts = _facts()
    assert impact.median_first_answer(facts) == timedelta(hours=3)
    assert impact.top_tags(facts, "gifts")[0] == ("cooking", 6)
    assert ("walking", 6) not in impact.unmet_wishes(facts)  # an initiative offers it
    assert impact.unmet_wishes(facts)[0] == ("gardening", 6)


def test_the_export_has_no_cell_under_five_people() -> None:
    lines = impact.export_rows(impact.monthly(_facts()))
    assert lines[0] == ["area", "month", *impact.MEASURES]
    assert lines[1] == ["Noord", "2026-11", "<5", "0", "<5", "0", "0", "0", "0"]
    assert lines[2] == ["Centrum", "2026-12", "6", "6", "6", "7", "7", "5", "<5"]
    for line in lines[1:]:
        for cell in line[2:]:
            assert cell in ("0", "<5") or int(cell) >= impact.MIN_CELL
