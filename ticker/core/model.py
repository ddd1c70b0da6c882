"""Typed values shared by the feeds, the service and the client.

Plain Python, no numpy: the standalone client (:mod:`ticker.client`) uses
these too. Ticks travel in two shapes: a single :class:`Tick` (what a line or
frame parser produces) and a :class:`~ticker.core.batch.TickBatch` of numpy
columns (what a vectorised feed produces). Values are immutable; the symbol
table (:mod:`ticker.core.table`) is the only mutable state.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import NamedTuple

#: Sizes a feed did not provide. The table keeps the previous size.
NO_SIZE = math.nan


class Status(enum.IntEnum):
    """Per-symbol data status, as clients see it in snapshots and status messages.

    ``CLOSED`` is the market's state, not the feed's: the symbol's trading
    calendar says its market is shut (a weekend, a holiday, a daily break),
    so no tick is expected and silence is not staleness (docs/market-data.md).
    A derived cross is closed while either leg is.
    """

    PENDING = 0  # no tick received yet
    LIVE = 1
    STALE = 2
    CLOSED = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Instrument:
    """What the service must know about a symbol to validate and display it."""

    symbol: str
    decimals: int
    pip_size: float
    description: str = ""

    def __post_init__(self) -> None:
        if not self.symbol or not self.symbol.isprintable() or " " in self.symbol:
            raise ValueError(f"bad symbol name {self.symbol!r}")
        if not 0 <= self.decimals <= 10:
            raise ValueError(f"{self.symbol}: decimals must be 0..10, got {self.decimals}")
        if not self.pip_size > 0:
            raise ValueError(f"{self.symbol}: pip_size must be > 0, got {self.pip_size}")


@dataclass(frozen=True, slots=True)
class Tick:
    """One normalised quote from a feed. ``ts`` is source time in µs since the epoch."""

    symbol: str
    bid: float
    ask: float
    ts: int
    bid_size: float = NO_SIZE
    ask_size: float = NO_SIZE


class QuoteState(NamedTuple):
    """One symbol's complete state: what the table holds, what the Redis bus carries,
    what a gateway copies. NaN sizes or prices mean "not provided"."""

    seq: int
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    ts: int
    status: int
