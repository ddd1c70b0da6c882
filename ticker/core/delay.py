"""Delayed quotes: one shared delay line per (symbol, delay), never per client.

A delayed entitlement sees a symbol as it was ``delay_s`` ago. Once per
conflation interval (1 s by default) a timer in the runtime calls
:meth:`DelayLines.tick`: every symbol whose state changed since the last
interval has its current state queued in its delay lines, one per delay the
server offers (:meth:`DelayLines.capture`), and every entry that has become
due is published as the *delayed stream* of its (symbol, delay)
(:meth:`DelayLines.release`). Sampling the table once per interval is the
conflation: the tick path does not know delay lines exist, so real-time
subscribers pay nothing for them.

Invariants, held by :class:`DelayLine` and :meth:`DelayLines.release` alone:

* **Never early.** A state captured at wall time ``t`` is due at
  ``max(t, ts) + delay`` (``ts`` the newest tick's source time: neither a
  feed stamping ticks in the future nor a replay of old ones is shown
  early), rounded *up* to the interval, and is released at or after that
  time. Merging only ever moves an entry later. So every price a delayed
  stream carries is at least ``delay`` old by its ``ts`` and by its arrival.
* **Ordered.** A line is a FIFO of successive states of one symbol; what is
  released is what the table held then, in the same order, ``seq`` rising.
* **Bounded.** One entry per interval: a line holds at most
  ``delay / interval + 2`` entries (if the clock jumps, the newest merge
  rather than grow). Nothing is dropped: the last change is always delivered.

The delayed streams live in a *shadow* :class:`~ticker.core.table.SymbolTable`
(one row per symbol and delay, written with ``apply_mirrored``, which yields
the exact change mask) and are hub subscribers of their own id space: the
hub id of (symbol id ``sid``, delay index ``d``) is ``base + d * n + sid`` for a
table of ``n`` symbols, ``base`` above every id in use (the symbols', and the bar
series' of :mod:`ticker.core.bar_fanout`), so an outbox holding quotes, bars and
delayed streams keeps one merge slot and throttle per stream. The quote fan-out
(encode once, outboxes, conflation, throttle) therefore serves them unchanged.

What a delayed subscriber sees:

* ``snapshot``, ``update`` and ``status`` messages as usual, each marked
  ``"delayed": <seconds>``, with the prices, sizes, ``ts`` and ``seq`` the
  symbol had at the delayed time. ``seq`` is the real stream's ``seq`` of the
  newest tick in the released state: it rises, it is the same on every
  gateway (they mirror one publisher's ``seq``), and it has gaps where ticks
  were merged into one interval. A ``status`` carries the time it changed as
  seen by the interval (rounded up to it), so it too is ``delay`` old.
* No trading-day fields: they summarise the day up to now.
* For the first ``delay`` after a start, nothing is known as of then: the
  delayed snapshot is ``pending`` (a line fills from the moment it exists).

Memory (:attr:`DelayLines.nbytes`, exported as ``ticker_delay_line_bytes``):
an entry is 58 bytes in numpy columns; a line grows by doubling up to its
bound, so a quiet symbol holds little. At the default config (30 symbols,
about 124 ticks/s together, so every symbol changes every second) with
``delay_s = 900`` and the 1 s interval, each line holds 901 entries in 902
slots (its bound): 30 × 902 × 58 B = 1.57 MB, whatever the tick rate. Measured
with tracemalloc after 950 s of that (shadow table, hub ids, arrays and
objects included): 1.74 MB in all.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

import numpy as np

from ticker.core.encode import QuoteEncoder, encode_status
from ticker.core.hub import Hub
from ticker.core.model import Instrument, QuoteState, Status
from ticker.core.table import QUOTE_MASK, SEQ, STATUS, SymbolTable, column_view

#: Bytes one entry takes in a line's columns (due, seq, ts: int64; four float64; status, reset: int8).
ENTRY_BYTES = 3 * 8 + 4 * 8 + 2
_START_SLOTS = 16

#: One released entry: (due_us, seq, bid, ask, bid_size, ask_size, ts, status, reset).
Entry = tuple[int, int, float, float, float, float, int, int, int]


class DelayLine:
    """One symbol's states waiting for release at one delay: a FIFO ring of numpy
    columns (read and written through memoryviews: plain Python numbers)."""

    __slots__ = (
        "delay_us", "interval_us", "limit", "cap", "head", "count",
        "_due", "_seq", "_ts", "_bid", "_ask", "_bsz", "_asz", "_status", "_reset",
    )  # fmt: skip

    def __init__(self, delay_s: int, interval_us: int) -> None:
        if delay_s < 1 or interval_us < 1:
            raise ValueError(f"delay and interval must be positive, got {delay_s} s, {interval_us} µs")
        self.delay_us = delay_s * 1_000_000
        self.interval_us = interval_us
        #: Entries held at most: one per interval of the delay, and the two ends.
        self.limit = -(-self.delay_us // interval_us) + 2
        self.head = 0
        self.count = 0
        self.cap = 0
        self._alloc(min(_START_SLOTS, self.limit))

    def _alloc(self, cap: int) -> None:
        old = self._columns() if self.cap else None
        order = (np.arange(self.count) + self.head) % self.cap if self.cap else None
        cols = [np.zeros(cap, np.int64) for _ in range(3)]
        cols += [np.full(cap, np.nan) for _ in range(4)]
        cols += [np.zeros(cap, np.int8) for _ in range(2)]
        if old is not None and self.count:
            for new, prev in zip(cols, old, strict=True):
                new[: self.count] = np.asarray(prev)[order]
        views = [column_view(c) for c in cols]
        (self._due, self._seq, self._ts, self._bid, self._ask,
         self._bsz, self._asz, self._status, self._reset) = views  # fmt: skip
        self.cap = cap
        self.head = 0

    def _columns(self) -> list[Any]:
        return [self._due, self._seq, self._ts, self._bid, self._ask,
                self._bsz, self._asz, self._status, self._reset]  # fmt: skip

    @property
    def nbytes(self) -> int:
        return self.cap * ENTRY_BYTES

    def due_at(self) -> int:
        """When the oldest entry is due (wall µs); only while ``count`` > 0."""
        return int(self._due[self.head])

    def push(
        self, now_us: int, seq: int, bid: float, ask: float, bsz: float, asz: float,
        ts: int, status: int, reset: int = 0,
    ) -> bool:  # fmt: skip
        """Queue the symbol's state as it is at ``now_us`` (wall µs).

        Returns True when the line was empty, so its oldest entry is new."""
        due = (ts if ts > now_us else now_us) + self.delay_us
        step = self.interval_us
        due = -(-due // step) * step
        n = self.count
        fresh = True
        if n:
            cap = self.cap
            i = (self.head + n - 1) % cap
            last = self._due[i]
            if due <= last or n >= self.limit:
                # Same interval (or full): the newest state wins, never released earlier.
                fresh = False
                due = last if due < last else due
                reset |= self._reset[i]
            else:
                if n == cap:
                    self._alloc(min(cap * 2, self.limit))
                i = (self.head + n) % self.cap
        else:
            i = self.head
        self._due[i] = due
        self._seq[i] = seq
        self._bid[i] = bid
        self._ask[i] = ask
        self._bsz[i] = bsz
        self._asz[i] = asz
        self._ts[i] = ts
        self._status[i] = status
        self._reset[i] = reset
        if fresh:
            self.count = n + 1
        return n == 0

    def pop(self) -> Entry:
        """Take the oldest entry (only while ``count`` > 0)."""
        i = self.head
        entry = (
            self._due[i], self._seq[i], self._bid[i], self._ask[i], self._bsz[i],
            self._asz[i], self._ts[i], self._status[i], self._reset[i],
        )  # fmt: skip
        self.head = (i + 1) % self.cap
        self.count -= 1
        return entry


class DelayedEncoder(QuoteEncoder):
    """Encodes the shadow table's rows: the usual messages plus ``"delayed": <s>``,
    and never the trading-day fields (``market`` stays None)."""

    __slots__ = ("_delay", "_mark")

    def __init__(self, shadow: SymbolTable, delays: Sequence[int]) -> None:
        super().__init__(shadow)
        self._delay = list(delays)
        # The marker is spliced into the one encoding (orjson ends an object with "}").
        self._mark = [b',"delayed":%d}' % d for d in delays]

    def update(self, sid: int, mask: int) -> bytes:
        return super().update(sid, mask)[:-1] + self._mark[sid]

    def snapshot_dict(self, sid: int) -> dict[str, Any]:
        out = super().snapshot_dict(sid)
        out["delayed"] = self._delay[sid]
        return out

    def status(self, sid: int, ts: int) -> bytes:
        """The row's status message, stamped ``ts`` (when it changed, as delayed)."""
        label = Status(int(self._table.status[sid])).label
        return encode_status(self._symbols[sid], label, ts)[:-1] + self._mark[sid]


