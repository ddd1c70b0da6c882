"""Usage accounting: every subscription interval, as JSON lines waiting to be written.

A market-data licence is paid by use: the vendor asks who saw which
instrument, in real time or delayed, for how long. Each subscription a
connection holds is an *interval*; when it ends (unsubscribe, a token that
no longer covers it, the connection closing, the server shutting down) it
becomes one record::

    {"conn":"gw1:4711:17","identity":"key:desk","ip":"10.0.0.7","symbol":"XAUUSD",
     "kind":"quotes","delay_s":900,"start":1764081234567123,"end":1764081534567123,
     "updates":301,"bytes":38528,"snapshots":1,"reason":"closed"}

``start`` and ``end`` are UTC µs; ``delay_s`` is 0 for real time; ``kind`` is
``quotes`` or, for a bar series (``subscribe`` with ``bars``), ``bars:<interval>``. Every
``checkpoint_s`` the :class:`UsageLedger` also writes each open interval up to
now (reason ``checkpoint``) and lets it go on from there, so a long
subscription is a chain of records whose minutes add up, and a crash loses at
most one checkpoint period of any subscription, plus records not yet written
(the writer flushes every ``flush_s``).

What is exact and what is not:

* ``start``, ``end``, ``symbol``, ``kind``, ``delay_s``, ``identity`` and
  ``snapshots`` are exact (a bar series' snapshots and updates are not counted:
  0, its minutes are exact).
* ``updates`` and ``bytes`` count what was *published* on the subscribed
  stream while the interval was open (the hub counts them once per update,
  not per subscriber, so counting costs the fan-out two integer additions per
  tick and nothing per delivery), plus the snapshots' bytes. A subscription
  that was never throttled or conflated received exactly that; one with
  ``throttle_ms``, or one that fell behind and was conflated, received fewer,
  merged updates, so for it these are an upper bound. Frame overhead
  (array brackets, WebSocket headers) is not counted.

Pure and synchronous, with the wall clock injected (UTC µs); the runtime
writes the lines out (:mod:`ticker.runtime.usage_writer`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import orjson

from ticker.util.clock import wall_us

#: Why an interval ended.
UNSUBSCRIBED = "unsubscribed"
CLOSED = "closed"
ENTITLEMENT = "entitlement"
CHECKPOINT = "checkpoint"
SHUTDOWN = "shutdown"
SNAPSHOT = "snapshot"

#: What an interval is of: a symbol's quotes, or a bar series (``bars:1m``).
QUOTES = "quotes"

#: (updates, bytes) published so far on a hub id's stream (-1: none counted).
Counters = Callable[[int], tuple[int, int]]


class Interval:
    """One subscription, open from ``start`` (mutable: checkpoints move it on)."""

    __slots__ = ("conn", "identity", "ip", "symbol", "delay_s", "hid", "start", "updates0", "bytes0",
                 "snapshots", "snapshot_bytes", "open", "kind")  # fmt: skip

    def __init__(
        self, conn: str, identity: str, ip: str, symbol: str, delay_s: int, hid: int, start: int,
        counters: tuple[int, int], kind: str = QUOTES,
    ) -> None:  # fmt: skip
        self.kind = kind
        self.conn = conn
        self.identity = identity
        self.ip = ip
        self.symbol = symbol
        self.delay_s = delay_s
        self.hid = hid
        self.start = start
        self.updates0, self.bytes0 = counters
        self.snapshots = 0
        self.snapshot_bytes = 0
        self.open = True


class UsageLedger:
    """Every open interval of a process, and the encoded records not yet written."""

    def __init__(
        self,
        counters: Counters,
        *,
        max_pending: int = 200_000,
        checkpoint_s: float = 300.0,
        wall: Callable[[], int] = wall_us,
    ) -> None:
        self._counters = counters
        #: The clock intervals are stamped with (UTC µs).
        self.wall = wall
        self.max_pending = max_pending
        self.checkpoint_us = int(checkpoint_s * 1_000_000)
        self._open: dict[Interval, None] = {}
        #: Encoded records (one JSON line each, with its newline), oldest first.
        self.pending: deque[bytes] = deque()
        #: Records made, and records dropped because ``max_pending`` were waiting.
        self.recorded = 0
        self.dropped = 0
        self._next_checkpoint = 0
        #: Set when the server closes every client: their intervals end as ``shutdown``.
        self.shutting_down = False

    def __len__(self) -> int:
        """Open intervals."""
        return len(self._open)

    def open(
        self, conn: str, identity: str, ip: str, symbol: str, delay_s: int, hid: int, now_us: int,
        kind: str = QUOTES,
    ) -> Interval:  # fmt: skip
        """Open an interval; ``hid`` -1: nothing is counted for it (a bar series)."""
        interval = Interval(conn, identity, ip, symbol, delay_s, hid, now_us, self._count(hid), kind)
        self._open[interval] = None
        return interval

    def _count(self, hid: int) -> tuple[int, int]:
        return (0, 0) if hid < 0 else self._counters(hid)

    def close(self, interval: Interval, now_us: int, reason: str) -> None:
        """End an interval (idempotent: a second close does nothing)."""
        if not interval.open:
            return
        interval.open = False
        del self._open[interval]
        self._emit(interval, now_us, reason)

    def snapshot(
        self, conn: str, identity: str, ip: str, symbol: str, delay_s: int, nbytes: int, now_us: int
    ) -> None:
        """A snapshot served outside a subscription (``/api/snapshot``): a record of no length."""
        self._append({
            "conn": conn, "identity": identity, "ip": ip, "symbol": symbol, "kind": QUOTES,
            "delay_s": delay_s, "start": now_us, "end": now_us, "updates": 0, "bytes": nbytes,
            "snapshots": 1, "reason": SNAPSHOT,
        })  # fmt: skip

    def checkpoint(self, now_us: int, *, force: bool = False) -> int:
        """Every ``checkpoint_s``: write each open interval up to now and go on from
        there; returns how many were written."""
        if not self._next_checkpoint:  # the first call starts the clock
            self._next_checkpoint = now_us + self.checkpoint_us
        if not force and now_us < self._next_checkpoint:
            return 0
        self._next_checkpoint = now_us + self.checkpoint_us
        n = 0
        for interval in self._open:
            if now_us > interval.start:
                self._emit(interval, now_us, CHECKPOINT)
                interval.start = now_us
                interval.updates0, interval.bytes0 = self._count(interval.hid)
                interval.snapshots = interval.snapshot_bytes = 0
                n += 1
        return n

    def close_all(self, now_us: int, reason: str = SHUTDOWN) -> int:
        """End every open interval (shutdown); returns how many."""
        intervals = list(self._open)
        for interval in intervals:
            self.close(interval, now_us, reason)
        return len(intervals)

    def take(self) -> list[bytes]:
        """The records waiting to be written, oldest first (they leave the ledger)."""
        out = list(self.pending)
        self.pending.clear()
        return out

    def _emit(self, i: Interval, now_us: int, reason: str) -> None:
        updates, nbytes = self._count(i.hid)
        self._append({
            "conn": i.conn, "identity": i.identity, "ip": i.ip, "symbol": i.symbol, "kind": i.kind,
            "delay_s": i.delay_s,
            "start": i.start, "end": max(now_us, i.start), "updates": updates - i.updates0,
            "bytes": nbytes - i.bytes0 + i.snapshot_bytes, "snapshots": i.snapshots, "reason": reason,
        })  # fmt: skip

    def _append(self, record: dict[str, Any]) -> None:
        if len(self.pending) >= self.max_pending:
            self.dropped += 1
            return
        self.pending.append(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        self.recorded += 1


class ConnectionUsage:
    """One connection's intervals, by hub id (what the session reports to)."""

    __slots__ = ("ledger", "conn", "ip", "_identity", "_source", "intervals")

    def __init__(
        self,
        ledger: UsageLedger,
        conn: str,
        ip: str,
        identity: Callable[[], str],
        source: Callable[[int], tuple[str, int]],
    ) -> None:
        self.ledger = ledger
        self.conn = conn
        self.ip = ip
        self._identity = identity
        #: hub id -> (symbol, delay_s)
        self._source = source
        self.intervals: dict[int, Interval] = {}

    def subscribed(self, hid: int, snapshot_bytes: int) -> None:
        """A subscribe (or a resubscribe) to ``hid`` sent a snapshot."""
        interval = self.intervals.get(hid)
        if interval is None or not interval.open:
            symbol, delay_s = self._source(hid)
            ledger = self.ledger
            interval = ledger.open(self.conn, self._identity(), self.ip, symbol, delay_s, hid, ledger.wall())
            self.intervals[hid] = interval
        interval.snapshots += 1
        interval.snapshot_bytes += snapshot_bytes

    def bars_subscribed(self, series_id: int, symbol: str, interval: str) -> None:
        """A bar series (its outbox id) was subscribed: real time, nothing counted."""
        if series_id not in self.intervals:
            ledger = self.ledger
            self.intervals[series_id] = ledger.open(
                self.conn, self._identity(), self.ip, symbol, 0, -1, ledger.wall(), f"bars:{interval}"
            )

    def unsubscribed(self, hid: int, reason: str = UNSUBSCRIBED) -> None:
        interval = self.intervals.pop(hid, None)
        if interval is not None:
            self.ledger.close(interval, self.ledger.wall(), reason)

    def closed(self, reason: str = CLOSED) -> None:
        """The connection ended (``shutdown`` when the server is closing every client)."""
        ledger = self.ledger
        if ledger.shutting_down:
            reason = SHUTDOWN
        now_us = ledger.wall()
        for interval in self.intervals.values():
            ledger.close(interval, now_us, reason)
        self.intervals.clear()
