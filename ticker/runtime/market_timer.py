"""The one timer of the trading day: opens, closes and day rolls, on time.

:meth:`LiveMarket.due <ticker.core.market.LiveMarket.due>` performs whatever
is due and says how many seconds remain until the next event on any group's
time base; this timer arms a single ``loop.call_at`` for that moment (not a
task, not one per symbol) and calls it again when it fires. It is re-armed
early when something moves an event: a replay's clock starting a pass or
reaching a new timestamp (its :class:`~ticker.core.markettime.ReplayTime`
calls :meth:`MarketTimer.poke`), or a first tick that gives a symbol its
first day to roll.

A wait is never longer than :data:`MAX_WAIT_S`: the next event is on the wall
clock (or a replay's), the loop sleeps on the monotonic clock, and the two
can drift apart (an NTP step), so the timer looks again at least that often.

Owned by the :class:`~ticker.runtime.service.Service`: started after the bus
publisher restored the table, stopped (the handle cancelled) on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ticker.core.market import LiveMarket
from ticker.util.log_limit import LogLimiter

log = logging.getLogger("ticker.market")

#: Longest single wait; the timer re-checks the clocks at least this often.
MAX_WAIT_S = 60.0


class MarketTimer:
    def __init__(self, market: LiveMarket, clock: Callable[[], float] = time.monotonic) -> None:
        self.market = market
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._errors = LogLimiter(burst=3, interval_s=60.0)
        #: Times the timer ran (fired or was poked).
        self.runs = 0

    def start(self) -> None:
        """Bring every group's status up to date now and arm for the next event."""
        self._loop = asyncio.get_running_loop()
        self.market.on_schedule = self.poke
        for g in self.market.groups:
            g.time.add_listener(self.poke)
        self._run()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.market.on_schedule = None
        for g in self.market.groups:
            g.time.remove_listener(self.poke)
        self._loop = None

    def poke(self) -> None:
        """Something moved an event (see the module docstring): run now."""
        if self._loop is not None:
            self._run()

    def _run(self) -> None:
        loop = self._loop
        if loop is None:
            return
        self.runs += 1
        try:
            delay = self.market.due(self._clock())
        except Exception:  # our bug: keep the timer alive, say so loudly (not every second)
            self._errors.log(log, logging.ERROR, "due", "market timer failed", exc_info=True)
            delay = 1.0
        wait = MAX_WAIT_S if delay is None else min(max(delay, 0.0), MAX_WAIT_S)
        when = loop.time() + wait
        handle = self._handle
        if handle is not None:
            if abs(handle.when() - when) < 0.0005:
                return  # already armed for that moment
            handle.cancel()
        self._handle = loop.call_at(when, self._fired)

    def _fired(self) -> None:
        self._handle = None
        self._run()
