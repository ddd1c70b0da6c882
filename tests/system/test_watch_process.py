"""`ticker watch` as a real process: on a terminal and piped, against a live server."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import select
import signal
import sys
import time

from tests.support.helpers import running


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
