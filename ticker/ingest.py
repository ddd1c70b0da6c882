"""Where a tick is applied: validate into the table, encode once, fan out.

:class:`Ingest` is the one path from a feed to subscribers. Each applied
tick is encoded once (only if someone is subscribed) and the same bytes are
pushed to every subscriber's outbox. Feeds see it through a per-feed
:class:`FeedSink`, which carries the feed's counters, so the service knows
nothing about a tick's origin but the feed's name.

Two additions serve the Redis bus (:mod:`ticker.bus`): a :class:`Tap` sees
every applied tick and status change (the feed process publishes them), and
:meth:`Ingest.apply_mirrored` is the gateway's way in, the same
table -> encode once -> hub path with the publisher's ``seq``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

import numpy as np

from ticker.hub import Hub
from ticker.log_limit import LogLimiter
from ticker.model import Status, Tick, TickBatch
from ticker.outliers import OutlierFilter
from ticker.protocol import encode_status
from ticker.quotes import QuoteEncoder
from ticker.stats import FeedStats
from ticker.table import QUOTE_FIELDS, SEQ, STATUS, Reject, SymbolTable


class Tap(Protocol):
    """Sees every change the table takes, whether or not anyone here is subscribed."""

    def applied(self, sid: int) -> None: ...

    def status_changed(self, sid: int) -> None: ...

log = logging.getLogger("ticker.feeds")

#: One tick as the per-tick path carries it: (sid, bid, ask, bid_size, ask_size, ts).
Row = tuple[int, float, float, float, float, int]


def rows(batch: TickBatch) -> Iterator[Row]:
    """A batch's ticks as Python tuples (``tolist`` first: far cheaper than numpy scalars)."""
    return zip(
        batch.sid.tolist(),
        batch.bid.tolist(),
        batch.ask.tolist(),
        batch.bid_size.tolist(),
        batch.ask_size.tolist(),
        batch.ts.tolist(),
        strict=True,
    )


