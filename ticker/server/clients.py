"""The set of open WebSocket connections: who owns them, sweeps them, closes them.

:class:`Clients` is the one owner of the connection set. The WebSocket
handler adds a connection for as long as it runs; the housekeeping sweep
walks them all a few times a second (queue-depth samples, slow consumers,
session timers), and shutdown closes them all with a bounded wait. Keeping
this here, not in the service, is what lets the service know nothing about
connections (no import cycle between a connection and the service).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import numpy as np

from ticker.core.stats import FanoutStats
from ticker.protocol.codes import CloseCode, CloseReason
from ticker.server.connection import Connection

log = logging.getLogger("ticker.app")


class Clients:
    __slots__ = ("_conns", "_stats", "_observe")

    def __init__(self, stats: FanoutStats, *, observe: bool) -> None:
        self._conns: set[Connection] = set()
        self._stats = stats
        self._observe = observe

    def __len__(self) -> int:
        return len(self._conns)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._conns))

    def add(self, conn: Connection) -> None:
        """Hold ``conn`` in the set while its handler runs (it calls :meth:`discard` at the end)."""
        self._conns.add(conn)

    def discard(self, conn: Connection) -> None:
        self._conns.discard(conn)

    def sweep(self, now: float) -> None:
        """Sample every connection's send-queue depth, then check slow consumers
        and session timers (auth deadline, token expiry).

        Depth is sampled here, at a fixed rate for every connection, rather
        than by each writer: the histogram then shows how backed up
        connections are over time, not how full queues are when a writer
        happens to wake, and the writer's per-frame path does one thing less.
        """
        conns = list(self._conns)
        if not conns:
            return
        if self._observe:
            depths = np.fromiter((len(c.outbox) for c in conns), dtype=np.float64, count=len(conns))
            self._stats.queue_depth.observe_many(depths)
        for conn in conns:
            conn.check_slow(now)
            conn.check_session(now)

    async def close_all(self, deadline_s: float) -> None:
        """Close every client with 1001; those that have not answered within
        ``deadline_s`` are cut off."""
        conns = list(self._conns)
        if conns:
            log.info("closing %d client connection(s): server shutting down", len(conns))
        for conn in conns:
            conn.kill(CloseCode.GOING_AWAY, b"server shutting down", CloseReason.SERVER_SHUTDOWN)
        closers = {c.closing: c for c in conns if c.closing is not None}
        if not closers:
            return
        _, pending = await asyncio.wait(closers, timeout=deadline_s)
        for task in pending:
            transport = closers[task].transport
            if transport is not None:
                transport.abort()
        if pending:
            log.warning("%d client(s) did not answer the close in time; cut off", len(pending))
            await asyncio.wait(pending, timeout=0.5)
