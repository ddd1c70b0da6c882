"""``ticker serve --workers N``: N gateway processes sharing one port.

Each worker is a full ``ticker serve`` process (its own event loop, so its
own core) bound with ``SO_REUSEPORT``; the kernel spreads new connections
across them. They share nothing but the Redis bus, which is why more than
one worker needs ``bus = "redis://..."``: each mirrors the feed process's
table, so every worker sends the same ``seq`` for the same tick.

The parent only supervises: it starts the workers, restarts one that dies
(with backoff, reset after it ran ``HEALTHY_AFTER_S``), and on SIGTERM or
SIGINT stops them all (SIGTERM, then SIGKILL after the shutdown timeout).
A worker exiting with status 2 (a config error) stops everything: restarting
would fail the same way.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from ticker.config import Config
from ticker.util.backoff import backoff

log = logging.getLogger("ticker.workers")

HEALTHY_AFTER_S = 10.0
POLL_S = 0.2
CONFIG_ERROR = 2


@dataclass
class Worker:
    index: int
    proc: subprocess.Popen[bytes]
    started: float
    delays: Iterator[float] = field(default_factory=backoff)
    restart_at: float | None = None


def reserve_port(host: str, port: int) -> tuple[int, socket.socket | None]:
    """With port 0, pick one the workers can share: bind it with SO_REUSEPORT and
    keep that socket (never listening) open so nobody else takes the port."""
    if port:
        return port, None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, 0))
    return int(sock.getsockname()[1]), sock


def supervise(config: Config, config_path: str | None, n: int) -> int:
    port, reserved = reserve_port(config.server.host, config.server.port)
    env = dict(os.environ, TICKER_SERVER__PORT=str(port))
    argv = [sys.executable, "-m", "ticker", "serve", "--reuse-port"]
    if config_path is not None:
        argv += ["--config", config_path]

    def spawn(i: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen([*argv, "--worker-id", str(i)], env=env)

    stopping: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stopping.append(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)

    s = config.server
    log.info(
        "starting %d gateway workers on ws://%s:%d%s (bus %s)",
        n, s.host, port, s.ws_path, config.bus,
    )  # fmt: skip
    workers = [Worker(i, spawn(i), time.monotonic()) for i in range(n)]
    status = 0
    try:
        while not stopping:
            now = time.monotonic()
            for w in workers:
                if w.restart_at is not None:
                    if now >= w.restart_at:
                        w.proc, w.started, w.restart_at = spawn(w.index), now, None
                    continue
                rc = w.proc.poll()
                if rc is None:
                    continue
                if rc == CONFIG_ERROR:
                    log.error("worker %d exited with a config error; stopping", w.index)
                    status = CONFIG_ERROR
                    stopping.append(0)
                    break
                if now - w.started >= HEALTHY_AFTER_S:
                    w.delays = backoff()
                delay = next(w.delays)
                log.warning(
                    "worker %d (pid %d) exited with status %s; restarting it in %.1f s",
                    w.index, w.proc.pid, rc, delay,
                )  # fmt: skip
                w.restart_at = now + delay
            time.sleep(POLL_S)
    finally:
        _stop_all(workers, config.server.shutdown_timeout_s + 5.0)
        if reserved is not None:
            reserved.close()
    return status


def _stop_all(workers: list[Worker], timeout: float) -> None:
    procs = [w.proc for w in workers if w.restart_at is None and w.proc.poll() is None]
    for p in procs:
        p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log.warning("worker pid %d did not stop in time; killing it", p.pid)
            p.kill()
            p.wait()
