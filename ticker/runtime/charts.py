"""Bars in a running service: what each symbol's bars follow, and the close timer.

:class:`Charts` builds the pure parts from config (a :class:`~ticker.core.bars.SymbolBars`
per symbol in a :class:`~ticker.core.bars.BarBook`, the
:class:`~ticker.core.bar_fanout.BarFanout` that is the ingest hook and the
subscribers' fan-out) and owns the one asyncio piece: the timer that closes a
bar at its end when no later tick comes.

**Market hours and time bases** are the trading day's
(:mod:`ticker.runtime.markets`): each symbol's bars follow the calendar its
market follows (``always`` for the synthetic demo market, so a demo on a
Saturday still draws candles) and run on its feed's time base
(:mod:`ticker.core.markettime`): the wall clock for live feeds, a replay's own
clock for a replay with ``timestamps = "original"``. Bars ignore ticks while a
symbol's market is closed. On the wall clock a bar closes ``close_delay_ms``
after its end (so ticks in flight still land in it); a replay's bars also close
the moment a tick of the feed passes their end (the replay is in time order),
so a replay at any speed closes exactly the bars a batch computation over the
file makes, and none is closed early by a wall clock years ahead of the file.

**The timer** is one ``loop.call_at`` handle per clock group (one group per
distinct time base; never per series or per connection), armed for the group's
earliest bar end and re-armed when a tick opens a bar that ends earlier or when
the time base's mapping changes (a replay starts a pass); :meth:`Charts.stop`
cancels them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from ticker.config import BarsConfig
from ticker.core.bar_fanout import NEVER, BarFanout
from ticker.core.bars import BarBook, SeriesSpec, SymbolBars, parse_source, retention_count
from ticker.core.calendar import Calendar, parse_duration, parse_interval
from ticker.core.markettime import MarketTime
from ticker.core.table import SymbolTable

log = logging.getLogger("ticker.bars")

#: Bars an interval keeps when [bars.retention] does not list it.
FALLBACK_RETENTION = 1000


def series_specs(config: BarsConfig) -> list[SeriesSpec]:
    """The bar series every symbol gets, from ``[bars]``."""
    source = parse_source(config.source)
    out = []
    for text in config.intervals:
        interval = parse_interval(text)
        duration = config.retention.get(interval.label)
        count = FALLBACK_RETENTION
        if duration is not None:
            count = retention_count(interval, parse_duration(duration))
        out.append(SeriesSpec(interval, count, source))
    return out


class Charts:
    """The bars of one service: book, fan-out, clock groups and their timer."""

    def __init__(
        self,
        config: BarsConfig,
        table: SymbolTable,
        calendars: Sequence[Calendar],
        times: Sequence[MarketTime],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``calendars`` and ``times``: each symbol's (by table id), as the trading
        day resolves them."""
        self.config = config
        self.table = table
        self.clock = clock
        self.grace_us = config.close_delay_ms * 1000
        self.specs = series_specs(config)
        # Clock groups: one per distinct time base (the wall clock's is usually group 0).
        self.times: list[MarketTime] = []
        group_of: dict[int, int] = {}  # id(time base) -> group
        groups: list[int] = []
        for time_base in times:
            g = group_of.get(id(time_base))
            if g is None:
                g = group_of[id(time_base)] = len(self.times)
                self.times.append(time_base)
            groups.append(g)
        symbols = [
            SymbolBars(inst.symbol, calendars[sid], self.specs, decimals=inst.decimals)
            for sid, inst in enumerate(table.instruments)
        ]
        self.book = BarBook(symbols)
        intervals = [s.interval for s in self.specs]
        self.fanout = BarFanout(table, self.book, intervals, groups=groups, n_groups=max(len(self.times), 1))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handles: list[asyncio.TimerHandle | None] = [None] * len(self.times)
        self._armed: list[int] = [NEVER] * len(self.times)
        self._listeners = [self._moved(g) for g in range(len(self.times))]

    @property
    def labels(self) -> tuple[str, ...]:
        return self.fanout.labels

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start closing bars on time (in the running loop)."""
        self._loop = asyncio.get_running_loop()
        self.fanout.on_due = self._due_earlier
        for g, time_base in enumerate(self.times):
            time_base.add_listener(self._listeners[g])
            self._arm(g, self.fanout.due[g])

    def stop(self) -> None:
        self.fanout.on_due = None
        for g, handle in enumerate(self._handles):
            self.times[g].remove_listener(self._listeners[g])
            if handle is not None:
                handle.cancel()
            self._handles[g] = None
            self._armed[g] = NEVER
        self._loop = None

    # ------------------------------------------------------------ time bases

    def market_now(self, group: int, *, graced: bool = True) -> int | None:
        """Now on a clock group's time base, in µs (None: a replay that has not started).
        ``graced``: minus the close delay, the instant up to which bars may close."""
        now = self.times[group].now_us()
        if now is None:
            return None
        return now - (self.grace_us if graced else 0)

    def _delay_s(self, group: int, due: int) -> float | None:
        """Seconds of the loop's clock until ``due`` (plus the close delay) on a group's
        time base; None when it cannot be known ahead (a replay as fast as possible:
        only the feed's progress closes its bars)."""
        delay = self.times[group].delay_s(due)
        if delay is None:
            return None
        return max(delay, 0.0) + self.grace_us / 1e6

    def _moved(self, group: int) -> Callable[[], None]:
        """A time base's mapping changed (a replay began a pass): look at the timer again."""

        def moved() -> None:
            self._arm(group, self.fanout.due[group])

        return moved

    # ------------------------------------------------------------ the timer

    def _due_earlier(self, group: int) -> None:
        if self.fanout.due[group] < self._armed[group]:
            self._arm(group, self.fanout.due[group])

    def _arm(self, group: int, due: int) -> None:
        loop = self._loop
        if loop is None:
            return
        handle = self._handles[group]
        if handle is not None:
            handle.cancel()
            self._handles[group] = None
        self._armed[group] = NEVER
        if due >= NEVER:
            return
        delay = self._delay_s(group, due)
        if delay is None:
            return
        self._armed[group] = due
        self._handles[group] = loop.call_at(loop.time() + delay, self._fire, group)

    def _fire(self, group: int) -> None:
        self._handles[group] = None
        self._armed[group] = NEVER
        try:
            now = self.market_now(group)
            if now is not None:
                self.fanout.close_group(group, now, self.clock())
        except Exception:  # our bug: say so loudly, and keep closing bars
            log.exception("closing due bars failed (clock group %d)", group)
        finally:
            self._arm(group, self.fanout.due[group])
