"""The real service over loopback: real aiohttp server, real WebSocket clients."""

import asyncio
from collections import defaultdict

import aiohttp
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from feeds.base import Feed, TickSink
from tests.support.helpers import client, config, running, wait_for
from ticker.core.model import Instrument, Tick

MAJORS = ["EURUSD", "USDJPY", "GBPUSD"]


async def test_subscribe_gives_ack_snapshots_then_updates_with_increasing_seq() -> None:
    async with running() as srv, client(srv.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": MAJORS, "id": 1})
        ack = await c.next()
        assert ack == {"type": "subscribed", "id": 1, "symbols": MAJORS}
        snaps = [await c.next() for _ in MAJORS]
        assert [s["type"] for s in snaps] == ["snapshot"] * 3
        assert [s["symbol"] for s in snaps] == MAJORS
        last = {s["symbol"]: s["seq"] for s in snaps}
        state = {s["symbol"]: dict(s) for s in snaps}
        got = await c.collect(1.5)
        updates = [m for m in got if m["type"] == "update"]
        assert len(updates) > 20
        for u in updates:
            assert u["seq"] == last[u["symbol"]] + 1  # gapless, strictly increasing
            last[u["symbol"]] = u["seq"]
            assert set(u) >= {"symbol", "seq", "ts"}
            assert set(u) <= {"type", "symbol", "seq", "ts", "bid", "ask", "bid_size", "ask_size", "day"}
            state[u["symbol"]].update(u)
        # Replaying snapshot + deltas reproduces the server's current state.
        table = srv.service.table
        for sym, st in state.items():
            sid = table.ids[sym]
            if table.seq[sid] == st["seq"]:
                assert (st["bid"], st["ask"]) == (table.bid[sid], table.ask[sid])
        jpy = [u for u in updates if u["symbol"] == "USDJPY" and "bid" in u]
        assert all(round(u["bid"], 3) == u["bid"] for u in jpy)


async def test_unsubscribe_stops_updates() -> None:
    async with running() as srv, client(srv.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": ["EURUSD", "USDJPY"]})
        await c.until(lambda m: m["type"] == "update")
        await c.send({"op": "unsubscribe", "symbols": ["USDJPY"], "id": 2})
        await c.until(lambda m: m["type"] == "unsubscribed" and m["id"] == 2)
        after = await c.collect(1.0)
        assert {m["symbol"] for m in after if m["type"] == "update"} == {"EURUSD"}


async def test_ping_pong() -> None:
    async with running() as srv, client(srv.ws_url) as c:
        await c.send({"op": "ping", "id": "p1"})
        pong = await c.next()
        assert pong["type"] == "pong" and pong["id"] == "p1" and pong["ts"] > 1_700_000_000_000_000


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ("this is not json", "bad_json"),
        ({"symbols": ["EURUSD"], "id": 5}, "bad_request"),
        ({"op": "subscribe", "symbols": "EURUSD", "id": 5}, "bad_request"),
        ({"op": "teleport", "id": 5}, "unknown_op"),
        ({"op": "subscribe", "symbols": ["XXXYYY"], "id": 5}, "unknown_symbol"),
        ({"op": "subscribe", "symbols": ["EURUSD", "USDJPY", "GBPUSD"], "id": 5}, "too_many_symbols"),
    ],
)
async def test_every_error_code_and_connection_stays_usable(request_: object, code: str) -> None:
    cfg = config(limits={"max_symbols_per_connection": 2})
    async with running(cfg) as srv, client(srv.ws_url) as c:
        await c.send(request_)
        err = await c.next()
        assert err["type"] == "error" and err["code"] == code and err["message"]
        if code != "bad_json":
            assert err["id"] == 5
        await c.send({"op": "ping", "id": 6})
        assert (await c.until(lambda m: m["type"] == "pong"))["id"] == 6


