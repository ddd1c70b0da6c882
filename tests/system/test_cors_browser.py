"""A dashboard on another origin reads the HTTP API from headless Chromium (Debian's, through
Playwright): a real cross-origin fetch with a token, so a real preflight first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from tests.support.browser import browser_page
from tests.support.helpers import config, running, wait_for
from ticker.security.tokens import hash_key

pytestmark = pytest.mark.system

KEY = "tk_browser_cors_0123456789abcdef"
PAGE = b"<!doctype html><title>my dashboard</title><p>a dashboard's dev server"

FETCH = """async ([api, key]) => {
  const opts = {headers: {Authorization: `Bearer ${key}`}};
  try {
    const symbols = await (await fetch(`${api}/api/symbols`, opts)).json();
    const snap = await (await fetch(`${api}/api/snapshot?symbols=EURUSD,GBPUSD`, opts)).json();
    return {symbols: symbols.symbols.map(s => s.symbol), snapshots: snap.snapshots};
  } catch (e) {
    return {refused: `${e.name}: ${e.message}`};
  }
}"""


@asynccontextmanager
async def dev_server() -> AsyncIterator[str]:
    """Another origin: a bare page on its own loopback port, as a dashboard's dev server."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_a_dashboard_on_another_port_fetches_symbols_and_snapshots_and_a_stranger_cannot() -> None:
    async with dev_server() as dashboard, dev_server() as stranger:
        cfg = config(
            server={"host": "127.0.0.1", "port": 0, "heartbeat_s": 0, "allowed_origins": [dashboard]},
            auth={"enabled": True, "keys": [{"name": "dash", "sha256": hash_key(KEY), "symbols": ["*"]}]},
        )
        async with running(cfg) as srv, browser_page() as page:
            await wait_for(lambda: srv.service.ready)
            await page.goto(dashboard + "/")
            got = await page.evaluate(FETCH, [srv.base, KEY])
            assert "refused" not in got, got
            assert {"EURUSD", "GBPUSD", "XAUUSD"} <= set(got["symbols"])
            assert [s["symbol"] for s in got["snapshots"]] == ["EURUSD", "GBPUSD"]
            assert all(s["bid"] > 0 for s in got["snapshots"])

            await page.goto(stranger + "/")
            got = await page.evaluate(FETCH, [srv.base, KEY])
            assert got["refused"].startswith("TypeError"), got  # the browser withholds the answer
