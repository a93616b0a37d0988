"""The resident's intake, declared as data: read it top to bottom.

Each `Step` is one question: what kind of answer it takes, which profile field the answer
fills, and its fixed choices (with the words that select them in free text). Steps follow
each other in the order of `INTAKE`; "back" goes to the previous one; every step can be
skipped; after `summary` confirms, the person is `done`. A change requested from the summary
answers one step and returns to the summary. Organisers describe an initiative through
`INITIATIVE` in the same way. `docs/flow.md` holds the diagram generated
from this declaration (`python -m bot flow-diagram`); a test keeps it true.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The consent text's version: a person who agreed to an older one is asked again.
# 2026-12-v2: being suggested to neighbours became a separate choice.
CONSENT_VERSION = "2026-12-v2"


class Kind(StrEnum):
    TEXT = "text"  # a few words of the person's own (their name)
    PLACE = "place"  # a postcode, a shared location, or an area from the list
    MULTI = "multi"  # several choices, ended by "done"
    SINGLE = "single"  # one choice
    SUMMARY = "summary"  # confirm what was noted, or pick an item to change


@dataclass(frozen=True)
class Choice:
    """A fixed answer: `label` is a catalog key; `words` select it in free text (nl and en)."""

    key: str
    label: str
    words: tuple[str, ...] = ()
    value: int | bool | str | None = None
    finishes: bool = False  # in a multi-select: picking it answers the whole question

    @property
    def stored(self) -> int | bool | str:
        return self.key if self.value is None else self.value


@dataclass(frozen=True)
class Step:
    name: str
    kind: Kind
    question: str  # catalog key of the question
    field: str | None = None  # the Person field the answer fills
    choices: tuple[Choice, ...] = ()
    tag_kind: str | None = None  # MULTI over the taxonomy's "gift" or "wish" tags
    featured: tuple[str, ...] = ()  # tags shown as buttons first; "more" shows them all
    columns: int = 1
    text: str = "name"  # TEXT steps: "name" (a first name) or "free" (a short text)
    required: bool = False  # no "skip" (an initiative needs a name)
    max_length: int = 40
    # "De rest maakt me niet uit": the choice this step takes when the person leaves it,
    # and every later step with one, to us; None: the step is always asked.
    rest: str | None = None


TIMES = (
    Choice("morning", "choice.times.morning", ("ochtend", "ochtends", "morgen", "morning")),
    Choice("afternoon", "choice.times.afternoon", ("middag", "middags", "afternoon")),
    Choice("evening", "choice.times.evening", ("avond", "avonds", "evening", "night")),
    Choice("weekend", "choice.times.weekend", ("weekend", "zaterdag", "zondag", "saturday")),
    Choice(
        "any",
        "choice.times.any",
        ("maakt niet uit", "altijd", "wanneer dan ook", "anytime", "any time", "whenever"),
        finishes=True,
    ),
)

DISTANCES = (
    Choice("400", "choice.distance.400", ("om de hoek", "dichtbij", "around the corner"), 400),
    Choice("800", "choice.distance.800", ("in mijn buurt", "buurt", "nearby"), 800),
    Choice("2000", "choice.distance.2000", ("wijk", "dorp", "village", "district"), 2000),
    Choice("5000", "choice.distance.5000", ("verder", "ver", "further", "far"), 5000),
)

GROUP = (
    Choice("one", "choice.group.one", ("een persoon", "één persoon", "samen", "one", "alone")),
    Choice("group", "choice.group.group", ("groep", "groepje", "group")),
    Choice("both", "choice.group.both", ("allebei", "beide", "both", "maakt niet uit")),
)

FREE_ONLY = (
    Choice("free", "choice.free.yes", ("gratis", "alleen gratis", "free", "free only"), True),
    Choice(
        "paid",
        "choice.free.no",
        ("bijdrage", "betalen", "kleine bijdrage", "mag geld kosten", "paying is fine"),
        False,
    ),
)

# Twelve buttons fit a phone screen; every other tag is one "more" tap or a typed word away.
FEATURED_GIFTS = (
    "cooking", "baking", "gardening", "diy", "sewing", "computers",
    "languages", "music", "history", "games", "company", "children",
)  # fmt: skip
FEATURED_WISHES = (
    "walking", "company", "eat_together", "gardening", "computers", "languages",
    "games", "music", "outings", "diy", "paperwork", "volunteer",
)  # fmt: skip

INTAKE: tuple[Step, ...] = (
    Step("name", Kind.TEXT, "ask.name", field="first_name"),
    Step("place", Kind.PLACE, "ask.place", field="postcode"),
    Step(
        "gifts",
        Kind.MULTI,
        "ask.gifts",
        field="gifts",
        tag_kind="gift",
        featured=FEATURED_GIFTS,
        columns=2,
    ),
    Step(
        "wishes",
        Kind.MULTI,
        "ask.wishes",
        field="wishes",
        tag_kind="wish",
        featured=FEATURED_WISHES,
        columns=2,
    ),
    # From here on one tap ("De rest maakt me niet uit") fills what is left with the choice
    # most people make, says it back, and goes to the summary, where each stays changeable.
    Step(
        "times", Kind.MULTI, "ask.times", field="times", choices=TIMES, columns=2, rest="any"
    ),
    Step(
        "distance",
        Kind.SINGLE,
        "ask.distance",
        field="max_distance_m",
        choices=DISTANCES,
        rest="800",
    ),
    Step("group", Kind.SINGLE, "ask.group", field="group_pref", choices=GROUP, rest="both"),
    Step("free", Kind.SINGLE, "ask.free", field="free_only", choices=FREE_ONLY, rest="paid"),
    Step("summary", Kind.SUMMARY, "ask.summary"),
)

COST = (
    Choice("free", "choice.cost.free", ("gratis", "free", "niks", "nothing"), True),
    Choice("fee", "choice.cost.fee", ("bijdrage", "betalen", "kosten", "fee", "paid"), False),
)
ACCESS = (
    Choice("yes", "choice.access.yes", ("ja", "rolstoel", "toegankelijk", "yes"), True),
    Choice("no", "choice.access.no", ("nee", "niet", "trap", "no"), False),
)
CAPACITY = (
    Choice("2", "choice.capacity.2", ("een of twee", "twee", "two"), 2),
    Choice("5", "choice.capacity.5", ("vijf", "five", "een paar"), 5),
    Choice("10", "choice.capacity.10", ("tien", "ten"), 10),
    Choice("20", "choice.capacity.20", ("twintig", "veel", "many", "twenty"), 20),
)

# An organiser describes their initiative in the same way, one question at a time.
# The answers are kept as a draft in the conversation until the organiser confirms.
INITIATIVE: tuple[Step, ...] = (
    Step(
        "label",
        Kind.TEXT,
        "ask.label",
        field="title",
        text="free",
        max_length=80,
        required=True,
    ),
    Step(
        "description",
        Kind.TEXT,
        "ask.description",
        field="description",
        text="free",
        max_length=400,
    ),
    Step(
        "offers",
        Kind.MULTI,
        "ask.offers",
        field="offers",
        tag_kind="wish",
        featured=FEATURED_WISHES,
        columns=2,
    ),
    Step(
        "needs",
        Kind.MULTI,
        "ask.needs",
        field="needs",
        tag_kind="gift",
        featured=FEATURED_GIFTS,
        columns=2,
    ),
    Step("venue", Kind.PLACE, "ask.venue", field="postcode"),
    Step("schedule", Kind.MULTI, "ask.schedule", field="times", choices=TIMES, columns=2),
    Step("cost", Kind.SINGLE, "ask.cost", field="free", choices=COST),
    Step("access", Kind.SINGLE, "ask.access", field="wheelchair", choices=ACCESS),
    Step("capacity", Kind.SINGLE, "ask.capacity", field="capacity", choices=CAPACITY),
    Step("review", Kind.SUMMARY, "ask.review"),
)

DONE = "done"  # a flow is finished; what follows is the everyday menu


@dataclass(frozen=True)
class Flow:
    """A sequence of steps filling one subject: the person's profile, or a draft."""

    name: str
    steps: tuple[Step, ...]
    subject: str  # "person" or "draft"

    @property
    def first(self) -> str:
        return self.steps[0].name

    @property
    def summary(self) -> str:
        return self.steps[-1].name

    def next_step(self, name: str) -> str:
        names = [step.name for step in self.steps]
        index = names.index(name)
        return names[index + 1] if index + 1 < len(names) else DONE

    def previous_step(self, name: str) -> str | None:
        names = [step.name for step in self.steps]
        index = names.index(name)
        return names[index - 1] if index > 0 else None


