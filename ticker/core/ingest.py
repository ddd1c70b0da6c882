"""Where a tick is applied: validate into the table, encode once, fan out.

:class:`Ingest` is the one path from a feed to subscribers. Each applied
tick is encoded once (only if someone is subscribed) and the same bytes are
pushed to every subscriber's outbox. Feeds reach it through a per-feed
:class:`~feeds.sink.FeedSink`, which carries the feed's counters, so the
service knows nothing about a tick's origin but the feed's name.

Two additions serve the Redis bus (:mod:`ticker.bus`): a :class:`Tap` sees
every applied tick and status change (the feed process publishes them), and
:meth:`Ingest.apply_mirrored` is the gateway's way in, the same
table -> encode once -> hub path with the publisher's ``seq``.

With a resume ring (:attr:`Ingest.ring`, :mod:`ticker.core.ring`) every
update is encoded once whether or not anyone is subscribed, and the same
bytes go to the ring and to the subscribers.

A :class:`MarketHook` (:mod:`ticker.core.market`) sees each applied tick
before it is encoded (daily statistics, a closed market's status) and, for a
cross's leg, after it is published (the derived crosses, applied through
:meth:`Ingest.publish_applied`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ticker.core.batch import TickBatch, TickRow
from ticker.core.daystats import UPDATE_DAY
from ticker.core.encode import QuoteEncoder, encode_status
from ticker.core.hub import Hub
from ticker.core.model import QuoteState, Status, Tick
from ticker.core.ring import UpdateRing
from ticker.core.stats import FeedStats
from ticker.core.table import QUOTE_MASK, SEQ, STATUS, Reject, SymbolTable, column_view

if TYPE_CHECKING:
    from ticker.core.delay import DelayLines


class Tap(Protocol):
    """Sees every change the table takes, whether or not anyone here is subscribed."""

    def applied(self, sid: int) -> None: ...

    def status_changed(self, sid: int) -> None: ...


class BarHook(Protocol):
    """Builds bars from every applied tick (:class:`~ticker.core.bar_fanout.BarFanout`)."""

    def applied(self, sid: int, now: float) -> None: ...


class MarketHook(Protocol):
    """The trading day in the data path (:mod:`ticker.core.market`)."""

    @property
    def legs(self) -> Sequence[bool]:
        """Per symbol: is it a leg of a derived cross?"""
        ...

    def applied(self, sid: int, mask: int, now: float) -> int:
        """An applied tick, before it is encoded: returns the mask to encode."""
        ...

    def derive(self, sid: int, now: float) -> None:
        """A leg's tick was published: recompute its crosses."""

    def status_changed(self, sid: int, now: float) -> None:
        """A symbol's status was published."""

    def status_fields(self, sid: int) -> dict[str, Any] | None:
        """Extra fields of the symbol's status message."""
        ...


#: The change-mask bits an update encodes (and conflation merges): quote and day fields.
UPDATE_MASK = QUOTE_MASK | UPDATE_DAY


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
        #: Set when bars are on where ticks are applied (not on a gateway: it mirrors bars).
        self.bars: BarHook | None = None
        #: Set by a service that serves clients: recent updates for resuming ones.
        self.ring: UpdateRing | None = None
        self._seq = column_view(table.seq)
        #: Market status, daily statistics, derived crosses (ticker.core.market).
        self.market: MarketHook | None = None
        #: Delay lines (sampled by their own timer); told when a sequence starts over.
        self.delayed: DelayLines | None = None

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
        for sid, bid, ask, bsz, asz, ts in batch.rows():
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

    def apply_row(self, feed: FeedStats, row: TickRow) -> bool:
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

    def apply_mirrored(self, feed: FeedStats, sid: int, state: QuoteState, now: float) -> bool:
        """A gateway applies one state from the bus; False when it was not newer."""
        mask = self.table.apply_mirrored(sid, state, now)
        if mask < 0:
            return False
        if mask & SEQ:
            feed.ingested += 1
            wall_us = self._wall_ns() // 1000
            feed.latency.observe((wall_us - state.ts) / 1e6)
            feed.last_tick_wall = wall_us / 1e6
            self._publish(sid, mask, now)
        else:  # the same seq with another status (stale, live again)
            self._send_status(sid, now)
        return True

    def reset_mirrored(self, sid: int, state: QuoteState, now: float, epoch: str | None = None) -> None:
        """Adopt a state with a *lower* seq (the publisher lost its sequence along
        with Redis's data), or of another ``epoch``: subscribers get a fresh
        snapshot, which replaces their state, seq baseline and epoch, never an
        update that would go backwards; the resume ring starts over."""
        self.table.forget(sid)
        self.table.apply_mirrored(sid, state, now)
        if epoch is not None:
            self.table.epoch[sid] = epoch
        if self.ring is not None:
            self.ring.reset(sid, state.seq)
        if self.hub.subscribers[sid]:
            self.hub.publish_control(sid, self.encoder.snapshot(sid), now)
        if self.delayed is not None:
            self.delayed.reset(sid)

    def set_status(self, sid: int, status: Status, now: float) -> None:
        """Change a symbol's status and tell its subscribers (nothing if unchanged)."""
        if self.table.set_status(sid, status):
            self.publish_status(sid, now)

    def _publish(self, sid: int, mask: int, now: float) -> None:
        market = self.market
        if market is not None:
            mask = market.applied(sid, mask, now)
        tap = self.tap
        if tap is not None:
            tap.applied(sid)
        bars = self.bars
        if bars is not None:
            bars.applied(sid, now)
        hub = self.hub
        ring = self.ring
        if ring is not None:  # every update is kept, so every update is encoded
            payload = self.encoder.update(sid, mask)
            ring.append(sid, self._seq[sid], payload, now)
            if hub.subscribers[sid]:
                if mask & STATUS:
                    self._send_status(sid, now)
                hub.publish_update(sid, mask & UPDATE_MASK, payload, now)
        elif hub.subscribers[sid]:
            if mask & STATUS:
                self._send_status(sid, now)
            hub.publish_update(sid, mask & UPDATE_MASK, self.encoder.update(sid, mask), now)
        if market is not None and market.legs[sid]:
            market.derive(sid, now)

    def publish_applied(self, sid: int, mask: int, now: float) -> None:
        """Publish a change applied to the table outside a feed (a derived cross),
        exactly as a feed's tick is published."""
        self._publish(sid, mask, now)

    def publish_status(self, sid: int, now: float) -> None:
        """Tell subscribers (and the bus) the symbol's current status."""
        tap = self.tap
        if tap is not None:
            tap.status_changed(sid)
        self._send_status(sid, now)
        if self.market is not None:
            self.market.status_changed(sid, now)

    def _send_status(self, sid: int, now: float) -> None:
        status = Status(int(self.table.status[sid])).label
        extra = self.market.status_fields(sid) if self.market is not None else None
        payload = encode_status(self.table.symbols[sid], status, self._wall_ns() // 1000, extra)
        self.hub.publish_control(sid, payload, now)
