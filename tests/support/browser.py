"""Headless Chromium for tests: Debian's system browser driven by Playwright.

Playwright's own browser downloads are never used (`playwright install`
cannot run here); `.ci/run` installs Debian's `chromium` when it is missing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playwright.async_api import Page, async_playwright

from tests.support.paths import ROOT

CHROMIUM = os.environ.get("TICKER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "artifacts"


@asynccontextmanager
async def browser_page(width: int = 1280, height: int = 720, timezone_id: str | None = None) -> AsyncIterator[Page]:
    """A fresh page; ``timezone_id`` (an IANA zone) sets the page's local time zone."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat, before the browser starts
        raise FileNotFoundError(f"{CHROMIUM} missing: `apt-get install chromium` (.ci/run does this)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": width, "height": height}, timezone_id=timezone_id)
            page = await context.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            await browser.close()
