"""The flow as data: (step, input) → (next step, what the bot says), one table row per case.

Valid answers (buttons, own words, skip, back) move the conversation on; every odd input at
every step changes nothing and asks the current question again; before consent, odd input
gets the welcome and nothing is stored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import App
from handlers.answers.places import Gazetteer
from handlers.flow import CONSENT_VERSION, INTAKE
from handlers.i18n import Texts
from handlers.menu import MENU_ITEMS
from handlers.messages import Location, MediaKind, Reply
from handlers.reading import MAX_TEXT, clean, has_words
from handlers.taxonomy import Taxonomy
from storage.records import ConversationState
from tests.harness import Resident, person_of, row_counts, seeded, snapshot

TEXTS = Texts.load()
TURN = 10  # the turn number a person is put at; buttons carry "10:key"


def nl(key: str, **values: Any) -> str:
    return TEXTS("nl", key, **values)


def tag_label(kind: str, tag_id: str) -> str:
    labels = {tag.id: tag.label("nl") for tag in Taxonomy.load().for_kind(kind)}
    return labels[tag_id]


# -- inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Tap:
    """A button of the current question: sent as "<current turn>:<key>"."""

    key: str


@dataclass(frozen=True)
class Stale:
    """A button of the previous question: sent as "<current turn - 1>:<key>"."""

    key: str


@dataclass(frozen=True)
class Raw:
    """A callback key sent exactly as given (a forged or mangled button)."""

    choice: str


@dataclass(frozen=True)
class Media:
    kind: MediaKind


@dataclass(frozen=True)
class Where:
    latitude: float
    longitude: float


Input = Text | Tap | Stale | Raw | Media | Where


async def give(resident: Resident, given: Input, turn: int) -> list[Reply]:
    match given:
        case Text(text):
            return await resident.send(text)
        case Tap(key):
            return await resident.press(f"{turn}:{key}")
        case Stale(key):
            return await resident.press(f"{turn - 1}:{key}")
        case Raw(choice):
            return await resident.press(choice)
        case Media(kind):
            return await resident.send_media(kind)
        case Where(latitude, longitude):
            return await resident.deliver(resident.inbound(location=Location(latitude, longitude)))
    raise AssertionError(given)


# -- putting a person at a step ------------------------------------------------------------

ALMELO: dict[str, Any] = {
    "postcode": "7607",
    "area_name": "Almelo",
    "latitude": 52.3549,
    "longitude": 6.6676,
}
FULL: dict[str, Any] = {
    "first_name": "Anna",
    **ALMELO,
    "gifts": ("cooking",),
    "wishes": ("walking",),
    "times": ("morning",),
    "max_distance_m": 800,
    "group_pref": "group",
    "free_only": True,
}
DONE_PROFILE: dict[str, Any] = {**FULL, "intake_done_at": datetime(2026, 11, 1, 9, 30, tzinfo=UTC)}

QUESTION = {step.name: step.question for step in INTAKE} | {
    "done": "menu.question",
    "confirm_forget": "forget.confirm",
    "language": "language.question",
    "neighbours": "visibility.question",
}


async def put_at(
    app: App,
    resident: Resident,
    step: str,
    *,
    profile: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    turn: int = TURN,
) -> None:
    """A person who said yes, with `profile`, standing at `step` (one transaction)."""
    async with app.database.unit_of_work() as store:
        person = await store.create_person_with_consent(
            channel=resident.channel,
            external_id=resident.external_id,
            username=None,
            language="nl",
            consent_version=CONSENT_VERSION,
        )
        if profile:
            await store.update_person(person.id, profile)
        await store.save_conversation(
            ConversationState(person.id, "intake", step, turn, dict(context or {}))
        )


def everything(replies: list[Reply]) -> str:
    """All text the person sees: messages and button labels."""
    return "\n".join([r.text for r in replies] + [o.label for r in replies for o in r.options])


def assert_asks(replies: list[Reply], step: str, turn: int) -> None:
    """The last reply asks the question of `step`, with buttons for the current turn."""
    assert replies, "no reply at all"
    last = replies[-1]
    if step == "place":  # the question, then the list of neighbourhoods in a second message
        assert len(replies) >= 2
        assert nl("ask.place") in replies[-2].text
        assert replies[-2].request_location == nl("button.share_location")
        assert nl("ask.place_list") in last.text
    else:
        assert nl(QUESTION[step]) in last.text, f"{step}: {last.text!r}"
    assert last.options, "the question comes with buttons"
    assert all(o.key.startswith(f"{turn}:") for o in last.options), last.options


# -- valid answers -----------------------------------------------------------------------

ANY = object()  # a value that must be set, whatever it is


@dataclass(frozen=True)
class Row:
    step: str
    given: Input
    then: str
    says: str
    changes: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    asks: bool = True  # the last reply asks the question of `then`
    turns: int | None = None  # how far the turn moves; default: 1 when the step changes
    context_after: dict[str, Any] | None = field(default_factory=dict)  # None: not checked

    def param(self) -> Any:
        return pytest.param(self, id=f"{self.step}-{_describe(self.given)}")


def _describe(given: Input) -> str:
    match given:
        case Text(text):
            return repr(text[:20])
        case Tap(key):
            return f"tap:{key}"
        case Where(latitude, longitude):
            return f"location:{latitude},{longitude}"
    return repr(given)


SKIPPED = nl("ack.skipped")
STRIJEN = {"postcode": "3291", "area_name": "Strijen", "latitude": 51.7445, "longitude": 4.5511}
NOTED = nl("ack.noted")


def noted(said: str) -> str:
    """ "Genoteerd: in je buurt (800 m).": the answer said back in words."""
    return nl("ack.noted_items", items=nl(f"said.{said}"))


KOKEN = nl("ack.noted_items", items="koken")


def live(step: str, *, show_all: bool) -> dict[str, Any]:
    """The context after a first tick: that question's keyboard still takes ticks."""
    return {"live": {step: [TURN, show_all]}}


