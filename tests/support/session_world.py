"""A session wired to a real table, hub and outbox, with no connection: for protocol unit tests."""

from __future__ import annotations

import orjson

from feeds.sink import FeedSink
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.ingest import Ingest
from ticker.core.model import Instrument, Tick
from ticker.core.outbox import Outbox
from ticker.core.ring import UpdateRing
from ticker.core.stats import FanoutStats, FeedStats
from ticker.core.table import SymbolTable
from ticker.protocol.session import Session

EPOCH = "e1"


class World:
    """Four symbols in epoch :data:`EPOCH`; with ``ring`` = (max_updates, max_age_s) a
    resume ring too. ``now`` is the monotonic time ticks are applied at."""

    def __init__(self, max_symbols: int = 3, ring: tuple[int, float] | None = None) -> None:
        self.table = SymbolTable([Instrument(s, 5, 0.0001) for s in ("EURUSD", "GBPUSD", "AUDUSD", "NZDUSD")])
        self.table.epoch[:] = [EPOCH] * len(self.table)
        self.hub = Hub(len(self.table))
        self.encoder = QuoteEncoder(self.table)
        self.stats = FanoutStats()
        self.now = 0.0
        self.ingest = Ingest(
            self.table, self.hub, self.encoder, clock=lambda: self.now, wall_ns=lambda: 5_000_000_000
        )
        if ring is not None:
            self.ingest.ring = UpdateRing(len(self.table), max_updates=ring[0], max_age_s=ring[1])
        self.sink = FeedSink(self.ingest, FeedStats("test"), clock=lambda: self.now)
        self.max_symbols = max_symbols
        self.ts = 1000

    def session(self) -> Session:
        box = Outbox(self.encoder.update, self.stats)
        return Session(
            self.table, self.hub, self.encoder, box, self.stats,
            max_symbols=self.max_symbols, wall_clock=lambda: 42, ring=self.ingest.ring,
        )  # fmt: skip

    def tick(self, symbol: str, bid: float, ask: float) -> None:
        self.ts += 1
        assert self.sink.publish_tick(Tick(symbol, bid, ask, self.ts, 1e6, 1e6))


def drain(s: Session) -> list[dict]:
    out: list[dict] = []
    while (frame := s.outbox.take_frame()) is not None:
        obj = orjson.loads(frame)
        out += obj if isinstance(obj, list) else [obj]
    return out
