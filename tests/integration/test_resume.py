"""Resume after a cut connection, over real sockets: every seq once, in order, values equal to the server's.

The feed keeps ticking while the client is away; the test stops it only at the
end, to compare the client's quotes with the server's table exactly.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from tests.support.helpers import RawClient, ScriptedFeed, client, config, running, wait_for
from tests.support.resume import Seen, raw_read_until_mid_frame, read_until_cut, resume
from ticker.client import Client, connect
from ticker.server.connection import WRITE_HIGH
from ticker.util.backoff import backoff

SYMBOLS = ["EURUSD", "USDJPY", "GBPUSD", "XAUUSD"]


async def settle(srv: Any, c: Any, seen: Seen) -> None:
    """Stop the feed, take what is still on its way, compare with the server."""
    await srv.service.runner.stop()
    seen.add(await c.collect(0.5))
    seen.assert_equals(srv.service.table)


async def missed_some(srv: Any, since: dict[str, Any], n: int = 5) -> None:
    """Wait until every symbol moved at least ``n`` seq past the client's position."""
    t = srv.service.table
    await wait_for(lambda: all(int(t.seq[t.ids[s]]) >= p["seq"] + n for s, p in since.items()), 10)


async def test_server_side_cut_then_resume_fills_the_gap_exactly() -> None:
    seen = Seen()
    async with running() as srv:
        async with client(srv.ws_url) as c:
            await c.send({"op": "subscribe", "symbols": SYMBOLS, "id": 1})
            seen.add(await c.collect(0.7))
            (conn,) = list(srv.clients)
            conn.transport.abort()  # the server's side of the TCP connection goes away
            seen.add(await read_until_cut(c, 5))
        since = seen.since()
        await missed_some(srv, since)
        async with client(srv.ws_url) as c:
            ack = await resume(c, SYMBOLS, since)
            assert ack["resume"] == {
                s: {"recovered": True, "replayed": ack["resume"][s]["replayed"]} for s in SYMBOLS
            }
            assert all(r["replayed"] >= 5 for r in ack["resume"].values())
            seen.add(await c.collect(0.5))
            await settle(srv, c, seen)
    assert seen.assert_every_seq_once_in_order() > 50
    assert srv.service.fanout_stats.resumes["recovered"] == len(SYMBOLS)


async def test_client_side_cut_mid_frame_then_resume() -> None:
    seen = Seen()
    async with running() as srv:
        raw = await RawClient.connect(srv.ws_url, rcvbuf=65536)
        await raw.send({"op": "subscribe", "symbols": SYMBOLS, "id": 1})
        seen.add(await raw_read_until_mid_frame(raw, want=40))
        raw.close()  # abort with a frame half read: what was in it never reached the client
        since = seen.since()
        await missed_some(srv, since)
        async with client(srv.ws_url) as c:
            ack = await resume(c, SYMBOLS, since)
            assert {r["recovered"] for r in ack["resume"].values()} == {True}
            seen.add(await c.collect(0.5))
            await settle(srv, c, seen)
    assert seen.assert_every_seq_once_in_order() > 40


async def test_server_side_cut_mid_frame_of_a_stalled_client_then_resume() -> None:
    # No conflation, so a stalled client's frames pile up in the server's transport
    # until the connection stops writing (WRITE_HIGH); the client then takes a little,
    # the kernel takes the first part of the next buffered frame, and the abort cuts
    # that frame in the middle.
    cfg = config(
        fanout={"socket_send_buffer": 4096, "queue_high_water": 1_000_000},
        feeds=[{"type": "synthetic", "rate": 2000.0, "seed": 7}],
    )
    async with running(cfg) as srv:
        symbols = list(srv.service.table.symbols)
        seen = Seen()
        for _ in range(5):  # a frame boundary exactly at the cut is possible, if unlikely
            raw = await RawClient.connect(srv.ws_url, rcvbuf=4096)
            await raw.send({"op": "subscribe", "symbols": symbols, "id": 1, "since": seen.since()})
            seen.add(await raw.read_messages(0.3))
            raw.stop_reading()
            (conn,) = list(srv.clients)
            transport = conn.transport
            await wait_for(lambda: transport.get_write_buffer_size() > WRITE_HIGH, 10)  # noqa: B023
            before = transport.get_write_buffer_size()
            for _ in range(10):  # until the server has handed part of its buffer to the kernel
                raw.resume_reading()
                raw.buf += await raw.reader.read(2000)
                raw.stop_reading()
                await asyncio.sleep(0.05)
                if transport.get_write_buffer_size() < before:
                    break
            transport.abort()
            seen.add(await raw.read_messages(2.0))  # what the kernel still delivers, up to the cut
            raw.close()
            mid_frame = bool(raw.buf)  # the first bytes of a frame that never completed
            await wait_for(lambda: not list(srv.clients), 5)
            if mid_frame:
                break
        assert mid_frame
        for ack in seen.acks[1:]:  # every reconnect resumed
            assert {r["recovered"] for r in ack["resume"].values()} == {True}, ack
        async with client(srv.ws_url) as c:
            ack = await resume(c, symbols, seen.since())
            assert {r["recovered"] for r in ack["resume"].values()} == {True}
            seen.add(await c.collect(0.3))
            await settle(srv, c, seen)
    assert seen.assert_every_seq_once_in_order() > 500