def typed(step: str) -> dict[str, Any]:
    """The context after an answer in words: the next question offers "Dat klopt niet"."""
    return {"typed": step}
BACK_TO_SUMMARY = {"return_to": "summary"}

VALID = [
    # name
    Row("name", Tap("name:platform"), "place", nl("ack.name", name="Anna"), {"first_name": "Anna"}),
    Row(
        "name",
        Text("ik heet jan"),
        "place",
        nl("ack.name", name="Jan"),
        {"first_name": "Jan"},
        context_after=typed("name"),
    ),
    Row(
        "name",
        Text("Marie-José"),
        "place",
        "Marie-José",
        {"first_name": "Marie-José"},
        context_after=typed("name"),
    ),
    Row("name", Text("1"), "place", nl("ack.name", name="Anna"), {"first_name": "Anna"}),
    Row("name", Tap("skip"), "place", SKIPPED),
    Row("name", Text("overslaan"), "place", SKIPPED),
    Row("name", Text("2"), "place", SKIPPED),
    Row("name", Text("terug"), "name", nl("back.first")),
    Row("name", Text("nee"), "name", nl("name.invalid")),  # "no" is not a name
    Row("name", Text("ja"), "name", nl("name.invalid")),
    # place
    Row(
        "place",
        Tap("area:almelo-centrum"),
        "gifts",
        nl("ack.place", place="Almelo centrum"),
        {**ALMELO, "area_name": "Almelo centrum"},
    ),
    Row("place", Text("7607"), "gifts", nl("ack.place", place="Almelo"), ALMELO),
    Row("place", Text("7607 AB"), "gifts", nl("ack.place", place="Almelo"), ALMELO),
    Row(
        "place",
        Text("3291 AB"),
        "gifts",
        nl("ack.place", place="Strijen"),
        STRIJEN,
    ),
    Row("place", Text("strijen"), "gifts", nl("ack.place", place="Strijen"), STRIJEN),
    Row("place", Text("4"), "gifts", nl("ack.place", place="Strijen"), STRIJEN),
    Row(
        "place",
        Where(52.35512, 6.66803),
        "gifts",
        nl("ack.place", place="Almelo"),
        {"postcode": "7607", "area_name": "Almelo", "latitude": 52.355, "longitude": 6.668},
    ),
    Row("place", Tap("skip"), "gifts", SKIPPED),
    Row("place", Text("overslaan"), "gifts", SKIPPED),
    Row("place", Text("terug"), "name", nl("ask.name")),
    # gifts
    Row(
        "gifts",
        Tap("pick:cooking"),
        "wishes",
        nl("ack.noted_items", items="koken") + " " + nl("ack.tick_more"),
        {"gifts": ("cooking",)},
        context_after=live("gifts", show_all=False),
    ),
    Row(
        "gifts",
        Tap("pick:cooking"),
        "gifts",
        nl("ask.gifts"),
        {"gifts": ("diy",)},
        profile={"gifts": ("cooking", "diy")},
    ),
    Row(
        "gifts",
        Text("koken"),
        "wishes",
        nl("ack.noted_items", items="koken"),
        {"gifts": ("cooking",)},
        context_after=typed("gifts"),
    ),
    Row(
        "gifts",
        Text("tuinieren"),
        "wishes",
        nl("ack.noted_items", items="tuinieren"),
        {"gifts": ("diy", "gardening")},
        profile={"gifts": ("diy",)},
        context_after=typed("gifts"),
    ),
    Row("gifts", Tap("done"), "wishes", KOKEN, profile={"gifts": ("cooking",)}),
    Row("gifts", Text("klaar"), "wishes", KOKEN, profile={"gifts": ("cooking",)}),
    Row("gifts", Tap("skip"), "wishes", SKIPPED),
    Row("gifts", Text("overslaan"), "wishes", SKIPPED),
    Row("gifts", Text("terug"), "place", nl("ask.place_list")),
    # wishes
    Row(
        "wishes",
        Tap("pick:walking"),
        "times",
        nl("ack.noted_items", items="wandelen"),
        {"wishes": ("walking",)},
        context_after=live("wishes", show_all=False),
    ),
    Row(
        "wishes",
        Text("wandelen"),
        "times",
        nl("ack.noted_items", items="wandelen"),
        {"wishes": ("walking",)},
        context_after=typed("wishes"),
    ),
    Row(
        "wishes",
        Tap("done"),
        "times",
        nl("ack.noted_items", items="wandelen"),
        profile={"wishes": ("walking",)},
    ),
    Row("wishes", Tap("skip"), "times", SKIPPED),
    Row("wishes", Text("terug"), "gifts", nl("ask.gifts")),
    # times
    Row(
        "times",
        Tap("pick:morning"),
        "distance",
        noted("times.morning"),
        {"times": ("morning",)},
        context_after=live("times", show_all=True),
    ),
    Row(
        "times",
        Tap("pick:morning"),
        "times",
        nl("ask.times"),
        {"times": ()},
        profile={"times": ("morning",)},
    ),
    Row(
        "times",
        Tap("pick:any"),
        "distance",
        noted("times.any"),
        {"times": ("any",)},
        profile={"times": ("morning",)},
    ),
    Row(
        "times",
        Text("'s avonds"),
        "distance",
        nl("ack.noted_items", items=nl("said.times.evening")),
        {"times": ("evening",)},
        context_after=typed("times"),
    ),
    Row(
        "times",
        Text("maakt niet uit"),
        "distance",
        nl("ack.noted_items", items=nl("said.times.any")),
        {"times": ("any",)},
        context_after=typed("times"),
    ),
    Row(
        "times",
        Text("1 4"),
        "distance",
        nl(
            "ack.noted_items",
            items=nl("said.times.morning") + nl("ideas.and") + nl("said.times.weekend"),
        ),
        {"times": ("morning", "weekend")},
    ),
    Row("times", Tap("done"), "distance", noted("times.morning"), profile={"times": ("morning",)}),
    Row("times", Tap("skip"), "distance", SKIPPED),
    Row("times", Text("terug"), "wishes", nl("ask.wishes")),
    # distance
    Row("distance", Tap("pick:800"), "group", noted("distance.800"), {"max_distance_m": 800}),
    Row(
        "distance",
        Text("1,5 km"),
        "group",
        nl("ack.noted_items", items=nl("said.distance_m", distance="1,5 km")),
        {"max_distance_m": 1500},
        context_after=typed("distance"),
    ),
    Row(
        "distance",
        Text("om de hoek"),
        "group",
        noted("distance.400"),
        {"max_distance_m": 400},
        context_after=typed("distance"),
    ),
    Row("distance", Text("2"), "group", noted("distance.800"), {"max_distance_m": 800}),
    Row("distance", Tap("skip"), "group", SKIPPED),
    Row("distance", Text("terug"), "times", nl("ask.times")),
    # group
    Row("group", Tap("pick:group"), "free", noted("group.group"), {"group_pref": "group"}),
    Row(
        "group",
        Text("in een groep"),
        "free",
        noted("group.group"),
        {"group_pref": "group"},
        context_after=typed("group"),
    ),
    Row(
        "group",
        Text("allebei"),
        "free",
        noted("group.both"),
        {"group_pref": "both"},
        context_after=typed("group"),
    ),
    Row("group", Tap("skip"), "free", SKIPPED),
    Row("group", Text("terug"), "distance", nl("ask.distance")),
    # free
    Row("free", Tap("pick:free"), "summary", noted("free.free"), {"free_only": True}),
    Row("free", Tap("pick:paid"), "summary", noted("free.paid"), {"free_only": False}),
    Row("free", Text("ja"), "summary", noted("free.free"), {"free_only": True}),
    Row("free", Text("nee"), "summary", noted("free.paid"), {"free_only": False}),
    Row(
        "free", Text("een kleine bijdrage mag"), "summary", noted("free.paid"), {"free_only": False}
    ),
    Row("free", Tap("skip"), "summary", SKIPPED),
    Row("free", Text("terug"), "group", nl("ask.group")),
    # summary
    Row(
        "summary",
        Tap("confirm"),
        "neighbours",  # the first time: may neighbours hear about her?
        nl("done.thanks", name_sep=", Anna"),
        {"intake_done_at": ANY},
        profile=FULL,
        context_after={"then": "finish"},
    ),
    Row(
        "summary",
        Text("ja"),
        "neighbours",  # the first time: may neighbours hear about her?
        nl("done.thanks", name_sep=", Anna"),
        {"intake_done_at": ANY},
        profile=FULL,
        context_after={"then": "finish"},
    ),
    Row(
        "summary",
        Text("1"),
        "neighbours",  # the first time: may neighbours hear about her?
        nl("done.thanks", name_sep=", Anna"),
        {"intake_done_at": ANY},
        profile=FULL,
        context_after={"then": "finish"},
    ),
    # neighbours: a choice of its own after the first summary, default no
    *(
        Row(
            "neighbours",
            given,
            "done",
            nl(said),
            {"neighbour_visible": visible},
            profile=DONE_PROFILE,
            context={"then": "finish"},
            context_after=None,  # what suggestions were shown
        )
        for given, said, visible in (
            (Tap("visible:yes"), "visibility.yes", True),
            (Tap("visible:no"), "visibility.no", False),
            (Text("ja hoor"), "visibility.yes", True),
            (Text("nee"), "visibility.no", False),
            (Text("1"), "visibility.yes", True),
            (Text("weet ik niet"), "visibility.not_yet", False),  # unsure: a no for now
        )
    ),
    Row(
        "neighbours",
        Text("terug"),
        "summary",
        nl("ask.summary"),
        profile=DONE_PROFILE,
        context={"then": "finish"},
    ),
    Row(
        "neighbours",
        Text("wat betekent dat?"),
        "neighbours",
        nl("visibility.explained"),
        profile=DONE_PROFILE,
        context={"then": "finish"},
        context_after={"then": "finish"},
    ),
    Row(
        "neighbours",
        Text("Anna"),
        "neighbours",
        nl("visibility.not_understood"),
        profile=DONE_PROFILE,
        context={"then": "finish"},
        context_after={"then": "finish"},
    ),
    Row(
        "summary",
        Tap("edit:times"),
        "times",
        nl("ask.times"),
        profile=FULL,
        context_after=BACK_TO_SUMMARY,
    ),
    Row(
        "summary", Text("naam"), "name", nl("ask.name"), profile=FULL, context_after=BACK_TO_SUMMARY
    ),
    Row(
        "summary",
        Text("afstand"),
        "distance",
        nl("ask.distance"),
        profile=FULL,
        context_after=BACK_TO_SUMMARY,
    ),
    Row("summary", Text("nee"), "summary", nl("summary.what_to_change"), profile=FULL, asks=False),
    Row(
        "summary", Text("wijzigen"), "summary", nl("summary.what_to_change"), profile=FULL, turns=1
    ),
    Row("summary", Tap("skip"), "summary", nl("button.unknown"), profile=FULL),
    Row("summary", Text("overslaan"), "summary", nl("summary.not_understood"), profile=FULL),
    Row("summary", Text("terug"), "free", nl("ask.free"), profile=FULL),
    # a change asked for from the summary goes back to the summary
    Row(
        "gifts",
        Text("koken"),
        "summary",
        nl("summary.gifts", value="koken en klussen"),
        {"gifts": ("diy", "cooking")},
        profile={**FULL, "gifts": ("diy",)},
        context=BACK_TO_SUMMARY,
    ),
    Row(
        "distance",
        Tap("pick:400"),
        "summary",
        nl("said.distance.400"),
        {"max_distance_m": 400},
        profile=FULL,
        context=BACK_TO_SUMMARY,
    ),
    Row("name", Tap("skip"), "summary", SKIPPED, profile=FULL, context=BACK_TO_SUMMARY),
    Row(
        "place", Text("terug"), "summary", nl("ask.summary"), profile=FULL, context=BACK_TO_SUMMARY
    ),
    # the everyday menu
    Row("done", Tap("menu:change"), "summary", nl("summary.what_to_change"), profile=DONE_PROFILE),
    Row("done", Tap("menu:data"), "done", nl("data.title"), profile=DONE_PROFILE),
    Row("done", Tap("menu:help"), "done", nl("help.menu"), profile=DONE_PROFILE),
    Row(
        "done",
        Text(str(MENU_ITEMS.index("help") + 1)),
        "done",
        nl("help.menu"),
        profile=DONE_PROFILE,
    ),
    Row("done", Text("wijzigen"), "summary", nl("summary.what_to_change"), profile=DONE_PROFILE),
    Row("done", Text("terug"), "summary", nl("ask.summary"), profile=DONE_PROFILE),
    Row("done", Text("overslaan"), "done", nl("menu.not_understood"), profile=DONE_PROFILE),
    Row("done", Text("hallo"), "done", nl("welcome.back", name_sep=", Anna"), profile=DONE_PROFILE),
]


