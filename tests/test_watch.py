"""`ticker watch`: price formatting, rate meter, the rendered table, and the real command."""

import asyncio
import os
import pty
import re
import select
import signal
import sys
import time

import pytest
from rich.console import Console

from tests.helpers import running
from ticker.client import Client, Message
from ticker.client.meter import Meter
from ticker.client.prices import split_price, spread_pips
from ticker.model import Instrument
from ticker.watch import WatchState, render


@pytest.mark.parametrize(
    ("price", "decimals", "pip", "parts"),
    [
        (1.08412, 5, 0.0001, ("1.08", "41", "2")),
        (151.234, 3, 0.01, ("151.", "23", "4")),
        (4080.25, 2, 0.1, ("408", "0.2", "5")),
        (50.812, 3, 0.01, ("50.", "81", "2")),
        (1.1, 5, 0.0001, ("1.10", "00", "0")),
        (97.5, 1, 1, ("", "97.", "5")),
        (0.7321, 4, 0.0001, ("0.73", "21", "")),
    ],
)
def test_split_price_matches_the_board(price: float, decimals: int, pip: float, parts: tuple) -> None:
    assert split_price(price, decimals, pip) == parts
    assert "".join(parts) == f"{price:.{decimals}f}"


def test_spread_in_pips() -> None:
    assert spread_pips(1.08412, 1.08415, 0.0001) == 0.3
    assert spread_pips(151.231, 151.245, 0.01) == 1.4


def test_meter_rate_and_latency_over_a_sliding_window() -> None:
    m = Meter(window_s=5.0)
    assert m.rate(0.0) == 0.0 and m.latency_quantile(0.99, 0.0) is None
    for i in range(20):  # 10 updates/s for 2 s, latency 1..20 ms
        m.record(100.0 + i * 0.1, (i + 1) / 1000)
    assert m.rate(102.0) == pytest.approx(10.0, rel=0.01)
    assert m.latency_quantile(0.5, 102.0) == pytest.approx(0.010)
    assert m.latency_quantile(0.99, 102.0) == pytest.approx(0.020)
    assert m.last_latency_s == pytest.approx(0.020) and m.count == 20
    assert m.rate(106.85) == pytest.approx(1 / 5)  # only the last update is still in the window
    assert m.rate(110.0) == 0.0


def test_rendered_table_shows_quotes_spreads_rates_and_status() -> None:
    client = Client("ws://127.0.0.1:1/ws")  # never connected: render only reads its state
    state = WatchState(
        ["EURUSD", "USDJPY", "XAUUSD"],
        {"EURUSD": Instrument("EURUSD", 5, 0.0001), "USDJPY": Instrument("USDJPY", 3, 0.01)},
    )
    snap = {"type": "snapshot", "seq": 1, "ts": 1_000_000, "status": "live"}
    client.book.apply({**snap, "symbol": "EURUSD", "bid": 1.08412, "ask": 1.08415})
    client.book.apply({**snap, "symbol": "USDJPY", "bid": 151.234, "ask": 151.248})
    client.book.apply({"type": "status", "symbol": "USDJPY", "status": "stale", "ts": 2})
    for i in range(10):
        data = {"type": "update", "symbol": "EURUSD", "seq": 2 + i, "bid": 1.08413 + i / 1e5, "ts": 1_000_000}
        state.on_message(Message("update", data, 1_000_000 + 2_000), now=50.0 + i * 0.1)
    state.on_message(Message("disconnected", {"type": "disconnected", "code": 1001, "reason": "bye",
                                               "retry_in_s": 0.4}, 0, local=True), now=51.0)  # fmt: skip
    console = Console(record=True, width=140, color_system=None)
    console.print(render(client, state, now=51.0))
    text = console.export_text()
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert "idle" in text and "ws://127.0.0.1:1/ws" in text
    eur = lines["EURUSD"].split()
    assert eur[1:4] == ["1.08412", "1.08415", "0.3"]  # book price (updates here only fed the meter)
    assert float(eur[4]) == pytest.approx(10.0, rel=0.05) and eur[5:7] == ["2.00", "ms"]
    jpy = lines["USDJPY"].split()
    assert jpy[1:4] == ["151.234", "151.248", "1.4"] and jpy[-1] == "stale"
    assert lines["XAUUSD"].split()[1] == "—" and lines["XAUUSD"].split()[-1] == "pending"
    assert "disconnected (1001): bye; retrying in 0.4 s" in text
    assert state.moves[("EURUSD", "bid")] == 1


def _read_until(fd: int, pattern: str, timeout: float) -> str:
    """Read a pty/pipe fd until ``pattern`` appears (blocking: run in a thread)."""
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # pty closed
                break
            if not chunk:
                break
            out += chunk
            text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode(errors="replace"))
            if re.search(pattern, text):
                return text
    raise AssertionError(f"{pattern!r} not seen; output so far:\n{out.decode(errors='replace')[-2000:]}")


def _watch_cmd(url: str) -> list[str]:
    return [sys.executable, "-m", "ticker", "watch", "EURUSD", "gbpusd", "--url", url, "--refresh", "0.2"]


async def test_watch_on_a_terminal_redraws_live_quotes_and_exits_0_on_ctrl_c() -> None:
    async with running() as srv:
        master, slave = pty.openpty()
        proc = await asyncio.create_subprocess_exec(*_watch_cmd(srv.ws_url), stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        try:
            price = r"GBPUSD\s+1\.\d{5}\s+1\.\d{5}\s+\d+\.\d"
            text = await asyncio.to_thread(_read_until, master, price, 20.0)
            assert "EURUSD" in text and "open" in text
            proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
            assert await asyncio.wait_for(proc.wait(), 10) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            os.close(master)


async def test_watch_piped_prints_tables_and_exits_0_on_sigterm() -> None:
    async with running() as srv:
        proc = await asyncio.create_subprocess_exec(
            *_watch_cmd(srv.ws_url), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            assert proc.stdout is not None and proc.stderr is not None
            out = b""
            async with asyncio.timeout(20):
                while not re.search(rb"EURUSD\s+1\.\d{5}", out):
                    out += await proc.stdout.read(4096)
            text = out.decode()
            assert "\x1b" not in text and "Upd/s" in text
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 10) == 0, await proc.stderr.read()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
