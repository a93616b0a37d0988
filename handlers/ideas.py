"""Suggestions in the chat: at most three at a time, each with its reason in plain words.

Each suggestion carries its own buttons, "s:<kind>:<id>:intro" and "s:<kind>:<id>:dismiss".
They are not tied to a question: they stay usable while the person does other things, and
are checked again when pressed (is it still a fitting suggestion for this person?).
"""

from __future__ import annotations

from dataclasses import replace

from rapidfuzz import fuzz, process

from handlers.answers.words import words
from handlers.errors import NotAllowed
from handlers.flow import DISTANCES, STEPS
from handlers.matching import DEFAULT_MAX_DISTANCE_M, Suggestion, distance_band, score, seeker_from
from handlers.messages import Option
from handlers.said import joined, multi_words, said_metres, tag_phrase
from handlers.suggest import find_suggestions
from handlers.turn import Turn
from storage.records import Candidate

PER_ROUND = 3
IDEAS_KEY = "g:ideas"  # "show me ideas", valid at any time (sent in reminders and declines)
WIDER_KEY = "g:wider:"  # "look further": g:wider:2000 sets the distance to 2 km, shows ideas
WIDER = tuple(choice.value for choice in DISTANCES if isinstance(choice.value, int))
KINDS = {"i": "initiative", "p": "neighbour"}
LETTERS = {kind: letter for letter, kind in KINDS.items()}


def target_key(candidate: Candidate) -> str:
    return f"{LETTERS[candidate.kind]}:{candidate.id}"


def tag_words(turn: Turn, tags: tuple[str, ...] | list[str], language: str | None = None) -> str:
    """Tags as words in a sentence: "koffie en een praatje, koken en tuinieren"."""
    lang = language or turn.lang
    words = [tag_phrase(turn, tag, lang) for tag in tags if tag in turn.taxonomy]
    return joined(turn, words, lang)


def distance_words(turn: Turn, metres: int) -> str:
    if metres < 1000:
        return turn.t("ideas.metres", metres=max(50, round(metres / 50) * 50))
    km = f"{metres / 1000:.1f}".replace(".", "," if turn.lang == "nl" else ".")
    return turn.t("ideas.km", km=km.removesuffix(",0").removesuffix(".0"))


def reason_text(turn: Turn, suggestion: Suggestion, name: str | None = None) -> str:
    """ "400 m — jullie houden allebei van tuinieren; in een groep, zoals je wilt".

    `name` is the neighbour's first name, for a suggestion of one person."""
    reason = suggestion.reason
    parts = []
    if reason.shared:
        parts.append(turn.t("ideas.reason.shared", tags=tag_words(turn, reason.shared)))
    if reason.they_offer:
        parts.append(turn.t("ideas.reason.they_offer", tags=tag_words(turn, reason.they_offer)))
    if reason.you_can_help:
        tags = tag_words(turn, reason.you_can_help)
        if name:
            parts.append(turn.t("ideas.reason.you_can_help_one", name=name, tags=tags))
        else:
            parts.append(turn.t("ideas.reason.you_can_help", tags=tags))
    if reason.common_times and reason.common_times != ("any",):
        times = multi_words(turn, STEPS["times"], reason.common_times)
        parts.append(turn.t("ideas.reason.times", times=times))
    if reason.group == "one":
        parts.append(turn.t("ideas.reason.one"))
    elif reason.group == "group":
        parts.append(turn.t("ideas.reason.group"))
    if suggestion.candidate.kind == "neighbour":  # where a resident lives stays private
        where = turn.t(f"ideas.band.{distance_band(reason.distance_m)}")
    else:
        where = distance_words(turn, reason.distance_m)
    return where + " — " + "; ".join(parts)


def reason_tags(suggestion: Suggestion) -> str:
    """The tags that make the fit, stored with an introduction (shown later in each language)."""
    reason = suggestion.reason
    tags = dict.fromkeys([*reason.shared, *reason.they_offer, *reason.you_can_help])
    return ",".join(tags)


async def _describe(turn: Turn, suggestion: Suggestion) -> str:
    candidate = suggestion.candidate
    if candidate.kind == "initiative":
        initiative = await turn.store.get_initiative(candidate.id)
        if initiative is None:
            return ""
        extras = []
        if initiative.free:
            extras.append(turn.t("ideas.free"))
        if initiative.wheelchair:
            extras.append(turn.t("ideas.wheelchair"))
        lines = [f"🌱 {initiative.title}"]
        if initiative.description:
            lines.append(initiative.description)
        lines.append(f"📍 {reason_text(turn, suggestion)}")
        if extras:
            lines.append(" · ".join(extras))
        return "\n".join(lines)
    neighbour = await turn.store.get_person(candidate.id)
    if neighbour is None:
        return ""
    turn.mention(neighbour.id)
    who = turn.t(
        "ideas.neighbour", name=neighbour.first_name or "?", area=neighbour.area_name or ""
    )
    return f"👤 {who}\n📍 {reason_text(turn, suggestion, neighbour.first_name)}"


