"""People (search; a profile with its conversation, every view audited; block, unblock),
initiatives (approve, reject with a reason for the organiser, pause), organiser invite
codes, and the audit log for admins."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.web.dashboard.context import CONTEXT
from bot.web.dashboard.pages import form_text, number, redirect, render, t
from bot.web.dashboard.security import moderator_of
from handlers.introductions import stop_for_block
from storage.records import Scope

INVITE_VALID = timedelta(days=14)
# Where each initiative action may start from, and where it leads.
MOVES = {
    "approve": (("pending", "paused"), "approved"),
    "pause": (("approved",), "paused"),
    "reject": (("pending", "paused", "approved"), "archived"),
}


async def people(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    name = request.query.get("name", "")[:64]
    area = request.query.get("area", "")[:80]
    tag = request.query.get("tag", "")[:40]
    found = []
    if name or area or tag:
        async with context.unit_of_work() as store:
            found = await store.search_people(moderator.scope, name=name, area=area, tag=tag)
            await store.record_audit(
                moderator, action="search_people", now=context.clock(), detail=f"{len(found)}"
            )
    return render(request, "people.html", found=found, name=name, area=area, tag=tag)


async def person(request: web.Request) -> web.Response:
    """A profile with its conversation; the view is written to the audit log."""
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    async with context.unit_of_work() as store:
        found = await store.get_person_in_scope(moderator.scope, number(request))
        if found is None:
            raise web.HTTPNotFound()
        conversation = await store.list_logged_messages(found.id)
        await store.record_audit(
            moderator, action="view_profile", now=context.clock(), person_id=found.id
        )
    return render(request, "person.html", person=found, conversation=conversation)


async def block(request: web.Request) -> web.Response:
    """Block or unblock a person; they are told once, kindly, through the outbox. A blocked
    organiser's initiatives are not suggested (`storage.matching`) until the block is
    lifted: the same message tells them that too."""
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    blocked = request.match_info.get("action") == "block"
    now = context.clock()
    async with context.unit_of_work() as store:
        found = await store.set_blocked(moderator.scope, number(request), blocked=blocked, now=now)
        if found is None:
            raise web.HTTPNotFound()
        if blocked:  # their waiting requests stop; unblocking does not restart them
            await stop_for_block(store, context.texts, found.id, now=now)
        key = "moderation.blocked" if blocked else "moderation.unblocked"
        text = context.texts(found.language, key)
        organised = await store.list_initiatives_of(found.id)
        titles = [i.title for i in organised if i.status == "approved"]  # those suggested
        if titles:
            more = "moderation.blocked_organiser" if blocked else "moderation.unblocked_organiser"
            text += "\n\n" + context.texts(found.language, more, titles=", ".join(titles))
        await store.queue_message(found.id, text)
        await store.record_audit(
            moderator, action="block" if blocked else "unblock", now=now, person_id=found.id
        )
    raise redirect(request, "person", id=found.id)


async def initiatives(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    async with context.unit_of_work() as store:
        found = await store.list_initiatives_in_scope(moderator.scope)
    return render(request, "initiatives.html", initiatives=found)


async def move_initiative(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    action = request.match_info.get("action", "")
    if action not in MOVES:
        raise web.HTTPNotFound()
    allowed_from, status = MOVES[action]
    reason = await form_text(request, "reason", 500)
    if action == "reject" and not reason:
        raise web.HTTPBadRequest(text=t(request, "dash.initiative.reason_needed"))
    now = context.clock()
    initiative_id = number(request)
    async with context.unit_of_work() as store:
        current = {i.id: i for i in await store.list_initiatives_in_scope(moderator.scope)}
        initiative = current.get(initiative_id)
        if initiative is None:
            raise web.HTTPNotFound()
        if initiative.status not in allowed_from:
            raise web.HTTPConflict(text=t(request, "dash.initiative.not_now"))
        await store.set_initiative_status_in_scope(moderator.scope, initiative.id, status, now=now)
        if action == "reject":
            for organiser_id in await store.list_organiser_ids(initiative.id):
                # the organisers of an initiative this moderator may see: told in their language
                organiser = await store.get_person_in_scope(Scope(None), organiser_id)
                if organiser is not None:
                    text = context.texts(
                        organiser.language,
                        "moderation.rejected",
                        title=initiative.title,
                        reason=reason,
                    )
                    await store.queue_message(organiser.id, text)
        await store.record_audit(
            moderator, action=f"initiative_{action}", now=now, detail=f"#{initiative.id}"
        )
    raise redirect(request, "initiatives")


async def invite(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    async with context.unit_of_work() as store:
        code = await store.create_invite(
            moderator.organisation_id, expires_at=context.clock() + INVITE_VALID
        )
        await store.record_audit(moderator, action="create_invite", now=context.clock())
    bot = context.settings.telegram_bot_username.lstrip("@")
    link = f"https://t.me/{bot}?start={code}" if bot else ""
    expires = (context.clock() + INVITE_VALID).strftime("%d-%m-%Y")
    return render(request, "invite.html", code=code, link=link, expires=expires)


def _query_id(request: web.Request, name: str) -> int | None:
    """An optional id from the query string; anything but a number is not found."""
    value = request.query.get(name, "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise web.HTTPNotFound()
    return int(value)


async def audit(request: web.Request) -> web.Response:
    """The audit log (admins only): all of it, one person's trail (`?person=`), or one
    moderator's (`?moderator=`). Reading a trail is itself written to the log."""
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    if moderator.role != "admin":
        raise web.HTTPForbidden()
    person_id = _query_id(request, "person")
    moderator_id = _query_id(request, "moderator")
    async with context.unit_of_work() as store:
        if person_id is not None or moderator_id is not None:
            await store.record_audit(
                moderator,
                action="view_audit",
                now=context.clock(),
                person_id=person_id,
                detail="" if moderator_id is None else f"moderator #{moderator_id}",
            )
        entries = await store.list_audit(person_id=person_id, moderator_id=moderator_id)
    return render(
        request, "audit.html", entries=entries, person_id=person_id, moderator_id=moderator_id
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/people", people, name="people")
    app.router.add_get("/people/{id}", person, name="person")
    app.router.add_post("/people/{id}/{action:block|unblock}", block, name="person_block")
    app.router.add_get("/initiatives", initiatives, name="initiatives")
    app.router.add_post("/initiatives/{id}/{action}", move_initiative, name="initiative_move")
    app.router.add_post("/invites", invite, name="invite")
    app.router.add_get("/audit", audit, name="audit")
