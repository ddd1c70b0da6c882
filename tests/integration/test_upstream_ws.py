"""Upstream WebSocket ingestion end to end: a fake venue on loopback, the real
service, a real subscribed client. The venue is killed and restarted mid-stream."""

import asyncio
from typing import Any

import aiohttp
import orjson
import pytest

from tests.support.feed_helpers import FakeUpstream, fake_upstream, metric
from tests.support.helpers import Client, client, config, running, wait_for

CRYPTO = {"decimals": 2, "pip_size": 0.01}


def price(i: int) -> float:
    return round(20000 + (i % 40) * 0.5, 2)


def binance_frame(i: int) -> str:
    quote = {
        "u": i,
        "s": "BTCUSDT",
        "b": f"{price(i):.8f}",
        "B": "1.5",
        "a": f"{price(i) + 0.01:.8f}",
        "A": "2",
    }
    return orjson.dumps({"stream": "btcusdt@bookTicker", "data": quote} if i % 2 else quote).decode()


def coinbase_frame(i: int) -> str:
    return orjson.dumps(
        {
            "type": "ticker",
            "sequence": i,
            "product_id": "BTC-USD",
            "best_bid": f"{price(i):.2f}",
            "best_bid_size": "0.5",
            "best_ask": f"{price(i) + 0.01:.2f}",
            "best_ask_size": "0.7",
            "time": "2024-01-02T03:04:05.123456Z",
        }
    ).decode()


def generic_frame(i: int) -> str:
    if i % 10 == 5:
        return "{broken"  # a venue hiccup: counted, skipped
    return orjson.dumps(
        {"ch": "q", "d": [{"sym": "btc_usd", "px": {"b": price(i), "a": str(price(i) + 0.01)}}]}
    ).decode()


PRESETS: dict[str, tuple[Any, dict[str, Any]]] = {
    "binance": (binance_frame, {"symbols": ["BTCUSDT"], "rename": {"BTCUSDT": "BTCUSD"}}),
    "coinbase": (coinbase_frame, {"symbols": ["BTC-USD"], "rename": {"BTC-USD": "BTCUSD"}}),
    "generic": (
        generic_frame,
        {
            "symbols": ["btc_usd"],
            "rename": {"btc_usd": "BTCUSD"},
            "subscribe": ['{"op":"subscribe","args":$symbols}'],
            "mapping": {"data": "d", "match": {"ch": ["q"]}, "symbol": "sym", "bid": "px.b", "ask": "px.a"},
        },
    ),
}


def ws_feed(url: str, preset: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "websocket",
        "name": "venue",
        "url": url,
        "preset": preset,
        "instruments": {"BTCUSD": CRYPTO},
        "reconnect_initial_s": 0.05,
        "reconnect_max_s": 0.2,
        "idle_timeout_s": 5.0,
        "stale_after_s": 10.0,
        **extra,
    }


def is_status(status: str):
    return lambda m: m["type"] == "status" and m["symbol"] == "BTCUSD" and m["status"] == status


async def quotes(c: Client, n: int) -> list[dict[str, Any]]:
    out = []
    while len(out) < n:
        m = await c.until(lambda m: m["type"] in ("update", "status"), timeout=5)
        assert m["type"] == "update", m
        out.append(m)
    return out


@pytest.mark.parametrize("preset", list(PRESETS))
async def test_upstream_killed_and_restarted_midstream(preset: str) -> None:
    frames, options = PRESETS[preset]
    async with fake_upstream(frames) as up:
        cfg = config(feeds=[ws_feed(up.url, preset, **options)])
        async with running(cfg) as srv, client(srv.ws_url) as c, aiohttp.ClientSession() as http:
            await c.send({"op": "subscribe", "symbols": ["BTCUSD"]})
            before = await quotes(c, 5)
            assert all(20000 <= u.get("bid", 20000) < 20020 for u in before)

            await up.stop()  # the venue dies mid-stream
            await c.until(is_status("stale"), timeout=5)  # at once: the connection is gone
            async with http.get(srv.base + "/api/symbols") as r:
                assert (await r.json())["symbols"][0]["status"] == "stale"
            await asyncio.sleep(0.3)  # a few failed reconnects
            await up.start()  # same port

            await c.until(is_status("live"), timeout=5)
            after = await quotes(c, 5)
            seqs = [u["seq"] for u in before + after]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
            assert len(up.received) >= 2  # subscribed again on the new connection
            assert up.received[0] == up.received[-1]
            async with http.get(srv.base + "/metrics") as r:
                text = await r.text()
            assert metric(text, "ticker_feed_reconnects_total", feed="venue") >= 1
            if preset == "generic":
                assert metric(text, "ticker_feed_parse_errors_total", feed="venue") >= 1
            assert srv.service.runner.restarts["venue"] == 0  # handled as a reconnect, not a crash