async def test_partly_unknown_subscribe_subscribes_the_known_ones() -> None:
    async with running() as srv, client(srv.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": ["EURUSD", "XXXYYY"], "id": 1})
        assert (await c.next())["symbols"] == ["EURUSD"]
        assert (await c.next())["type"] == "snapshot"
        err = await c.until(lambda m: m["type"] == "error")
        assert err["symbols"] == ["XXXYYY"] and err["id"] == 1
        await c.until(lambda m: m["type"] == "update" and m["symbol"] == "EURUSD")


async def test_garbage_from_one_client_does_not_disturb_another() -> None:
    cfg = config(limits={"messages_per_s": 0})  # every frame must reach the parser here
    async with running(cfg) as srv, client(srv.ws_url) as good, client(srv.ws_url) as bad:
        await good.send({"op": "subscribe", "symbols": ["EURUSD", "USDJPY"]})
        await good.until(lambda m: m["type"] == "update")

        async def spam() -> None:
            for i in range(300):
                await bad.ws.send_str(["{", "null", "[]", '{"op":1}', "\x00\xff", "x" * 1000][i % 6])
                await bad.ws.send_bytes(b"\x00\x01")
            await bad.send({"op": "ping", "id": "end"})

        spam_task = asyncio.create_task(spam())
        seqs: dict[str, list[int]] = defaultdict(list)
        got = await good.collect(1.5)
        await spam_task
        for m in got:
            if m["type"] == "update":
                seqs[m["symbol"]].append(m["seq"])
        assert sum(map(len, seqs.values())) > 10
        for s in seqs.values():
            assert np.all(np.diff(s) == 1)
        pong = await bad.until(lambda m: m["type"] == "pong", timeout=10)
        assert pong["id"] == "end"


async def test_binary_frame_gets_an_error() -> None:
    async with running() as srv, client(srv.ws_url) as c:
        await c.ws.send_bytes(b"\x01\x02")
        err = await c.next()
        assert err["code"] == "bad_request" and "binary" in err["message"]


async def test_oversized_message_closes_with_1009() -> None:
    cfg = config(limits={"max_message_bytes": 1024})
    async with running(cfg) as srv, client(srv.ws_url) as c:
        await c.ws.send_str('{"op":"ping","pad":"' + "x" * 5000 + '"}')
        msg = await c.ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert msg.data == 1009
        await wait_for(lambda: srv.service.fanout_stats.closed["message_too_big"] == 1)


async def test_http_symbols_and_snapshot() -> None:
    async with running() as srv, aiohttp.ClientSession() as http:
        await wait_for(lambda: srv.service.ready)
        async with http.get(srv.base + "/api/symbols") as r:
            symbols = (await r.json())["symbols"]
        by = {s["symbol"]: s for s in symbols}
        assert len(symbols) == 30
        assert by["EURUSD"]["decimals"] == 5 and by["EURUSD"]["pip_size"] == 0.0001
        assert by["USDJPY"]["decimals"] == 3 and by["XAUUSD"]["decimals"] == 2
        assert by["EURUSD"]["feed"] == "synthetic"
        async with http.get(srv.base + "/api/snapshot?symbols=EURUSD,GBPUSD") as r:
            snaps = (await r.json())["snapshots"]
        assert [s["symbol"] for s in snaps] == ["EURUSD", "GBPUSD"]
        assert all(s["type"] == "snapshot" and "seq" in s for s in snaps)
        async with http.get(srv.base + "/api/snapshot?symbols=EURUSD,NOPE") as r:
            assert r.status == 404
            body = await r.json()
            assert body["error"]["code"] == "unknown_symbol" and body["error"]["symbols"] == ["NOPE"]
        async with http.get(srv.base + "/api/snapshot") as r:
            assert len((await r.json())["snapshots"]) == 30
        async with http.get(srv.base + "/healthz") as r:
            assert r.status == 200


async def test_metrics_parse_and_count_what_happened() -> None:
    async with running() as srv, client(srv.ws_url) as c, aiohttp.ClientSession() as http:
        await c.send({"op": "subscribe", "symbols": ["EURUSD", "USDJPY"]})
        for _ in range(5):
            await c.until(lambda m: m["type"] == "update")
        async with http.get(srv.base + "/metrics") as r:
            assert r.status == 200
            text = await r.text()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    samples = [s for f in fams.values() for s in f.samples]

    def value(name: str, **labels: str) -> float:
        found = [s for s in samples if s.name == name]
        assert found, f"{name} not exported"
        return sum(s.value for s in found if all(s.labels.get(k) == v for k, v in labels.items()))

    assert value("ticker_ticks_ingested_total", feed="synthetic") > 0
    assert "ticker_ticks_rejected" in fams
    assert value("ticker_connections") == 1
    assert value("ticker_subscriptions") == 2
    assert value("ticker_sent_messages_total") >= 8
    assert value("ticker_sent_bytes_total") > 100
    assert value("ticker_fanout_latency_seconds_count") > 0
    assert fams["ticker_fanout_latency_seconds"].type == "histogram"
    assert "process_resident_memory_bytes" in text


class GatedFeed(Feed):
    """Produces nothing until its gate opens: lets a test watch readiness change."""

    def __init__(self) -> None:
        super().__init__("gated")
        self.gate = asyncio.Event()

    def instruments(self) -> list[Instrument]:
        return [Instrument("EURUSD", 5, 0.0001)]

    async def run(self, sink: TickSink) -> None:
        await self.gate.wait()
        sink.publish_tick(Tick("EURUSD", 1.1, 1.2, 1))
        await asyncio.Event().wait()


async def test_readyz_is_503_until_feeds_produce() -> None:
    feed = GatedFeed()
    async with running(config(), feeds=[feed]) as srv, aiohttp.ClientSession() as http:
        async with http.get(srv.base + "/readyz") as r:
            assert r.status == 503
            assert (await r.json())["waiting_for_feeds"] == ["gated"]
        feed.gate.set()
        await wait_for(lambda: srv.service.ready)
        async with http.get(srv.base + "/readyz") as r:
            assert r.status == 200


async def test_server_shutdown_closes_clients_with_going_away() -> None:
    async with running() as srv, client(srv.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": ["EURUSD"]})
        await c.next()
        stopping = asyncio.create_task(srv.stop())
        msg = await c.ws.receive(timeout=5)
        while msg.type is aiohttp.WSMsgType.TEXT:
            msg = await c.ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001
        await stopping
        assert srv.service.fanout_stats.closed["server_shutdown"] == 1
        assert srv.service.runner.states["synthetic"].value == "stopped"
