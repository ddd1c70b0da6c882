"""Application heartbeats: a message a browser can see when nothing else is sent.

WebSocket ping frames never reach a page's JavaScript, so a dashboard cannot
tell a quiet market from a dead connection. A client that sends
``{"op":"heartbeat","interval_ms":N}`` gets ``{"type":"heartbeat","ts":…}``
whenever its connection has sent nothing for ``N`` ms, and never while data
flows; if even those stop, the connection is dead and it reconnects.

No timer per connection: the server's housekeeping sweep
(``ticker.server.app.SWEEP_INTERVAL_S``, 0.25 s) asks each session's
:class:`HeartbeatTimer` whether one is due, which is two float comparisons
for a connection that asked and one attribute test for one that did not. So a
heartbeat goes out between ``N`` and ``N`` + 0.25 s after the last message.
"""

from __future__ import annotations

from ticker.core.outbox import Outbox

#: Smallest and largest interval a client may ask for (0 turns heartbeats off). The
#: smallest keeps the sweep's lateness (up to 0.25 s) a quarter of the interval at most.
MIN_INTERVAL_MS = 1_000
MAX_INTERVAL_MS = 60_000


class HeartbeatTimer:
    """When one connection is due a heartbeat. "Sent nothing" is read from the
    outbox: the last time its queue went from empty to non-empty (the flusher
    writes it in that loop pass), or any check that found it non-empty."""

    __slots__ = ("interval_s", "_busy_at")

    def __init__(self) -> None:
        #: 0 = heartbeats off.
        self.interval_s = 0.0
        self._busy_at = 0.0

    def set(self, interval_ms: int) -> None:
        self.interval_s = interval_ms / 1000.0

    def due(self, outbox: Outbox, now: float) -> bool:
        if not self.interval_s:
            return False
        if outbox.queue:  # data is pending, so it flows: no heartbeat
            self._busy_at = now
            return False
        return now - max(outbox.since, self._busy_at) >= self.interval_s
