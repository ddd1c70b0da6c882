"""Bars on the Redis bus: built once in the feed process, mirrored by every gateway.

Pure: the row format, what the feed process has yet to publish, and how a
gateway adopts what it reads (the Redis I/O is in :mod:`ticker.bus.publisher`
and :mod:`ticker.bus.gateway`). docs/scaling.md explains the choice: a gateway
started after a week could not rebuild a week of bars from a stream that keeps
minutes, and bars built in one place are identical everywhere by construction.

Keys, beside the feed's quote keys (:mod:`ticker.bus.codec`), under prefix ``P``:

=========================  ======  ===============================================
``P:bars:SYMBOL:INTERVAL``  zset    the series' closed bars, score = start, member = row
``P:feed:F:bars``           hash    ``SYMBOL:INTERVAL`` -> the series' newest row
=========================  ======  ===============================================

A stream entry carries the bar rows of its batch in ``b`` (beside the quote
rows in ``r``): every close and correction, in order, then the newest state of
each forming bar that changed. A row is ``[symbol, interval, start, end, open,
high, low, close, ticks, seq, state, first, last]``, ``state`` 0 forming, 1
closed, 2 corrected; ``first``/``last`` are the times of the ticks that set
open and close. Gateways apply rows with
:meth:`~ticker.core.bars.BarSeries.adopt` (newer ``seq`` wins per bar), so a
history load and stream entries may overlap in any order. The zsets are
trimmed to each series' retention as bars are added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from ticker.core.bar_fanout import BarFanout
from ticker.core.bars import Bar, BarEvent
from ticker.core.table import SymbolTable

#: One bar as the bus carries it (see the module docstring).
BarRow = list[Any]
FORMING, CLOSED, CORRECTED = 0, 1, 2
#: Close and correction rows kept for one feed while Redis is away; past this the
#: feed process rewrites every bar it holds when Redis is back.
MAX_PENDING_EVENTS = 100_000


def series_key(prefix: str, symbol: str, interval: str) -> str:
    return f"{prefix}:bars:{symbol}:{interval}"


def feed_bars_key(prefix: str, feed: str) -> str:
    return f"{prefix}:feed:{feed}:bars"


def bar_row(symbol: str, interval: str, bar: Bar, first: int, last: int) -> BarRow:
    state = CORRECTED if bar.corrected else CLOSED if bar.closed else FORMING
    return [symbol, interval, bar.start, bar.end, bar.open, bar.high, bar.low, bar.close,
            bar.ticks, bar.seq, state, first, last]  # fmt: skip


def unpack_bar(row: Any) -> tuple[str, str, Bar, int, int]:
    """``(symbol, interval, bar, first, last)``; TypeError/ValueError when malformed."""
    symbol, interval, start, end, o, h, low, c, ticks, seq, state, first, last = row
    ints = (start, end, ticks, seq, first, last)
    if type(symbol) is not str or type(interval) is not str or not all(type(v) is int for v in ints):
        raise TypeError("bar row has a field of the wrong type")
    if state not in (FORMING, CLOSED, CORRECTED) or not all(type(v) in (int, float) for v in (o, h, low, c)):
        raise ValueError("bar row has a bad state or price")
    bar = Bar(start, end, float(o), float(h), float(low), float(c), ticks, seq, state != FORMING,
              state == CORRECTED)  # fmt: skip
    return symbol, interval, bar, first, last


class BarOutbound:
    """The feed process's :class:`~ticker.core.bar_fanout.BarSink`: what is not yet on the bus.

    Per feed: the closes and corrections in order (rows made when they happen)
    and the set of series whose forming bar changed (rows made when taken, so
    a busy series costs one row per write, not one per tick). While Redis is
    away events keep accumulating up to :data:`MAX_PENDING_EVENTS`; past that
    the feed is marked to rewrite all its bars on reconnect.
    """

    __slots__ = ("fanout", "_feed_of", "events", "dirty", "overflow", "notify")

    def __init__(self, fanout: BarFanout, feed_of_sid: Sequence[int], n_feeds: int) -> None:
        self.fanout = fanout
        self._feed_of = list(feed_of_sid)
        self.events: list[list[BarRow]] = [[] for _ in range(n_feeds)]
        self.dirty: list[dict[int, None]] = [{} for _ in range(n_feeds)]
        self.overflow = [False] * n_feeds
        #: Called when something starts pending (wakes the publisher).
        self.notify: Callable[[], None] | None = None

    def _wake(self, feed: int) -> None:
        if self.notify is not None and not self.events[feed] and not self.dirty[feed]:
            self.notify()

    def changed(self, sid: int, mask: int) -> None:
        feed = self._feed_of[sid]
        dirty = self.dirty[feed]
        if not dirty:
            self._wake(feed)
        key = sid * self.fanout.n
        while mask:
            if mask & 1:
                dirty[key] = None
            mask >>= 1
            key += 1

    def event(self, sid: int, event: BarEvent) -> None:
        feed = self._feed_of[sid]
        events = self.events[feed]
        if self.overflow[feed]:
            return
        if len(events) >= MAX_PENDING_EVENTS:
            self.overflow[feed] = True
            events.clear()
            return
        self._wake(feed)
        key = sid * self.fanout.n + event.series
        series = self.fanout.series[key]
        assert series is not None
        first, last = series.record(event.bar)
        events.append(self._row(key, event.bar, first, last))

    def _row(self, key: int, bar: Bar, first: int, last: int) -> BarRow:
        f = self.fanout
        return bar_row(f.table.symbols[key // f.n], f.labels[key % f.n], bar, first, last)

    def has_pending(self) -> bool:
        return any(self.events) or any(self.dirty)

    def take(self, feed: int) -> list[BarRow]:
        """The feed's rows to publish: events in order, then each changed forming bar."""
        rows = self.events[feed]
        self.events[feed] = []
        dirty = self.dirty[feed]
        if dirty:
            self.dirty[feed] = {}
            for key in dirty:
                series = self.fanout.series[key]
                if series is None:
                    continue
                bar = series.forming()
                if bar is not None:
                    rows.append(self._row(key, bar, series.first, series.last))
        return rows

    def all_rows(self, sids: Sequence[int]) -> list[BarRow]:
        """Every bar held for these symbols (a full rewrite), oldest first per series."""
        f = self.fanout
        rows: list[BarRow] = []
        for sid in sids:
            for i in range(f.n):
                series = f.series[sid * f.n + i]
                if series is None:
                    continue
                for bar in series.history(series.store.limit):
                    first, last = series.record(bar)
                    rows.append(self._row(sid * f.n + i, bar, first, last))
        return rows


