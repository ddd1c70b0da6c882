"""Daily statistics per symbol: the trading day's open, high, low, change.

Contract:

* Prices are **bids**, the same source as the default bar series, so the
  daily bar and the day statistics agree (``open``/``high``/``low`` of the
  1d bid bar equal these).
* The day is the calendar's *trading day in force* (:meth:`Calendar.day`):
  it rolls when the next trading day starts (17:00 New York for FX; Sunday
  17:00 after a weekend, 17:00 the day after a holiday), either on the first
  tick of the new day or on the caller's timer (:meth:`DailyStats.roll_due`),
  so a quiet symbol's statistics still roll on time. Over a weekend the
  statistics of the last trading day stay (a board shows Friday's change).
* ``open`` is the first bid of the trading day, ``high``/``low`` its extremes,
  ``last`` its latest bid, ``ticks`` the ticks counted. Until the day's first
  tick, open/high/low/last are NaN (JSON null).
* ``prev_close`` is the last bid of the previous trading day; a day without
  ticks carries the previous value forward. It is NaN after a start until a
  day has been seen to end (or :meth:`set_prev_close` gives one).
* ``change = last - prev_close`` rounded to the symbol's decimals (the
  rounding removes binary noise: both operands are exact at those decimals);
  ``change_pct = 100 * change / prev_close`` rounded to 2 decimals, as FX
  screens show it. Both are NaN while either operand is.
* Ticks the calendar calls off-hours are ignored (counted in
  ``ignored_closed``), as the bar builder ignores them; so are ticks older
  than the day in force (``ignored_old``).

The change mask returned by :meth:`on_tick` lets the caller stream only what
changed. The common tick sets :data:`TICKS` and, when the bid moved,
:data:`LAST` (which the quote itself carries, and change/change % follow from
it and ``prev_close``, so neither needs sending), and :data:`HIGH` or
:data:`LOW` only on a new extreme. A roll sets :data:`ROLL` (all fields).

State is numpy columns indexed by symbol id, read and written through
memoryviews on the per-tick path (plain Python numbers, no numpy scalars).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from ticker.core.calendar import Calendar

# Bits of the change mask.
DAY = 1
OPEN = 2
HIGH = 4
LOW = 8
LAST = 16
TICKS = 32
PREV_CLOSE = 64
#: A roll: everything may have changed.
ROLL = DAY | OPEN | HIGH | LOW | LAST | TICKS | PREV_CLOSE

_NAN = math.nan
_NEVER = 1 << 62


@dataclass(frozen=True, slots=True)
class DayStats:
    """One symbol's statistics for its trading day ``day`` (NaN: not known yet)."""

    day: date
    open: float
    high: float
    low: float
    last: float
    prev_close: float
    change: float
    change_pct: float
    ticks: int


def _view(column: np.ndarray) -> Any:
    """A column's memory as a memoryview: indexing yields plain Python numbers, a third
    of a numpy scalar round trip (the table's measurement). Typed Any because typeshed's
    memoryview only knows int items."""
    return column.data


def _num(x: float) -> float | None:
    return None if x != x else x


