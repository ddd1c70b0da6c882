"""Derived crosses and daily statistics on the Redis bus: real Redis, one feed
process, two gateways, real clients.

The feed process computes the crosses and the statistics and publishes them
like any symbol; gateways copy, so both send the same ``seq`` with the same
prices and day fields, and a gateway that joins late shows the same numbers.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import aiohttp

from tests.support.bus import bus_config, feeding
from tests.support.helpers import Client, client, running, wait_for
from ticker.core.crosses import Op, derive
from ticker.runtime.service import Service

CROSSES = ["EURJPY = EURUSD * USDJPY", "GBPEUR = GBPUSD / EURUSD"]
DERIVED = ["EURJPY", "GBPEUR"]


async def subscribe(c: Client, symbols: list[str]) -> dict[str, dict[str, Any]]:
    await c.send({"op": "subscribe", "symbols": symbols, "id": 1})
    await c.until(lambda m: m["type"] == "subscribed")
    snaps = [await c.until(lambda m: m["type"] == "snapshot") for _ in symbols]
    return {s["symbol"]: s for s in snaps}


def by_seq(msgs: list[dict[str, Any]]) -> dict[str, dict[int, dict[str, Any]]]:
    out: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for m in msgs:
        if m["type"] == "update":
            out[m["symbol"]][m["seq"]] = m
    return out


async def test_two_gateways_agree_on_derived_crosses_seq_prices_and_day_fields(
    redis_url: str, bus_prefix: str
) -> None:
    cfg = bus_config(redis_url, bus_prefix, market={"crosses": CROSSES})
    async with feeding(cfg) as feed, running(cfg) as a, running(cfg) as b:
        await wait_for(lambda: all(feed.table.seq[feed.table.ids[s]] > 0 for s in DERIVED), 10)
        async with client(a.ws_url) as ca, client(b.ws_url) as cb:
            await asyncio.gather(subscribe(ca, DERIVED), subscribe(cb, DERIVED))
            got_a, got_b = await asyncio.gather(ca.collect(2.0), cb.collect(2.0))
        ua, ub = by_seq(got_a), by_seq(got_b)
        compared = 0
        for sym in DERIVED:
            both = ua[sym].keys() & ub[sym].keys()
            assert len(both) > 10, (sym, len(ua[sym]), len(ub[sym]))
            assert all(ua[sym][s] == ub[sym][s] for s in both), sym  # same prices, ts, day fields
            seqs = sorted(ua[sym])
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), sym  # every cross tick, in order
            compared += len(both)
        assert compared > 20

        await feed.runner.stop()  # freeze: everything published, compare exact state
        await wait_for(lambda: _same(a.service, feed) and _same(b.service, feed), 10)
        for gw in (a, b):
            t = gw.service.table
            ids = t.ids
            # The gateways' cross prices are what the legs they show give (bid/ask sides).
            bid, ask = derive(Op.MUL, t.bid[ids["EURUSD"]], t.ask[ids["EURUSD"]], 5,
                              t.bid[ids["USDJPY"]], t.ask[ids["USDJPY"]], 3, 3)  # fmt: skip
            assert (t.bid[ids["EURJPY"]], t.ask[ids["EURJPY"]]) == (bid, ask)
            bid, ask = derive(Op.DIV, t.bid[ids["GBPUSD"]], t.ask[ids["GBPUSD"]], 5,
                              t.bid[ids["EURUSD"]], t.ask[ids["EURUSD"]], 5, 5)  # fmt: skip
            assert (t.bid[ids["GBPEUR"]], t.ask[ids["GBPEUR"]]) == (bid, ask)
            async with aiohttp.ClientSession() as http, http.get(gw.base + "/api/symbols") as r:
                symbols = {s["symbol"]: s for s in (await r.json())["symbols"]}
            assert symbols["EURJPY"]["derived"] and symbols["EURJPY"]["legs"] == ["EURUSD", "USDJPY"]
            assert symbols["GBPEUR"]["formula"] == "GBPUSD / EURUSD"
            assert not symbols["EURUSD"]["derived"]

        # A gateway that joins now serves the same snapshots, daily statistics included.
        async with running(cfg) as late, client(late.ws_url) as cl, client(a.ws_url) as ca:
            snaps_late, snaps_a = await asyncio.gather(
                subscribe(cl, [*DERIVED, "EURUSD"]), subscribe(ca, [*DERIVED, "EURUSD"])
            )
        assert snaps_late == snaps_a
        assert snaps_a["EURJPY"]["day"]["ticks"] == feed.market.stats.as_dict(feed.table.ids["EURJPY"])["ticks"]


def _same(gateway: Service, feed: Service) -> bool:
    g, f = gateway.table, feed.table
    return all(
        (g.seq[i], g.bid[i], g.ask[i], g.status[i]) == (f.seq[i], f.bid[i], f.ask[i], f.status[i])
        for i in range(len(f))
    ) and all(
        gateway.market.stats.as_dict(i) == feed.market.stats.as_dict(i)  # type: ignore[union-attr]
        for i in range(len(f))
    )
