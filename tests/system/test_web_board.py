"""The quote board at GET / in headless Chromium, against the real server over loopback."""

import asyncio
import itertools
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from playwright.async_api import Page, WebSocket

from tests.support.browser import ARTIFACTS, browser_page
from tests.support.helpers import config, running
from ticker.client.book import QuoteBook
from ticker.core.model import Status
from ticker.security.tokens import hash_key


class Frames:
    """Every frame the page's WebSockets receive and send, with the URLs they opened."""

    def __init__(self, page: Page) -> None:
        self.messages: list[dict] = []
        self.sent: list[dict] = []
        self.urls: list[str] = []
        page.on("websocket", self._opened)

    def _opened(self, ws: WebSocket) -> None:
        self.urls.append(ws.url)
        ws.on("framereceived", self._frame)
        ws.on("framesent", lambda payload: self.sent.append(orjson.loads(payload)))

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
        loaded: list[str] = []
        page.on("request", lambda r: loaded.append(r.url))
        await page.goto(srv.base + "/?symbols=EURUSD,USDJPY,XAUUSD,GBPUSD")
        await page.wait_for_selector('#conn[data-state="live"]')
        for sym in ("EURUSD", "USDJPY", "XAUUSD", "GBPUSD"):
            await wait_price(page, sym)

        # Prices split as trading screens show them: big figure, pips (large), pipette.
        # Bid, ask and spread are read in one go: a row repaints between two reads.
        row = await page.eval_on_selector(
            'tr[data-symbol="EURUSD"]',
            """tr => ({
              parts: [...tr.querySelectorAll("td.bid span")].map(e => [e.className, e.textContent]),
              ask: tr.querySelector("td.ask").textContent,
              spread: tr.querySelector("td.spread").textContent,
            })""",
        )
        parts = row["parts"]
        assert [c for c, _ in parts] == ["big", "pips", "pipette"]
        big, pips, pipette = (t for _, t in parts)
        bid = float(big + pips + pipette)
        assert len(pips) == 2 and len(pipette) == 1 and round(bid, 5) == bid and big.startswith("1.")
        jpy = await cell_text(page, "USDJPY", "bid")
        assert len(jpy.split(".")[1]) == 3
        ask, spread = float(row["ask"]), float(row["spread"])
        assert spread == pytest.approx((ask - bid) / 0.0001, abs=0.11) and spread > 0

        # The page runs on the SDK as ticker serves it, and its rows follow the stream:
        # the seq on screen is one the server sent for the symbol.
        assert {srv.base + "/ui/sdk/index.js", srv.base + "/ui/sdk/client.js"} <= set(loaded)
        shown = int(await page.get_attribute('tr[data-symbol="EURUSD"]', "data-seq") or 0)
        assert shown in {m["seq"] for m in frames.messages if m.get("symbol") == "EURUSD" and "seq" in m}

        # Quotes change on screen; age, latency and the day's change are filled in.
        await page.wait_for_function(
            """bid => document.querySelector('tr[data-symbol="EURUSD"] td.bid').textContent !== bid""",
            arg=big + pips + pipette,
        )
        await page.wait_for_function(
            """() => /ms|s$/.test(document.querySelector('tr[data-symbol="EURUSD"] td.latency').textContent)"""
        )
        assert (await cell_text(page, "EURUSD", "age")).endswith(" s")
        assert re.fullmatch(r"[+-]?\d\.\d{5}", await cell_text(page, "EURUSD", "chg"))  # at EURUSD's 5 decimals
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


