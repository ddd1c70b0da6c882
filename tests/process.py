"""One real ``ticker serve`` process for tests: on a port the kernel picks, found in its log."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.processes import Processes

ROOT = Path(__file__).resolve().parent.parent
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
