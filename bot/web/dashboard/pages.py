"""Rendering a page: the template, the moderator's language, their CSRF token, and links
built from route names (so the pages work wherever the sub-application is mounted)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.web.dashboard.context import CONTEXT, MODERATOR, SESSION
from bot.web.dashboard.security import csrf_token
from handlers.i18n import DEFAULT_LANGUAGE, LANGUAGES


def language(request: web.Request) -> str:
    session = request[SESSION]
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(request: web.Request, key: str, **values: Any) -> str:
    return request.app[CONTEXT].texts(language(request), key, **values)


def url(request: web.Request, name: str, **parts: Any) -> str:
    query = parts.pop("query", None)
    target = request.app.router[name].url_for(**{k: str(v) for k, v in parts.items()})
    return str(target.with_query(query) if query else target)


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    lang = language(request)
    texts = request.app[CONTEXT].texts

    def translate(key: str, **more: Any) -> str:
        return texts(lang, key, **more)

    def link(name: str, **parts: Any) -> str:
        return url(request, name, **parts)

    page = {
        "error": "",
        "notice": "",
        "t": translate,
        "url": link,
        "lang": lang,
        "csrf": csrf_token(request[SESSION]),
        "moderator": request.get(MODERATOR),
        "static": str(request.app.router["static"].url_for(filename="")),
        **values,
    }
    response = aiohttp_jinja2.render_template(template, request, page, status=status)
    response.headers["Content-Language"] = lang
    return response


def redirect(request: web.Request, name: str, **parts: Any) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(url(request, name, **parts))


def number(request: web.Request, part: str = "id") -> int:
    """An id from the path; a path that is not a number is simply not found."""
    value = request.match_info.get(part, "")
    if not value.isdigit() or len(value) > 12:
        raise web.HTTPNotFound()
    return int(value)


async def form_text(request: web.Request, name: str, limit: int = 2000) -> str:
    value = (await request.post()).get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""
