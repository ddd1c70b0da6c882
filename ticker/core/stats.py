"""Counters and histograms kept as plain numbers on the hot path.

prometheus-client objects take a lock and do several attribute lookups per
observation; the fan-out path instead bumps ints on these objects and the
metrics module turns them into Prometheus families at scrape time (see
:mod:`ticker.metrics`). The event loop is single-threaded, so no locks.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

#: Latency buckets in seconds, shared by feed and fan-out latency: 25 µs (an
#: idle loopback fan-out) to 10 s (a stalled feed); 1-2.5-5 steps per decade, so
#: ``histogram_quantile`` is off by at most one bucket width. docs/operations.md
#: explains the choice; changing it changes every dashboard's history.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip

#: Send-queue depth buckets in messages; 512 is the default conflation high-water mark.
DEPTH_BUCKETS: tuple[float, ...] = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


#: Deferred values binned at once when this many are waiting, whoever flushes.
FLUSH_AT = 65_536


class Histogram:
    """Fixed-bucket histogram; ``counts[i]`` holds observations <= ``bounds[i]``
    and above the previous bound; the last slot is +Inf.

    :meth:`observe` bins at once. The hot paths defer instead: a feed batch
    goes through :meth:`observe_many`, which only appends its values to
    :attr:`deferred`, and the writer appends each frame's value there through
    a bound ``h.deferred.append`` (35-70 ns against 250-450 ns for
    ``observe``; ``python -m benchmarks.metrics_scrape`` on the shared 2-core
    dev machine). :meth:`flush` bins them in bulk with numpy, off those
    paths. Every reader flushes first, the service's 0.25 s sweep flushes,
    and :meth:`observe_many` flushes past :data:`FLUSH_AT` values, so the
    buffer stays small.
    """

    __slots__ = ("bounds", "_counts", "_sum", "_count", "_np_bounds", "deferred")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self._np_bounds = np.asarray(self.bounds)
        self._counts = [0] * (len(self.bounds) + 1)
        self._sum = 0.0
        self._count = 0
        #: Raw values not binned yet. Only ever cleared in place: hot paths
        #: hold its bound ``append``.
        self.deferred: list[float] = []

    def observe(self, value: float) -> None:
        self._counts[bisect_left(self.bounds, value)] += 1
        self._sum += value
        self._count += 1

    def observe_many(self, values: npt.NDArray[np.float64]) -> None:
        """Record an array of observations; binned in bulk by the next flush
        (appending costs about 1 µs a batch, binning a small batch at once 7-10 µs)."""
        pending = self.deferred
        pending.extend(values.tolist())
        if len(pending) >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        """Bin the :attr:`deferred` values."""
        pending = self.deferred
        if not pending:
            return
        values = np.array(pending, dtype=np.float64)
        pending.clear()
        idx = np.searchsorted(self._np_bounds, values, side="left")
        counts = self._counts
        for i, c in enumerate(np.bincount(idx, minlength=len(counts)).tolist()):
            counts[i] += c
        self._sum += float(values.sum())
        self._count += len(values)

    @property
    def counts(self) -> list[int]:
        self.flush()
        return self._counts

    @property
    def sum(self) -> float:
        self.flush()
        return self._sum

    @property
    def count(self) -> int:
        self.flush()
        return self._count

    def cumulative(self) -> list[tuple[str, int]]:
        """``(le, cumulative count)`` pairs as Prometheus exposes them."""
        out: list[tuple[str, int]] = []
        total = 0
        for bound, c in zip((*self.bounds, float("inf")), self.counts, strict=True):
            total += c
            out.append(("+Inf" if bound == float("inf") else repr(float(bound)), total))
        return out

    def quantile(self, q: float) -> float:
        """Upper bound of the bucket holding quantile ``q`` (coarse, for logs/tests)."""
        if not self.count:
            return float("nan")
        target = q * self.count
        total = 0
        for bound, c in zip((*self.bounds, float("inf")), self.counts, strict=True):
            total += c
            if total >= target:
                return bound
        return float("inf")


class FanoutStats:
    """Everything the WebSocket side counts, shared by all connections."""

    def __init__(self) -> None:
        self.messages_sent = 0
        self.frames_sent = 0
        self.bytes_sent = 0
        self.conflated = 0
        self.dropped = 0
        self.slow_consumer_warnings = 0
        self.slow_consumer_closes = 0
        self.connections = 0
        self.opened = 0
        #: Connections closed, by reason (:class:`ticker.protocol.codes.CloseReason` values).
        self.closed: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        #: WebSocket handshakes refused before the upgrade, by reason
        #: (:data:`ticker.security.limits.REFUSAL_REASONS`).
        self.refused: Counter[str] = Counter()
        self.fanout_latency = Histogram(LATENCY_BUCKETS)
        self.queue_depth = Histogram(DEPTH_BUCKETS)
        #: Symbols resumed with ``since``, by :class:`ticker.core.resume.Outcome` value.
        self.resumes: Counter[str] = Counter()
        #: Updates sent to resuming clients from the resume ring.
        self.replayed = 0
        #: Application heartbeat messages sent to idle connections.
        self.heartbeats_sent = 0


class FeedStats:
    """Per-feed ingest counters; one instance per configured feed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ingested = 0
        self.rejected: Counter[str] = Counter()
        self.latency = Histogram(LATENCY_BUCKETS)
        self.last_tick_wall = 0.0
        self.reconnects = 0
        self.parse_errors = 0
        #: Ticks dropped because this feed stood by as a backup.
        self.standby = 0
        #: Switches between this (primary) feed and its backup, by direction label.
        self.failovers: Counter[str] = Counter()
        self.state = "starting"
