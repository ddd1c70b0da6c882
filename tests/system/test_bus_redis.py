"""The Redis bus end to end in one event loop: real Redis, real servers, real clients.

Feed processes and gateways run here as in-process services (the subprocess
version is tests/test_bus_processes.py); everything between them goes
through Redis on loopback. Keys live under a unique prefix on the shared
Redis, or in a private redis-server for the tests that crash it.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from tests.support.bus import (
    MAJORS,
    assert_gapless,
    assert_never_backwards,
    bus_config,
    feeding,
    same_updates,
    subscribed,
)
from tests.support.helpers import client, running, wait_for
from tests.support.redis_server import RedisServer
from ticker.runtime.service import Role, Service


async def frozen(feed: Service) -> None:
    """Stop the feed's ticks (the publisher keeps running) so states can be compared exactly."""
    await feed.runner.stop()


async def same_state(gateway: Service, feed: Service, timeout: float = 10.0) -> None:
    g, f = gateway.table, feed.table

    def equal() -> bool:
        return all(
            repr([t.seq[i], t.bid[i], t.ask[i], t.bid_size[i], t.ask_size[i], t.ts[i], t.status[i]])
            == repr([f.seq[i], f.bid[i], f.ask[i], f.bid_size[i], f.ask_size[i], f.ts[i], f.status[i]])
            for t in (g,)
            for i in range(len(f))
        )

    await wait_for(equal, timeout)


async def kill_connection(url: str, name: str) -> None:
    r = aioredis.Redis.from_url(url)
    try:
        for info in await r.client_list():
            if info.get("name") == name:
                await r.client_kill_filter(_id=info["id"])
    finally:
        await r.aclose()


# ---------------------------------------------------------------- shared Redis


async def test_two_gateways_send_identical_sequences(redis_url: str, bus_prefix: str) -> None:
    cfg = bus_config(redis_url, bus_prefix)
    async with (
        feeding(cfg),
        running(cfg) as a,
        running(cfg) as b,
        client(a.ws_url) as ca,
        client(b.ws_url) as cb,
    ):
        await asyncio.gather(subscribed(ca), subscribed(cb))
        got_a, got_b = await asyncio.gather(ca.collect(2.0), cb.collect(2.0))
    assert same_updates(got_a, got_b) > 50
    assert_gapless(got_a)
    assert_gapless(got_b)


async def test_a_gateway_started_later_serves_the_publishers_state_at_once(
    redis_url: str, bus_prefix: str
) -> None:
    cfg = bus_config(redis_url, bus_prefix)
    async with feeding(cfg) as feed:
        await wait_for(lambda: int(feed.table.seq.min()) > 0, 10)
        await frozen(feed)
        async with running(cfg) as gw, client(gw.ws_url) as c:
            snaps = await subscribed(c)
            for s in snaps:
                sid = feed.table.ids[s["symbol"]]
                assert s == orjson_loads(feed.encoder.snapshot(sid))
                assert s["status"] == "live" and s["seq"] > 0
            async with aiohttp.ClientSession() as http, http.get(f"{gw.base}/readyz") as resp:
                assert resp.status == 200


def orjson_loads(raw: bytes) -> Any:
    import orjson

    return orjson.loads(raw)


async def test_a_new_feed_process_continues_the_sequence(redis_url: str, bus_prefix: str) -> None:
    cfg = bus_config(redis_url, bus_prefix)
    async with running(cfg) as gw, client(gw.ws_url) as c:
        async with feeding(cfg) as first:
            await subscribed(c)
            await c.until(lambda m: m["type"] == "update")
            seqs_before = first.table.seq.copy()
        async with feeding(cfg) as second:  # took the lease the first one handed back
            assert (second.table.seq >= seqs_before).all()
            got = await c.collect(1.5)
            assert any(m["type"] == "update" for m in got)
            await frozen(second)
            await same_state(gw.service, second)
    assert_never_backwards(got)
    assert second.publisher is not None and first.publisher is not None
    assert second.publisher.epoch != first.publisher.epoch


