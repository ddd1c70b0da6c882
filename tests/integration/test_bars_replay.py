"""Replays build real charts: bars on the file's own times, equal to bars computed
here from the same file, and closed on the replay's clock (not the wall clock)."""

from __future__ import annotations

import asyncio
import gzip
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from tests.support.helpers import Running, client, config, running, wait_for
from tests.support.paths import DATA
from ticker.core.calendar import HOUR_US, MINUTE_US

#: HistData tick files are in EST without daylight saving: UTC-5 all year.
HISTDATA_OFFSET = timedelta(hours=5)
EPOCH = datetime(1970, 1, 1)


def histdata_ticks(path: Path) -> list[tuple[int, float]]:
    """(UTC µs, bid) of every line, parsed here without the service's parser."""
    opener = gzip.open if path.suffix == ".gz" else open
    out = []
    with opener(path, "rt") as f:  # type: ignore[operator]
        for line in f:
            try:  # the samples hold a few broken lines on purpose; the feed skips them too
                stamp, bid, ask, _vol = line.strip().split(",")
                float(ask)
                local = datetime.strptime(stamp[:15], "%Y%m%d %H%M%S") + timedelta(milliseconds=int(stamp[15:]))
                price = float(bid)
            except ValueError:
                continue
            out.append(((local + HISTDATA_OFFSET - EPOCH) // timedelta(microseconds=1), price))
    return out


def reference(ticks: list[tuple[int, float]], cell: Any) -> list[tuple[int, float, float, float, float, int]]:
    """OHLC of bids per cell, by time (the files are in time order)."""
    groups: dict[int, list[float]] = {}
    for ts, bid in ticks:
        groups.setdefault(cell(ts), []).append(bid)
    return [(s, p[0], max(p), min(p), p[-1], len(p)) for s, p in sorted(groups.items())]


async def bars(srv: Running, symbol: str, interval: str) -> list[dict[str, Any]]:
    url = f"{srv.base}/api/bars?symbol={symbol}&interval={interval}&count=5000"
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        assert r.status == 200
        return list((await r.json())["bars"])


def ohlc(got: list[dict[str, Any]]) -> list[tuple[int, float, float, float, float, int]]:
    return [(b["start"], b["open"], b["high"], b["low"], b["close"], b["ticks"]) for b in got]


def replay(files: list[str], speed: float) -> Any:
    return config(
        feeds=[{"type": "replay", "format": "histdata", "files": files, "speed": speed, "timestamps": "original"}]
    )


def write_day(path: Path) -> list[tuple[int, float]]:
    """A whole HistData day of EURUSD (Wednesday 2024-01-03 00:00 -> Thursday 00:00 EST),
    a tick every 7 s, crossing the 17:00 New York roll; returns what was written."""
    rng = np.random.default_rng(12)
    start = datetime(2024, 1, 3)
    price = 1.09
    lines = []
    for i in range(24 * 3600 // 7):
        local = start + timedelta(seconds=7 * i, milliseconds=int(rng.integers(0, 1000)))
        price = round(price + float(rng.normal(0, 0.00005)), 5)
        stamp = local.strftime("%Y%m%d %H%M%S") + f"{local.microsecond // 1000:03d}"
        lines.append(f"{stamp},{price:.5f},{price + 0.00002:.5f},0\n")
    path.write_text("".join(lines))
    return histdata_ticks(path)


async def test_a_replayed_day_gives_the_days_candles(tmp_path: Path) -> None:
    day = tmp_path / "DAT_ASCII_EURUSD_T_202401.csv"
    ticks = write_day(day)
    samples = [str(DATA / "DAT_ASCII_USDJPY_T_202401.csv.gz")]
    async with running(replay([str(day), *samples], speed=0)) as srv:
        feed = srv.service.feed_stats["replay"]
        await wait_for(lambda: feed.ingested >= len(ticks) + 2997, 30)
        hourly = await bars(srv, "EURUSD", "1h")
        four = await bars(srv, "EURUSD", "4h")
        daily = await bars(srv, "EURUSD", "1d")
        minutes = await bars(srv, "USDJPY", "1m")
    assert ohlc(hourly) == reference(ticks, lambda ts: ts - ts % HOUR_US)
    assert len(hourly) == 24 and all(b["closed"] for b in hourly[:-1])
    assert hourly[-1]["closed"] is False  # no later tick, and the replay's clock stopped with it
    # January: New York is UTC-5, so the trading day rolls at 22:00 UTC; 4h bars start 17, 21, 01... NY.
    roll = 22 * HOUR_US
    assert ohlc(daily) == reference(ticks, lambda ts: ts - (ts - roll) % (24 * HOUR_US))
    assert [b["start"] % (24 * HOUR_US) for b in daily] == [roll, roll]
    assert ohlc(four) == reference(ticks, lambda ts: ts - (ts - roll) % (4 * HOUR_US))
    jpy = histdata_ticks(DATA / "DAT_ASCII_USDJPY_T_202401.csv.gz")
    assert ohlc(minutes) == reference(jpy, lambda ts: ts - ts % MINUTE_US)


async def test_a_paced_replay_closes_bars_on_its_own_clock() -> None:
    files = [str(DATA / "DAT_ASCII_EURUSD_T_202401.csv")]  # 10 minutes of ticks from 10:00 UTC
    ticks = histdata_ticks(DATA / "DAT_ASCII_EURUSD_T_202401.csv")
    async with running(replay(files, speed=120)) as srv, client(srv.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": ["EURUSD"], "bars": "1m", "id": 1})
        await c.send({"op": "subscribe", "symbols": ["EURUSD"], "id": 2})
        arrivals: list[tuple[float, dict[str, Any]]] = []
        newest_tick = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 8:
            try:
                m = await c.next(0.5)
            except TimeoutError:
                if sum(1 for _, b in arrivals if b["closed"]) >= 10:
                    break
                continue
            if m["type"] in ("update", "snapshot"):
                newest_tick = max(newest_tick, m["ts"])
            if m["type"] == "bar" and m["closed"]:
                # Closed on the replay's clock: its time had reached the bar's end (a
                # wall-clock timer would close each bar of 2024 the moment it opened).
                assert newest_tick >= m["end"] - 10 * 1_000_000, m
                arrivals.append((time.monotonic(), m))
        await asyncio.sleep(0)
    closes = [b for _, b in arrivals]
    assert [b["start"] for b in closes] == sorted({ts - ts % MINUTE_US for ts, _ in ticks})
    assert arrivals[-1][0] - arrivals[0][0] > 2.5  # 9 minutes of replay at 120x: 4.5 s
    assert ohlc(closes) == reference(ticks, lambda ts: ts - ts % MINUTE_US)