class BarMirror:
    """A gateway's (or a restarting feed process's) way of taking bars from the bus."""

    __slots__ = ("fanout", "_ids", "bad_rows")

    def __init__(self, fanout: BarFanout, table: SymbolTable) -> None:
        self.fanout = fanout
        self._ids = table.ids
        self.bad_rows = 0

    def _key(self, symbol: str, interval: str) -> int:
        sid = self._ids.get(symbol, -1)
        return -1 if sid < 0 else self.fanout.key(sid, interval)

    def apply(self, rows: Sequence[Any], now: float) -> int:
        """Adopt rows (stream entries, a history load); returns how many changed a series."""
        adopted = 0
        fanout = self.fanout
        for row in rows:
            try:
                symbol, interval, bar, first, last = unpack_bar(row)
            except (TypeError, ValueError):
                self.bad_rows += 1
                continue
            key = self._key(symbol, interval)
            if key >= 0 and fanout.adopt(key, bar, first, last, now):
                adopted += 1
        return adopted

    def replace(self, sids: Sequence[int], rows: Sequence[Any], now: float) -> None:
        """Adopt a complete set of these symbols' bars (a resync): forget what is held,
        take the rows, and send every subscriber of them a fresh snapshot."""
        fanout = self.fanout
        keys = [sid * fanout.n + i for sid in sids for i in range(fanout.n)]
        for key in keys:
            fanout.restart(key)
        self.apply(rows, now)
        for key in keys:
            if fanout.subscribers[key]:
                fanout.resend(key, now)

    def series_names(self, sids: Sequence[int]) -> list[tuple[str, str]]:
        """``(symbol, interval)`` of every series of these symbols."""
        names = self.fanout.table.symbols
        return [(names[sid], label) for sid in sids for label in self.fanout.labels]


def decode_rows(raw: Sequence[bytes]) -> list[Any]:
    """Rows stored in Redis (zset members, hash values); undecodable ones are skipped."""
    out: list[Any] = []
    for item in raw:
        try:
            out.append(orjson.loads(item))
        except orjson.JSONDecodeError:
            continue
    return out