def test_the_valid_table_covers_every_step_with_buttons_words_skip_and_back() -> None:
    steps = {step.name for step in INTAKE} | {"done", "neighbours"}
    assert {row.step for row in VALID} == steps
    for step in steps:
        rows = [row for row in VALID if row.step == step]
        assert any(isinstance(row.given, Tap) for row in rows), step
        assert any(isinstance(row.given, Text) and row.then != step for row in rows), step
        assert any(row.given == Text("terug") for row in rows), step
        if step not in ("summary", "done", "neighbours"):
            assert any(row.given == Tap("skip") for row in rows), step


async def _check_row(app: App, resident: Resident, row: Row) -> None:
    await put_at(app, resident, row.step, profile=row.profile, context=row.context)
    before, before_state = await snapshot(app.database, resident)

    replies = await give(resident, row.given, TURN)

    after, state = await snapshot(app.database, resident)
    assert state.step == row.then
    turns = row.turns if row.turns is not None else int(row.then != row.step)
    assert state.turn == TURN + turns
    assert row.says in everything(replies)
    if row.asks:
        assert_asks(replies, row.then, state.turn)
    for reply in replies:  # every question's button belongs to the question now asked ...
        turns_of_buttons = {o.key.split(":")[0] for o in reply.options}
        live = {str(t) for t, _ in state.context.get("live", {}).values()}
        if reply.edit_in_place and live:  # ... or to a list question's keyboard, still live
            assert {t for t in turns_of_buttons if t.isdigit()} <= live
        else:
            assert {t for t in turns_of_buttons if t.isdigit()} <= {str(state.turn)}
    expected = asdict(before) | row.changes
    actual = asdict(after)
    for name, value in row.changes.items():
        if value is ANY:
            assert actual[name] is not None, name
            expected[name] = actual[name]
    assert actual == expected
    if row.context_after is not None:  # when the last tap was, to ignore a double tap: aside
        assert {k: v for k, v in state.context.items() if k != "last_tap"} == row.context_after
        assert "last_tap" not in state.context or isinstance(row.given, Tap)
    assert before_state.stopped is state.stopped is False


