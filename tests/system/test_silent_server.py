"""A server that stops answering (SIGSTOP): clients notice from missing heartbeats and resume.

TCP sees nothing wrong with a stopped process (the kernel still holds the
connection), so only the application heartbeats can tell.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.processes import ServerProcess, server_process
from ticker.client import connect
from ticker.util.backoff import backoff

# A stopped synthetic feed catches up with a burst on SIGCONT; at this rate the burst
# stays below the conflation mark (512 queued), so every seq is delivered.
CONFIG = """
[server]
heartbeat_s = 0
[[feeds]]
type = "synthetic"
rate = 60.0
symbols = ["EURUSD", "GBPUSD", "USDJPY"]
"""


@asynccontextmanager
async def stopped(server: ServerProcess) -> AsyncIterator[float]:
    """SIGSTOP the server for the block (SIGCONT after, whatever happens); yields when."""
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield time.monotonic()
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)


async def test_the_client_notices_a_stopped_server_within_the_promised_time_and_resumes(
    tmp_path: Path,
) -> None:
    async with server_process(CONFIG, tmp_path) as server:
        c = connect(
            server.ws_url,
            server_heartbeat_ms=1000,
            silence_factor=2.0,
            backoff_factory=lambda: backoff(initial=0.1, maximum=0.2),
        )
        assert c.silence_s == 2.0
        seqs: dict[str, list[int]] = {"EURUSD": [], "GBPUSD": []}
        async with c, asyncio.timeout(30):
            await c.subscribe(list(seqs))
            async for m in c:
                if m.type == "update" and m.symbol in seqs:
                    seqs[m.symbol].append(m.data["seq"])
                    if min(map(len, seqs.values())) >= 10:
                        break
            async with stopped(server) as t0:
                async for m in c:
                    if m.type == "update" and m.symbol in seqs:
                        seqs[m.symbol].append(m.data["seq"])  # what was already on its way
                    if m.type == "disconnected":
                        noticed = time.monotonic() - t0
                        assert "not even a heartbeat" in m.data["reason"]
                        break
                await asyncio.sleep(0.5)  # still stopped: the reconnect attempts fail meanwhile
            # promised: silence_factor x interval after the last message, which came before t0
            assert noticed <= c.silence_s + 0.5, noticed
            resumed = False
            async for m in c:
                if m.type == "subscribed":
                    resumed = True
                elif m.type == "snapshot":
                    raise AssertionError(f"a resume needs no snapshot: {m.data}")
                elif m.type == "update" and m.symbol in seqs:
                    seqs[m.symbol].append(m.data["seq"])
                    if resumed and min(map(len, seqs.values())) >= 30:
                        break
        assert {s: r.recovered for s, r in c.recovery.items()} == dict.fromkeys(seqs, True)
        for got in seqs.values():
            assert got == list(range(got[0], got[0] + len(got)))


async def _read_until(stream: asyncio.StreamReader, pattern: str, timeout: float, seen: list[str]) -> str:
    async with asyncio.timeout(timeout):
        while True:
            line = (await stream.readline()).decode(errors="replace")
            if not line:
                raise AssertionError(f"{pattern!r} never printed:\n{''.join(seen)[-3000:]}")
            seen.append(line)
            if re.search(pattern, line):
                return line


async def test_ticker_watch_shows_reconnecting_and_resumes_without_a_gap(tmp_path: Path) -> None:
    async with server_process(CONFIG, tmp_path) as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ticker", "watch", "EURUSD", "GBPUSD", "--url", server.ws_url,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert proc.stdout is not None
        out: list[str] = []
        try:
            await _read_until(proc.stdout, r"open", 20, out)
            async with stopped(server):
                await _read_until(proc.stdout, r"reconnecting", 15, out)
            line = await _read_until(proc.stdout, r"resumed \d of 2", 20, out)
            assert "resumed 2 of 2 symbol(s) without a gap" in line, line
            # the table's Gaps column stays 0: nothing was lost
            await _read_until(proc.stdout, r"GBPUSD .* live", 10, out)
            rows = [ln for ln in out[-20:] if ln.split()[:1] in (["EURUSD"], ["GBPUSD"])]
            gaps = [re.search(r"\s(\d+)\s+\d+\.\d s\s+\w+\s*$", ln) for ln in rows[-2:]]
            assert [g.group(1) if g else ln for g, ln in zip(gaps, rows[-2:], strict=True)] == ["0", "0"]
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
