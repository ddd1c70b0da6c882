"""Bars in a running service: what each symbol's bars follow, and the close timer.

:class:`Charts` builds the pure parts from config (a :class:`~ticker.core.bars.SymbolBars`
per symbol in a :class:`~ticker.core.bars.BarBook`, the
:class:`~ticker.core.bar_fanout.BarFanout` that is the ingest hook and the
subscribers' fan-out) and owns the one asyncio piece: the timer that closes a
bar at its end when no later tick comes.

**Market hours.** Bars ignore ticks while a symbol's market is closed
(:mod:`ticker.core.calendar`). A feed whose ticks carry real market times (a
live upstream, a replay with ``timestamps = "original"``) follows the
symbol's class: ``metals`` for XAU, XAG, XPT and XPD, ``fx`` for the currency
pairs the catalog knows, ``crypto`` (around the clock) for anything else. A
demo feed (the synthetic market, a replay stamped with the time it plays) is
an always-open market: its bars follow ``crypto``, so a demo on a Saturday
still draws candles.

**Time base.** Live and demo feeds run on the wall clock: a bar closes
``close_delay_ms`` after its end (so ticks in flight still land in it). A
replay with original timestamps runs on its own recorded clock, one *clock
group* per such feed: "market now" is the feed's newest tick time advanced by
the real time since it arrived times the replay's ``speed`` (its progress
alone at speed 0, as fast as possible). Its bars also close the moment a tick
of the feed passes their end (the replay is in time order), so a replay at
any speed closes exactly the bars a batch computation over the file makes,
and none is closed early by a wall clock years ahead of the file.

**The timer** is one ``loop.call_at`` handle per clock group (never per series
or per connection), armed for the group's earliest bar end and re-armed when a
tick opens a bar that ends earlier; :meth:`Charts.stop` cancels them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from feeds.base import Feed, TimeBase
from feeds.catalog import spec as catalog_spec
from ticker.config import BarsConfig
from ticker.core.bar_fanout import NEVER, BarFanout
from ticker.core.bars import BarBook, SeriesSpec, SymbolBars, parse_source, retention_count
from ticker.core.calendar import CRYPTO, FX, METALS, Calendar, parse_duration, parse_interval
from ticker.core.table import SymbolTable
from ticker.util.clock import wall_us

log = logging.getLogger("ticker.bars")

#: Bars an interval keeps when [bars.retention] does not list it.
FALLBACK_RETENTION = 1000
_METAL_PREFIXES = ("XAU", "XAG", "XPT", "XPD")


def market_of(symbol: str) -> str:
    """The calendar a symbol with real market times follows: metals, fx or crypto."""
    if symbol[:3] in _METAL_PREFIXES:
        return "metals"
    try:
        catalog_spec(symbol)
    except KeyError:
        return "crypto"
    return "fx"


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
        feeds: Sequence[Feed],
        feed_of: dict[str, str],
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], int] = wall_us,
    ) -> None:
        self.config = config
        self.table = table
        self.clock = clock
        self.wall = wall
        self.grace_us = config.close_delay_ms * 1000
        self.specs = series_specs(config)
        calendars = {c.name: Calendar(c) for c in (FX, METALS, CRYPTO)}
        by_name = {f.name: f for f in feeds}
        # Clock groups: 0 is the wall clock; each recorded feed gets its own.
        self.speeds: list[float | None] = [None]
        group_of_feed: dict[str, int] = {}
        for f in feeds:
            if f.time_base is TimeBase.RECORDED:
                group_of_feed[f.name] = len(self.speeds)
                self.speeds.append(f.speed)
        groups: list[int] = []
        symbols: list[SymbolBars] = []
        for inst in table.instruments:
            feed = by_name.get(feed_of.get(inst.symbol, ""))
            demo = feed is not None and feed.time_base is TimeBase.DEMO
            calendar = calendars["crypto" if demo else market_of(inst.symbol)]
            symbols.append(SymbolBars(inst.symbol, calendar, self.specs, decimals=inst.decimals))
            groups.append(group_of_feed.get(feed.name, 0) if feed is not None else 0)
        self.book = BarBook(symbols)
        self.fanout = BarFanout(
            table, self.book, [s.interval for s in self.specs], groups=groups, n_groups=len(self.speeds)
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handles: list[asyncio.TimerHandle | None] = [None] * len(self.speeds)
        self._armed: list[int] = [NEVER] * len(self.speeds)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.fanout.labels

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start closing bars on time (in the running loop)."""
        self._loop = asyncio.get_running_loop()
        self.fanout.on_due = self._due_earlier
        for g in range(len(self.speeds)):
            self._arm(g, self.fanout.due[g])

    def stop(self) -> None:
        self.fanout.on_due = None
        for g, handle in enumerate(self._handles):
            if handle is not None:
                handle.cancel()
            self._handles[g] = None
            self._armed[g] = NEVER
        self._loop = None

    # ------------------------------------------------------------ time bases

    def market_now(self, group: int, *, graced: bool = True) -> int | None:
        """Now on a clock group's time base, in µs (None: a replay that has not ticked).
        ``graced``: minus the close delay, the instant up to which bars may close."""
        speed = self.speeds[group]
        if speed is None:
            return self.wall() - (self.grace_us if graced else 0)
        table = self.table
        sids = self.fanout.members[group]
        if not sids:
            return None
        newest = max(sids, key=lambda sid: int(table.ts[sid]))
        at = float(table.applied_at[newest])
        if not at:
            return None
        elapsed_us = (self.clock() - at) * 1e6 - (self.grace_us if graced else 0)
        return int(table.ts[newest]) + int(max(elapsed_us, 0.0) * speed)

    def _delay_s(self, group: int, due: int) -> float | None:
        """Real seconds until ``due`` (plus the close delay) on a group's time base."""
        speed = self.speeds[group]
        if speed is not None and speed <= 0:
            return None  # as fast as possible: only the feed's progress closes its bars
        now = self.market_now(group, graced=False)
        if now is None:
            return None
        rate = 1.0 if speed is None else speed
        return max((due - now) / 1e6 / rate, 0.0) + self.grace_us / 1e6

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