async def test_board_resumes_without_a_gap_after_the_server_drops_the_connection() -> None:
    """Not a restart: the server cuts the page's connection. The SDK reconnects and resumes,
    so every row's seq carries on where it was, with no snapshot and no gap; the chart gets its
    series again with its history."""
    async with running() as srv, browser_page() as page:
        frames = Frames(page)
        await page.goto(srv.base + "/?symbols=EURUSD,GBPUSD&chart=EURUSD&interval=1s")
        for sym in ("EURUSD", "GBPUSD"):
            await wait_price(page, sym)
        await page.wait_for_selector('#chart[data-ready="true"][data-symbol="EURUSD"]')
        await frames.wait(lambda m: m["type"] == "update" and m["symbol"] == "GBPUSD")
        (conn,) = list(srv.clients)  # one connection: the board and its chart share the SDK's client
        before = int(await page.get_attribute('tr[data-symbol="EURUSD"]', "data-seq") or 0)
        conn.transport.abort()  # the server's side of the TCP connection goes away: no close frame
        await page.wait_for_selector('#conn[data-state="reconnecting"]')
        await page.wait_for_selector('#conn[data-state="live"]', timeout=20_000)
        notice = await page.wait_for_selector('#notices li[data-code="resumed"]')
        assert notice is not None and "resumed 2 of 2 symbols without a gap" in await notice.inner_text()
        acks = [m for m in frames.messages if m["type"] == "subscribed" and "resume" in m]
        assert len(acks) == 1 and {s: r["recovered"] for s, r in acks[0]["resume"].items()} == {
            "EURUSD": True,
            "GBPUSD": True,
        }
        await page.wait_for_function(
            """n => Number(document.querySelector('tr[data-symbol="EURUSD"]').dataset.seq) > n + 10""", arg=before
        )

        for sym in ("EURUSD", "GBPUSD"):
            shown = int(await page.get_attribute(f'tr[data-symbol="{sym}"]', "data-seq") or 0)
            # The page may be a frame ahead of what the test has collected: wait for it.
            await frames.wait(lambda m, s=sym, n=shown: m.get("symbol") == s and m.get("seq") == n)
            mine = [m for m in frames.messages if m.get("symbol") == sym and m["type"] in ("snapshot", "update")]
            assert [m["type"] for m in mine].count("snapshot") == 1  # the first connection's only
            seqs = [m["seq"] for m in mine]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{sym}: a seq missing or repeated"
            assert shown in seqs and shown > seqs[0]
            assert await page.get_attribute(f'tr[data-symbol="{sym}"]', "data-status") == "live"
        # The page's book counts no gap (the footer shows it, refreshed every second).
        await page.wait_for_function("() => /· 0 merged or missed/.test(document.querySelector('#foot').textContent)")
        # The chart's series was asked again with its history, and drawn from the fresh snapshot.
        bar_subs = [m for m in frames.sent if m.get("op") == "subscribe" and m.get("bars")]
        assert [(m["symbols"], m["bars"], m["history"]) for m in bar_subs] == [(["EURUSD"], "1s", 500)] * 2
        await page.wait_for_selector('#chart[data-ready="true"][data-symbol="EURUSD"]')
        assert await page.inner_text("#chart .chart-status") == ""


async def test_board_shows_errors_and_status_and_passes_the_token_on() -> None:
    async with running() as srv, browser_page() as page:
        frames = Frames(page)
        await page.goto(srv.base + "/?token=t%2Bk&symbols=EURUSD,NOPE")
        notice = await page.wait_for_selector('#notices li[data-code="unknown_symbol"]')
        assert notice is not None and "NOPE" in await notice.inner_text()
        await page.wait_for_selector('tr[data-symbol="NOPE"]', state="detached")
        # The token goes in the first message of the page's one socket (the board and its
        # chart share the SDK's client), never in the URL (proxy logs keep URLs).
        assert frames.urls == [srv.ws_url]
        assert frames.sent[0] == {"op": "auth", "token": "t+k", "id": frames.sent[0]["id"]}
        assert [m for m in frames.sent if m.get("op") == "auth"] == frames.sent[:1]
        # This server has no auth: it says so, and the board shows it but stays connected.
        notice = await page.wait_for_selector('#notices li[data-code="auth_failed"]')
        assert notice is not None and "not enabled" in await notice.inner_text()
        await wait_price(page, "EURUSD")
        assert await page.get_attribute("#conn", "data-state") == "live"

        table = srv.service.table
        sid = table.ids["EURUSD"]
        await srv.service.runner.stop()  # the feed goes quiet, as before a real staleness
        table.status[sid] = Status.STALE
        srv.service.ingest.publish_status(sid, srv.service.clock())
        await page.wait_for_selector('tr[data-symbol="EURUSD"][data-status="stale"]')


