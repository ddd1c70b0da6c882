"""A real ``ticker serve`` process for tests: started on a free port, watched, stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_LISTENING = re.compile(r"listening on (https?)://127\.0\.0\.1:(\d+)(/\S*)")


@dataclass
class ServerProcess:
    proc: asyncio.subprocess.Process
    port: int
    ws_url: str
    base: str
    lines: list[str] = field(default_factory=list)

    def rss_bytes(self) -> int:
        """Resident memory of the server process, from /proc."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def log(self) -> str:
        return "\n".join(self.lines)


async def _drain(stream: asyncio.StreamReader, lines: list[str]) -> None:
    while line := await stream.readline():
        lines.append(line.decode(errors="replace").rstrip())


@contextlib.asynccontextmanager
async def server_process(config_toml: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """Run ``python -m ticker serve`` on 127.0.0.1 and a free port until the block ends."""
    cfg = tmp_path / "ticker.toml"
    cfg.write_text(config_toml)
    env = {**os.environ, "TICKER_SERVER__HOST": "127.0.0.1", "TICKER_SERVER__PORT": "0"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ticker", "serve", "--config", str(cfg),
        cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    lines: list[str] = []
    drain: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(30):
            while True:
                raw = await proc.stderr.readline()
                if not raw:
                    raise RuntimeError("ticker serve exited early:\n" + "\n".join(lines))
                lines.append(raw.decode(errors="replace").rstrip())
                if m := _LISTENING.search(lines[-1]):
                    break
        scheme, port, path = m.group(1), int(m.group(2)), m.group(3)
        drain = asyncio.create_task(_drain(proc.stderr, lines))
        ws = "wss" if scheme == "https" else "ws"
        yield ServerProcess(proc, port, f"{ws}://127.0.0.1:{port}{path}", f"{scheme}://127.0.0.1:{port}", lines)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if drain is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(drain, 5)


async def exit_within(proc: asyncio.subprocess.Process, seconds: float) -> tuple[int, float]:
    """Wait for the process to exit; its return code and how long it took."""
    started = time.monotonic()
    code = await asyncio.wait_for(proc.wait(), seconds)
    return code, time.monotonic() - started