@pytest.mark.parametrize("row", [row.param() for row in VALID])
async def test_valid_answer(app: App, row: Row) -> None:
    resident = await seeded(app)
    await _check_row(app, resident, row)


async def test_the_table_holds_with_the_whole_demo_seeded(app: App) -> None:
    """The demo's people and initiatives (suggestions, neighbours) change no row's outcome."""
    await seeded(app, community=True)
    failures: list[str] = []
    first_of_each_step = {row.step: row for row in reversed(VALID) if not row.context}
    for number, row in enumerate(first_of_each_step.values()):
        try:
            await _check_row(app, Resident(app.conversations, external_id=f"row-{number}"), row)
        except AssertionError as error:
            failures.append(f"{row.param().id}: {error}")
    assert not failures, "\n\n".join(failures)


# -- odd input changes nothing -------------------------------------------------------------

LONG_TEXT = ("Ik vertel je alles over mijzelf. " * 400)[:10_000]
CONTROL = "\x00\x07\x1b[31m"


@dataclass(frozen=True)
class Bad:
    name: str
    given: Input
    explains: str | None  # the catalog key of the explanation (None: it depends)


BAD = [
    Bad("photo", Media(MediaKind.PHOTO), "media.unreadable"),
    Bad("sticker", Media(MediaKind.STICKER), "media.unreadable"),
    Bad("voice", Media(MediaKind.VOICE), "media.unreadable"),
    Bad("document", Media(MediaKind.DOCUMENT), "media.unreadable"),
    Bad("10000-chars", Text(LONG_TEXT), "text.too_long"),
    Bad("empty", Text(""), "text.empty"),
    Bad("whitespace", Text(" \n\t  \n"), "text.empty"),
    Bad("emoji-only", Text("🙂🙂🙂"), "text.empty"),
    Bad("control-chars", Text(CONTROL), "text.empty"),
    Bad("unknown-key", Tap("pick:nonsense"), "button.unknown"),
    Bad("unknown-edit-key", Tap("edit:summary"), "button.unknown"),
    Bad("forged-999", Raw("999:pick:cooking"), "button.stale"),
    Bad("forged-not-a-key", Raw("not-a-key"), "button.unknown"),
    Bad("forged-empty", Raw(""), "button.unknown"),
    Bad("forged-consent", Raw("0:yes:nl"), "button.stale"),
    Bad("stale-button", Stale("skip"), "button.stale"),
    Bad("out-of-range", Text("99"), "number.out_of_range"),
    Bad("keyboard-run", Text("asdf"), None),
    Bad("question-marks", Text("???"), None),
]
BAD_AT_PLACE = [
    Bad("unknown-postcode-1000", Text("1000"), "place.unknown_postcode"),
    Bad("postcode-0000", Text("0000"), "place.not_understood"),
    Bad("postcode-12345", Text("12345"), "place.not_understood"),
    Bad("many-villages", Text("ik woon in de Hoeksche Waard"), "place.which_village"),
]
SIDE_STEPS = {"confirm_forget": {"resume": "gifts"}, "language": {"resume": "gifts"}}
EVERY_STEP = [*(step.name for step in INTAKE), "done", *SIDE_STEPS]

