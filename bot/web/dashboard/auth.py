"""Logging in and out, changing the one-time password, and choosing the language."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiohttp import web
from aiohttp_session import new_session

from bot.web.dashboard.context import CONTEXT, MODERATOR, SESSION
from bot.web.dashboard.pages import form_text, redirect, render, t
from bot.web.dashboard.security import (
    Locked,
    csrf_token,
    hash_password,
    login,
    moderator_of,
    password_matches,
    password_problem,
)
from handlers.i18n import LANGUAGES

log = logging.getLogger(__name__)


async def login_page(request: web.Request) -> web.Response:
    if request.get(MODERATOR) is not None:
        raise redirect(request, "inbox")
    notice = t(request, "dash.login.expired") if request.query.get("expired") else ""
    return render(request, "login.html", notice=notice)


async def login_submit(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    settings = context.settings
    email = await form_text(request, "email", 254)
    password = await form_text(request, "password", 1000)
    address = request.remote or "unknown"
    try:
        async with context.unit_of_work() as store:
            moderator = await login(
                store,
                email=email,
                password=password,
                address=address,
                now=context.clock(),
                failures=settings.dashboard_lockout_failures,
                lock_for=timedelta(minutes=settings.dashboard_lockout_minutes),
            )
    except Locked as locked:
        log.warning("a login was refused: the %s is locked", locked)
        return render(request, "login.html", status=429, error=t(request, "dash.login.locked"))
    if moderator is None:
        log.info("a login failed")
        return render(request, "login.html", status=401, error=t(request, "dash.login.wrong"))
    lang = request[SESSION].get("lang")
    session = await new_session(request)  # a fresh session id and token after login
    session["moderator_id"] = moderator.id
    session["seen"] = context.clock().timestamp()
    if lang is not None:
        session["lang"] = lang
    csrf_token(session)
    log.info("moderator %s logged in", moderator.id)
    raise redirect(request, "password" if moderator.must_change_password else "inbox")


async def logout(request: web.Request) -> web.Response:
    request[SESSION].invalidate()
    raise redirect(request, "login")


async def password_page(request: web.Request) -> web.Response:
    moderator = moderator_of(request)
    return render(request, "password.html", first=moderator.must_change_password)


async def password_submit(request: web.Request) -> web.Response:
    context = request.app[CONTEXT]
    moderator = moderator_of(request)
    current = await form_text(request, "current", 1000)
    new = await form_text(request, "new", 1000)
    repeat = await form_text(request, "repeat", 1000)
    problem = None
    if not password_matches(moderator.password_hash, current):
        problem = "dash.password.wrong"
    elif new != repeat:
        problem = "dash.password.different"
    elif new == current:
        problem = "dash.password.same"
    else:
        problem = password_problem(new, moderator.email)
    if problem is not None:
        return render(
            request,
            "password.html",
            status=400,
            first=moderator.must_change_password,
            error=t(request, problem),
        )
    async with context.unit_of_work() as store:
        await store.set_moderator_password(moderator.id, hash_password(new))
    raise redirect(request, "inbox")


async def choose_language(request: web.Request) -> web.Response:
    code = request.match_info.get("code", "")
    if code in LANGUAGES:
        request[SESSION]["lang"] = code
    raise redirect(request, "inbox" if request.get(MODERATOR) else "login")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login_submit, name="login_submit")
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/password", password_page, name="password")
    app.router.add_post("/password", password_submit, name="password_submit")
    app.router.add_get("/language/{code}", choose_language, name="language")
