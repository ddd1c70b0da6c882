"""Typed values shared by the feeds and the service.

Ticks travel in two shapes: a :class:`TickBatch` of numpy columns (what a
vectorised feed produces) and a single :class:`Tick` (what a line or frame
parser produces). Both are immutable; the symbol table is the only mutable
state and lives in :mod:`ticker.table`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Sizes a feed did not provide. The table keeps the previous size.
NO_SIZE = math.nan


class Status(enum.IntEnum):
    """Per-symbol data status, as clients see it in snapshots and status messages."""

    PENDING = 0  # no tick received yet
    LIVE = 1
    STALE = 2

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


@dataclass(frozen=True, slots=True)
class TickBatch:
    """Columns of ticks in arrival order; ``sid`` is the symbol id (-1: unknown)."""

    sid: npt.NDArray[np.int32]
    bid: npt.NDArray[np.float64]
    ask: npt.NDArray[np.float64]
    bid_size: npt.NDArray[np.float64]
    ask_size: npt.NDArray[np.float64]
    ts: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.sid)