BAD_ROWS = [
    pytest.param(bad, ["place"] if bad in BAD_AT_PLACE else EVERY_STEP, id=bad.name)
    for bad in [*BAD, *BAD_AT_PLACE]
]


def _explanation(bad: Bad, replies: list[Reply]) -> str:
    assert bad.explains is not None
    if bad.explains == "number.out_of_range":
        return nl(bad.explains, count=len(replies[-1].options))
    if bad.explains == "text.too_long":
        return nl(bad.explains, limit=MAX_TEXT)
    if bad.explains == "place.unknown_postcode":
        return nl(bad.explains, code="1000")
    if bad.explains == "place.which_village":
        examples = ", ".join(Gazetteer.load().villages("Hoeksche Waard")[:3])
        return nl(bad.explains, area="Hoeksche Waard", examples=examples)
    return nl(bad.explains)


async def _odd_input_at(app: App, step: str, bad: Bad) -> None:
    resident = Resident(app.conversations, external_id=f"at-{step}")
    profile = DONE_PROFILE if step == "done" else FULL
    await put_at(app, resident, step, profile=profile, context=SIDE_STEPS.get(step))
    before, before_state = await snapshot(app.database, resident)

    replies = await give(resident, bad.given, TURN)

    after, state = await snapshot(app.database, resident)
    assert replies, "odd input always gets an answer"
    assert (state.step, state.turn, state.stopped) == (step, TURN, False)
    assert state.context == before_state.context
    assert after == before
    assert_asks(replies, step, TURN)
    if bad.explains is not None:
        assert _explanation(bad, replies) in everything(replies)
    assert nl("error.sorry") not in everything(replies)


