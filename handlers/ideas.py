"""Suggestions in the chat: at most three at a time, each with its reason in plain words.

Each suggestion carries its own buttons, "s:<kind>:<id>:intro" and "s:<kind>:<id>:dismiss".
They are not tied to a question: they stay usable while the person does other things, and
are checked again when pressed (is it still a fitting suggestion for this person?).
"""

from __future__ import annotations

from handlers.errors import NotAllowed
from handlers.matching import Suggestion, distance_band, score, seeker_from
from handlers.messages import Option
from handlers.suggest import find_suggestions
from handlers.turn import Turn
from storage.records import Candidate

PER_ROUND = 3
IDEAS_KEY = "g:ideas"  # "show me ideas", valid at any time (sent in reminders and declines)
KINDS = {"i": "initiative", "p": "neighbour"}
LETTERS = {kind: letter for letter, kind in KINDS.items()}


def target_key(candidate: Candidate) -> str:
    return f"{LETTERS[candidate.kind]}:{candidate.id}"


def tag_words(turn: Turn, tags: tuple[str, ...] | list[str], language: str | None = None) -> str:
    """Tag labels as words in a sentence: "koken en tuinieren"."""
    lang = language or turn.lang
    words = []
    for tag in tags:
        if tag in turn.taxonomy:
            label = turn.taxonomy.get(tag).label(lang)
            label = label.lstrip("".join(c for c in label if not c.isalnum()))
            words.append(label[:1].lower() + label[1:])
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + turn.texts(lang, "ideas.and") + words[-1]


def distance_words(turn: Turn, metres: int) -> str:
    if metres < 1000:
        return turn.t("ideas.metres", metres=max(50, round(metres / 50) * 50))
    km = f"{metres / 1000:.1f}".replace(".", "," if turn.lang == "nl" else ".")
    return turn.t("ideas.km", km=km.removesuffix(",0").removesuffix(".0"))


def reason_text(turn: Turn, suggestion: Suggestion) -> str:
    """ "400 m — jullie houden allebei van tuinieren"."""
    reason = suggestion.reason
    parts = []
    if reason.shared:
        parts.append(turn.t("ideas.reason.shared", tags=tag_words(turn, reason.shared)))
    if reason.they_offer:
        parts.append(turn.t("ideas.reason.they_offer", tags=tag_words(turn, reason.they_offer)))
    if reason.you_can_help:
        parts.append(turn.t("ideas.reason.you_can_help", tags=tag_words(turn, reason.you_can_help)))
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
    return f"👤 {who}\n📍 {reason_text(turn, suggestion)}"


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
    if not fresh:
        turn.say(turn.t("ideas.none_more" if shown else "ideas.none"))
        turn.set_context(shown=[])  # next time, start from the best ones again
        return 0
    turn.say(turn.t("ideas.intro"))
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
    return len(fresh)


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
