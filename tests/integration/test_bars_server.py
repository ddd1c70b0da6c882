"""Bars over real sockets: 1s bars streamed beside the quotes they are built from,
the REST history, and the errors a chart developer would hit."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_security_server import DESK_KEY, secure_config
from tests.support.helpers import client, config, running
from ticker.core.calendar import SECOND_US, iso


def implied_bars(quotes: list[dict[str, Any]]) -> dict[int, tuple[float, float, float, float, int]]:
    """Per second: (open, high, low, close, ticks) of the bids the quote stream carried.
    Every applied tick is one update (nothing was conflated at this rate); an update
    without ``bid`` repeated the last one."""
    bid: float | None = None
    cells: dict[int, list[float]] = {}
    for m in quotes:
        bid = m.get("bid", bid)
        if m["type"] == "update":
            assert bid is not None
            cells.setdefault(m["ts"] - m["ts"] % SECOND_US, []).append(bid)
    return {start: (p[0], max(p), min(p), p[-1], len(p)) for start, p in cells.items()}


async def test_1s_bars_match_the_quotes_the_same_client_received() -> None:
    cfg = config(feeds=[{"type": "synthetic", "rate": 300.0, "seed": 3, "symbols": ["EURUSD", "GBPUSD"]}])
    async with running(cfg) as srv, client(srv.ws_url) as c:
        await asyncio.sleep(1.2)  # some history first
        await c.send({"op": "subscribe", "symbols": ["EURUSD"], "id": 1})
        await c.send({"op": "subscribe", "symbols": ["EURUSD"], "bars": "1s", "history": 10, "id": 2})
        msgs = await c.collect(4.5)
        kinds = [m["type"] for m in msgs]
        ack = next(m for m in msgs if m["type"] == "subscribed" and m["id"] == 2)
        assert ack == {"type": "subscribed", "id": 2, "symbols": ["EURUSD"], "bars": ["1s"], "history": 10}
        snap = next(m for m in msgs if m["type"] == "bars")
        assert kinds.index("bars") > kinds.index("snapshot")
        assert snap["bars"] and all(b["closed"] for b in snap["bars"][:-1])
        assert snap["bars"][-1]["closed"] is False and 1 <= len(snap["bars"]) <= 11

        bars = [m for m in msgs if m["type"] == "bar"]
        assert all(b["seq"] > snap["seq"] for b in bars)
        seqs = [b["seq"] for b in bars]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # per series, in order
        closes = [b for b in bars if b["closed"] and not b.get("corrected")]
        starts = [b["start"] for b in closes]
        assert len(starts) == len(set(starts)) >= 3  # exactly one close per second
        assert all(b["end"] - b["start"] == SECOND_US for b in closes)
        assert any(not b["closed"] for b in bars)  # forming updates in between

        # The final state of each bar (its close, or a correction after it) is what the
        # quotes implied. The first second may hold ticks from before the quote snapshot.
        final = {b["start"]: b for b in bars if b["closed"]}
        quotes = [m for m in msgs if m["type"] in ("snapshot", "update") and m["symbol"] == "EURUSD"]
        first_quote = next(m["ts"] for m in quotes if m["type"] == "update")
        implied = implied_bars(quotes)
        checked = 0
        for start, b in final.items():
            if start <= first_quote:
                continue
            assert (b["open"], b["high"], b["low"], b["close"], b["ticks"]) == implied[start], iso(start)
            checked += 1
        assert checked >= 2

        # REST history: the same closed bars, newest last, the forming one after them.
        async with aiohttp.ClientSession() as http:
            url = f"{srv.base}/api/bars?symbol=EURUSD&interval=1s&count=100"
            async with http.get(url) as r:
                assert r.status == 200 and r.content_type == "application/json"
                body = await r.json()
            async with http.get(f"{srv.base}/metrics") as r:
                scraped = {
                    (s.name, tuple(sorted(s.labels.items()))): s.value
                    for f in text_string_to_metric_families(await r.text())
                    for s in f.samples
                }
        assert scraped[("ticker_bars_closed_total", (("interval", "1s"),))] >= len(closes)
        assert scraped[("ticker_bar_messages_sent_total", (("kind", "closed"),))] >= len(closes)
        assert scraped[("ticker_bar_messages_sent_total", (("kind", "snapshot"),))] == 1
        assert scraped[("ticker_bar_subscriptions", ())] == 1
        assert scraped[("ticker_bar_history_bytes", ())] >= 77 * 2 * 7
        history = body["bars"]
        assert body["symbol"] == "EURUSD" and body["interval"] == "1s"
        assert [b["start"] for b in history] == sorted(b["start"] for b in history)
        by_start = {b["start"]: b for b in history}
        for start, b in final.items():
            assert by_start[start] == {k: v for k, v in b.items() if k != "type"}
        assert history[-1]["closed"] is False or history[-1]["start"] == max(final)


async def test_bars_history_query_and_its_errors() -> None:
    async with running() as srv, aiohttp.ClientSession() as http:
        deadline = time.monotonic() + 10
        while not srv.service.charts.book.symbols[0].series[0].store:  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.1)

        async def get(query: str) -> tuple[int, Any]:
            async with http.get(f"{srv.base}/api/bars?{query}") as r:
                return r.status, await r.json()

        status, body = await get("symbol=EURUSD&interval=1s&count=2")
        assert status == 200 and len(body["bars"]) == 2
        start = body["bars"][0]["start"]
        status, ranged = await get(f"symbol=EURUSD&interval=1s&from={iso(start)}&to={start + SECOND_US}")
        assert status == 200 and [b["start"] for b in ranged["bars"]] == [start]
        status, older = await get(f"symbol=EURUSD&interval=1s&to={start}&count=1")
        assert status == 200 and len(older["bars"]) == 1 and older["bars"][0]["start"] < start

        cases = {
            "interval=1s": (400, "bad_request", "symbol"),
            "symbol=NOPE&interval=1s": (404, "unknown_symbol", None),
            "symbol=EURUSD": (400, "unknown_interval", "interval"),
            "symbol=EURUSD&interval=7m": (400, "unknown_interval", "interval"),
            "symbol=EURUSD&interval=1s&count=0": (400, "bad_request", "count"),
            "symbol=EURUSD&interval=1s&count=5001": (400, "bad_request", "count"),
            "symbol=EURUSD&interval=1s&count=ten": (400, "bad_request", "count"),
            "symbol=EURUSD&interval=1s&from=yesterday": (400, "bad_request", "from"),
            "symbol=EURUSD&interval=1s&to=2024-03-11T17:00:00": (400, "bad_request", "to"),
            "symbol=EURUSD&interval=1s&from=2000&to=1000": (400, "bad_request", "from"),
        }
        for query, (want_status, code, field) in cases.items():
            status, body = await get(query)
            err = body["error"]
            assert (status, err["code"], err.get("field")) == (want_status, code, field), query
        _, body = await get("symbol=EURUSD&interval=7m")
        assert body["error"]["intervals"] == ["1s", "1m", "5m", "15m", "1h", "4h", "1d"]
        _, body = await get("symbol=EURUSD&interval=1s&to=2024-03-11T17:00:00")
        assert "offset" in body["error"]["message"]


async def test_bars_history_obeys_entitlements_like_quotes(tmp_path: Path) -> None:
    async with running(secure_config(tmp_path)) as srv, aiohttp.ClientSession() as http:
        url = f"{srv.base}/api/bars?interval=1m&symbol="
        async with http.get(url + "EURUSD") as r:
            assert r.status == 401
        desk = {"Authorization": f"Bearer {DESK_KEY}"}
        async with http.get(url + "EURUSD", headers=desk) as r:
            assert r.status == 200
        async with http.get(url + "GBPUSD", headers=desk) as r:
            assert r.status == 403 and (await r.json())["error"]["code"] == "not_entitled"
        async with http.get(url + f"GBPUSD&token={DESK_KEY}") as r:
            assert r.status == 403


async def test_with_bars_off_the_protocol_and_the_api_say_so() -> None:
    async with running(config(bars={"enabled": False})) as srv, client(srv.ws_url) as c:
        assert srv.service.charts is None and srv.service.ingest.bars is None
        await c.send({"op": "subscribe", "symbols": ["EURUSD"], "bars": "1m", "id": 5})
        err = await c.until(lambda m: m["type"] == "error")
        assert err["code"] == "unknown_interval" and err["intervals"] == [] and "enabled = false" in err["message"]
        async with aiohttp.ClientSession() as http, http.get(f"{srv.base}/api/bars?symbol=EURUSD&interval=1m") as r:
            assert r.status == 404 and (await r.json())["error"]["code"] == "bars_disabled"
