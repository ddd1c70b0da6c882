"""Usage records from real processes: a killed connection, a SIGTERM, two gateways on Redis."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import orjson

from tests.support.bus import bus_config, feeding
from tests.support.helpers import Client, client, running
from tests.support.processes import exit_within, server_process
from ticker.core.calendar import iso
from ticker.security.tokens import hash_key

S = 1_000_000
ALICE = "tk_alice-for-usage-tests"
BOB = "tk_bob-for-usage-tests"


def wall() -> int:
    return time.time_ns() // 1000


def usage_report(*args: str) -> list[dict[str, str]]:
    """``ticker usage-report --csv`` as a real process: rows as dicts."""
    proc = subprocess.run(
        [sys.executable, "-m", "ticker", "usage-report", *args, "--csv"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    header, *lines = proc.stdout.splitlines()
    keys = header.split(",")
    return [dict(zip(keys, line.split(","), strict=True)) for line in lines]


async def subscribe(c: Client, symbols: list[str]) -> tuple[int, int]:
    """Subscribe; (wall µs just before sending, just after the ack): the server's start is in between."""
    before = wall()
    await c.send({"op": "subscribe", "symbols": symbols})
    await c.until(lambda m: m["type"] == "subscribed")
    return before, wall()


def minutes(a: int, b: int) -> float:
    return (b - a) / 60 / S


async def test_a_killed_connection_and_a_sigterm_lose_no_usage(tmp_path: Path) -> None:
    usage = tmp_path / "usage" / "records.jsonl"
    cfg = f"""
[server]
heartbeat_s = 0
shutdown_timeout_s = 3

[auth]
enabled = true

[[auth.keys]]
name = "alice"
sha256 = "{hash_key(ALICE)}"
symbols = ["EUR*"]
delayed = [{{ symbols = ["XAU*"], delay_s = 900 }}]

[[auth.keys]]
name = "bob"
sha256 = "{hash_key(BOB)}"
symbols = ["*"]

[groups]
majors = ["EURUSD", "GBPUSD", "USDJPY"]

[usage]
enabled = true
path = "{usage}"
max_bytes = 4096      # rotates during the test: the report reads every file
flush_s = 0.1

[[feeds]]
type = "synthetic"
rate = 200.0
"""
    async with server_process(cfg, tmp_path) as sp, aiohttp.ClientSession() as http:
        alice = Client(await http.ws_connect(sp.ws_url + f"?token={ALICE}"))
        bob = Client(await http.ws_connect(sp.ws_url + f"?token={BOB}"))
        a0 = await subscribe(alice, ["EURUSD", "XAUUSD"])
        b0 = await subscribe(bob, ["@majors"])
        for i in range(30):  # churn: many short intervals, so the file rotates
            await subscribe(bob, ["AUDUSD"])
            await bob.send({"op": "unsubscribe", "symbols": ["AUDUSD"], "id": i})
            await bob.until(lambda m: m["type"] == "unsubscribed")
        await asyncio.sleep(1.0)
        killed = wall()
        bob.ws._response.connection.transport.abort()  # type: ignore[union-attr]  # no close frame
        await asyncio.sleep(1.5)
        term = wall()
        sp.proc.send_signal(signal.SIGTERM)
        assert await exit_within(sp.proc, 10) == 0, sp.log()
        gone = wall()
        await alice.ws.close()

    files = sorted(p.name for p in usage.parent.iterdir())
    assert "records.jsonl.1" in files, files
    records = [orjson.loads(line) for f in usage.parent.iterdir() for line in f.read_bytes().splitlines()]
    by_reason = {(r["identity"], r["symbol"], r["reason"]) for r in records}
    assert ("key:alice", "EURUSD", "shutdown") in by_reason and ("key:alice", "XAUUSD", "shutdown") in by_reason
    assert ("key:bob", "GBPUSD", "closed") in by_reason
    assert sum(1 for r in records if r["symbol"] == "AUDUSD") == 30

    # The config names the file; the report reads its rotated copies too.
    window = ["--from", iso(a0[0] - 60 * S), "--to", iso(gone + 60 * S)]
    rows = usage_report("--config", str(tmp_path / "ticker.toml"), *window)
    assert {r["kind"] for r in rows} == {"quotes"}
    got = {(r["identity"], r["symbol"], r["delay_s"]): float(r["minutes"]) for r in rows}
    # Each interval started between sending the subscribe and its ack, and ended between
    # the kill (or SIGTERM) and the process's exit: the report must fall in those bounds.
    expect = {
        ("key:alice", "EURUSD", "0"): (minutes(a0[1], term), minutes(a0[0], gone)),
        ("key:alice", "XAUUSD", "900"): (minutes(a0[1], term), minutes(a0[0], gone)),
        ("key:bob", "EURUSD", "0"): (minutes(b0[1], killed), minutes(b0[0], term)),
        ("key:bob", "GBPUSD", "0"): (minutes(b0[1], killed), minutes(b0[0], term)),
        ("key:bob", "USDJPY", "0"): (minutes(b0[1], killed), minutes(b0[0], term)),
    }
    for key, (lo, hi) in expect.items():
        assert lo - 0.01 <= got[key] <= hi + 0.01, (key, got[key], lo, hi)  # 2-decimal rounding
    (aud,) = [r for r in rows if r["symbol"] == "AUDUSD"]
    assert aud["intervals"] == "30" and aud["snapshots"] == "30" and float(aud["minutes"]) < 0.5


async def test_gateways_usage_lands_in_one_redis_stream(redis_url: str, bus_prefix: str, tmp_path: Path) -> None:
    auth = {"enabled": True, "keys": [
        {"name": "alice", "sha256": hash_key(ALICE), "symbols": ["EUR*"],
         "delayed": [{"symbols": ["XAU*"], "delay_s": 60}]},
    ]}  # fmt: skip
    cfg = bus_config(redis_url, bus_prefix, auth=auth, usage={"enabled": True, "flush_s": 0.05})
    start = wall()
    async with feeding(cfg), running(cfg) as gw1, running(cfg) as gw2:
        async with client(gw1.ws_url + f"?token={ALICE}") as a, client(gw2.ws_url + f"?token={ALICE}") as b:
            await subscribe(a, ["EURUSD"])
            await subscribe(b, ["XAUUSD", "EURUSD"])
            await asyncio.sleep(0.5)
        await asyncio.sleep(0.5)  # both connections closed and flushed
    end = wall()
    config_file = tmp_path / "gw.toml"
    config_file.write_text(f'bus = "{redis_url}"\nbus_prefix = "{bus_prefix}"\n')
    rows = usage_report("--config", str(config_file), "--from", iso(start), "--to", iso(end))
    got = {(r["identity"], r["symbol"], r["delay_s"]): r for r in rows}
    assert set(got) == {("key:alice", "EURUSD", "0"), ("key:alice", "XAUUSD", "60")}
    eur = got["key:alice", "EURUSD", "0"]
    assert eur["intervals"] == "2"  # one from each gateway
    assert float(eur["subscription_minutes"]) > float(eur["minutes"]) > 0  # they overlapped
