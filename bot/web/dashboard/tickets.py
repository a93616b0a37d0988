"""The ticket inbox, most urgent first, and the actions on a ticket: assign to me, reply,
internal note, close. Every page and action on a ticket is written to the audit log."""

from __future__ import annotations

from aiohttp import web

from bot.web.dashboard.context import CONTEXT
from bot.web.dashboard.pages import form_text, language, number, redirect, render
from bot.web.dashboard.security import moderator_of
from handlers import moderation
from handlers.reporting import describe, reported_introduction
from storage.protocols import DashboardStore
from storage.records import Moderator, Ticket


async def _ticket(store: DashboardStore, moderator: Moderator, ticket_id: int) -> Ticket:
    ticket = await store.get_ticket(moderator.scope, ticket_id)
    if ticket is None:
        raise web.HTTPNotFound()
    return ticket


async def inbox(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    async with context.unit_of_work() as store:
        tickets = await store.list_tickets(moderator.scope)
        newest = await store.newest_ticket_id(moderator.scope)
    return render(request, "inbox.html", tickets=tickets, newest=newest)


async def inbox_rows(request: web.Request) -> web.Response:
    """The rows of the inbox alone: the page's script fetches them when there is news."""
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    async with context.unit_of_work() as store:
        tickets = await store.list_tickets(moderator.scope)
    return render(request, "inbox_rows.html", tickets=tickets)


async def inbox_poll(request: web.Request) -> web.Response:
    """The newest ticket id and how many are waiting: cheap to ask every few seconds."""
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    async with context.unit_of_work() as store:
        tickets = await store.list_tickets(moderator.scope)
        newest = await store.newest_ticket_id(moderator.scope)
    return web.json_response({"newest": newest, "waiting": len(tickets)})


async def ticket_page(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    async with context.unit_of_work() as store:
        ticket = await _ticket(store, moderator, number(request))
        lines = await store.list_ticket_messages(moderator.scope, ticket.id)
        await store.record_audit(
            moderator, action="view_ticket", now=context.clock(), person_id=ticket.person_id
        )
        reports: dict[str, str] = {}  # a report line -> what it was about, in plain words
        for line in lines:
            intro_id = reported_introduction(line.body)
            if intro_id is None or line.body in reports:
                continue
            thing = await store.describe_report(moderator.scope, ticket.id, intro_id)
            if thing is None:
                continue
            reports[line.body] = describe(context.texts, language(request), thing)
            if thing.other_id is not None:  # the reported person's data was seen too
                await store.record_audit(
                    moderator,
                    action="view_report",
                    now=context.clock(),
                    person_id=thing.other_id,
                    detail=f"ticket #{ticket.id}",
                )
    return render(request, "ticket.html", ticket=ticket, lines=lines, reports=reports)


async def _act(request: web.Request, action: str) -> web.Response:
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    text = await form_text(request, "text")
    now = context.clock()
    async with context.unit_of_work() as store:
        ticket = await _ticket(store, moderator, number(request))
        if action == "assign":
            done = await moderation.assign(store, context.texts, moderator, ticket, now=now)
        elif action == "reply":
            done = await moderation.reply(store, context.texts, moderator, ticket, text, now=now)
        elif action == "note":
            done = bool(text)
            if done:
                await store.add_ticket_message(
                    ticket.id, kind="note", body=text, now=now, moderator_id=moderator.id
                )
        else:
            done = await moderation.close(store, context.texts, moderator, ticket, now=now)
        if done:
            await store.record_audit(
                moderator, action=f"ticket_{action}", now=now, person_id=ticket.person_id
            )
    if not done:
        raise web.HTTPConflict(text="This ticket cannot take that action now.")
    raise redirect(request, "ticket", id=ticket.id)


async def assign(request: web.Request) -> web.Response:
    return await _act(request, "assign")


async def reply(request: web.Request) -> web.Response:
    return await _act(request, "reply")


async def note(request: web.Request) -> web.Response:
    return await _act(request, "note")


async def close(request: web.Request) -> web.Response:
    return await _act(request, "close")


async def home(request: web.Request) -> web.Response:
    raise redirect(request, "inbox")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", home, name="home")
    app.router.add_get("/inbox", inbox, name="inbox")
    app.router.add_get("/inbox/rows", inbox_rows, name="inbox_rows")
    app.router.add_get("/inbox/poll", inbox_poll, name="inbox_poll")
    app.router.add_get("/tickets/{id}", ticket_page, name="ticket")
    app.router.add_post("/tickets/{id}/assign", assign, name="ticket_assign")
    app.router.add_post("/tickets/{id}/reply", reply, name="ticket_reply")
    app.router.add_post("/tickets/{id}/note", note, name="ticket_note")
    app.router.add_post("/tickets/{id}/close", close, name="ticket_close")
