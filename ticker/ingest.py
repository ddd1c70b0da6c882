"""Where a tick is applied: validate into the table, encode once, fan out.

:class:`Ingest` is the one path from a feed to subscribers. Each applied
tick is encoded once (only if someone is subscribed) and the same bytes are
pushed to every subscriber's outbox. Feeds see it through a per-feed
:class:`FeedSink`, which carries the feed's counters, so the service knows
nothing about a tick's origin but the feed's name.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ticker.hub import Hub
from ticker.model import Status, Tick, TickBatch
from ticker.protocol import encode_status
from ticker.quotes import QuoteEncoder
from ticker.stats import FeedStats
from ticker.table import QUOTE_FIELDS, STATUS, Reject, SymbolTable


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
        for sid, bid, ask, bsz, asz, ts in zip(
            batch.sid.tolist(),
            batch.bid.tolist(),
            batch.ask.tolist(),
            batch.bid_size.tolist(),
            batch.ask_size.tolist(),
            batch.ts.tolist(),
            strict=True,
        ):
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
        now = self._clock()
        wall_us = self._wall_ns() // 1000
        if self.observe:
            feed.latency.observe((wall_us - tick.ts) / 1e6)
        feed.last_tick_wall = wall_us / 1e6
        sid = self.table.sid(tick.symbol)
        mask = self.table.apply(sid, tick.bid, tick.ask, tick.bid_size, tick.ask_size, tick.ts, now)
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

    def _publish(self, sid: int, mask: int, now: float) -> None:
        hub = self.hub
        if not hub.subscribers[sid]:
            return
        if mask & STATUS:
            self.publish_status(sid, now)
        hub.publish_update(sid, mask & QUOTE_FIELDS, self.encoder.update(sid, mask), now)

    def publish_status(self, sid: int, now: float) -> None:
        status = Status(int(self.table.status[sid])).label
        payload = encode_status(self.table.symbols[sid], status, self._wall_ns() // 1000)
        self.hub.publish_control(sid, payload, now)


class FeedSink:
    """What one feed sees of the service."""

    __slots__ = ("_ingest", "stats", "_ids")

    def __init__(self, ingest: Ingest, stats: FeedStats) -> None:
        self._ingest = ingest
        self.stats = stats
        self._ids = ingest.table.ids

    def symbol_id(self, symbol: str) -> int:
        return self._ids.get(symbol, -1)

    def symbol_ids(self, symbols: list[str]) -> np.ndarray:
        return np.array([self._ids.get(s, -1) for s in symbols], dtype=np.int32)

    def publish(self, batch: TickBatch) -> int:
        return self._ingest.apply_batch(self.stats, batch)

    def publish_tick(self, tick: Tick) -> bool:
        return self._ingest.apply_tick(self.stats, tick)