async def show_ideas(turn: Turn) -> int:
    """Show the next (at most three) suggestions; returns how many were shown."""
    if turn.person.blocked:  # they were told once, when a moderator blocked them
        turn.say(turn.t("ideas.none"))
        return 0
    shown = list(turn.state.context.get("shown", []))
    found = await find_suggestions(
        turn.store, turn.person, now=turn.now, limit=PER_ROUND + len(shown)
    )
    fresh = [s for s in found if target_key(s.candidate) not in shown][:PER_ROUND]
    intro = "ideas.intro"
    if not fresh and shown:  # all shown: say so plainly, and show the best ones again
        shown, fresh, intro = [], found[:PER_ROUND], "ideas.again"
    if not fresh:
        turn.set_context(shown=[])
        wider = None if shown or found else await _wider_with_ideas(turn)
        if wider is None:
            turn.say(turn.t("ideas.none"))
        else:
            turn.say(
                turn.t("ideas.none_within", wider=distance_words(turn, wider)),
                (Option(f"{WIDER_KEY}{wider}", turn.t("button.look_further")),),
            )
        return 0
    turn.say(turn.t(intro))
    for suggestion in fresh:
        key = target_key(suggestion.candidate)
        text = await _describe(turn, suggestion)
        options = (
            Option(f"s:{key}:intro", turn.t("button.introduce")),
            Option(f"s:{key}:dismiss", turn.t("button.not_for_me")),
        )
        turn.say(text, options, columns=2)
        shown.append(key)
    turn.set_context(shown=shown[-60:])
    await turn.store.mark_suggestions_shown(turn.person, now=turn.now)  # impact figures
    return len(fresh)


async def _wider_with_ideas(turn: Turn) -> int | None:
    """The nearest larger distance of the intake's choices with something to suggest."""
    now_m = turn.person.max_distance_m or DEFAULT_MAX_DISTANCE_M
    for metres in (m for m in WIDER if m > now_m):
        further = replace(turn.person, max_distance_m=metres)
        if await find_suggestions(turn.store, further, now=turn.now, limit=1):
            return metres
    return None


async def look_further(turn: Turn, choice: str) -> None:
    """ "Kijk verder": the distance becomes the one offered (said back), then the ideas."""
    value = choice.removeprefix(WIDER_KEY)
    if not value.isdigit() or int(value) not in WIDER or turn.person.intake_done_at is None:
        raise NotAllowed("not a distance offered")
    metres = int(value)
    if metres > (turn.person.max_distance_m or DEFAULT_MAX_DISTANCE_M):
        await turn.update(max_distance_m=metres)
    turn.say(turn.t("ack.noted_items", items=said_metres(turn, STEPS["distance"], metres)))
    await show_ideas(turn)


_ASK_INTRO = ("stel me voor", "stel mij voor", "introduce me", "ik wil kennismaken",
              "kennismaken", "aanmelden", "meedoen")  # fmt: skip
_FILLER = frozenset({"bij", "aan", "met", "de", "het", "een", "to", "the", "graag", "please",
                     "ik", "wil", "wel", "daar", "die", "dat", "at", "with"})  # fmt: skip


async def find_shown(turn: Turn, text: str) -> tuple[str, int] | None:
    """The suggestion shown last that typed words name: "stel me voor bij de repair cafe"."""
    folded = " ".join(words(text))
    asked = any(folded.startswith(lead) or f" {lead}" in folded for lead in _ASK_INTRO)
    for lead in _ASK_INTRO:
        folded = folded.replace(lead, " ")
    wanted = " ".join(w for w in folded.split() if w not in _FILLER)
    if not wanted:
        return None
    names: dict[str, tuple[str, int]] = {}
    for key in turn.state.context.get("shown", [])[-PER_ROUND:]:
        kind, target_id = parse_target(str(key))
        if kind == "initiative":
            initiative = await turn.store.get_initiative(target_id)
            title = initiative.title if initiative else None
        else:
            neighbour = await turn.store.get_person(target_id)
            title = neighbour.first_name if neighbour else None
        if title:
            names[" ".join(words(title))] = (kind, target_id)
    best = process.extractOne(wanted, list(names), scorer=fuzz.partial_ratio, score_cutoff=80)
    if best is None or (not asked and len(wanted) < 4):
        return None
    return names[best[0]]


async def check_suggestion(turn: Turn, kind: str, target_id: int) -> Suggestion:
    """Is this still a fitting suggestion for this person? Raises NotAllowed if not."""
    if turn.person.blocked:
        raise NotAllowed("blocked by a moderator")
    seeker = seeker_from(turn.person)
    if seeker is None or turn.person.intake_done_at is None:
        raise NotAllowed("no profile to match")
    candidates, exclusions = await turn.store.list_match_candidates(
        turn.person.id,
        latitude=seeker.latitude,
        longitude=seeker.longitude,
        radius_m=seeker.max_distance_m,
        now=turn.now,
        kinds=(kind,),
    )
    for candidate in candidates:
        if candidate.kind == kind and candidate.id == target_id:
            suggestion = score(seeker, candidate, exclusions)
            if suggestion is not None:
                return suggestion
    raise NotAllowed("not a current suggestion")


def parse_target(key: str) -> tuple[str, int]:
    """ "i:12" → ("initiative", 12); raises NotAllowed for anything else."""
    letter, _, number = key.partition(":")
    if letter not in KINDS or not number.isdigit():
        raise NotAllowed("unknown target")
    return KINDS[letter], int(number)


async def dismiss(turn: Turn, kind: str, target_id: int) -> None:
    """ "Niet voor mij": never suggest it again."""
    await check_suggestion(turn, kind, target_id)
    if kind == "initiative":
        await turn.store.add_dismissal(turn.person.id, initiative_id=target_id, now=turn.now)
    else:
        await turn.store.add_dismissal(turn.person.id, neighbour_id=target_id, now=turn.now)
    turn.say(turn.t("ideas.dismissed"))
