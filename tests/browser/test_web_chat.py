"""The web chat in a real headless browser (Debian's chromium, driven by Playwright): a
newcomer completes the intake with buttons, reloads the page and goes on where she was, then
says "vergeet mij" — and the page and the database forget her."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from bot.app import App, open_app
from bot.runner import background
from bot.settings import Settings
from bot.web import CHAT_PATH, build_web_app
from bot.web.chat import COOKIE
from storage.db import Database
from tests.harness import seed_places

TIMEOUT_MS = 15_000  # a guard against hanging on a busy machine, never part of the logic


@pytest.fixture
async def served(settings: Settings, database: Database) -> AsyncIterator[tuple[App, str]]:
    """The app's web server on a loopback port, with the inbox handling what arrives."""
    plain = settings.model_copy(update={"chat_secure_cookie": False})  # http on loopback
    async with open_app(plain, apply_migrations=False) as app:
        await seed_places(app)
        server = TestServer(build_web_app(app), host="127.0.0.1")
        await server.start_server()
        try:
            async with background(inbox=app.inbox.run_forever(interval=0.2)):
                yield app, str(server.make_url(CHAT_PATH))
        finally:
            await server.close()


async def tap(page: Page, question: str, label: str) -> None:
    """Wait until the newest message asks `question`, then tap its button `label`."""
    newest = page.locator("#messages li.bot").last
    await expect(newest).to_contain_text(question, timeout=TIMEOUT_MS)
    await newest.get_by_role("button", name=label).click()


async def test_a_newcomer_in_the_browser(served: tuple[App, str], browser: Browser) -> None:
    app, address = served
    phone = await browser.new_context(locale="nl-NL", viewport={"width": 390, "height": 844})
    try:
        page = await phone.new_page()
        await page.goto(address)
        await page.get_by_label("Jouw bericht").fill("hallo")
        await page.get_by_role("button", name="Stuur").click()
        await tap(page, "Wil je meedoen?", "Ja, ik doe mee")
        await expect(page.get_by_text("Hoe mag ik je noemen?")).to_be_visible(timeout=TIMEOUT_MS)
        await page.get_by_label("Jouw bericht").fill("Sanne")
        await page.get_by_role("button", name="Stuur").click()
        await tap(page, "Of kies je buurt", "Almelo centrum")
        await expect(page.get_by_text("Wat doe je graag").last).to_be_visible(timeout=TIMEOUT_MS)

        await page.reload()  # the conversation is still there, and goes on
        await expect(page.get_by_text("Wat doe je graag").last).to_be_visible(timeout=TIMEOUT_MS)
        await tap(page, "Wat doe je graag", "Koken")
        await tap(page, "Wat zou je graag willen", "Wandelen")
        await tap(page, "Wanneer heb je", "Ochtend")
        await tap(page, "Hoe ver", "800 m")
        await tap(page, "in een groep", "In een groep")
        await tap(page, "gratis", "alleen gratis")
        await tap(page, "Klopt dit?", "Ja, dit klopt")
        await tap(page, "Mogen buren", "Nee, liever niet")
        await expect(page.get_by_text("Wat wil je nu doen?").last).to_be_visible(timeout=TIMEOUT_MS)
        chat_id = next(c["value"] for c in await page.context.cookies() if c["name"] == COOKIE)
        async with app.database.unit_of_work() as store:
            sanne = await store.find_person_by_identity("web", chat_id)
        assert sanne is not None and sanne.first_name == "Sanne"
        assert sanne.intake_done_at is not None and sanne.max_distance_m == 800
        await page.screenshot(path="/tmp/web-chat-done.png")

        await page.get_by_label("Jouw bericht").fill("vergeet mij")
        await page.get_by_role("button", name="Stuur").click()
        await tap(page, "Weet je het zeker?", "Ja, wis alles")
        await expect(page.get_by_text("Ik heb alles van je gewist")).to_be_visible(
            timeout=TIMEOUT_MS
        )
        async with app.database.unit_of_work() as store:
            assert await store.get_person(sanne.id) is None
        await page.wait_for_timeout(2500)  # the next fetch tells the page it was forgotten
        await page.reload()
        await expect(page.get_by_text("Hoe mag ik je noemen?")).to_have_count(0)
    finally:
        await phone.close()