async def test_a_second_feed_process_stands_by_until_the_first_hands_over(
    redis_url: str, bus_prefix: str
) -> None:
    cfg = bus_config(redis_url, bus_prefix)
    async with feeding(cfg) as first:
        standby = Service(cfg, role=Role.FEED)
        assert standby.publisher is not None
        taking_over = asyncio.create_task(standby.publisher.start())
        await asyncio.sleep(1.0)
        assert not taking_over.done()  # the lease is held
        await wait_for(lambda: int(first.table.seq.sum()) > 0)
    await asyncio.wait_for(taking_over, 5)
    assert standby.table.seq.sum() >= first.table.seq.sum()  # restored from Redis
    await standby.publisher.close()


async def test_a_gateway_that_lost_redis_briefly_catches_up_without_gaps(
    redis_url: str, bus_prefix: str
) -> None:
    cfg = bus_config(redis_url, bus_prefix)
    async with feeding(cfg) as feed, running(cfg) as gw, client(gw.ws_url) as c:
        await subscribed(c)
        before = await c.collect(0.5)
        assert gw.service.gateway is not None and gw.service.bus_stats is not None
        await kill_connection(redis_url, gw.service.gateway.client_name)
        after = await c.collect(2.5)
        statuses = [m["status"] for m in after if m["type"] == "status"]
        assert statuses == ["stale"] * len(MAJORS) + ["live"] * len(MAJORS)
        assert gw.service.bus_stats.reconnects == 1
        assert gw.service.bus_stats.resyncs.get("reconnect", 0) == 0  # read on from the stream
        await frozen(feed)
        await same_state(gw.service, feed)
    assert sum(m["type"] == "update" for m in before) > 10
    assert_gapless(before + after)  # every seq, across the outage


async def test_a_gateway_that_fell_off_the_stream_resyncs_from_the_hash(
    redis_url: str, bus_prefix: str
) -> None:
    cfg = bus_config(redis_url, bus_prefix, rate=5000.0, bus_stream_maxlen=100)
    async with feeding(cfg) as feed, running(cfg) as gw, client(gw.ws_url) as c:
        await subscribed(c)
        await c.until(lambda m: m["type"] == "update")
        link = gw.service.gateway
        assert link is not None and gw.service.bus_stats is not None
        link._backoff = lambda: itertools.chain([1.5], itertools.repeat(0.5))  # stays away 1.5 s
        await kill_connection(redis_url, link.client_name)
        await asyncio.sleep(0.5)
        # What MAXLEN ~ does to a long-absent reader, made certain: what it last read is gone.
        r = aioredis.Redis.from_url(redis_url)
        await r.xtrim(f"{bus_prefix}:feed:synthetic:ticks", maxlen=0)
        await r.aclose()
        await wait_for(lambda: gw.service.bus_stats.resyncs["gap"] >= 1, 10)  # type: ignore[union-attr]
        got = await c.collect(1.0)
        await frozen(feed)
        await same_state(gw.service, feed)
    assert_never_backwards(got)


# ---------------------------------------------------------------- a Redis that crashes


async def test_redis_crash_gives_stale_then_live_and_the_publishers_state(redis_server: RedisServer) -> None:
    cfg = bus_config(redis_server.url, "crash")
    async with feeding(cfg) as feed, running(cfg) as gw, client(gw.ws_url) as c:
        await subscribed(c)
        await c.until(lambda m: m["type"] == "update")
        redis_server.crash()
        for _ in MAJORS:
            assert (await c.until(lambda m: m["type"] == "status", 5))["status"] == "stale"
        async with aiohttp.ClientSession() as http, http.get(f"{gw.base}/readyz") as resp:
            assert resp.status == 503
            assert (await resp.json())["bus"] == "disconnected"
        await asyncio.sleep(1.0)
        redis_server.start()  # empty: no persistence
        lives = [await c.until(lambda m: m["type"] == "status", 15) for _ in MAJORS]
        assert {m["status"] for m in lives} == {"live"}
        got = await c.collect(1.0)
        assert any(m["type"] == "update" for m in got)
        await frozen(feed)
        await same_state(gw.service, feed)
        async with aiohttp.ClientSession() as http, http.get(f"{gw.base}/readyz") as resp:
            assert resp.status == 200
        assert feed.bus_stats is not None and feed.bus_stats.reconnects >= 1
    assert_never_backwards(got)