async def test_board_helpers_split_prices_and_build_urls() -> None:
    async with running() as srv, browser_page(timezone_id="Asia/Kolkata") as page:
        await page.goto(srv.base + "/?symbols=EURUSD")
        got = await page.evaluate(
            """async () => {
              const q = await import("/ui/quotes.js");
              return {
                eurusd: q.splitPrice(1.08412, 5, 0.0001),
                usdjpy: q.splitPrice(151.234, 3, 0.01),
                xauusd: q.splitPrice(4080.25, 2, 0.1),
                xagusd: q.splitPrice(50.812, 3, 0.01),
                whole: q.splitPrice(97.5, 1, 1),
                spread: q.spreadPips(1.08412, 1.08415, 0.0001),
                signed: [q.signedFixed(-0.04, 1), q.signedFixed(0.06, 1), q.signedFixed(-1.26, 1), q.signedFixed(0, 1)],
                wss: q.websocketUrl(new URL("https://h.test/desk/?symbols=X&token=t#y"), "/ws"),
                ws: q.websocketUrl(new URL("http://h.test:8080/"), "/stream"),
                prices: [q.priceText(1.1, 5), q.priceText(151.2, 3), q.priceText(null, 5), q.priceText(1.1, undefined)],
                changes: [q.changeText(0.00058, 5), q.changeText(-0.00153, 5), q.changeText(0, 5), q.changeText(-0, 3),
                          q.changeText(null, 5), q.changeText(0.1, undefined), q.changeText(-0.1, undefined)],
                dirs: [q.direction(0.1), q.direction(-0.1), q.direction(0), q.direction(-0), q.direction(null)],
                // Sunday 2025-11-30 17:30 UTC is 23:00 in Kolkata (UTC+5:30), the page's zone here.
                opens: [q.formatOpens(1764523800000000, Date.UTC(2025, 10, 28)),
                        q.formatOpens(1764523800000000, Date.UTC(2025, 10, 20))],
              };
            }"""
        )
    assert got["eurusd"] == ["1.08", "41", "2"]
    assert got["usdjpy"] == ["151.", "23", "4"]
    assert got["xauusd"] == ["4080.", "25", ""]  # a metal: its two decimals, not "0.2" across the point
    assert got["xagusd"] == ["50.", "81", "2"]
    assert got["whole"] == ["", "97.", "5"]
    assert got["spread"] == 0.3
    assert got["signed"] == ["0.0", "+0.1", "-1.3", "0.0"]  # never "-0.0"
    assert got["wss"] == "wss://h.test/desk/ws"
    assert got["ws"] == "ws://h.test:8080/stream"
    assert got["prices"] == ["1.10000", "151.200", "—", "1.1"]
    assert got["changes"] == ["+0.00058", "-0.00153", "0.00000", "0.000", "—", "+0.1", "-0.1"]
    assert got["dirs"] == ["up", "down", "flat", "flat", "flat"]
    assert got["opens"] == ["Sun 23:00", "2025-11-30 23:00"]  # local time; the date when a week or more away


async def test_the_sdk_served_to_the_page_works_in_chromium() -> None:
    """ticker-client as the board loads it (/ui/sdk/, tsc's ES modules), used directly in the page."""
    async with running() as srv, browser_page() as page:
        await page.goto(srv.base + "/?symbols=EURUSD")
        got = await page.evaluate(
            """async (url) => {
              const sdk = await import("/ui/sdk/index.js");
              const book = new sdk.QuoteBook();
              book.apply({type: "snapshot", symbol: "A", seq: 1, bid: 1, ask: 2, ts: 5, status: "live"});
              const gap = book.apply({type: "update", symbol: "A", seq: 4, bid: 1.5, ts: 6}).gap;
              const old = book.apply({type: "update", symbol: "A", seq: 3, bid: 9, ts: 7});
              const delays = sdk.backoff({initialMs: 500, maxMs: 4000, random: () => 1});

              // A real client on the browser's own WebSocket.
              const c = sdk.connect(url);
              const acked = await c.subscribe(["EURUSD", "NOPE"]).then(() => null, (e) => e);
              const update = await new Promise((resolve) =>
                c.on("quote", (q, ev) => ev.message?.type === "update" && resolve(q)));
              await c.close();
              return {
                unpacked: sdk.unpack('[{"type":"update"},{"type":"pong"}]').length,
                gap, old, bid: book.get("A").bid,
                delays: [0, 1, 2, 3, 4].map(() => delays.next().value),
                error: [acked.name, acked.code, acked.symbols, acked.subscribed],
                update: [update.symbol, update.seq > 0, typeof update.bid, c.state],
              };
            }""",
            srv.ws_url,
        )
    assert got["unpacked"] == 2
    assert (got["gap"], got["old"], got["bid"]) == (2, None, 1.5)
    assert got["delays"] == [500, 1000, 2000, 4000, 4000]
    assert got["error"] == ["TickerError", "unknown_symbol", ["NOPE"], ["EURUSD"]]
    assert got["update"] == ["EURUSD", True, "number", "closed"]


