"""Bars on the wire: series ids, subscribers, encode once, fan out. The ingest hook.

:class:`BarFanout` turns what the bar builder (:mod:`ticker.core.bars`) does into
messages in subscribers' outboxes, with the outbox machinery quotes use:

* **Series ids.** Series ``i`` of symbol ``sid`` is id ``base + sid * n + i``
  (``n`` intervals, ``base`` = the number of symbols): a separate id space above
  every symbol id, so each series has its own merge slot and throttle in an
  outbox and never touches a quote's.
* **Forming updates are always merged:** a change is encoded once and the
  same bytes replace the series' update still pending in each subscriber's
  queue (:meth:`~ticker.core.outbox.Outbox.push_latest`), so a connection gets
  at most one forming update per series per frame whatever the tick rate, and
  ``throttle_ms`` holds them like quote updates (a held one is encoded when
  released, cached per ``seq``, so it too is encoded once).
* **Closes and corrections are control messages**, encoded once per event and
  never merged or dropped. A close *supersedes* a pending forming update of its
  series (it takes its place: it carries that bar's final state); a correction
  queues after it, so per series a client receives increasing ``seq`` values.
* **Cost when nobody watches.** The hook (:meth:`BarFanout.applied`) is
  :meth:`~ticker.core.bars.SymbolBars.on_tick` plus a few comparisons: no
  allocation and no encoding unless a series changed *and* has a subscriber
  (a per-symbol bit mask says which), or an event happened. At the default
  intervals that is about 18,000 instructions a tick, +7.5% per delivered quote
  message on the default workload (``python -m benchmarks.instructions``,
  docs/benchmarks.md).

Time: bars close on a tick of a later cell, or when the runtime's timer calls
:meth:`BarFanout.close_group` for a *clock group* (the symbols sharing one time
base: group 0 the wall clock; one group per replay on its own recorded times).
A recorded group also closes on its own progress: a tick at ``ts`` closes every
bar of the group that ended by ``ts`` (a replay delivers its ticks in time
order). :attr:`BarFanout.due` holds each group's earliest bar end, and
``on_due`` is called when a tick makes it earlier, so the timer can re-arm.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import orjson

from ticker.core.bar_encode import bar_dict, encode_bar
from ticker.core.bars import Bar, BarBook, BarEvent, BarSeries
from ticker.core.calendar import Interval
from ticker.core.outbox import Outbox, UpdateEncoder
from ticker.core.table import SymbolTable, column_view

#: "Never" for a clock group's due time (no forming bar).
NEVER = 1 << 62


class BarSink(Protocol):
    """Sees every bar change whether or not anyone here subscribes (the feed process
    publishes them on the Redis bus)."""

    def changed(self, sid: int, mask: int) -> None:
        """Forming bars of symbol ``sid`` changed (bit ``i``: series ``i``)."""

    def event(self, sid: int, event: BarEvent) -> None:
        """A bar of symbol ``sid`` closed or was corrected."""


class BarStats:
    """What the bar path counts (exported by :mod:`ticker.observability.metrics`)."""

    __slots__ = ("closed", "corrected", "messages", "adopted")

    def __init__(self) -> None:
        #: Bars closed, by interval label.
        self.closed: Counter[str] = Counter()
        #: Closed bars corrected by a late tick.
        self.corrected = 0
        #: Bar messages handed to connections, by kind: forming, closed, corrected, snapshot.
        self.messages: Counter[str] = Counter()
        #: Bars taken from the Redis bus (a gateway).
        self.adopted = 0


class BarFanout:
    """The bar series of every symbol, their subscribers, and the messages about them."""

    def __init__(
        self,
        table: SymbolTable,
        book: BarBook,
        intervals: Sequence[Interval],
        *,
        groups: Sequence[int] | None = None,
        n_groups: int = 1,
    ) -> None:
        self.table = table
        self.book = book
        self.intervals = tuple(intervals)
        self.labels = tuple(i.label for i in self.intervals)
        self.index = {label: i for i, label in enumerate(self.labels)}
        n = self.n = len(self.intervals)
        self.base = len(table)
        self.stats = BarStats()
        bars = book.symbols
        if len(bars) != len(table):
            raise ValueError(f"bar book has {len(bars)} symbols, the table {len(table)}")
        for sb in bars:
            if sb is not None and tuple(s.interval for s in sb.series) != self.intervals:
                raise ValueError(f"bars for {sb.symbol}: intervals differ from {self.labels}")
        #: Series by index ``sid * n + i`` (None for a symbol without bars).
        self.series: list[BarSeries | None] = [
            None if sb is None else sb.series[i] for sb in bars for i in range(n)
        ]
        #: Per series index, its subscribers and the history each asked for.
        self.subscribers: list[dict[Outbox, int]] = [{} for _ in self.series]
        self.subscription_count = 0
        #: Per symbol, the series with at least one subscriber (bit i: series i).
        self._watched = [0] * len(table)
        self._cache: list[bytes | None] = [None] * len(self.series)
        self._cache_seq = [-1] * len(self.series)
        self._symbols = table.symbols
        self._bars = bars
        self._bid = column_view(table.bid)
        self._ask = column_view(table.ask)
        self._ts = column_view(table.ts)
        #: Clock group of each symbol (0: the wall clock).
        self.group_of = list(groups) if groups is not None else [0] * len(table)
        self.n_groups = max(n_groups, max(self.group_of, default=0) + 1)
        self.members: list[list[int]] = [[] for _ in range(self.n_groups)]
        for sid, g in enumerate(self.group_of):
            if bars[sid] is not None:
                self.members[g].append(sid)
        #: Earliest end of a forming bar per clock group.
        self.due = [NEVER] * self.n_groups
        #: Called with a group when a tick made its due time earlier (the timer re-arms).
        self.on_due: Callable[[int], None] | None = None
        #: Set in the feed process to publish every bar change on the bus.
        self.sink: BarSink | None = None

    # ------------------------------------------------------------ ids

    def key(self, sid: int, interval: str) -> int:
        """The series index of ``sid``'s bars of ``interval`` (-1: not built here)."""
        i = self.index.get(interval, -1)
        if i < 0 or self._bars[sid] is None:
            return -1
        return sid * self.n + i

    def series_id(self, key: int) -> int:
        """The outbox id of a series index."""
        return self.base + key

    # ------------------------------------------------------------ subscribers

    def add(self, key: int, outbox: Outbox, history: int = 0) -> bool:
        """Subscribe ``outbox`` to series ``key``; False when it already was (its
        ``history`` is updated: a resync resends that many bars)."""
        subs = self.subscribers[key]
        new = outbox not in subs
        subs[outbox] = history
        if new:
            self.subscription_count += 1
            self._watched[key // self.n] |= 1 << (key % self.n)
        return new

    def remove(self, key: int, outbox: Outbox) -> bool:
        subs = self.subscribers[key]
        if subs.pop(outbox, None) is None:
            return False
        self.subscription_count -= 1
        if not subs:
            self._watched[key // self.n] &= ~(1 << (key % self.n))
        return True

    def encoder(self, quotes: UpdateEncoder) -> UpdateEncoder:
        """The update encoder of an outbox that holds bar series as well as quotes."""
        base = self.base
        end = base + len(self.series)  # ids above are others' (delayed streams)
        bars = self.encode

        def encode(sid: int, mask: int) -> bytes:
            return bars(sid, mask) if base <= sid < end else quotes(sid, mask)

        return encode

    # ------------------------------------------------------------ encoding

    def encode(self, series_id: int, mask: int = 1) -> bytes:
        """A ``bar`` message with the series' newest bar (what a throttled update
        released by an outbox carries), cached per ``seq``: one encoding per state."""
        key = series_id - self.base
        series = self.series[key]
        assert series is not None
        bar = series.newest()
        if bar is None:  # our bug: an update was held for a series without bars
            raise AssertionError(f"bar update for series {key} without any bar")
        self.stats.messages["forming"] += 1
        return self._encoded(key, bar)

    def _encoded(self, key: int, bar: Bar) -> bytes:
        cached = self._cache[key]
        if cached is not None and self._cache_seq[key] == bar.seq:
            return cached
        payload = encode_bar(self._symbols[key // self.n], self.labels[key % self.n], bar, message_type="bar")
        self._cache[key] = payload
        self._cache_seq[key] = bar.seq
        return payload

    def snapshot(self, key: int, history: int) -> bytes:
        """A ``bars`` message: the newest ``history`` closed bars and the forming one."""
        self.stats.messages["snapshot"] += 1
        return orjson.dumps(self.snapshot_dict(key, history))

    def snapshot_dict(self, key: int, history: int) -> dict[str, Any]:
        series = self.series[key]
        assert series is not None
        symbol, label = self._symbols[key // self.n], self.labels[key % self.n]
        return {
            "type": "bars",
            "symbol": symbol,
            "interval": label,
            "seq": series.seq,
            "bars": [bar_dict(symbol, label, b) for b in series.history(history)],
        }

    # ------------------------------------------------------------ the ingest hook

    def applied(self, sid: int, now: float) -> None:
        """A tick was applied to ``sid`` (the table holds it): build its bars and tell
        subscribers. Called by :class:`~ticker.core.ingest.Ingest` for every applied tick."""
        bars = self._bars[sid]
        if bars is None:
            return
        ts = self._ts[sid]
        mask = bars.on_tick(ts, self._bid[sid], self._ask[sid])
        if bars.events:
            self._emit(sid, bars.take_events(), now)
        if mask:
            watched = mask & self._watched[sid]
            if watched:
                self._forming(sid, watched, now)
            if self.sink is not None:
                self.sink.changed(sid, mask)
        g = self.group_of[sid]
        if bars.next_due < self.due[g]:
            self.due[g] = bars.next_due
            if self.on_due is not None:
                self.on_due(g)
        if g and ts >= self.due[g]:  # a recorded time base closes on its own progress
            self.close_group(g, ts, now)

    def _forming(self, sid: int, watched: int, now: float) -> None:
        key = sid * self.n
        series = self.series
        while watched:
            if watched & 1:
                bar = series[key].forming()  # type: ignore[union-attr]
                if bar is not None:
                    self._push_latest(key, self._encoded(key, bar), now)
            watched >>= 1
            key += 1

    def _push_latest(self, key: int, payload: bytes, now: float) -> None:
        series_id = self.base + key
        subs = self.subscribers[key]
        for outbox in subs:
            outbox.push_latest(series_id, payload, now)
        self.stats.messages["forming"] += len(subs)

    def _emit(self, sid: int, events: Sequence[BarEvent], now: float) -> None:
        sink = self.sink
        for ev in events:
            self._announce(sid * self.n + ev.series, ev.bar, now)
            if sink is not None:
                sink.event(sid, ev)

    def _announce(self, key: int, bar: Bar, now: float) -> None:
        """A closed or corrected bar: to every subscriber of its series, encoded once."""
        stats = self.stats
        label = self.labels[key % self.n]
        if bar.corrected:
            stats.corrected += 1
            kind = "corrected"
        else:
            stats.closed[label] += 1
            kind = "closed"
        subs = self.subscribers[key]
        if not subs:
            return
        payload = encode_bar(self._symbols[key // self.n], label, bar, message_type="bar")
        series_id = self.base + key
        supersede = not bar.corrected
        for outbox in subs:
            outbox.push_series(series_id, payload, now, supersede=supersede)
        stats.messages[kind] += len(subs)

    # ------------------------------------------------------------ the timer

    def close_group(self, group: int, now_us: int, now: float) -> int:
        """Close every bar of clock group ``group`` that ended by ``now_us`` (on that
        group's time base); returns the group's next due time."""
        due = NEVER
        bars = self._bars
        for sid in self.members[group]:
            sb = bars[sid]
            assert sb is not None
            if sb.next_due <= now_us:
                events = sb.close_due(now_us)
                if events:
                    self._emit(sid, events, now)
            if sb.next_due < due:
                due = sb.next_due
        self.due[group] = due
        return due

    # ------------------------------------------------------------ mirroring (a gateway)

    def adopt(self, key: int, bar: Bar, first: int, last: int, now: float) -> bool:
        """Take a bar from the bus into series ``key`` and tell its subscribers,
        if it is newer than what the series holds (see :meth:`BarSeries.adopt`)."""
        series = self.series[key]
        if series is None or not series.adopt(bar, first, last):
            return False
        self.stats.adopted += 1
        sb = self._bars[key // self.n]
        assert sb is not None
        sb.refresh_due()
        g = self.group_of[key // self.n]
        if sb.next_due < self.due[g]:
            self.due[g] = sb.next_due
        if bar.closed:
            self._announce(key, bar, now)
        elif self.subscribers[key]:
            self._push_latest(key, self._encoded(key, bar), now)
        return True

    def restart(self, key: int) -> None:
        """Forget a series' bars before adopting a complete set (a gateway's resync)."""
        series = self.series[key]
        if series is not None:
            series.clear()
            self._cache[key] = None
            self._cache_seq[key] = -1

    def resend(self, key: int, now: float) -> None:
        """Send every subscriber of ``key`` a fresh ``bars`` snapshot (with the history
        it asked for), which replaces its picture of the series: after a resync
        replaced the series wholesale."""
        series_id = self.base + key
        for outbox, history in self.subscribers[key].items():
            outbox.push_series(series_id, self.snapshot(key, history), now, supersede=True)

    @property
    def nbytes(self) -> int:
        """Memory held by closed bars."""
        return self.book.nbytes
