"""Staleness, failover, bad ticks and crashes, as a subscribed WebSocket client sees them."""

import asyncio
import itertools

import aiohttp

from feeds.synthetic.feed import SyntheticFeed
from feeds.synthetic.options import SyntheticOptions
from tests.support.feed_helpers import ScriptedFeed, metric
from tests.support.helpers import client, config, running, wait_for
from ticker.core.model import Instrument

EURUSD = Instrument("EURUSD", 5, 0.0001)
GBPUSD = Instrument("GBPUSD", 5, 0.0001)


def is_status(symbol: str, status: str):
    return lambda m: m["type"] == "status" and m["symbol"] == symbol and m["status"] == status


async def subscribe(c, *symbols: str) -> None:
    """Subscribe and wait for the snapshots, so later ticks arrive as updates."""
    await c.send({"op": "subscribe", "symbols": list(symbols)})
    for sym in symbols:
        await c.until(lambda m, sym=sym: m["type"] == "snapshot" and m["symbol"] == sym)


async def symbols_api(base: str) -> dict[str, dict]:
    async with aiohttp.ClientSession() as http, http.get(base + "/api/symbols") as r:
        return {s["symbol"]: s for s in (await r.json())["symbols"]}


async def metrics_text(base: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(base + "/metrics") as r:
        return await r.text()


async def test_silent_symbol_turns_stale_then_live_on_its_next_tick() -> None:
    feed = ScriptedFeed("desk", [EURUSD, GBPUSD])
    cfg = config(feeds=[{"type": "synthetic", "name": "desk", "stale_after_s": 0.6}])
    async with running(cfg, feeds=[feed]) as srv, client(srv.ws_url) as c:
        await subscribe(c, "EURUSD", "GBPUSD")
        feed.tick("EURUSD", 1.1, 1.1002)
        feed.tick("GBPUSD", 1.3, 1.3002)
        await c.until(lambda m: m["type"] == "update" and m["symbol"] == "GBPUSD")
        # GBPUSD keeps ticking; EURUSD goes quiet.
        for _ in range(8):
            feed.tick("GBPUSD", 1.3, 1.3003)
            await asyncio.sleep(0.12)
        stale = await c.until(is_status("EURUSD", "stale"), timeout=3)
        assert set(stale) == {"type", "symbol", "status", "ts"}
        assert (await symbols_api(srv.base))["EURUSD"]["status"] == "stale"
        assert (await symbols_api(srv.base))["GBPUSD"]["status"] == "live"
        seq = srv.service.table.seq[srv.service.table.ids["EURUSD"]]
        feed.tick("EURUSD", 1.1001, 1.1003)
        await c.until(is_status("EURUSD", "live"))
        upd = await c.until(lambda m: m["type"] == "update" and m["symbol"] == "EURUSD")
        assert upd["seq"] == seq + 1 and upd["bid"] == 1.1001
        assert (await symbols_api(srv.base))["EURUSD"]["status"] == "live"


async def test_failover_to_backup_and_back_keeps_seq_increasing_and_is_counted() -> None:
    primary = ScriptedFeed("lp1", [EURUSD, GBPUSD])
    backup = ScriptedFeed("lp2", [EURUSD])
    cfg = config(
        feeds=[
            {"type": "synthetic", "name": "lp1", "stale_after_s": 0.5},
            {"type": "synthetic", "name": "lp2", "backup_for": "lp1", "stale_after_s": 0.5},
        ]
    )
    async with running(cfg, feeds=[primary, backup]) as srv, client(srv.ws_url) as c:
        await subscribe(c, "EURUSD")
        sym = await symbols_api(srv.base)
        assert (sym["EURUSD"]["feed"], sym["EURUSD"]["backup"], sym["GBPUSD"]["backup"]) == (
            "lp1",
            "lp2",
            None,
        )
        seqs: list[int] = []
        sources: list[str] = []

        async def phase(
            feed: ScriptedFeed, bid: float, seconds: float, other: ScriptedFeed | None = None
        ) -> None:
            end = asyncio.get_running_loop().time() + seconds
            while asyncio.get_running_loop().time() < end:
                feed.tick("EURUSD", bid, bid + 0.0002)
                if other is not None:
                    other.tick("EURUSD", bid + 0.5, bid + 0.5002)  # never applied while standing by
                await asyncio.sleep(0.05)

        await phase(primary, 1.1, 0.4, other=backup)
        # Primary goes quiet; the backup keeps quoting and takes over.
        await phase(backup, 1.2, 1.2)
        sources.append((await symbols_api(srv.base))["EURUSD"]["source"])
        await phase(primary, 1.3, 0.4, other=backup)
        sources.append((await symbols_api(srv.base))["EURUSD"]["source"])
        msgs = await c.collect(0.3)
        text = await metrics_text(srv.base)
    seqs = [m["seq"] for m in msgs if m["type"] in ("snapshot", "update")]
    bids = [m["bid"] for m in msgs if m["type"] == "update" and "bid" in m]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(b - a == 1 for a, b in itertools.pairwise(seqs[1:]))  # gapless after the snapshot
    assert 1.1 in bids and 1.2 in bids and 1.3 in bids
    assert not any(b > 1.5 for b in bids)  # standby ticks never reached a client
    assert not [m for m in msgs if m["type"] == "status" and m["status"] == "stale"]  # seamless
    assert sources == ["lp2", "lp1"]
    assert metric(text, "ticker_feed_failovers_total", feed="lp1", direction="to_backup") == 1
    assert metric(text, "ticker_feed_failovers_total", feed="lp1", direction="to_primary") == 1
    assert metric(text, "ticker_feed_standby_ticks_total", feed="lp2") > 5
    assert srv.service.ready  # a backup standing by counts as delivering


async def test_outliers_are_rejected_counted_and_never_sent() -> None:
    feed = ScriptedFeed("desk", [EURUSD])
    cfg = config(
        feeds=[{"type": "synthetic", "name": "desk", "outliers": {"max_jump_pct": 0.5, "confirm_ticks": 2}}]
    )
    async with running(cfg, feeds=[feed]) as srv, client(srv.ws_url) as c:
        await subscribe(c, "EURUSD")
        for bid in (1.1, 1.1001, 11.0, 1.1002, 1.1003, 1.2, 1.2001, 1.2002, 1.2003):
            feed.tick("EURUSD", bid, bid + 0.0002)
        got = await c.collect(0.8)
        text = await metrics_text(srv.base)
    bids = [m["bid"] for m in got if m["type"] == "update" and "bid" in m]
    # 11.0 was a fat finger; the move to 1.2 was real and confirmed by the next two ticks.
    assert bids == [1.1, 1.1001, 1.1002, 1.1003, 1.2, 1.2001, 1.2002, 1.2003]
    assert metric(text, "ticker_ticks_rejected_total", feed="desk", reason="outlier") == 1


async def test_a_crashing_feed_restarts_goes_stale_and_never_stops_the_others() -> None:
    crashing = ScriptedFeed("flaky", [EURUSD])
    steady = SyntheticFeed("steady", SyntheticOptions(symbols=("USDJPY",), rate=50.0))
    async with running(config(), feeds=[crashing, steady]) as srv, client(srv.ws_url) as c:
        await subscribe(c, "EURUSD", "USDJPY")
        crashing.tick("EURUSD", 1.1, 1.1002)
        await c.until(lambda m: m["type"] == "update" and m["symbol"] == "EURUSD")
        crashing.queue.put_nowait(RuntimeError("boom"))
        await c.until(is_status("EURUSD", "stale"), timeout=3)  # at once, not after stale_after_s
        got = await c.collect(0.5)
        assert any(m["type"] == "update" and m["symbol"] == "USDJPY" for m in got)
        await wait_for(lambda: crashing.runs == 2, timeout=5)
        crashing.tick("EURUSD", 1.1001, 1.1003)
        await c.until(is_status("EURUSD", "live"), timeout=3)
        text = await metrics_text(srv.base)
    assert metric(text, "ticker_feed_restarts_total", feed="flaky") == 1
