"""``ticker serve --workers N``: gateway processes sharing one port."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.bus import MAJORS, assert_gapless, subscribed
from tests.support.helpers import client
from tests.support.processes import Processes, until_ready
from tests.support.redis_server import free_port


def children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split()}


def any_alive(pids: set[int]) -> bool:
    return any(Path(f"/proc/{p}").exists() for p in pids)


def test_workers_without_a_bus_are_refused_with_the_reason() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ticker", "serve", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if not k.startswith("TICKER_")},
    )
    assert result.returncode == 2
    assert "--workers 2 needs a Redis bus" in result.stderr
    assert 'bus = "redis://' in result.stderr


async def test_two_workers_share_the_port_and_a_dead_one_is_replaced(
    redis_url: str, bus_prefix: str, tmp_path: Path
) -> None:
    cfg = tmp_path / "ticker.toml"
    cfg.write_text(
        f'bus = "{redis_url}"\nbus_prefix = "{bus_prefix}"\n[server]\nheartbeat_s = 0\n'
        '[[feeds]]\ntype = "synthetic"\nrate = 300.0\nsymbols = ["EURUSD", "USDJPY", "GBPUSD"]\n'
    )
    port = free_port()
    base, ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    procs = Processes(tmp_path)
    procs.start("feed", "feed", "--config", str(cfg))
    parent = procs.start("serve", "serve", "--config", str(cfg), "--workers", "2", TICKER_SERVER__PORT=str(port))
    try:
        await until_ready(base)
        workers = children(parent.pid)
        assert len(workers) == 2
        async with client(ws) as c:
            await subscribed(c)
            assert_gapless(await c.collect(1.0))
            # Kill one worker: the port keeps answering, and the parent starts a new one.
            victim = sorted(workers)[0]
            os.kill(victim, signal.SIGKILL)
            for _ in range(10):
                async with client(ws) as other:
                    assert len(await subscribed(other)) == len(MAJORS)
            for _ in range(100):
                now = children(parent.pid)
                if len(now) == 2 and victim not in now:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"worker {victim} was not replaced: {now}")
        await until_ready(base)
        assert "restarting it in" in procs.log("serve")
    except BaseException:
        print(procs.dump())
        raise
    finally:
        codes = procs.stop_all()
    assert codes["serve"] == 0, procs.dump()
    assert not any_alive(workers)
