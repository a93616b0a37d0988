"""A moderator takes over a conversation in a real browser, end to end.

A resident on the fake Telegram Bot API asks for a person; the program's own web server
(`bot.runner.serve_telegram`, which mounts the dashboard under /dashboard/) runs on a
loopback port; a moderator in headless chromium logs in, sees the ticket appear in the inbox
without reloading the page, takes it, replies, reads the resident's answer and closes it.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from bot.app import App
from bot.runner import serve_telegram
from bot.settings import Settings
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.test_telegram_intake import Chat, start_with_buttons, t, where
from tests.harness import seed_places
from tests.web.dashboard_harness import PASSWORD, account, organisation

SCREENSHOT = "/tmp/dashboard-inbox.png"
WAIT_MS = 30_000  # generous: every wait ends as soon as its condition holds (polls every 10 s)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Plain http on loopback: the session cookie cannot be marked Secure here."""
    return settings.model_copy(update={"dashboard_secure_cookie": False})


async def from_dashboard(chat: Chat, since_her_last_word: int) -> str:
    """The newest message to the resident, once the bot has sent her that many since she
    last wrote (a moderator's action on the dashboard is not an update of hers)."""
    new = await chat.expect(since_her_last_word)
    return new[-1].text or ""


async def log_in(page: Page, app: App, dashboard: str) -> None:
    await page.goto(f"{dashboard}login")
    await page.get_by_label(t(app, "dash.login.email")).fill("fatima@example.org")
    await page.get_by_label(t(app, "dash.login.password")).fill(PASSWORD)
    await page.get_by_role("button", name=t(app, "dash.login.submit")).click()
    await expect(page.get_by_role("heading", name=t(app, "dash.inbox.title"))).to_be_visible()


async def test_a_moderator_takes_over_in_the_browser(
    app: App, tg: FakeTelegram, page: Page
) -> None:
    await seed_places(app)
    woonstad = await organisation(app.database, "woonstad", "Woonstad", "7607")
    await account(app.database, woonstad, "fatima@example.org", name="Fatima")
    async with serve_telegram(
        app, base_url=f"{tg.url}/bot", poll_timeout=1, run_scheduler=False
    ) as running:
        anna = Chat(tg, tg.user(5101, first_name="Anna"))
        await start_with_buttons(app, anna)  # she lives in Almelo centrum: 7607
        dashboard = f"{running.web_url}/dashboard/"
        await log_in(page, app, dashboard)
        inbox = page.locator("#inbox tbody")
        await expect(inbox).to_contain_text(t(app, "dash.inbox.empty"))
        await page.evaluate("window.stayedHere = true")  # gone if the page reloads

        [asked] = await anna.say("ik wil iemand spreken", 1)
        assert asked.text == t(app, "moderation.asked")
        row = inbox.get_by_role("link", name="Anna")
        await expect(row).to_be_visible(timeout=WAIT_MS)  # the inbox's script fetched it
        await expect(page.locator("#news")).to_be_visible()
        assert await page.evaluate("window.stayedHere === true")
        await expect(inbox).to_contain_text(t(app, "dash.reason.asked_for_human"))
        await page.screenshot(path=SCREENSHOT, full_page=True)

        await row.click()
        await expect(page.locator(".lines")).to_contain_text("ik wil iemand spreken")
        await page.get_by_role("button", name=t(app, "dash.ticket.assign")).click()
        taken = t(app, "moderation.taken", name="Fatima", organisation="Woonstad")
        assert await from_dashboard(anna, 2) == taken

        await page.get_by_label(t(app, "dash.ticket.reply")).fill("Hoi Anna, waar kan ik helpen?")
        await page.get_by_role("button", name=t(app, "dash.ticket.send")).click()
        assert await from_dashboard(anna, 3) == "Fatima (Woonstad): Hoi Anna, waar kan ik helpen?"

        [forwarded] = await anna.say("Ik zoek een tuinclub bij mij in de buurt", 1)
        assert forwarded.text == t(app, "moderation.forwarded", name="Fatima")
        await page.reload()
        await expect(page.locator(".lines")).to_contain_text("Ik zoek een tuinclub")

        await page.get_by_role("button", name=t(app, "dash.ticket.close")).click()
        assert await from_dashboard(anna, 2) == t(app, "moderation.closed", name="Fatima")
        await expect(page.get_by_role("button", name=t(app, "dash.ticket.send"))).to_have_count(0)

        assert (await where(app, anna.user))[0] == "gifts"
        await anna.say("ik kook graag en ben handig met klussen", 1)  # the bot again
        assert (await where(app, anna.user))[0] != "gifts"
