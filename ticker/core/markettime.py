"""Time bases: which clock a feed's market hours run on.

A feed's ticks carry their own ``ts``, and the calendar's questions (is the
market open, when does the day roll) are asked on the same time base, or a
replayed Friday would close at the wall clock's Friday 17:00. Most feeds are
live: their time base is the wall clock (:class:`WallTime`). A replay with
``timestamps = "original"`` plays the file's own time at ``speed`` times real
time; its :class:`ReplayTime` is the file's clock: ``origin`` when the pass
started, moving ``speed`` µs per µs of the feed's monotonic clock since. At
``speed = 0`` (as fast as possible) there is no rate, so the replay's time is
the latest timestamp played.

The market timer (:mod:`ticker.runtime.market_timer`) asks a time base two
things: :meth:`MarketTime.now_us` (what time it is there, None before a
replay has started) and :meth:`MarketTime.delay_s` (how many seconds of the
loop's clock until an instant there, None when that cannot be known in
advance). A time base whose mapping changes (a replay starts a pass, or
moves at speed 0) calls its listeners, so the timers look again.

Pure: clocks are injected, nothing here sleeps or schedules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from ticker.util.clock import wall_us

Listener = Callable[[], None]


class MarketTime(Protocol):
    def now_us(self) -> int | None: ...

    def delay_s(self, at_us: int) -> float | None: ...

    def add_listener(self, listener: Listener) -> None: ...

    def remove_listener(self, listener: Listener) -> None: ...


class WallTime:
    """The wall clock (UTC µs): live feeds' time base."""

    __slots__ = ("_wall_us",)

    def __init__(self, wall: Callable[[], int] = wall_us) -> None:
        self._wall_us = wall

    def now_us(self) -> int:
        return self._wall_us()

    def delay_s(self, at_us: int) -> float:
        return (at_us - self._wall_us()) / 1e6

    def add_listener(self, listener: Listener) -> None:
        """The wall clock's mapping never changes: nothing to tell."""

    def remove_listener(self, listener: Listener) -> None:
        """Nothing was kept."""


class ReplayTime:
    """A replay's own clock (see the module docstring); the feed drives it."""

    __slots__ = ("_clock", "_origin_us", "_origin_mono", "_speed", "_reached", "_listeners")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._origin_us: int | None = None
        self._origin_mono = 0.0
        self._speed = 0.0
        #: The latest timestamp the feed is about to play or has played.
        self._reached: int | None = None
        #: Told when the mapping changes (the market timer, the bar timer).
        self._listeners: list[Listener] = []

    @property
    def started(self) -> bool:
        return self._origin_us is not None

    def start(self, origin_us: int, speed: float) -> None:
        """A pass begins now: the file's ``origin_us`` plays at this moment, ``speed``
        µs of file time per µs (0: as fast as the service takes the ticks)."""
        self._origin_us = origin_us
        self._origin_mono = self._clock()
        self._speed = speed
        self._reached = origin_us
        self._tell()

    def reach(self, ts_us: int) -> None:
        """The feed is about to publish ticks from ``ts_us`` on: whatever the calendar
        does up to then (a close, an open, a day roll) comes first."""
        if self._reached is None or ts_us > self._reached:
            self._reached = ts_us
            self._tell()

    def now_us(self) -> int | None:
        if self._origin_us is None:
            return None
        reached = self._reached if self._reached is not None else self._origin_us
        if self._speed <= 0:
            return reached
        mapped = self._origin_us + round((self._clock() - self._origin_mono) * self._speed * 1e6)
        return max(mapped, reached)

    def delay_s(self, at_us: int) -> float | None:
        now = self.now_us()
        if now is None or self._speed <= 0:
            return None
        return (at_us - now) / (1e6 * self._speed)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _tell(self) -> None:
        for listener in list(self._listeners):
            listener()
