"""The board's candle chart in headless Chromium, against the real server over loopback."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import aiohttp

from tests.support.browser import ARTIFACTS, browser_page
from tests.support.helpers import config, running

#: Counts the chart's candle pixels (board.css --up / --down) and hashes what the canvases show.
CANVAS_PROBE = """() => {
  const up = [0x3f, 0xb9, 0x50], down = [0xf8, 0x51, 0x49];
  const near = (d, i, c) => Math.abs(d[i] - c[0]) < 12 && Math.abs(d[i + 1] - c[1]) < 12 && Math.abs(d[i + 2] - c[2]) < 12;
  let candles = 0, hash = 0;
  for (const canvas of document.querySelectorAll('#chart canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (near(d, i, up) || near(d, i, down)) candles += 1;
      hash = (hash * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) | 0;
    }
  }
  return {candles, hash};
}"""


async def probe(page: Any) -> dict[str, int]:
    return dict(await page.evaluate(CANVAS_PROBE))


async def test_the_board_draws_candles_that_change_as_ticks_arrive() -> None:
    cfg = config(feeds=[{"type": "synthetic", "rate": 600.0, "seed": 5, "symbols": ["EURUSD", "GBPUSD", "USDJPY"]}])
    async with running(cfg) as srv, browser_page() as page:
        problems: list[str] = []
        page.on(  # the browser's own favicon request is not the page's
            "console",
            lambda m: problems.append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None,
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        await asyncio.sleep(2.2)  # a couple of closed 1s bars before the page asks for history
        await page.goto(srv.base + "/?symbols=EURUSD,GBPUSD,USDJPY&chart=EURUSD&interval=1s")
        await page.wait_for_selector('#chart[data-ready="true"][data-symbol="EURUSD"]')
        await page.wait_for_function("() => Number(document.querySelector('#chart').dataset.bars) >= 3")

        # Candles are on the canvas, and they move with the ticks (forming updates, new bars).
        first = await probe(page)
        assert first["candles"] > 50
        seq0 = int(await page.get_attribute("#chart", "data-seq") or 0)
        bars0 = int(await page.get_attribute("#chart", "data-bars") or 0)
        await page.wait_for_function(
            "n => Number(document.querySelector('#chart').dataset.bars) >= n + 2", arg=bars0, timeout=10_000
        )
        second = await probe(page)
        # The canvas changed and still shows candles (their pixel count moves with the
        # price axis as the chart rescales, so it is not compared).
        assert second["hash"] != first["hash"] and second["candles"] > 50
        assert int(await page.get_attribute("#chart", "data-seq") or 0) > seq0

        # History (REST) and stream joined without a gap: one candle per second that had ticks.
        url = f"{srv.base}/api/bars?symbol=EURUSD&interval=1s&count=500"
        async with aiohttp.ClientSession() as http, http.get(url) as r:
            server = (await r.json())["bars"]
        shown = int(await page.get_attribute("#chart", "data-bars") or 0)
        assert abs(shown - len(server)) <= 1
        starts = [b["start"] for b in server]
        assert all(b - a == 1_000_000 for a, b in itertools.pairwise(starts))

        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "quote-board-chart.png"), full_page=True)

        # The interval picker, and a click on another row of the board.
        await page.click('#chart button[data-interval="1m"]')
        await page.wait_for_selector('#chart[data-ready="true"][data-interval="1m"]')
        assert int(await page.get_attribute("#chart", "data-bars") or 0) >= 1
        await page.click('tr[data-symbol="USDJPY"] td.symbol')
        await page.wait_for_selector('#chart[data-ready="true"][data-symbol="USDJPY"][data-interval="1m"]')
        assert await page.get_attribute('tr[data-symbol="USDJPY"]', "data-charted") == "true"
        assert (await probe(page))["candles"] > 0
        assert await page.inner_text("#chart .chart-foot a") == "Charting by TradingView Lightweight Charts™"
    assert problems == []  # no script error, no Content-Security-Policy violation


async def test_the_vendored_library_and_its_licence_are_served_from_the_package() -> None:
    async with running() as srv, aiohttp.ClientSession() as http:
        async with http.get(f"{srv.base}/ui/vendor/lightweight-charts.mjs") as r:
            body = await r.text()
            assert r.status == 200 and r.content_type == "text/javascript"
            assert "TradingView Lightweight Charts" in body[:300] and "export{" in body
            assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        async with http.get(f"{srv.base}/ui/vendor/LICENSE-lightweight-charts.txt") as r:
            assert r.status == 200 and "Apache License" in await r.text()
        for path in ("/ui/vendor/x/y.js", "/ui/vendor/nope.mjs", "/ui/nope.js"):
            async with http.get(srv.base + path) as r:
                assert r.status == 404, path