INTAKE_FLOW = Flow("intake", INTAKE, subject="person")
INITIATIVE_FLOW = Flow("initiative", INITIATIVE, subject="draft")
FLOWS = {flow.name: flow for flow in (INTAKE_FLOW, INITIATIVE_FLOW)}
STEPS = {step.name: step for flow in FLOWS.values() for step in flow.steps}
FLOW_OF = {step.name: flow for flow in FLOWS.values() for step in flow.steps}
FIRST_STEP = INTAKE_FLOW.first


def mermaid() -> str:
    """The flows as one Mermaid state diagram, generated from their declarations."""
    lines = ["stateDiagram-v2", "    [*] --> consent", "    consent --> [*]: no, nothing stored"]
    lines.append(f"    consent --> {INTAKE_FLOW.first}: yes")
    lines.append(f"    consent --> {DONE}: yes, with an organiser's invite code")
    for flow in FLOWS.values():
        summary = flow.summary
        for step in flow.steps[:-1]:
            target = flow.next_step(step.name)
            lines.append(f"    {step.name} --> {target}: {step.kind.value} answer or skip")
            if step.rest is not None:
                lines.append(f"    {step.name} --> {summary}: the rest does not matter")
        for step in flow.steps[:-1]:
            lines.append(f"    {summary} --> {step.name}: change")
        lines.append(f"    {summary} --> {DONE}: confirm")
    lines.append(f"    {INTAKE_FLOW.summary} --> neighbours: confirm, the first time")
    lines.append(f"    neighbours --> {DONE}: may neighbours hear of me? yes or no")
    lines.append(f"    {DONE} --> neighbours: my data, change")
    lines.append(f"    {DONE} --> {INTAKE_FLOW.summary}: change my answers")
    lines.append(f"    {DONE} --> {INITIATIVE_FLOW.first}: organiser, new initiative")
    lines.append(f"    {DONE} --> {INITIATIVE_FLOW.summary}: organiser, edit an initiative")
    lines.append("    note right of consent: help, back, stop, my data, forget me and language")
    lines.append("    note right of consent: work at every step")
    return "\n".join(lines) + "\n"