class DelayLines:
    """Every delay line of a service, their shadow table, and their releases."""

    def __init__(
        self,
        table: SymbolTable,
        hub: Hub,
        encoder: QuoteEncoder,
        delays: Sequence[int],
        *,
        interval_ms: int = 1000,
        first_id: int | None = None,
    ) -> None:
        """``first_id``: the first outbox id the delayed streams may use (ids from the
        table's size up to it belong to others: bar series)."""
        if not delays or len(set(delays)) != len(delays):
            raise ValueError(f"delays must be distinct and at least one, got {list(delays)}")
        if interval_ms < 1:
            raise ValueError(f"the conflation interval must be at least 1 ms, got {interval_ms}")
        n = len(table)
        if len(hub) != n:
            raise ValueError("the delay lines must extend the hub before anything else does")
        self.table = table
        self.hub = hub
        self.real = encoder
        self.delays = tuple(delays)
        self._index = {d: i for i, d in enumerate(self.delays)}
        self.n = n
        #: Hub id of the first delayed stream; hub ids below are real symbols (and,
        #: from ``n`` on, other id spaces: the hub holds no subscriber for those).
        start = n if first_id is None else first_id
        if start < n:
            raise ValueError(f"the delayed streams' ids must start at or above {n}, got {start}")
        self.base = hub.extend(start - n + n * len(self.delays)) + start - n
        rows = [(d, inst) for d in self.delays for inst in table.instruments]
        self.shadow = SymbolTable(
            Instrument(f"{i.symbol}@{d}", i.decimals, i.pip_size, i.description) for d, i in rows
        )
        # The shadow rows are keyed SYMBOL@DELAY, but their messages name the symbol.
        self.shadow.symbols = tuple(i.symbol for _, i in rows)
        self.encoder = DelayedEncoder(self.shadow, [d for d, _ in rows])
        interval_us = interval_ms * 1000
        self.lines = [DelayLine(d, interval_us) for d in self.delays for _ in range(n)]
        #: Per symbol id: its (row, line) pairs, one per delay.
        self._of: list[tuple[tuple[int, DelayLine], ...]] = [
            tuple((di * n + sid, self.lines[di * n + sid]) for di in range(len(self.delays)))
            for sid in range(n)
        ]
        self.interval_us = interval_us
        #: What the last capture saw of each symbol.
        self._seq = table.seq.copy()
        self._status = table.status.copy()
        self._reset = np.zeros(n, dtype=bool)
        self._heap: list[tuple[int, int]] = []
        # The table's columns as memoryviews (plain Python numbers).
        self._t = tuple(column_view(c) for c in (table.seq, table.bid, table.ask, table.bid_size,
                                                 table.ask_size, table.ts, table.status))  # fmt: skip
        #: Delayed updates and snapshots (resets) published to subscribers.
        self.released = 0

    # ------------------------------------------------------------ ids

    def hub_id(self, sid: int, delay_s: int) -> int:
        """The hub id of ``sid``'s stream delayed by ``delay_s`` (0: the symbol itself)."""
        if not delay_s:
            return sid
        return self.base + self._index[delay_s] * self.n + sid

    def offers(self, delay_s: int) -> bool:
        return delay_s == 0 or delay_s in self._index

    def source(self, hid: int) -> tuple[int, int]:
        """(symbol id, delay_s) of a hub id."""
        if hid < self.base:
            return hid, 0
        row = hid - self.base
        return row % self.n, self.delays[row // self.n]

    # ------------------------------------------------------------ encoding

    def encode_update(self, hid: int, mask: int) -> bytes:
        """An outbox's update encoder over both id spaces (conflation, throttle)."""
        if hid < self.base:
            return self.real.update(hid, mask)
        return self.encoder.update(hid - self.base, mask)

    def snapshot(self, hid: int) -> bytes:
        if hid < self.base:
            return self.real.snapshot(hid)
        return self.encoder.snapshot(hid - self.base)

    def snapshot_dict(self, hid: int) -> dict[str, Any]:
        if hid < self.base:
            return self.real.snapshot_dict(hid)
        return self.encoder.snapshot_dict(hid - self.base)

    def state(self, hid: int) -> tuple[int, int]:
        """(seq, status) of a hub id's stream, as its subscribers know it."""
        table, i = (self.table, hid) if hid < self.base else (self.shadow, hid - self.base)
        return int(table.seq[i]), int(table.status[i])

    # ------------------------------------------------------------ capturing

    def capture(self, now_us: int) -> int:
        """Queue, in every line of it, the current state of each symbol that changed
        (``seq`` or status) since the last capture; returns how many changed."""
        table = self.table
        seq = table.seq
        status = table.status
        changed = np.flatnonzero((seq != self._seq) | (status != self._status) | self._reset)
        if not len(changed):
            return 0
        t_seq, bid, ask, bsz, asz, ts, st = self._t
        # A seq that went down started over: a reset (as does one flagged by reset()).
        resets = (self._reset[changed] | (seq[changed] < self._seq[changed])).tolist()
        for sid, reset in zip(changed.tolist(), resets, strict=True):
            q = t_seq[sid]
            for row, line in self._of[sid]:
                if line.push(now_us, q, bid[sid], ask[sid], bsz[sid], asz[sid], ts[sid], st[sid], int(reset)):
                    self._schedule(row, line.due_at())
        self._seq[changed] = seq[changed]
        self._status[changed] = status[changed]
        self._reset[changed] = False
        return len(changed)

    def reset(self, sid: int) -> None:
        """The symbol's sequence started over (a gateway adopting a restarted
        publisher): its delayed streams get a fresh snapshot when that is released."""
        self._reset[sid] = True

    def _schedule(self, row: int, due: int) -> None:
        heapq.heappush(self._heap, (due, row))

    def tick(self, now_us: int, now: float) -> int:
        """The timer: capture, release what is due; returns when to run next (wall µs:
        the next interval boundary)."""
        self.capture(now_us)
        self.release(now_us, now)
        step = self.interval_us
        return (now_us // step + 1) * step

    # ------------------------------------------------------------ releasing

    def next_due(self) -> int | None:
        """When the next release is due (wall µs), None with nothing queued."""
        return self._heap[0][0] if self._heap else None

    def release(self, now_us: int, now: float) -> int | None:
        """Publish every entry due at ``now_us`` (wall µs; ``now`` is the monotonic
        time for the outboxes); returns when the next is due."""
        heap = self._heap
        lines = self.lines
        while heap and heap[0][0] <= now_us:
            _, row = heapq.heappop(heap)
            line = lines[row]
            while line.count and line.due_at() <= now_us:
                self._publish(row, line.pop(), now)
            if line.count:
                heapq.heappush(heap, (line.due_at(), row))
        return heap[0][0] if heap else None

    def _publish(self, row: int, entry: Entry, now: float) -> None:
        due, seq, bid, ask, bsz, asz, ts, status, reset = entry
        shadow = self.shadow
        state = QuoteState(seq, bid, ask, bsz, asz, ts, status)
        hid = self.base + row
        subscribers = self.hub.subscribers[hid]
        if reset:
            shadow.forget(row)
            shadow.apply_mirrored(row, state, now)
            if subscribers:
                self.hub.publish_control(hid, self.encoder.snapshot(row), now)
                self.released += 1
            return
        mask = shadow.apply_mirrored(row, state, now)
        if mask < 0 or not subscribers:
            return
        if mask & STATUS:
            delay_us = self.delays[row // self.n] * 1_000_000
            self.hub.publish_control(hid, self.encoder.status(row, due - delay_us), now)
        if mask & SEQ:
            self.hub.publish_update(hid, mask & QUOTE_MASK, self.encoder.update(row, mask), now)
            self.released += 1

    # ------------------------------------------------------------ inspection

    @property
    def nbytes(self) -> int:
        """Bytes the lines' columns take (what ``ticker_delay_line_bytes`` exports)."""
        return sum(line.nbytes for line in self.lines)

    @property
    def entries(self) -> int:
        return sum(line.count for line in self.lines)

    def subscriptions(self) -> int:
        """Delayed subscriptions held by all connections."""
        subs = self.hub.subscribers
        return sum(len(subs[h]) for h in range(self.base, len(subs)))
