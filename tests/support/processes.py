"""Running ``ticker`` as real subprocesses in tests: start, log, wait for them over HTTP, stop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp


class Processes:
    """Starts ``python -m ticker ...`` processes, logs each to a file, stops them all."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "ticker", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)

    def stop_all(self, timeout: float = 10.0) -> dict[str, int]:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes: dict[str, int] = {}
        deadline = time.monotonic() + timeout
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        return codes

    def dump(self) -> str:
        return "\n".join(f"--- {n}\n{self.log(n)[-3000:]}" for n in self.procs)


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.json()


async def until_ready(base: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            status, _ = await get_json(f"{base}/readyz")
            if status == 200:
                return
        except (aiohttp.ClientError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base} not ready within {timeout} s")
        await asyncio.sleep(0.1)


_LISTENING = re.compile(r"listening on (https?)://127\.0\.0\.1:(\d+)(/\S*)")


@dataclass
class ServerProcess:
    procs: Processes
    proc: subprocess.Popen[bytes]
    port: int
    ws_url: str
    base: str

    def rss_bytes(self) -> int:
        """Resident memory of the server process, from /proc."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def log(self) -> str:
        return self.procs.log("serve")


@contextlib.asynccontextmanager
async def server_process(config_toml: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """Run ``python -m ticker serve`` on 127.0.0.1, port 0, until the block ends (then SIGTERM)."""
    cfg = tmp_path / "ticker.toml"
    cfg.write_text(config_toml)
    procs = Processes(tmp_path)
    proc = procs.start(
        "serve", "serve", "--config", str(cfg), TICKER_SERVER__HOST="127.0.0.1", TICKER_SERVER__PORT="0"
    )
    try:
        deadline = time.monotonic() + 30
        while not (m := _LISTENING.search(procs.log("serve"))):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("ticker serve did not start:\n" + procs.log("serve"))
            await asyncio.sleep(0.05)
        scheme, port, path = m.group(1), int(m.group(2)), m.group(3)
        ws = "wss" if scheme == "https" else "ws"
        yield ServerProcess(procs, proc, port, f"{ws}://127.0.0.1:{port}{path}", f"{scheme}://127.0.0.1:{port}")
    finally:
        procs.stop_all(15)


async def exit_within(proc: subprocess.Popen[bytes], seconds: float) -> int:
    """Wait (without blocking the loop) for the process to exit; its return code."""
    deadline = time.monotonic() + seconds
    while (code := proc.poll()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"pid {proc.pid} still running after {seconds} s")
        await asyncio.sleep(0.02)
    return code
