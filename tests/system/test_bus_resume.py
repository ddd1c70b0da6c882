"""Resuming across gateways on the Redis bus, and what feed and Redis restarts do to epochs.

Feed processes and gateways run in this event loop as services (as in
test_bus_redis.py); everything between them goes through a real Redis.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.bus import MAJORS, bus_config, feeding, subscribed
from tests.support.helpers import Running, client, wait_for
from tests.support.redis_server import RedisServer
from tests.support.resume import Seen, resume
from ticker.runtime.service import Service


async def moved_on(service: Service, since: dict[str, Any], n: int = 5) -> None:
    t = service.table
    await wait_for(lambda: all(int(t.seq[t.ids[s]]) >= p["seq"] + n for s, p in since.items()), 10)


async def synced(gw: Running, feed: Service) -> None:
    """The gateway follows the feed's sequence (so its snapshots name the feed's epoch)."""
    g, f = gw.service.table, feed.table
    await wait_for(lambda: all(g.epoch[f.ids[s]] == f.epoch[f.ids[s]] for s in MAJORS), 10)


def ring_tail(gw: Running, symbol: str, floor: int) -> list[bytes] | None:
    ring = gw.service.ingest.ring
    assert ring is not None
    return ring.after(gw.service.table.ids[symbol], floor)


async def test_a_client_resumes_on_a_gateway_started_after_it_left_without_a_gap(
    redis_url: str, bus_prefix: str
) -> None:
    cfg = bus_config(redis_url, bus_prefix)
    seen = Seen()
    async with feeding(cfg) as feed, running_gateway(cfg) as a:
        async with client(a.ws_url) as c:
            await c.send({"op": "subscribe", "symbols": MAJORS, "id": 1})
            seen.add(await c.collect(0.7))
        since = seen.since()
        await moved_on(feed, since)  # ticks the client misses: B was not even running
        async with running_gateway(cfg) as b, client(b.ws_url) as c:
            ring_b = b.service.ingest.ring
            assert ring_b is not None
            for s in MAJORS:  # B filled its ring from the stream: the same bytes as A's
                floor = ring_b.floor(b.service.table.ids[s])
                assert floor <= since[s]["seq"]
                assert ring_tail(b, s, floor) == ring_tail(a, s, floor)
                assert b.service.table.epoch[b.service.table.ids[s]] == since[s]["epoch"]
            ack = await resume(c, MAJORS, since)
            assert {r["recovered"] for r in ack["resume"].values()} == {True}, ack
            assert all(r["replayed"] >= 5 for r in ack["resume"].values())
            seen.add(await c.collect(0.5))
            await feed.runner.stop()
            seen.add(await c.collect(1.0))
            await wait_for(lambda: all_equal(b.service, feed), 10)
            seen.assert_equals(feed.table)
    assert seen.assert_every_seq_once_in_order() > 30


def all_equal(a: Service, b: Service) -> bool:
    return all(int(a.table.seq[sid]) == int(b.table.seq[sid]) for sid in range(len(a.table)))


async def test_a_feed_process_restart_that_continues_the_sequence_keeps_the_epoch(
    redis_url: str, bus_prefix: str
) -> None:
    cfg = bus_config(redis_url, bus_prefix)
    stayed, left = Seen(), Seen()
    async with running_gateway(cfg) as gw, client(gw.ws_url) as c:
        async with feeding(cfg) as first:
            await synced(gw, first)
            await c.send({"op": "subscribe", "symbols": MAJORS, "id": 1})
            async with client(gw.ws_url) as other:
                await other.send({"op": "subscribe", "symbols": MAJORS, "id": 1})
                left.add(await other.collect(0.7))
            stayed.add(await c.collect(0.3))
            epoch = first.table.epoch[0]
        async with feeding(cfg) as second:  # restores state, seq and epoch from Redis
            assert set(second.table.epoch) == {epoch}
            await moved_on(second, left.since())
            stayed.add(await c.collect(0.3))
            async with client(gw.ws_url) as other:
                ack = await resume(other, MAJORS, left.since())
                assert {r["recovered"] for r in ack["resume"].values()} == {True}, ack
                left.add(await other.collect(0.5))
                await second.runner.stop()
                left.add(await other.collect(1.0))
            stayed.add(await c.collect(0.2))
            left.assert_equals(second.table)
            stayed.assert_equals(second.table)
    assert set(gw.service.table.epoch) == {epoch}
    assert stayed.assert_every_seq_once_in_order() > 20  # the connected client saw no snapshot either
    assert left.assert_every_seq_once_in_order() > 20


async def test_a_redis_restarted_empty_changes_the_epoch_only_when_the_sequence_starts_over(
    redis_server: RedisServer,
) -> None:
    cfg = bus_config(redis_server.url, "epochs")
    seen = Seen()
    async with running_gateway(cfg) as gw, client(gw.ws_url) as c:
        async with feeding(cfg) as first:
            await synced(gw, first)
            snaps = await subscribed(c)
            epoch = snaps[0]["epoch"]
            assert {s["epoch"] for s in snaps} == {epoch} == set(first.table.epoch)
            # Redis restarts empty under a running feed process: its own table proves the
            # sequence goes on, so the epoch stays and connected clients get no snapshot.
            redis_server.crash()
            await asyncio.sleep(0.5)
            redis_server.start()
            got = await c.collect(4.0)
            assert any(m["type"] == "update" for m in got[-20:])
            assert not [m for m in got if m["type"] == "snapshot"]
            assert set(gw.service.table.epoch) == {epoch}
            async with client(gw.ws_url) as other:
                await other.send({"op": "subscribe", "symbols": MAJORS, "id": 1})
                seen.add(await other.collect(0.3))
        # Redis loses its data again and the feed process restarts: the sequence starts over.
        redis_server.crash()
        redis_server.start()
        async with feeding(cfg) as second:
            new_epoch = second.table.epoch[0]
            assert new_epoch != epoch
            fresh = [await c.until(lambda m: m["type"] == "snapshot", 15) for _ in MAJORS]
            assert {m["epoch"] for m in fresh} == {new_epoch}
            async with client(gw.ws_url) as other:
                ack = await resume(other, MAJORS, seen.since())
                assert ack["resume"] == {s: {"recovered": False, "reason": "epoch_changed"} for s in MAJORS}
                snaps = [await other.until(lambda m: m["type"] == "snapshot") for _ in MAJORS]
                assert {m["epoch"] for m in snaps} == {new_epoch}
            assert gw.service.fanout_stats.resumes["epoch_changed"] == len(MAJORS)


def running_gateway(cfg: Any) -> Any:
    from tests.support.helpers import running

    return running(cfg)
