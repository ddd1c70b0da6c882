"""Bars on the Redis bus: built in the feed process, identical on every gateway,
including one started late; a restarted feed process goes on with its bars."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.support.bus import bus_config, feeding
from tests.support.helpers import Running, client, running, wait_for


async def history(srv: Running, interval: str = "1s", count: int = 1000) -> list[dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{srv.base}/api/bars?symbol=EURUSD&interval={interval}&count={count}") as r,
    ):
        assert r.status == 200
        return list((await r.json())["bars"])


def closed(bars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in bars if b["closed"]]


async def test_two_gateways_serve_identical_bars_and_a_late_one_catches_up(
    redis_url: str, bus_prefix: str
) -> None:
    cfg = bus_config(redis_url, bus_prefix)
    async with feeding(cfg) as feed, running(cfg) as a, client(a.ws_url) as ca:
        await ca.send({"op": "subscribe", "symbols": ["EURUSD"], "bars": "1s", "history": 100, "id": 1})
        await ca.until(lambda m: m["type"] == "bars")
        fanout = feed.charts.fanout  # type: ignore[union-attr]
        key = fanout.key(feed.table.ids["EURUSD"], "1s")
        await wait_for(lambda: len(fanout.series[key].store) >= 3, 10)  # type: ignore[union-attr]
        async with running(cfg) as b, client(b.ws_url) as cb:  # started after bars were built
            await cb.send({"op": "subscribe", "symbols": ["EURUSD"], "bars": "1s", "history": 100, "id": 1})
            snap = await cb.until(lambda m: m["type"] == "bars")
            assert len(closed(snap["bars"])) >= 3
            got_a, got_b = await asyncio.gather(ca.collect(2.5), cb.collect(2.5))
            closes_a = {m["start"]: m for m in got_a if m["type"] == "bar" and m["closed"]}
            closes_b = {m["start"]: m for m in got_b if m["type"] == "bar" and m["closed"]}
            both = closes_a.keys() & closes_b.keys()
            assert len(both) >= 2 and all(closes_a[s] == closes_b[s] for s in both)
            await feed.runner.stop()  # freeze the feed; the timer closes the last bars
            await asyncio.sleep(0.5)
            source = fanout.series[key].history(1000, forming=False)  # type: ignore[union-attr]
            want = [bar._asdict() for bar in source]

            async def settled() -> bool:
                return [b["start"] for b in closed(await history(b))] == [w["start"] for w in want]

            for _ in range(50):
                if await settled():
                    break
                await asyncio.sleep(0.1)
            ha, hb = await asyncio.gather(history(a), history(b))
            ha_1m, hb_1m = await asyncio.gather(history(a, "1m"), history(b, "1m"))
    assert closed(ha) == closed(hb)
    fields = ("start", "end", "open", "high", "low", "close", "ticks", "seq")
    assert [tuple(x[f] for f in fields) for x in closed(hb)] == [tuple(w[f] for f in fields) for w in want]
    assert ha_1m == hb_1m and ha_1m


async def test_a_restarted_feed_process_goes_on_with_its_bars(redis_url: str, bus_prefix: str) -> None:
    cfg = bus_config(redis_url, bus_prefix)
    async with running(cfg) as gw:
        async with feeding(cfg) as first:
            fanout = first.charts.fanout  # type: ignore[union-attr]
            key = fanout.key(first.table.ids["EURUSD"], "1s")
            await wait_for(lambda: len(fanout.series[key].store) >= 2, 10)  # type: ignore[union-attr]
            await first.runner.stop()
            before = fanout.series[key].history(100, forming=False)  # type: ignore[union-attr]
            seq_before = fanout.series[key].seq  # type: ignore[union-attr]
        async with feeding(cfg) as second:
            series = second.charts.fanout.series[key]  # type: ignore[union-attr]
            assert series is not None and series.seq >= seq_before
            assert series.history(100, forming=False)[: len(before)] == before
            await wait_for(lambda: series.seq > seq_before + 5, 10)
            await asyncio.sleep(1.2)
            hist = closed(await history(gw))
            starts = [b["start"] for b in hist]
            assert starts == sorted(set(starts)) and starts[: len(before)] == [b.start for b in before]
