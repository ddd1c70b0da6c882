"""The fan-out engine over real sockets: batching, conflation, throttle,
slow consumers and compression."""

import asyncio
import itertools
import time

import aiohttp
import numpy as np
import orjson

from tests.support.helpers import RawClient, ScriptedFeed, client, config, running, wait_for

SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "AUDUSD", "USDCAD"]


def replay(msgs: list[dict]) -> dict[str, dict]:
    """Apply snapshots and updates as a client would; check seq only ever rises."""
    state: dict[str, dict] = {}
    for m in msgs:
        if m["type"] == "snapshot":
            state[m["symbol"]] = dict(m)
        elif m["type"] == "update":
            st = state[m["symbol"]]
            assert m["seq"] > st["seq"], (m, st)
            st.update(m)
    return state


async def test_bursts_go_out_as_batched_array_frames() -> None:
    feed = ScriptedFeed(SYMBOLS)
    async with running(config(), feeds=[feed]) as srv, client(srv.ws_url) as c:
        await feed.started.wait()
        await c.send({"op": "subscribe", "symbols": SYMBOLS})
        await c.collect(0.3)
        for i in range(50):  # one synchronous burst: nothing is sent until it ends
            feed.tick(SYMBOLS[i % 5], 1.1 + i / 1e4, 1.2 + i / 1e4)
        msg = await c.ws.receive(timeout=5)
        frame = orjson.loads(msg.data)
    assert isinstance(frame, list)  # all of the burst in one frame (well under max_frame_bytes)
    assert [m["type"] for m in frame].count("update") == 50
    assert [m["type"] for m in frame].count("status") == 5  # pending -> live, before each first update


async def test_a_stalled_client_is_conflated_and_catches_up_to_exact_state() -> None:
    cfg = config(
        fanout={"queue_high_water": 32, "socket_send_buffer": 8192, "slow_consumer_max_lag_s": 60.0}
    )
    feed = ScriptedFeed(SYMBOLS)
    async with running(cfg, feeds=[feed]) as srv:
        await feed.started.wait()
        raw = await RawClient.connect(srv.ws_url)
        await raw.send({"op": "subscribe", "symbols": SYMBOLS})
        first = await raw.read_messages(0.3)
        raw.stop_reading()
        rng = np.random.default_rng(1)
        for i in range(20_000):
            feed.tick(SYMBOLS[i % 5], 1.1 + rng.integers(0, 500) / 1e5, 1.2 + rng.integers(0, 500) / 1e5)
            if i % 500 == 0:
                await asyncio.sleep(0.005)  # let the flusher run and the socket fill up
        conn = next(iter(srv.clients))
        assert len(conn.outbox) <= 32 + len(SYMBOLS) + 2  # bounded: high water + one slot per symbol
        msgs = first + await raw.read_messages(2.0)
        raw.close()
    state = replay(msgs)
    table = srv.service.table
    updates = sum(m["type"] == "update" for m in msgs)
    assert updates < 20_000  # some were merged...
    assert srv.service.fanout_stats.conflated > 0
    for sym in SYMBOLS:  # ...but the client ends with exactly the server's state
        sid = table.ids[sym]
        assert state[sym]["seq"] == table.seq[sid]
        assert (state[sym]["bid"], state[sym]["ask"]) == (table.bid[sid], table.ask[sid])


async def test_throttle_caps_update_rate_and_always_delivers_the_last_change() -> None:
    feed = ScriptedFeed(SYMBOLS)
    async with running(config(), feeds=[feed]) as srv, client(srv.ws_url) as c:
        await feed.started.wait()
        feed.tick("EURUSD", 1.1, 1.2)
        await c.send({"op": "subscribe", "symbols": ["EURUSD"], "throttle_ms": 200, "id": 1})
        assert (await c.next())["throttle_ms"] == 200
        assert (await c.next())["type"] == "snapshot"
        async def produce() -> None:
            for i in range(50):  # 50 ticks over ~1 s
                feed.tick("EURUSD", 1.1 + (i + 1) / 1e4, 1.2)
                await asyncio.sleep(0.02)

        producer = asyncio.create_task(produce())
        times: list[float] = []
        updates: list[dict] = []
        while True:
            try:
                m = await c.next(timeout=0.6)
            except TimeoutError:
                break
            updates.append(m)
            times.append(time.monotonic())
        await producer
    assert all(m["type"] == "update" for m in updates)
    assert 3 <= len(updates) <= 8  # ~1 s at one per 200 ms, plus the first
    assert all(b - a >= 0.15 for a, b in itertools.pairwise(times))
    assert updates[-1]["seq"] == 51 and updates[-1]["bid"] == round(1.1 + 50 / 1e4, 5)


async def test_slow_consumer_is_warned_then_closed_1013_while_others_flow() -> None:
    cfg = config(
        feeds=[{"type": "synthetic", "rate": 3000.0, "seed": 3}],
        fanout={"slow_consumer_max_lag_s": 0.3, "slow_consumer_grace_s": 1.0, "socket_send_buffer": 8192},
    )
    async with running(cfg) as srv, client(srv.ws_url) as good:
        await good.send({"op": "subscribe", "symbols": ["EURUSD", "USDJPY"]})
        raw = await RawClient.connect(srv.ws_url)
        await raw.send({"op": "subscribe", "symbols": list(srv.service.table.symbols)})
        raw.stop_reading()
        stats = srv.service.fanout_stats
        got = []
        deadline = time.monotonic() + 15
        while not stats.slow_consumer_closes and time.monotonic() < deadline:
            got += await good.collect(0.2)
        assert stats.slow_consumer_closes == 1
        assert stats.slow_consumer_warnings >= 1
        late = await raw.read_messages(4.0)  # it reads again, too late
        raw.close()
        got += await good.collect(0.3)
    warnings = [m for m in late if m["type"] == "warning"]
    assert warnings and warnings[0]["code"] == "slow_consumer"
    assert raw.close_code == 1013
    assert "slow consumer" in raw.close_reason
    seqs: dict[str, list[int]] = {}
    for m in got:
        if m["type"] == "update":
            seqs.setdefault(m["symbol"], []).append(m["seq"])
    assert sum(len(v) for v in seqs.values()) > 50
    for v in seqs.values():  # the good client saw every update, in order
        assert np.all(np.diff(v) == 1)
    await wait_for(lambda: srv.service.fanout_stats.closed["slow_consumer"] == 1)


async def test_permessage_deflate_when_enabled() -> None:
    async with running(config(fanout={"compression": True})) as srv:
        async with aiohttp.ClientSession() as s, s.ws_connect(srv.ws_url, compress=15) as ws:
            assert ws.compress == 15
            await ws.send_json({"op": "subscribe", "symbols": ["EURUSD", "USDJPY"]})
            seen: list[dict] = []
            deadline = time.monotonic() + 5
            while sum(m["type"] == "update" for m in seen) < 5 and time.monotonic() < deadline:
                data = (await ws.receive(timeout=5)).json()
                seen += data if isinstance(data, list) else [data]
        replay(seen)
        assert sum(m["type"] == "update" for m in seen) >= 5


async def test_compression_is_off_by_default() -> None:
    async with (
        running() as srv,
        aiohttp.ClientSession() as s,
        s.ws_connect(srv.ws_url, compress=15) as ws,
    ):
        assert ws.compress == 0
