"""What one feed sees of the service: its :class:`FeedSink`.

A feed writes only the symbols it declared (others count as unknown). The
sink is where a feed's own policies sit between its parser and the shared
ingest path (:class:`~ticker.core.ingest.Ingest`): an outlier filter that
holds or rejects price jumps, and a failover gate that drops a standing-by
backup's ticks. Without either, batches go straight to the ingest path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import numpy as np

from feeds.outliers import OutlierFilter
from ticker.core.batch import TickBatch, TickRow
from ticker.core.ingest import Ingest
from ticker.core.model import Tick
from ticker.core.stats import FeedStats
from ticker.core.table import Reject
from ticker.util.log_limit import LogLimiter

log = logging.getLogger("ticker.feeds")

#: Decides whether a feed's tick for a symbol is applied (failover): (sid, now) -> apply?
Gate = Callable[[int, float], bool]


class FeedSink:
    """Implements :class:`~feeds.base.TickSink` for one feed.

    Without a failover gate or an outlier filter, batches go straight to
    :meth:`Ingest.apply_batch`; with either, ticks go one by one through the
    filter (which may hold or reject them) and then the gate.
    """

    __slots__ = (
        "_ingest",
        "stats",
        "_ids",
        "_gate",
        "_filter",
        "_on_lost",
        "_clock",
        "_log_parse",
        "_log_lost",
    )

    def __init__(
        self,
        ingest: Ingest,
        stats: FeedStats,
        *,
        symbols: Iterable[str] | None = None,
        gate: Gate | None = None,
        outliers: OutlierFilter[TickRow] | None = None,
        on_connection_lost: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ingest = ingest
        self.stats = stats
        ids = ingest.table.ids
        self._ids = ids if symbols is None else {s: ids[s] for s in symbols if s in ids}
        self._gate = gate
        self._filter = outliers
        self._on_lost = on_connection_lost
        self._clock = clock
        self._log_parse = LogLimiter(burst=1, interval_s=10.0, max_keys=1, clock=clock)
        self._log_lost = LogLimiter(burst=1, interval_s=5.0, max_keys=1, clock=clock)

    def symbol_id(self, symbol: str) -> int:
        return self._ids.get(symbol, -1)

    def symbol_ids(self, symbols: list[str]) -> np.ndarray:
        return np.array([self._ids.get(s, -1) for s in symbols], dtype=np.int32)

    def publish(self, batch: TickBatch) -> int:
        if self._gate is None and self._filter is None:
            return self._ingest.apply_batch(self.stats, batch)
        return sum(self._one(row) for row in batch.rows())

    def publish_tick(self, tick: Tick) -> bool:
        row = (self._ids.get(tick.symbol, -1), tick.bid, tick.ask, tick.bid_size, tick.ask_size, tick.ts)
        if self._gate is None and self._filter is None:
            return self._ingest.apply_row(self.stats, row)
        return self._one(row) > 0

    def _one(self, row: TickRow) -> int:
        sid = row[0]
        if self._filter is not None and sid >= 0:
            rows, rejected = self._filter.offer(sid, (row[1] + row[2]) * 0.5, row)
            for _ in range(rejected):
                self._ingest.reject(self.stats, Reject.OUTLIER)
        else:
            rows = [row]
        applied = 0
        gate = self._gate
        for r in rows:
            if gate is not None and r[0] >= 0 and not gate(r[0], self._clock()):
                self.stats.standby += 1
                continue
            applied += self._ingest.apply_row(self.stats, r)
        return applied

    def parse_error(self, where: str, reason: str, count: int = 1) -> None:
        self.stats.parse_errors += count
        self._log_parse.log(
            log, logging.WARNING, "parse",
            "feed %s: %d unreadable input(s) skipped at %s: %s",
            self.stats.name, count, where, reason,
            extra={"feed": self.stats.name},
        )  # fmt: skip

    def connection_lost(self, reason: str) -> None:
        self.stats.reconnects += 1
        now = self._clock()
        self._log_lost.log(
            log, logging.WARNING, "lost",
            "feed %s: upstream connection lost: %s; reconnecting",
            self.stats.name, reason,
            extra={"feed": self.stats.name},
        )  # fmt: skip
        if self._on_lost is not None:
            self._on_lost(now)