@pytest.mark.parametrize(("bad", "steps"), BAD_ROWS)
async def test_odd_input_changes_nothing_and_asks_again(
    app: App, bad: Bad, steps: list[str]
) -> None:
    """The input at every step in turn, one person per step; every failing step is reported."""
    await seeded(app)
    failures: list[str] = []
    for step in steps:
        try:
            await _odd_input_at(app, step, bad)
        except AssertionError as error:
            failures.append(f"at {step}: {error}")
    assert not failures, "\n\n".join(failures)


def test_odd_inputs_are_tried_at_every_step() -> None:
    assert set(EVERY_STEP) == {step.name for step in INTAKE} | {"done", *SIDE_STEPS}
    assert len(BAD_ROWS) == len(BAD) + len(BAD_AT_PLACE) == 23


# -- before consent: the welcome, and nothing stored ----------------------------------------

BEFORE_CONSENT = [
    *(b for b in BAD if b.name != "forged-consent"),
    *BAD_AT_PLACE,
    Bad("location", Where(52.3549, 6.6676), "media.before_consent"),
    Bad("a-name", Text("Anna"), None),
    Bad("stale-consent-key", Raw("0:yes:xx"), "button.stale"),
    Bad("my-data", Text("mijn gegevens"), "data.nothing"),
    Bad("help", Text("help"), "help.before_consent"),
]