class DailyStats:
    """Daily statistics of every symbol; ``calendars[sid]`` is the symbol's calendar."""

    __slots__ = (
        "calendars",
        "decimals",
        "day",
        "start",
        "roll_at",
        "open",
        "high",
        "low",
        "last",
        "prev_close",
        "ticks",
        "next_roll",
        "ignored_closed",
        "ignored_old",
        "_open",
        "_high",
        "_low",
        "_last",
        "_prev",
        "_ticks",
        "_start",
        "_roll",
    )

    def __init__(self, calendars: Sequence[Calendar], decimals: Sequence[int]) -> None:
        if len(calendars) != len(decimals):
            raise ValueError(f"DailyStats: {len(calendars)} calendars for {len(decimals)} symbols")
        n = len(calendars)
        self.calendars = tuple(calendars)
        self.decimals = tuple(decimals)
        #: Trading-day label as a proleptic ordinal (date.toordinal()); 0 = no day yet.
        self.day = np.zeros(n, dtype=np.int64)
        self.start = np.zeros(n, dtype=np.int64)
        #: When the symbol's day rolls (the next trading day's start); 0 = at its first tick.
        self.roll_at = np.zeros(n, dtype=np.int64)
        self.open = np.full(n, _NAN)
        self.high = np.full(n, _NAN)
        self.low = np.full(n, _NAN)
        self.last = np.full(n, _NAN)
        self.prev_close = np.full(n, _NAN)
        self.ticks = np.zeros(n, dtype=np.int64)
        #: The earliest roll_at of a symbol with a day: roll_due(now) before it is a no-op.
        self.next_roll = _NEVER
        self.ignored_closed = 0
        self.ignored_old = 0
        self._open = _view(self.open)
        self._high = _view(self.high)
        self._low = _view(self.low)
        self._last = _view(self.last)
        self._prev = _view(self.prev_close)
        self._ticks = _view(self.ticks)
        self._start = _view(self.start)
        self._roll = _view(self.roll_at)

    def __len__(self) -> int:
        return len(self.calendars)

    def on_tick(self, sid: int, ts: int, bid: float) -> int:
        """Count an applied tick's bid into the symbol's day; returns the change mask
        (0: ignored, off-hours or older than the day)."""
        if not self.calendars[sid].is_open(ts):
            self.ignored_closed += 1
            return 0
        mask = TICKS
        if ts >= self._roll[sid] or ts < self._start[sid]:
            if ts < self._start[sid]:
                self.ignored_old += 1
                return 0
            if self._roll_to(sid, ts):
                mask = ROLL
        h = self._high[sid]
        if bid > h or h != h:
            self._high[sid] = bid
            mask |= HIGH
        low = self._low[sid]
        if bid < low or low != low:
            self._low[sid] = bid
            mask |= LOW
        o = self._open[sid]
        if o != o:
            self._open[sid] = bid
            mask |= OPEN
        if bid != self._last[sid]:
            self._last[sid] = bid
            mask |= LAST
        self._ticks[sid] += 1
        return mask

    def _roll_to(self, sid: int, ts: int) -> bool:
        """Move the symbol to the trading day in force at ``ts``; True when the day changed."""
        day = self.calendars[sid].day(ts)
        ordinal = day.label.toordinal()
        self._start[sid] = day.start
        self._roll[sid] = _NEVER if day.next_start is None else day.next_start
        if ordinal == self.day[sid]:
            return False
        if self.day[sid]:
            last = self._last[sid]
            if last == last:
                self._prev[sid] = last
        self.day[sid] = ordinal
        self._open[sid] = self._high[sid] = self._low[sid] = self._last[sid] = _NAN
        self._ticks[sid] = 0
        if self._roll[sid] < self.next_roll:
            self.next_roll = self._roll[sid]
        return True

    def roll_due(self, now: int) -> list[int]:
        """Roll every symbol whose next trading day has started by ``now`` (the timer's
        job, on the ticks' time base); returns their ids. Symbols that never ticked
        have no day and do not roll."""
        if now < self.next_roll:
            return []
        due = np.flatnonzero((self.roll_at <= now) & (self.day != 0)).tolist()
        rolled = [sid for sid in due if self._roll_to(sid, now)]
        live = self.roll_at[self.day != 0]
        self.next_roll = int(live.min()) if len(live) else _NEVER
        return rolled

    def set_prev_close(self, sid: int, price: float) -> None:
        """Give the previous close when it is known from elsewhere (a feed's daily data)."""
        self._prev[sid] = price

    def get(self, sid: int) -> DayStats | None:
        """The symbol's statistics, None before its first tick."""
        if not self.day[sid]:
            return None
        last, prev = self._last[sid], self._prev[sid]
        change, pct = self._change(sid, last, prev)
        return DayStats(
            date.fromordinal(int(self.day[sid])), self._open[sid], self._high[sid], self._low[sid],
            last, prev, change, pct, self._ticks[sid],
        )  # fmt: skip

    def _change(self, sid: int, last: float, prev: float) -> tuple[float, float]:
        if last != last or prev != prev or prev == 0.0:
            return _NAN, _NAN
        diff = last - prev
        return round(diff, self.decimals[sid]), round(100.0 * diff / prev, 2)

    def as_dict(self, sid: int) -> dict[str, Any] | None:
        """JSON-ready statistics (NaN as None, the day as ISO date), None before a tick."""
        s = self.get(sid)
        if s is None:
            return None
        return {
            "day": s.day.isoformat(),
            "open": _num(s.open),
            "high": _num(s.high),
            "low": _num(s.low),
            "prev_close": _num(s.prev_close),
            "change": _num(s.change),
            "change_pct": _num(s.change_pct),
            "ticks": s.ticks,
        }
