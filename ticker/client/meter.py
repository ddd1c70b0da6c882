"""Update rate and latency over a sliding window, per symbol (for live displays).

Pure: the caller passes monotonic ``now`` and the measured latency, so tests
need no clock. Memory is bounded by the window: one entry per update in it.
"""

from __future__ import annotations

from collections import deque


class Meter:
    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._events: deque[tuple[float, float | None]] = deque()
        self._started: float | None = None
        self.count = 0
        self.last_at: float | None = None
        self.last_latency_s: float | None = None

    def record(self, now: float, latency_s: float | None) -> None:
        if self._started is None:
            self._started = now
        self._events.append((now, latency_s))
        self.count += 1
        self.last_at = now
        if latency_s is not None:
            self.last_latency_s = latency_s
        self._trim(now)

    def _trim(self, now: float) -> None:
        horizon = now - self.window_s
        events = self._events
        while events and events[0][0] <= horizon:
            events.popleft()

    def rate(self, now: float) -> float:
        """Updates per second over the window (or since the first update, if sooner)."""
        self._trim(now)
        if self._started is None:
            return 0.0
        span = min(self.window_s, now - self._started)
        return len(self._events) / span if span > 0 else 0.0

    def latency_quantile(self, q: float, now: float) -> float | None:
        """The ``q`` quantile (nearest rank) of latencies in the window."""
        self._trim(now)
        values = sorted(lat for _, lat in self._events if lat is not None)
        if not values:
            return None
        return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]
