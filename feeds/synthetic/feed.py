"""Emits a :class:`~feeds.synthetic.market.SyntheticMarket` in real time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import numpy as np

from feeds.base import Feed, TickSink, TimeBase
from feeds.catalog import spec
from feeds.synthetic.market import SyntheticMarket
from feeds.synthetic.options import SyntheticOptions
from ticker.core.batch import TickBatch
from ticker.core.model import Instrument
from ticker.util.clock import wall_us


class SyntheticFeed(Feed):
    """Emits a :class:`SyntheticMarket` in real time.

    Ticks are generated a window ahead and emitted when their arrival time
    comes, at most once per ``batch_interval_ms``; ``ts`` is each tick's
    scheduled arrival time, so reported latency includes any lateness.
    """

    WINDOW_S = 0.1
    #: An always-open demo market stamped with the wall clock.
    time_base = TimeBase.DEMO

    def __init__(
        self,
        name: str,
        options: SyntheticOptions,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name)
        self.options = options
        self.specs = tuple(spec(s) for s in options.symbol_list())
        self._clock = clock

    def instruments(self) -> Sequence[Instrument]:
        return [s.instrument for s in self.specs]

    def market(self, start_us: int = 0) -> SyntheticMarket:
        o = self.options
        return SyntheticMarket(
            self.specs,
            total_rate=o.rate,
            seed=o.seed,
            reversion_half_life_s=o.reversion_half_life_s,
            start_us=start_us,
        )

    async def run(self, sink: TickSink) -> None:
        start = self._clock()
        start_us = wall_us()
        market = self.market(start_us)
        sids = sink.symbol_ids([s.symbol for s in self.specs])
        min_gap = self.options.batch_interval_ms / 1000.0
        horizon = 0.0
        pending = TickBatch.empty()
        cursor = 0
        while True:
            now = self._clock() - start
            while horizon <= now:  # fell behind or first run: generate up to now
                fresh = market.generate(horizon, horizon + self.WINDOW_S)
                pending = TickBatch.concat([pending.take(slice(cursor, None)), fresh])
                cursor = 0
                horizon += self.WINDOW_S
            end = int(np.searchsorted(pending.ts, start_us + now * 1e6, side="right"))
            if end > cursor:
                sink.publish(pending.take(slice(cursor, end)).to_table(sids))
                cursor = end
            if cursor < len(pending):
                wait = (int(pending.ts[cursor]) - start_us) / 1e6 - (self._clock() - start)
            else:
                wait = horizon - (self._clock() - start)
            await asyncio.sleep(max(wait, min_gap))