@pytest.mark.parametrize("bad", [pytest.param(b, id=b.name) for b in BEFORE_CONSENT])
async def test_before_consent_odd_input_gets_the_welcome_and_stores_nothing(
    app: App, bad: Bad
) -> None:
    anna = await seeded(app)
    before = await row_counts(app.database)

    replies = await give(anna, bad.given, 3)

    assert replies
    assert nl("welcome.consent") in replies[-1].text
    assert [o.key for o in replies[-1].options] == ["0:yes:nl", "0:no:nl", "0:lang:en"]
    match bad.given:
        case Tap() | Stale() | Raw():
            assert nl("button.stale") in replies[0].text
        case Media() | Where():
            assert nl("media.before_consent") in replies[0].text
        case _ if bad.explains in ("data.nothing", "help.before_consent"):
            assert nl(bad.explains) in replies[0].text
        case Text(text) if has_words(clean(text)):  # neither yes nor no: said so, briefly
            assert replies[0].text.startswith(nl("welcome.not_understood"))
            assert nl("welcome.hello") not in everything(replies)
        case _:
            assert replies[0].text == nl("welcome.hello")
    after = await row_counts(app.database)
    assert after == before | {"processed_updates": before["processed_updates"] + 1}
    assert await person_of(app.database, anna) is None