async def test_silent_upstream_is_detected_by_idle_timeout() -> None:
    async with fake_upstream(binance_frame) as up:
        cfg = config(feeds=[ws_feed(up.url, "binance", idle_timeout_s=0.4, **PRESETS["binance"][1])])
        async with running(cfg) as srv, client(srv.ws_url) as c:
            await c.send({"op": "subscribe", "symbols": ["BTCUSD"]})
            await quotes(c, 3)
            up.silent = True  # connection stays open, nothing arrives
            await c.until(is_status("stale"), timeout=5)
            up.silent = False
            await c.until(is_status("live"), timeout=5)
            await quotes(c, 3)
            assert up.connections >= 2
            assert srv.service.feed_stats["venue"].reconnects >= 1


async def test_unreachable_upstream_does_not_stop_the_service() -> None:
    up = FakeUpstream(binance_frame)
    await up.start()
    url = up.url
    await up.stop()  # nothing listens there now
    cfg = config(
        feeds=[ws_feed(url, "binance", **PRESETS["binance"][1]), {"type": "synthetic", "symbols": ["EURUSD"]}]
    )
    async with running(cfg) as srv, client(srv.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": ["EURUSD", "BTCUSD"]})
        await c.until(lambda m: m["type"] == "update" and m["symbol"] == "EURUSD")
        await wait_for(lambda: srv.service.feed_stats["venue"].reconnects >= 3, timeout=5)
        assert srv.service.table.status[srv.service.table.ids["BTCUSD"]] == 0  # still pending


@pytest.mark.parametrize("how", ["ticker-preset", "generic-mapping"])
async def test_ingests_another_ticker_instance(how: str) -> None:
    upstream_cfg = config(feeds=[{"type": "synthetic", "symbols": ["EURUSD", "XAUUSD"], "rate": 100.0}])
    async with running(upstream_cfg) as a:
        if how == "ticker-preset":
            feed = {"preset": "ticker"}
        else:
            feed = {
                "subscribe": ['{"op":"subscribe","symbols":$symbols}'],
                "mapping": {
                    "match": {"type": ["snapshot", "update"]},
                    "bid_size": "bid_size",
                    "ask_size": "ask_size",
                    "time": "ts",
                    "time_format": "unix_us",
                    "partial": True,
                },
            }
        down = {
            **ws_feed(a.ws_url, "generic"),
            "symbols": ["EURUSD", "XAUUSD"],
            "rename": {"XAUUSD": "GOLD"},
            "instruments": {"GOLD": {"decimals": 2, "pip_size": 0.1}},
            **feed,
        }
        async with running(config(feeds=[down])) as b, client(b.ws_url) as c:
            await c.send({"op": "subscribe", "symbols": ["EURUSD", "GOLD"]})
            state: dict[str, dict[str, Any]] = {}
            for _ in range(40):
                m = await c.until(lambda m: m["type"] in ("snapshot", "update"))
                state.setdefault(m["symbol"], {}).update({k: v for k, v in m.items() if v is not None})
            assert set(state) == {"EURUSD", "GOLD"}
            # The downstream's quotes are the upstream's (a moment later): same level, same decimals.
            ta, tb = a.service.table, b.service.table
            for sym_a, sym_b in (("EURUSD", "EURUSD"), ("XAUUSD", "GOLD")):
                assert abs(tb.bid[tb.ids[sym_b]] / ta.bid[ta.ids[sym_a]] - 1) < 0.001
            await wait_for(lambda: b.service.table.ts[b.service.table.ids["EURUSD"]] > 0)
            # Upstream's timestamps travel through (µs), not the arrival time.
            assert (
                b.service.table.ts[b.service.table.ids["EURUSD"]]
                <= a.service.table.ts[a.service.table.ids["EURUSD"]]
            )
