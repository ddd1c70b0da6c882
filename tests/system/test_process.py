"""`ticker serve` as a real process: signals, graceful shutdown, exit code."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from feeds.catalog import DEFAULT_SYMBOLS as CATALOG
from tests.support.helpers import RawClient, client
from tests.support.paths import ROOT
from tests.support.processes import exit_within, server_process

DEADLINE_S = 3.0
CONFIG = f"""
[server]
shutdown_timeout_s = {DEADLINE_S}
heartbeat_s = 0

[fanout]
socket_send_buffer = 8192       # a stalled client backs up into our own buffers quickly

[[feeds]]
type = "synthetic"
rate = 3000.0
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_closes_clients_1001_stops_feeds_and_exits_0(sig: signal.Signals, tmp_path: Path) -> None:
    async with server_process(CONFIG, tmp_path) as sp, client(sp.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": ["EURUSD"]})
        await c.until(lambda m: m["type"] == "update")
        # A client that subscribes to everything and then never reads again (nor answers
        # the close): its data backs up on our side; it must not hold the exit up.
        mute = await RawClient.connect(sp.ws_url)
        await mute.send({"op": "subscribe", "symbols": list(CATALOG)})
        mute.stop_reading()
        await asyncio.sleep(1.0)

        sp.proc.send_signal(sig)
        signalled = time.monotonic()
        msg = await c.ws.receive(timeout=DEADLINE_S)
        while msg.type is aiohttp.WSMsgType.TEXT:
            msg = await c.ws.receive(timeout=DEADLINE_S)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001 and msg.extra == "server shutting down"
        with pytest.raises(ConnectionRefusedError):  # no longer accepting
            await asyncio.open_connection("127.0.0.1", sp.port)

        code = await exit_within(sp.proc, DEADLINE_S + 10)
        took = time.monotonic() - signalled
        mute.close()
    assert code == 0, sp.log()
    assert took < DEADLINE_S + 1.5, f"exit took {took:.2f} s\n{sp.log()}"
    log = sp.log()
    assert f"{sig.name}: shutting down (deadline {DEADLINE_S:g} s)" in log
    assert "closing 2 client connection(s)" in log
    assert "1 client(s) did not answer the close in time; cut off" in log  # the mute one, at 1.5 s
    assert "feeds stopped: synthetic=stopped" in log
    assert "shutdown complete" in log
    assert "Traceback" not in log


def test_a_port_in_use_is_a_clear_config_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "TICKER_SERVER__HOST": "127.0.0.1", "TICKER_SERVER__PORT": str(port)}
        r = subprocess.run(
            [sys.executable, "-m", "ticker", "serve"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    assert r.returncode == 2
    assert f"ticker: config error: server.port: cannot listen on 127.0.0.1:{port}" in r.stderr
    assert "Traceback" not in r.stderr