class Ingest:
    def __init__(
        self,
        table: SymbolTable,
        hub: Hub,
        encoder: QuoteEncoder,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_ns: Callable[[], int] = time.time_ns,
        observe: bool = True,
    ) -> None:
        self.observe = observe
        self.table = table
        self.hub = hub
        self.encoder = encoder
        self._clock = clock
        self._wall_ns = wall_ns
        self._reject_labels = {int(r): r.label for r in Reject}
        #: Set by the feed process to publish every change to the bus.
        self.tap: Tap | None = None

    def apply_batch(self, feed: FeedStats, batch: TickBatch) -> int:
        """Apply ticks in order; returns how many were applied."""
        n = len(batch)
        if not n:
            return 0
        now = self._clock()
        wall_us = self._wall_ns() // 1000
        if self.observe:
            feed.latency.observe_many((wall_us - batch.ts) / 1e6)
        feed.last_tick_wall = wall_us / 1e6
        apply = self.table.apply
        publish = self._publish
        applied = 0
        for sid, bid, ask, bsz, asz, ts in rows(batch):
            mask = apply(sid, bid, ask, bsz, asz, ts, now)
            if mask < 0:
                feed.rejected[self._reject_labels[mask]] += 1
                continue
            applied += 1
            publish(sid, mask, now)
        feed.ingested += applied
        return applied

    def apply_tick(self, feed: FeedStats, tick: Tick) -> bool:
        """Apply one tick given by symbol name; False when rejected."""
        sid = self.table.sid(tick.symbol)
        return self.apply_row(feed, (sid, tick.bid, tick.ask, tick.bid_size, tick.ask_size, tick.ts))

    def apply_row(self, feed: FeedStats, row: Row) -> bool:
        """Apply one tick given by symbol id; False when rejected."""
        now = self._clock()
        wall_us = self._wall_ns() // 1000
        sid, bid, ask, bid_size, ask_size, ts = row
        if self.observe:
            feed.latency.observe((wall_us - ts) / 1e6)
        feed.last_tick_wall = wall_us / 1e6
        mask = self.table.apply(sid, bid, ask, bid_size, ask_size, ts, now)
        if mask < 0:
            feed.rejected[self._reject_labels[mask]] += 1
            return False
        feed.ingested += 1
        self._publish(sid, mask, now)
        return True

    def reject(self, feed: FeedStats, reason: Reject) -> None:
        """Count a tick a feed-side filter refused before it reached the table."""
        self.table.count_reject(reason)
        feed.rejected[reason.label] += 1

    def apply_mirrored(
        self,
        feed: FeedStats,
        sid: int,
        bid: float,
        ask: float,
        bid_size: float,
        ask_size: float,
        ts: int,
        seq: int,
        status: int,
        now: float,
    ) -> bool:
        """A gateway applies one state from the bus; False when it was not newer."""
        mask = self.table.apply_mirrored(sid, bid, ask, bid_size, ask_size, ts, seq, status, now)
        if mask < 0:
            return False
        if mask & SEQ:
            feed.ingested += 1
            wall_us = self._wall_ns() // 1000
            feed.latency.observe((wall_us - ts) / 1e6)
            feed.last_tick_wall = wall_us / 1e6
            self._publish(sid, mask, now)
        else:  # the same seq with another status (stale, live again)
            self._send_status(sid, now)
        return True

    def reset_mirrored(
        self,
        sid: int,
        bid: float,
        ask: float,
        bid_size: float,
        ask_size: float,
        ts: int,
        seq: int,
        status: int,
        now: float,
    ) -> None:
        """Adopt a state with a *lower* seq (the publisher lost its sequence along
        with Redis's data): subscribers get a fresh snapshot, which replaces their
        state and seq baseline, never an update that would go backwards."""
        self.table.forget(sid)
        self.table.apply_mirrored(sid, bid, ask, bid_size, ask_size, ts, seq, status, now)
        self.hub.publish_control(sid, self.encoder.snapshot(sid), now)

    def set_status(self, sid: int, status: Status, now: float) -> None:
        """Change a symbol's status and tell its subscribers (nothing if unchanged)."""
        if self.table.set_status(sid, status):
            self.publish_status(sid, now)

    def _publish(self, sid: int, mask: int, now: float) -> None:
        tap = self.tap
        if tap is not None:
            tap.applied(sid)
        hub = self.hub
        if not hub.subscribers[sid]:
            return
        if mask & STATUS:
            self._send_status(sid, now)
        hub.publish_update(sid, mask & QUOTE_FIELDS, self.encoder.update(sid, mask), now)

    def publish_status(self, sid: int, now: float) -> None:
        """Tell subscribers (and the bus) the symbol's current status."""
        tap = self.tap
        if tap is not None:
            tap.status_changed(sid)
        self._send_status(sid, now)

    def _send_status(self, sid: int, now: float) -> None:
        status = Status(int(self.table.status[sid])).label
        payload = encode_status(self.table.symbols[sid], status, self._wall_ns() // 1000)
        self.hub.publish_control(sid, payload, now)


#: Decides whether a feed's tick for a symbol is applied (failover): (sid, now) -> apply?
Gate = Callable[[int, float], bool]


class FeedSink:
    """What one feed sees of the service.

    A feed can only write the symbols it declared (others count as unknown).
    Without a failover gate or an outlier filter, batches go straight to
    :meth:`Ingest.apply_batch`; with either, ticks go one by one through the
    filter (which may hold or reject them) and then the gate (which drops a
    standing-by backup's ticks).
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
        outliers: OutlierFilter[Row] | None = None,
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
        return sum(self._one(row) for row in rows(batch))

    def publish_tick(self, tick: Tick) -> bool:
        row = (self._ids.get(tick.symbol, -1), tick.bid, tick.ask, tick.bid_size, tick.ask_size, tick.ts)
        if self._gate is None and self._filter is None:
            return self._ingest.apply_row(self.stats, row)
        return self._one(row) > 0

    def _one(self, row: Row) -> int:
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
