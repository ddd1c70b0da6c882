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
:data:`UPDATE_SHIFT` moves ``OPEN``/``HIGH``/``LOW`` to the bits an update's
change mask uses for them (:data:`UPDATE_DAY`), clear of the table's bits.

Symbols on different time bases (a replay with original timestamps beside a
live feed) roll on their own clocks: :meth:`DailyStats.roll_due` and
:meth:`~DailyStats.next_roll_among` take the ids of one group.

A gateway behind the Redis bus does not compute: it copies the publisher's
statistics (:meth:`DailyStats.block`, :meth:`~DailyStats.adopt`), so every
gateway shows the same numbers whenever it joined.

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
#: The fields an update carries when they change (the rest follow from the quote).
STREAMED = OPEN | HIGH | LOW
#: ``(mask & STREAMED) << UPDATE_SHIFT`` are the update-mask bits of those fields.
UPDATE_SHIFT = 7
UPDATE_OPEN = OPEN << UPDATE_SHIFT
UPDATE_HIGH = HIGH << UPDATE_SHIFT
UPDATE_LOW = LOW << UPDATE_SHIFT
UPDATE_DAY = UPDATE_OPEN | UPDATE_HIGH | UPDATE_LOW

#: One symbol's statistics as the bus carries them:
#: ``[day ordinal, open, high, low, last, prev_close, ticks]`` (NaN travels as null).
Block = list[Any]

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


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


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
        "rolls",
        "_open",
        "_high",
        "_low",
        "_last",
        "_prev",
        "_ticks",
        "_start",
        "_roll",
        "_lo",
        "_hi",
        "_fast_lo",
        "_fast_hi",
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
        #: Days rolled (on a tick or on the timer), all symbols together.
        self.rolls = 0
        self._open = _view(self.open)
        self._high = _view(self.high)
        self._low = _view(self.low)
        self._last = _view(self.last)
        self._prev = _view(self.prev_close)
        self._ticks = _view(self.ticks)
        self._start = _view(self.start)
        self._roll = _view(self.roll_at)
        # Per symbol, [lo, hi): inside the day in force, the market open, and the day's
        # first tick counted (open/high/low set). A tick there takes the fast path: no
        # calendar call, no roll check, no NaN checks (8,419 -> 6,470 instructions per call
        # in a loop, callgrind; the loop itself is about 1,500).
        self._fast_lo = np.zeros(n, dtype=np.int64)
        self._fast_hi = np.zeros(n, dtype=np.int64)
        self._lo = _view(self._fast_lo)
        self._hi = _view(self._fast_hi)

    def __len__(self) -> int:
        return len(self.calendars)

    def on_tick(self, sid: int, ts: int, bid: float) -> int:
        """Count an applied tick's bid into the symbol's day; returns the change mask
        (0: ignored, off-hours or older than the day)."""
        if self._lo[sid] <= ts < self._hi[sid]:
            mask = TICKS
            if bid > self._high[sid]:
                self._high[sid] = bid
                mask = TICKS | HIGH
            elif bid < self._low[sid]:
                self._low[sid] = bid
                mask = TICKS | LOW
            if bid != self._last[sid]:
                self._last[sid] = bid
                mask |= LAST
            self._ticks[sid] += 1
            return mask
        return self._slow_tick(sid, ts, bid)

    def _slow_tick(self, sid: int, ts: int, bid: float) -> int:
        """:meth:`on_tick` outside the fast window: ask the calendar, roll if due,
        fill a new day's first values; then open the window for the next ticks."""
        cal = self.calendars[sid]
        window = cal.open_interval(ts)
        if window is None:
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
        self._lo[sid] = max(window[0], self._start[sid])
        self._hi[sid] = min(window[1], self._roll[sid])
        return mask

    def _roll_to(self, sid: int, ts: int) -> bool:
        """Move the symbol to the trading day in force at ``ts``; True when the day changed."""
        day = self.calendars[sid].day(ts)
        ordinal = day.label.toordinal()
        self._lo[sid] = self._hi[sid] = 0  # the fast window is the old day's
        self._start[sid] = day.start
        self._roll[sid] = _NEVER if day.next_start is None else day.next_start
        if self._roll[sid] < self.next_roll:
            self.next_roll = self._roll[sid]
        if ordinal == self.day[sid]:
            return False
        if self.day[sid]:
            last = self._last[sid]
            if last == last:
                self._prev[sid] = last
        self.day[sid] = ordinal
        self._open[sid] = self._high[sid] = self._low[sid] = self._last[sid] = _NAN
        self._ticks[sid] = 0
        self.rolls += 1
        return True

    def roll_due(self, now: int, among: np.ndarray | None = None) -> list[int]:
        """Roll every symbol (of ``among``, the ids of one time base, or all) whose next
        trading day has started by ``now`` (the timer's job, on those symbols' time
        base); returns the ids whose day changed. Symbols that never ticked have no
        day and do not roll."""
        if among is None:
            if now < self.next_roll:
                return []
            due = np.flatnonzero((self.roll_at <= now) & (self.day != 0)).tolist()
        else:
            due = among[(self.roll_at[among] <= now) & (self.day[among] != 0)].tolist()
        rolled = [sid for sid in due if self._roll_to(sid, now)]
        live = self.roll_at[self.day != 0]
        self.next_roll = int(live.min()) if len(live) else _NEVER
        return rolled

    def next_roll_among(self, among: np.ndarray) -> int | None:
        """When the next of these symbols rolls (None: none has a day, or never)."""
        sel = self.roll_at[among][self.day[among] != 0]
        at = int(sel.min()) if len(sel) else _NEVER
        return None if at >= _NEVER else at

    def range(self, sid: int) -> tuple[float, float, float]:
        """The day's (open, high, low) so far, NaN before its first tick."""
        return self._open[sid], self._high[sid], self._low[sid]

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
        change = round(last - prev, self.decimals[sid])
        # The percentage of the rounded change, so a client that knows only the
        # quote and prev_close computes the same two numbers (docs/protocol.md).
        return change, round(100.0 * change / prev, 2)

    # -- the bus: a gateway copies the publisher's statistics ----------------

    def block(self, sid: int) -> Block | None:
        """The symbol's statistics as one bus value; None before its first day."""
        day = self.day[sid]
        if not day:
            return None
        return [
            int(day), self._open[sid], self._high[sid], self._low[sid],
            self._last[sid], self._prev[sid], self._ticks[sid],
        ]  # fmt: skip

    def adopt(self, sid: int, block: Any) -> int:
        """Take a publisher's :meth:`block` as the symbol's statistics; returns the
        change mask (:data:`ROLL` when the day changed, else the fields that did).
        A malformed block changes nothing and returns -1. The adopted day rolls on
        the next tick or timer check that finds a later day in force."""
        if not isinstance(block, list) or len(block) != 7:
            return -1
        day, o, h, lo, last, prev, ticks = block
        if type(day) is not int or day <= 0 or type(ticks) is not int or ticks < 0:
            return -1
        try:
            o, h, lo, last, prev = (_NAN if v is None else float(v) for v in (o, h, lo, last, prev))
        except (TypeError, ValueError):
            return -1
        mask = 0
        self._lo[sid] = self._hi[sid] = 0
        if day != self.day[sid]:
            mask = ROLL
            self.day[sid] = day
            self._start[sid] = self._roll[sid] = 0  # recomputed from the calendar when next needed
        else:
            if not _same(o, self._open[sid]):
                mask |= OPEN
            if not _same(h, self._high[sid]):
                mask |= HIGH
            if not _same(lo, self._low[sid]):
                mask |= LOW
            if not _same(last, self._last[sid]):
                mask |= LAST
            if ticks != self._ticks[sid]:
                mask |= TICKS
            if not _same(prev, self._prev[sid]):
                mask |= PREV_CLOSE
        self._open[sid], self._high[sid], self._low[sid] = o, h, lo
        self._last[sid], self._prev[sid], self._ticks[sid] = last, prev, ticks
        return mask

    def as_dict(self, sid: int) -> dict[str, Any] | None:
        """JSON-ready statistics (NaN as None, the day as ISO date), None before a tick:
        the ``day`` object of the protocol (docs/protocol.md)."""
        s = self.get(sid)
        if s is None:
            return None
        return {
            "date": s.day.isoformat(),
            "open": _num(s.open),
            "high": _num(s.high),
            "low": _num(s.low),
            "prev_close": _num(s.prev_close),
            "change": _num(s.change),
            "change_pct": _num(s.change_pct),
            "ticks": s.ticks,
        }
