"""`ticker serve` with JSON logs: connect and disconnect lines carry their context."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from tests.support.helpers import client
from tests.support.prom import free_port
from tests.unit.observability.test_logs import ISO_UTC


def _text(path: Path) -> str:
    return path.read_text(errors="replace")


async def _wait_healthy(base: str, proc: asyncio.subprocess.Process, stderr: Path) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            assert proc.returncode is None, f"ticker serve exited: {_text(stderr)}"
            try:
                async with http.get(base + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"ticker serve did not answer /healthz: {_text(stderr)}")


async def test_serve_with_json_logs_connects_and_disconnects_with_context(tmp_path: Path) -> None:
    port = free_port()
    stderr = tmp_path / "stderr.log"
    env = {
        **os.environ,
        "TICKER_LOG__FORMAT": "json",
        "TICKER_SERVER__PORT": str(port),
        "TICKER_FEEDS__0__RATE": "500",
    }
    with stderr.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ticker", "serve",
            env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    try:
        await _wait_healthy(f"http://127.0.0.1:{port}", proc, stderr)
        delivered = 0
        async with client(f"ws://127.0.0.1:{port}/ws") as c:
            await c.send({"op": "subscribe", "symbols": ["EURUSD", "USDJPY", "GBPUSD"], "id": 1})
            await c.send("not json")  # the peer's fault: an error reply, not a log line
            while delivered < 100:
                await c.next()
                delivered += 1
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    lines = _text(stderr).splitlines()
    records = [orjson.loads(line) for line in lines]  # every line is one JSON object
    for r in records:
        assert ISO_UTC.match(r["time"]), r
        assert r["level"] in ("debug", "info", "warning", "error", "critical"), r
        assert r["logger"].startswith(("ticker", "aiohttp")) and r["message"], r

    def one(message: str) -> dict[str, Any]:
        found = [r for r in records if r["message"].startswith(message)]
        assert len(found) == 1, (message, lines)
        return found[0]

    assert one("ticker ")["logger"] == "ticker"
    assert one("feed synthetic started")["feed"] == "synthetic"
    assert one("client connected")["peer"] == "127.0.0.1"
    closed = one("client disconnected")
    assert (closed["peer"], closed["reason"], closed["code"]) == ("127.0.0.1", "client", 1000)
    # 100 messages delivered and a bad request answered: still only a handful of lines.
    assert len(records) <= 8, lines