async def test_board_with_auth_shows_quotes_for_a_good_key_and_stops_on_a_bad_one() -> None:
    key = "tk_board-test-key"
    cfg = config(auth={"enabled": True, "keys": [{"name": "desk", "sha256": hash_key(key), "symbols": ["EUR*"]}]})
    async with running(cfg) as srv, browser_page() as page:
        await page.goto(srv.base + f"/?token={key}&symbols=EURUSD,EURJPY")
        await wait_price(page, "EURUSD")
        await wait_price(page, "EURJPY")

        frames = Frames(page)
        await page.goto(srv.base + "/?token=tk_wrong&symbols=EURUSD")
        notice = await page.wait_for_selector('#notices li[data-code="auth_failed"]')
        assert notice is not None
        await page.wait_for_selector('#conn[data-state="failed"]')
        assert "auth_failed" in await page.inner_text("#conn")
        await asyncio.sleep(1.5)  # the first retry would come after 0.25-0.5 s
        # The board (with its chart, on the same client) connects once and does not retry a refused token.
        assert len(frames.urls) == 1, "the board must not retry a refused token"
        assert await page.get_attribute('tr[data-symbol="EURUSD"]', "data-status") in ("pending", "stale")


async def test_the_page_loads_with_no_console_error_failed_request_or_error_status() -> None:
    """A dashboard developer opens the board with the console open: it stays clean."""
    async with running() as srv, browser_page() as page:
        problems: list[str] = []
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        page.on("response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
        await page.goto(srv.base + "/?symbols=EURUSD,XAUUSD")
        await wait_price(page, "EURUSD")
        await wait_price(page, "XAUUSD")
        await page.wait_for_timeout(1500)  # late requests (the icon) and first updates
        assert problems == []
        icon = await page.evaluate("document.querySelector('link[rel=icon]').href")
        assert icon.endswith("/ui/favicon.svg")
        # A metal shows its two decimals as one large part, as a trader reads gold.
        pips = await page.inner_text('tr[data-symbol="XAUUSD"] td.bid .pips')
        big = await page.inner_text('tr[data-symbol="XAUUSD"] td.bid .big')
        assert len(pips) == 2 and big.endswith("."), (big, pips)


async def test_flashes_light_only_the_changed_digits_at_a_bounded_rate() -> None:
    """At 60+ updates/s on one row the board flashes digits, not whole cells, and at most
    every 400 ms per price, while the digits themselves follow every update."""
    cfg = config(feeds=[{"type": "synthetic", "symbols": ["EURUSD"], "rate": 80.0, "seed": 3}])
    async with running(cfg) as srv, browser_page() as page:
        await page.add_init_script(
            """(() => {
              window.__flashes = [];
              const animate = Element.prototype.animate;
              Element.prototype.animate = function (...args) {
                if (!this.closest("#board")) return animate.apply(this, args);  // the chart has its own
                const cell = this.closest("td");
                window.__flashes.push({tag: this.tagName, cls: this.className,
                                       side: cell && cell.className, t: performance.now()});
                return animate.apply(this, args);
              };
            })()"""
        )
        await page.goto(srv.base + "/?symbols=EURUSD")
        await wait_price(page, "EURUSD")
        seq0 = int(await page.get_attribute('tr[data-symbol="EURUSD"]', "data-seq") or 0)
        await page.wait_for_timeout(3000)
        seq1 = int(await page.get_attribute('tr[data-symbol="EURUSD"]', "data-seq") or 0)
        flashes = await page.evaluate("window.__flashes")
    assert seq1 - seq0 > 120  # the row really moved at tens of updates per second
    assert flashes, "no flash at all"
    assert {f["tag"] for f in flashes} == {"SPAN"} and {f["cls"] for f in flashes} <= {"big", "pips", "pipette"}
    for side in ("bid", "ask"):
        # One flash lights its changed spans one animate() after another: on a loaded
        # machine those calls can be ms apart, so calls within 50 ms are one flash.
        starts: list[float] = []
        for t in sorted(f["t"] for f in flashes if f["side"] == side):
            if not starts or t - starts[-1] >= 50:
                starts.append(t)
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert all(g >= 380 for g in gaps), (side, gaps)  # one flash per 400 ms at the most
        assert len(starts) <= 3000 / 400 + 2


def _signed(value: float, digits: int) -> str:
    """The board's signed format (quotes.js signedFixed): no "-0.0" for what rounds to zero."""
    text = f"{abs(value):.{digits}f}"
    return text if float(text) == 0 else ("+" if value > 0 else "-") + text


async def shown_row(page: Page, symbol: str) -> dict[str, Any]:
    """A row's seq and day cells, read in one go (a row repaints between two reads)."""
    return await page.eval_on_selector(
        f'tr[data-symbol="{symbol}"]',
        """tr => ({
          seq: Number(tr.dataset.seq),
          ...Object.fromEntries(["chg", "pct", "high", "low"].map(c => [c, tr.querySelector("td." + c).textContent])),
          dir: [tr.querySelector("td.chg").dataset.dir, tr.querySelector("td.pct").dataset.dir],
        })""",
    )


async def test_the_day_columns_show_the_change_high_and_low_of_the_stream() -> None:
    """Chg, Chg %, High and Low come from the SDK's quote: the board's cells must equal
    what the Python client's book makes of the very frames the page received (its own
    computation of the change), at the seq the row shows, at each symbol's decimals."""
    async with running() as srv, browser_page() as page:
        frames = Frames(page)
        decimals = {"EURUSD": 5, "USDJPY": 3, "XAUUSD": 2}
        await page.goto(srv.base + "/?symbols=" + ",".join(decimals))
        for sym in decimals:
            await wait_price(page, sym)
        for round_ in range(2):  # at the first paint, and after the day's high and low have moved
            for sym, digits in decimals.items():
                row = await shown_row(page, sym)
                # The page may be a frame ahead of what the test has collected: wait for it. (Only
                # quotes: the chart's bar messages carry a symbol and their series' own seq.)
                end = await frames.wait(
                    lambda m, s=sym, n=row["seq"]: m["type"] in ("snapshot", "update") and m["symbol"] == s and m["seq"] == n
                )
                book = QuoteBook()
                for m in frames.messages[: end + 1]:
                    book.apply(m)
                q = book[sym]
                assert q.seq == row["seq"] and q.day is not None and q.change is not None and q.change_pct is not None
                assert row["chg"] == _signed(q.change, digits), (sym, row, q)
                assert row["pct"] == _signed(q.change_pct, 2) + "%", (sym, row, q)
                assert (row["high"], row["low"]) == (f"{q.day.high:.{digits}f}", f"{q.day.low:.{digits}f}"), (sym, row)
                way = "up" if q.change > 0 else "down" if q.change < 0 else "flat"
                assert row["dir"] == [way, way]
                assert q.day.low is not None and q.day.high is not None and q.bid is not None
                assert q.day.low <= q.bid <= q.day.high
            if round_ == 0:
                seq = int(await page.get_attribute('tr[data-symbol="EURUSD"]', "data-seq") or 0)
                await page.wait_for_function(
                    """n => Number(document.querySelector('tr[data-symbol="EURUSD"]').dataset.seq) > n + 30""", arg=seq
                )
        # The snapshot's own numbers, as the server computed them, are the reference's too
        # (the browser starts after the feed, so the symbols have ticked by their snapshots).
        for snap in (m for m in frames.messages if m["type"] == "snapshot"):
            first = QuoteBook()
            first.apply(snap)
            q = first[snap["symbol"]]
            assert snap["day"] is not None and (q.change, q.change_pct) == (snap["day"]["change"], snap["day"]["change_pct"])


def _midday_zone() -> tuple[str, datetime]:
    """A fixed-offset zone where it is about noon now (so nothing in a test crosses
    midnight there), and the wall time there."""
    now = datetime.now(UTC)
    offset = (12 - now.hour) % 24
    offset = offset - 24 if offset > 12 else offset
    zone = "Etc/GMT" + (f"{-offset:+d}" if offset else "")  # Etc/ signs are inverted
    return zone, now.astimezone(ZoneInfo(zone))


PAGE_ZONE = "Asia/Kolkata"  # the browser's local time: UTC+5:30, neither the server's nor the calendars'
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _local(us: int) -> str:
    at = datetime.fromtimestamp(us / 1e6, ZoneInfo(PAGE_ZONE))
    return f"{WEEKDAYS[at.weekday()]} {at:%H:%M}"


async def test_a_closed_market_is_greyed_with_its_next_open_and_returns_to_live_at_the_open() -> None:
    """USDCHF's calendar is shut for the day; AUDUSD's reopens a few seconds after the page
    loads; EURJPY is a derived cross. Closed rows are greyed with a "closed" tag and the next
    open in the page's local time, and not styled as stale; the cross carries its badge."""
    zone, local = _midday_zone()
    reopen = (local + timedelta(seconds=20)).replace(microsecond=0)
    every = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    def cal(breaks: list[str]) -> dict[str, Any]:
        return {"tz": zone, "roll": "00:00", "trading_days": every, "holidays": [], "breaks": breaks}

    cfg = config(
        market={
            "calendars": {"shut": cal(["01:00-23:00"]), "soon": cal([f"01:00-{reopen:%H:%M:%S}"])},
            "symbols": {"USDCHF": "shut", "AUDUSD": "soon"},
            "crosses": ["EURJPY = EURUSD * USDJPY"],
        },
        feeds=[{"type": "synthetic", "symbols": ["EURUSD", "USDJPY", "USDCHF", "AUDUSD"], "rate": 100.0, "seed": 7}],
    )
    async with running(cfg) as srv, browser_page(timezone_id=PAGE_ZONE) as page:
        await page.goto(srv.base + "/?symbols=EURUSD,USDCHF,AUDUSD,EURJPY")
        await wait_price(page, "EURUSD")
        await wait_price(page, "EURJPY")
        await page.wait_for_selector('tr[data-symbol="USDCHF"][data-status="closed"]')
        await page.wait_for_selector('tr[data-symbol="AUDUSD"][data-status="closed"]')
        table = srv.service.table
        market = srv.service.market
        nxt = market.describe(table.ids["USDCHF"])["next_open"]
        assert nxt == int(local.replace(hour=23, minute=0, second=0, microsecond=0).timestamp() * 1e6)

        def status_cell(sym: str) -> Any:
            return page.eval_on_selector(
                f'tr[data-symbol="{sym}"] td.status',
                """td => ({text: td.textContent, tag: td.querySelector(".tag")?.textContent ?? null,
                          opens: td.querySelector(".opens")?.textContent ?? null,
                          filter: getComputedStyle(td).filter, opacity: getComputedStyle(td).opacity,
                          color: getComputedStyle(td).color})""",
            )

        closed = await status_cell("USDCHF")
        assert (closed["tag"], closed["opens"]) == ("closed", f"opens {_local(nxt)}")
        assert closed["text"] == f"closed opens {_local(nxt)}"
        soon = await status_cell("AUDUSD")
        assert soon["opens"] == f"opens {_local(int(reopen.timestamp() * 1e6))}"
        live = await status_cell("EURUSD")
        assert (live["text"], live["tag"], live["filter"]) == ("live", None, "none")
        # Greyed, not stale: a stale row is dimmed with its status in red; a closed one is grey all through.
        assert closed["filter"] == "grayscale(1)" and closed["color"] == "rgb(125, 135, 147)"  # --muted
        assert closed["color"] != live["color"]
        # No price, no day while shut (the synthetic feed sends nothing for a closed market).
        assert [await cell_text(page, "USDCHF", c) for c in ("bid", "chg", "high", "low")] == ["—"] * 4

        # The derived cross has its badge, with the formula from /api/symbols; a fed symbol has none.
        badge = await page.eval_on_selector(
            'tr[data-symbol="EURJPY"] td.symbol .badge', "b => [b.textContent, b.title, b.className]"
        )
        assert badge == ["cross", "derived: EURUSD * USDJPY", "badge cross"]
        assert await page.query_selector('tr[data-symbol="EURUSD"] .badge') is None
        assert await cell_text(page, "EURJPY", "bid") != "—"

        # At the open AUDUSD leaves the closed style (pending until its first tick, then live).
        await page.wait_for_selector('tr[data-symbol="AUDUSD"][data-status="live"]', timeout=45_000)
        back = await status_cell("AUDUSD")
        assert (back["text"], back["tag"], back["opens"], back["filter"]) == ("live", None, None, "none")
        assert await cell_text(page, "AUDUSD", "bid") != "—"
        assert await page.get_attribute('tr[data-symbol="USDCHF"]', "data-status") == "closed"
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "quote-board-closed.png"), full_page=True)
