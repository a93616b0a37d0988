"""A real headless chromium for the browser tests, driven by Playwright's async API.

Playwright only drives the system's chromium here (`.ci/run` installs Debian's package when
it is missing); it never downloads a browser of its own. Without chromium these tests fail,
with a message that says how to install it: a browser test that skips proves nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

TABLET: ViewportSize = {"width": 1024, "height": 768}


def chromium_path() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(
            "chromium is not installed: the browser tests need it "
            "(apt-get install chromium; .ci/run does this in CI)",
            pytrace=False,
        )
    return found


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless chromium; without its sandbox when running as root (as CI does)."""
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=args
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh page in a tablet-sized window (1024x768)."""
    context = await browser.new_context(viewport=TABLET)
    try:
        yield await context.new_page()
    finally:
        await context.close()