async def test_a_client_away_longer_than_the_ring_gets_a_snapshot_equal_to_the_state() -> None:
    seen = Seen()
    async with running(config(resume={"max_updates": 5})) as srv:
        async with client(srv.ws_url) as c:
            await c.send({"op": "subscribe", "symbols": SYMBOLS, "id": 1})
            seen.add(await c.collect(0.3))
        since = seen.since()
        await missed_some(srv, since, n=10)
        await srv.service.runner.stop()
        async with client(srv.ws_url) as c:
            ack = await resume(c, SYMBOLS, since)
            assert ack["resume"] == {s: {"recovered": False, "reason": "too_old"} for s in SYMBOLS}
            got = await c.collect(0.3)
            snaps = {m["symbol"]: m for m in got if m["type"] == "snapshot"}
            assert set(snaps) == set(SYMBOLS)
            enc, t = srv.service.encoder, srv.service.table
            for s in SYMBOLS:
                assert snaps[s] == enc.snapshot_dict(t.ids[s])
            seen.add(got)
            seen.assert_equals(t)
    assert all(seen.book.gaps[s] >= 10 for s in SYMBOLS)  # the client knows what it missed


async def test_a_client_from_a_restarted_server_gets_fresh_snapshots() -> None:
    seen = Seen()
    async with running() as first:
        port = int(first.base.rsplit(":", 1)[1])
        async with client(first.ws_url) as c:
            await c.send({"op": "subscribe", "symbols": SYMBOLS, "id": 1})
            seen.add(await c.collect(0.3))
    async with running(port=port) as second, client(second.ws_url) as c:
        ack = await resume(c, SYMBOLS, seen.since())
        assert ack["resume"] == {s: {"recovered": False, "reason": "epoch_changed"} for s in SYMBOLS}
        snaps = [await c.until(lambda m: m["type"] == "snapshot") for _ in SYMBOLS]
        assert {m["epoch"] for m in snaps} == {second.service.epoch} != {first.service.epoch}
        async with aiohttp.ClientSession() as http, http.get(f"{second.base}/api/snapshot") as resp:
            api = (await resp.json())["snapshots"]
        assert {s["epoch"] for s in api} == {second.service.epoch}


# ---------------------------------------------------------------- the Python client


async def test_the_python_client_resumes_by_itself_after_a_server_side_cut() -> None:
    async with running() as srv:
        c: Client = connect(srv.ws_url, backoff_factory=lambda: backoff(initial=0.05, maximum=0.1))
        async with c:
            await c.subscribe(SYMBOLS)
            updates: dict[str, list[int]] = {s: [] for s in SYMBOLS}
            cut = reconnected = False
            async with asyncio.timeout(15):
                async for m in c:
                    if m.type == "update" and m.symbol is not None:
                        updates[m.symbol].append(m.data["seq"])
                    elif m.type == "snapshot":
                        assert not reconnected, "a resumed symbol needs no snapshot"
                    elif m.type == "connected" and m.data["attempt"] > 1:
                        reconnected = True
                    if not cut and sum(map(len, updates.values())) >= 30:
                        cut = True
                        (conn,) = list(srv.clients)
                        conn.transport.abort()
                        await asyncio.sleep(0.3)  # ticks go on while the client is away
                    if reconnected and all(len(v) > 40 for v in updates.values()):
                        break
            assert {s: r.recovered for s, r in c.recovery.items()} == dict.fromkeys(SYMBOLS, True)
            assert sum(r.replayed for r in c.recovery.values()) > 0
            for seqs in updates.values():
                assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
            assert sum(c.book.gaps.values()) == 0


# ---------------------------------------------------------------- heartbeats


async def heartbeats_during(c: Any, seconds: float) -> list[tuple[float, dict[str, Any]]]:
    out: list[tuple[float, dict[str, Any]]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            m = await c.next(left)
        except TimeoutError:
            break
        out.append((time.monotonic(), m))
    return out


async def test_heartbeats_arrive_on_an_idle_subscription_at_the_interval_and_never_while_data_flows() -> None:
    feed = ScriptedFeed(["EURUSD", "GBPUSD"])
    async with running(config(), feeds=[feed]) as srv, client(srv.ws_url) as c:
        await asyncio.wait_for(feed.started.wait(), 5)
        feed.tick("EURUSD", 1.1, 1.2)
        await c.send({"op": "subscribe", "symbols": ["EURUSD"], "id": 1})
        await c.send({"op": "heartbeat", "interval_ms": 1000, "id": 2})
        ack = await c.until(lambda m: m["type"] == "heartbeat")
        assert ack["id"] == 2 and ack["interval_ms"] == 1000
        t0 = time.monotonic()
        idle = [(t, m) for t, m in await heartbeats_during(c, 4.2) if m["type"] == "heartbeat"]
        assert 3 <= len(idle) <= 4 and all(set(m) == {"type", "ts"} for _, m in idle)
        gaps = [b - a for a, b in zip([t0] + [t for t, _ in idle], [t for t, _ in idle], strict=False)]
        assert all(0.5 <= g <= 1.5 for g in gaps), gaps

        async def ticking() -> None:
            for i in range(20):
                feed.tick("EURUSD", 1.1 + (i % 2) * 0.0001, 1.2)
                await asyncio.sleep(0.2)

        task = asyncio.create_task(ticking())
        busy = await heartbeats_during(c, 3.5)
        await task
        assert sum(m["type"] == "update" for _, m in busy) >= 15
        assert not [m for _, m in busy if m["type"] == "heartbeat"]
        assert srv.service.fanout_stats.heartbeats_sent == len(idle)
