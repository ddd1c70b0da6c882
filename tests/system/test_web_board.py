"""The quote board at GET / in headless Chromium, against the real server over loopback."""

import asyncio
import time

import orjson
import pytest
from playwright.async_api import Page, WebSocket

from tests.support.browser import ARTIFACTS, browser_page
from tests.support.helpers import running
from ticker.core.model import Status


class Frames:
    """Every frame the page's WebSockets receive, with the URLs they opened."""

    def __init__(self, page: Page) -> None:
        self.messages: list[dict] = []
        self.urls: list[str] = []
        page.on("websocket", self._opened)

    def _opened(self, ws: WebSocket) -> None:
        self.urls.append(ws.url)
        ws.on("framereceived", self._frame)

    def _frame(self, payload: str | bytes) -> None:
        data = orjson.loads(payload)
        self.messages.extend(data if isinstance(data, list) else [data])

    async def wait(self, pred, timeout: float = 10.0) -> int:  # type: ignore[no-untyped-def]
        """Index of the first message satisfying ``pred`` (bounded in time)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, m in enumerate(self.messages):
                if pred(m):
                    return i
            await asyncio.sleep(0.05)
        raise TimeoutError("no such frame")


async def cell_text(page: Page, symbol: str, cls: str) -> str:
    return await page.inner_text(f'tr[data-symbol="{symbol}"] td.{cls}')


async def wait_price(page: Page, symbol: str) -> None:
    await page.wait_for_selector(f'tr[data-symbol="{symbol}"] td.bid .pips')


async def test_board_shows_live_quotes_and_removing_a_symbol_stops_its_updates() -> None:
    async with running() as srv, browser_page() as page:
        frames = Frames(page)
        await page.goto(srv.base + "/?symbols=EURUSD,USDJPY,XAUUSD,GBPUSD")
        await page.wait_for_selector('#conn[data-state="live"]')
        for sym in ("EURUSD", "USDJPY", "XAUUSD", "GBPUSD"):
            await wait_price(page, sym)

        # Prices split as trading screens show them: big figure, pips (large), pipette.
        parts = await page.eval_on_selector_all(
            'tr[data-symbol="EURUSD"] td.bid span', "els => els.map(e => [e.className, e.textContent])"
        )
        assert [c for c, _ in parts] == ["big", "pips", "pipette"]
        big, pips, pipette = (t for _, t in parts)
        bid = float(big + pips + pipette)
        assert len(pips) == 2 and len(pipette) == 1 and round(bid, 5) == bid and big.startswith("1.")
        jpy = await cell_text(page, "USDJPY", "bid")
        assert len(jpy.split(".")[1]) == 3
        ask = float(await cell_text(page, "EURUSD", "ask"))
        spread = float(await cell_text(page, "EURUSD", "spread"))
        assert spread == pytest.approx((ask - bid) / 0.0001, abs=0.11) and spread > 0

        # Quotes change on screen; age, latency and change since start are filled in.
        await page.wait_for_function(
            """bid => document.querySelector('tr[data-symbol="EURUSD"] td.bid').textContent !== bid""",
            arg=big + pips + pipette,
        )
        await page.wait_for_function(
            """() => /ms|s$/.test(document.querySelector('tr[data-symbol="EURUSD"] td.latency').textContent)"""
        )
        assert (await cell_text(page, "EURUSD", "age")).endswith(" s")
        assert float(await cell_text(page, "EURUSD", "chg")) == pytest.approx(0, abs=50)
        assert await cell_text(page, "EURUSD", "status") == "LIVE"  # CSS upper-cases "live"

        # Remove USDJPY with its button: the row goes, the server stops sending it.
        await page.click('tr[data-symbol="USDJPY"] button.remove')
        await page.wait_for_selector('tr[data-symbol="USDJPY"]', state="detached")
        acked = await frames.wait(lambda m: m["type"] == "unsubscribed" and m["symbols"] == ["USDJPY"])
        assert not srv.service.hub.has_subscribers(srv.service.table.ids["USDJPY"])
        await asyncio.sleep(1.5)
        later = frames.messages[acked + 1 :]
        updated = {m["symbol"] for m in later if m["type"] == "update"}
        assert "USDJPY" not in updated and "EURUSD" in updated

        # Add one through the picker (typed in lower case).
        await page.fill("#picker-input", "eurjpy")
        await page.press("#picker-input", "Enter")
        await wait_price(page, "EURJPY")
        await page.wait_for_timeout(1200)  # let flashes settle and the footer count a second
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "quote-board.png"), full_page=True)

        # The selection survives a reload without ?symbols (kept in localStorage).
        await page.goto(srv.base + "/")
        await wait_price(page, "EURJPY")
        rows = await page.eval_on_selector_all("#rows tr", "trs => trs.map(t => t.dataset.symbol)")
        assert rows == ["EURUSD", "XAUUSD", "GBPUSD", "EURJPY"]


async def test_board_reconnects_and_resubscribes_after_a_server_restart() -> None:
    async with running() as first, browser_page() as page:
        port = int(first.base.rsplit(":", 1)[1])
        await page.goto(first.base + "/?symbols=EURUSD,GBPUSD")
        await wait_price(page, "EURUSD")
        await first.stop()
        await page.wait_for_selector('#conn[data-state="reconnecting"]')
        assert "1001" in await page.inner_text("#conn")  # the server said: going away
        await page.wait_for_selector('tr[data-symbol="EURUSD"][data-status="stale"]')
        async with running(port=port) as second:
            await page.wait_for_selector('#conn[data-state="live"]', timeout=20_000)
            await page.wait_for_selector('tr[data-symbol="GBPUSD"][data-status="live"]')
            sid = second.service.table.ids["EURUSD"]
            assert second.service.hub.has_subscribers(sid)
            seq = await page.get_attribute('tr[data-symbol="EURUSD"]', "data-seq")
            await page.wait_for_function(
                """seq => document.querySelector('tr[data-symbol="EURUSD"]').dataset.seq !== seq""", arg=seq
            )


async def test_board_shows_errors_and_status_and_passes_the_token_on() -> None:
    async with running() as srv, browser_page() as page:
        frames = Frames(page)
        await page.goto(srv.base + "/?token=t%2Bk&symbols=EURUSD,NOPE")
        notice = await page.wait_for_selector('#notices li[data-code="unknown_symbol"]')
        assert notice is not None and "NOPE" in await notice.inner_text()
        await page.wait_for_selector('tr[data-symbol="NOPE"]', state="detached")
        # Every socket the page opens (the board's, the chart's) passes the token on.
        assert frames.urls and set(frames.urls) == {srv.ws_url + "?token=t%2Bk"}
        await wait_price(page, "EURUSD")

        table = srv.service.table
        sid = table.ids["EURUSD"]
        await srv.service.runner.stop()  # the feed goes quiet, as before a real staleness
        table.status[sid] = Status.STALE
        srv.service.ingest.publish_status(sid, srv.service.clock())
        await page.wait_for_selector('tr[data-symbol="EURUSD"][data-status="stale"]')


async def test_board_helpers_split_prices_and_build_urls() -> None:
    async with running() as srv, browser_page() as page:
        await page.goto(srv.base + "/?symbols=EURUSD")
        got = await page.evaluate(
            """async () => {
              const q = await import("/ui/quotes.js");
              const book = new q.QuoteBook();
              book.apply({type: "snapshot", symbol: "A", seq: 1, bid: 1, ask: 2, ts: 5});
              const gap = book.apply({type: "update", symbol: "A", seq: 4, bid: 1.5, ts: 6}).gap;
              const old = book.apply({type: "update", symbol: "A", seq: 3, bid: 9, ts: 7});
              const delays = q.backoff(0.5, 4, () => 1);
              return {
                eurusd: q.splitPrice(1.08412, 5, 0.0001),
                usdjpy: q.splitPrice(151.234, 3, 0.01),
                xauusd: q.splitPrice(4080.25, 2, 0.1),
                xagusd: q.splitPrice(50.812, 3, 0.01),
                whole: q.splitPrice(97.5, 1, 1),
                spread: q.spreadPips(1.08412, 1.08415, 0.0001),
                wss: q.websocketUrl(new URL("https://h.test/desk/?symbols=X#y"), "/ws", "a b"),
                ws: q.websocketUrl(new URL("http://h.test:8080/"), "/stream", ""),
                unpacked: q.unpack('[{"type":"update"},{"type":"pong"}]').length,
                gap, old, bid: book.quotes.get("A").bid,
                delays: [0, 1, 2, 3, 4].map(() => delays.next().value),
              };
            }"""
        )
    assert got["eurusd"] == ["1.08", "41", "2"]
    assert got["usdjpy"] == ["151.", "23", "4"]
    assert got["xauusd"] == ["408", "0.2", "5"]
    assert got["xagusd"] == ["50.", "81", "2"]
    assert got["whole"] == ["", "97.", "5"]
    assert got["spread"] == 0.3
    assert got["wss"] == "wss://h.test/desk/ws?token=a+b"
    assert got["ws"] == "ws://h.test:8080/stream"
    assert got["unpacked"] == 2
    assert (got["gap"], got["old"], got["bid"]) == (2, None, 1.5)
    assert got["delays"] == [0.5, 1, 2, 4, 4]
