"""Timers of an introduction, run once each by the scheduler: one reminder after 3 days
without an answer, expiry after 7, "hebben jullie elkaar ontmoet?" a week after a yes, and
"hebben jullie elkaar nog eens gezien?" four weeks after "we met" (the impact figure
"met again")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from handlers.i18n import Texts
from handlers.ideas import IDEAS_KEY
from handlers.introduction_states import ACCEPTED, EXPIRE
from handlers.introductions import AGAIN, OUTCOMES, send_request
from handlers.parties import first_name, named_people, side_name
from handlers.taxonomy import Taxonomy
from storage.records import Job
from storage.store import Store


def outcome_options(texts: Texts, lang: str, intro_id: int) -> tuple[tuple[str, str], ...]:
    return tuple((f"x:{intro_id}:{o}", texts(lang, f"button.outcome.{o}")) for o in OUTCOMES)


JobHandler = Callable[[Store, Job, datetime], Awaitable[None]]


def job_handlers(texts: Texts, taxonomy: Taxonomy) -> Mapping[str, JobHandler]:
    """What each kind of timer does when it fires (run by the scheduler, once)."""

    async def remind(store: Store, job: Job, now: datetime) -> None:
        intro = await store.get_introduction(job.introduction_id or 0)
        if intro is not None and intro.status == "requested":
            await send_request(store, texts, taxonomy, intro, reminder=True)

    async def expire(store: Store, job: Job, now: datetime) -> None:
        intro = await store.change_introduction(
            job.introduction_id or 0,
            allowed=EXPIRE.sources,
            changes={"status": EXPIRE.target, "answered_at": now, "ended_at": now},
        )
        if intro is None:  # answered, or gone, before the week was over
            return
        requester = await store.get_person(intro.requester_id)
        if requester is not None:
            lang = requester.language
            name = await side_name(store, intro, texts, lang)
            await store.queue_message(
                requester.id,
                texts(lang, "intro.expired", name=name),
                ((IDEAS_KEY, texts(lang, "menu.ideas")),),
                introduction_id=intro.id,
                about=named_people(intro),
            )

    async def follow_up(store: Store, job: Job, now: datetime) -> None:
        intro = await store.get_introduction(job.introduction_id or 0)
        if intro is None or intro.status != ACCEPTED:
            return
        asked = [intro.requester_id]
        if intro.neighbour_id is not None:
            asked.append(intro.neighbour_id)
        only = job.payload.get("only")
        for person_id in asked:
            if only is not None and person_id != only:
                continue
            person = await store.get_person(person_id)
            if person is None:
                continue
            other = await side_name(store, intro, texts, person.language)
            if person_id != intro.requester_id:
                other = first_name(
                    await store.get_person(intro.requester_id), texts, person.language
                )
            await store.queue_message(
                person_id,
                texts(person.language, "followup.question", name=other),
                outcome_options(texts, person.language, intro.id),
                introduction_id=intro.id,
                about=named_people(intro),
            )

    async def ask_again(store: Store, job: Job, now: datetime) -> None:
        intro = await store.get_introduction(job.introduction_id or 0)
        person = await store.get_person(int(job.payload.get("only", 0)))
        if intro is None or intro.status != ACCEPTED or person is None:
            return
        lang = person.language
        if person.id == intro.requester_id:
            other = await side_name(store, intro, texts, lang)
        else:
            other = first_name(await store.get_person(intro.requester_id), texts, lang)
        await store.queue_message(
            person.id,
            texts(lang, "followup.again_question", name=other),
            tuple((f"x:{intro.id}:{a}", texts(lang, label)) for a, label in AGAIN.items()),
            introduction_id=intro.id,
            about=named_people(intro),
        )

    return {
        "intro_reminder": remind,
        "intro_expiry": expire,
        "intro_followup": follow_up,
        "intro_again": ask_again,
    }
