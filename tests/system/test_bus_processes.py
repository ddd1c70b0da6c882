"""The scale-out topology as a user runs it: one ``ticker feed`` process and two
``ticker serve`` gateway processes on a private Redis, clients on both; then
Redis crashes and comes back, then a gateway is killed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bus import MAJORS, assert_gapless, assert_never_backwards, same_updates, subscribed
from tests.support.helpers import Client, client
from tests.support.processes import Processes, get_json, until_ready
from tests.support.redis_server import RedisServer, free_port


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    p = Processes(tmp_path)
    try:
        yield p
    finally:
        p.stop_all()


async def publisher_state_matches(gateway: str, feed: str, timeout: float = 15.0) -> None:
    """The gateway's snapshot of every symbol equals the feed process's, at the same seq."""
    deadline = time.monotonic() + timeout
    pending = set(MAJORS)
    while pending:
        query = ",".join(sorted(pending))
        _, g = await get_json(f"{gateway}/api/snapshot?symbols={query}")
        _, f = await get_json(f"{feed}/api/snapshot?symbols={query}")
        fs = {s["symbol"]: s for s in f["snapshots"]}
        for s in g["snapshots"]:
            if s == fs[s["symbol"]]:
                pending.discard(s["symbol"])
        if pending and time.monotonic() > deadline:
            raise AssertionError(f"gateway and feed disagree on {pending}: {g} vs {f}")
        await asyncio.sleep(0.05)


async def test_feed_and_two_gateways_survive_redis_crash_and_a_killed_gateway(
    redis_server: RedisServer, procs: Processes, tmp_path: Path
) -> None:
    cfg = tmp_path / "ticker.toml"
    cfg.write_text(
        f'bus = "{redis_server.url}"\nbus_prefix = "e2e"\n[server]\nheartbeat_s = 0\n'
        '[[feeds]]\ntype = "synthetic"\nrate = 300.0\nsymbols = ["EURUSD", "USDJPY", "GBPUSD", "XAUUSD"]\n'
    )
    feed_port, a_port, b_port = free_port(), free_port(), free_port()
    feed = f"http://127.0.0.1:{feed_port}"
    a, b = f"http://127.0.0.1:{a_port}", f"http://127.0.0.1:{b_port}"
    procs.start("feed", "feed", "--config", str(cfg), "--http-port", str(feed_port))
    procs.start("gw-a", "serve", "--config", str(cfg), TICKER_SERVER__PORT=str(a_port))
    procs.start("gw-b", "serve", "--config", str(cfg), TICKER_SERVER__PORT=str(b_port))
    try:
        await asyncio.gather(until_ready(feed), until_ready(a), until_ready(b))
        async with client(f"ws://127.0.0.1:{a_port}/ws") as ca, client(f"ws://127.0.0.1:{b_port}/ws") as cb:
            await asyncio.gather(subscribed(ca), subscribed(cb))
            got_a, got_b = await asyncio.gather(ca.collect(2.0), cb.collect(2.0))
            assert same_updates(got_a, got_b) > 10
            assert_gapless(got_a)
            assert_gapless(got_b)

            # Redis crashes mid-stream and comes back empty.
            redis_server.crash()
            await asyncio.gather(*(statuses(c, "stale") for c in (ca, cb)))
            await asyncio.sleep(1.0)
            redis_server.start()
            await asyncio.gather(*(statuses(c, "live", 20) for c in (ca, cb)))
            after_a, after_b = await asyncio.gather(ca.collect(1.5), cb.collect(1.5))
            assert same_updates(after_a, after_b) > 10
            assert_never_backwards(got_a + after_a)
            assert_never_backwards(got_b + after_b)
            await publisher_state_matches(a, feed)
            await publisher_state_matches(b, feed)

            # Gateway A is killed: B keeps serving; A's client moves to B.
            last_seen = {m["symbol"]: m["seq"] for m in got_a + after_a if m["type"] == "update"}
            procs.kill("gw-a")
            assert sum(m["type"] == "update" for m in await cb.collect(1.0)) > 0
        async with client(f"ws://127.0.0.1:{b_port}/ws") as moved:
            for snap in await subscribed(moved):
                assert snap["status"] == "live"
                assert snap["seq"] >= last_seen[snap["symbol"]]
        await publisher_state_matches(b, feed)
    except BaseException:
        print(procs.dump())
        raise
    codes = procs.stop_all()
    assert codes["feed"] == 0 and codes["gw-b"] == 0, procs.dump()
    assert "Traceback" not in procs.log("feed") + procs.log("gw-b"), procs.dump()


async def statuses(c: Client, status: str, timeout: float = 10.0) -> None:
    seen: set[str] = set()
    while seen != set(MAJORS):
        m = await c.until(lambda m: m["type"] == "status", timeout)
        assert m["status"] == status, m
        seen.add(m["symbol"])
