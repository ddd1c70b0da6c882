"""Writes pending frames for every connection that has any, once per loop pass.

A connection whose outbox goes from empty to non-empty is *marked*; the
first mark in a loop pass schedules one :meth:`Flusher.run` with
``call_soon``. That single callback then writes one coalesced frame per
marked connection. Compared with a writer task per connection, this saves a
task wake-up and a coroutine chain per frame, which the profile showed to be
as costly as the kernel's own ``send`` (see docs/benchmarks.md). Messages
produced while the loop is busy simply join the next frame, so frames get
fuller exactly when the server is loaded, and an idle server adds no delay.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Flushable(Protocol):
    def flush(self, now: float) -> None: ...


class Flusher:
    __slots__ = ("_marked", "_scheduled")

    def __init__(self) -> None:
        self._marked: list[Flushable] = []
        self._scheduled = False

    def mark(self, conn: Flushable) -> None:
        self._marked.append(conn)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.run)

    def run(self) -> None:
        self._scheduled = False
        marked, self._marked = self._marked, []
        now = time.monotonic()  # one clock read per pass, not per connection
        for conn in marked:
            conn.flush(now)
