"""A table with bars, sessions and outboxes, no connection: for bar fan-out and protocol unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from feeds.sink import FeedSink
from ticker.core.bar_fanout import BarFanout
from ticker.core.bars import BarBook, SeriesSpec, SymbolBars
from ticker.core.calendar import CRYPTO, Calendar, Interval, parse_interval
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.ingest import Ingest
from ticker.core.model import Instrument, Tick
from ticker.core.outbox import Outbox
from ticker.core.stats import FanoutStats, FeedStats
from ticker.core.table import SymbolTable
from ticker.protocol.session import Session

SYMBOLS = ("EURUSD", "GBPUSD", "AUDUSD")
#: 2024-03-11 00:00:00 UTC, a whole minute.
T0 = 1_710_115_200_000_000
S = 1_000_000


class BarWorld:
    def __init__(
        self,
        intervals: Sequence[str] = ("1s", "1m"),
        *,
        groups: Sequence[int] | None = None,
        retention: int = 100,
        max_history: int = 50,
        max_symbols: int = 10,
    ) -> None:
        self.table = SymbolTable([Instrument(s, 5, 0.0001) for s in SYMBOLS])
        self.hub = Hub(len(self.table))
        self.encoder = QuoteEncoder(self.table)
        self.stats = FanoutStats()
        self.ingest = Ingest(self.table, self.hub, self.encoder, wall_ns=lambda: T0 * 1000)
        self.intervals: list[Interval] = [parse_interval(i) for i in intervals]
        cal = Calendar(CRYPTO)
        specs = [SeriesSpec(i, retention) for i in self.intervals]
        self.book = BarBook([SymbolBars(s, cal, specs) for s in SYMBOLS])
        self.fanout = BarFanout(self.table, self.book, self.intervals, groups=groups)
        self.ingest.bars = self.fanout
        self.sink = FeedSink(self.ingest, FeedStats("test"))
        self.max_history = max_history
        self.max_symbols = max_symbols

    def outbox(self) -> Outbox:
        """An outbox that can hold bar series (a session sets this encoder on its first bar request)."""
        return Outbox(self.fanout.encoder(self.encoder.update), self.stats)

    def session(self) -> Session:
        return Session(
            self.table, self.hub, self.encoder, self.outbox(), self.stats,
            max_symbols=self.max_symbols, wall_clock=lambda: 42,
            bars=self.fanout, max_history=self.max_history,
        )  # fmt: skip

    def tick(self, symbol: str, ts: int, bid: float, ask: float | None = None) -> None:
        assert self.sink.publish_tick(Tick(symbol, bid, bid + 0.0002 if ask is None else ask, ts))

    def key(self, symbol: str, interval: str) -> int:
        return self.fanout.key(self.table.ids[symbol], interval)


def frame(box: Outbox) -> list[dict[str, Any]]:
    """The next frame's messages ([] when nothing is pending)."""
    data = box.take_frame()
    if data is None:
        return []
    obj = orjson.loads(data)
    return obj if isinstance(obj, list) else [obj]


def drain(box: Outbox) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while msgs := frame(box):
        out += msgs
    return out
