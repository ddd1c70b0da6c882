"""Emits a :class:`~feeds.synthetic.market.SyntheticMarket` in real time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from feeds.base import Feed, TickSink
from feeds.catalog import spec
from feeds.synthetic.market import SyntheticMarket
from feeds.synthetic.options import SyntheticOptions
from ticker.core.batch import TickBatch
from ticker.core.calendar import Calendar
from ticker.core.model import Instrument
from ticker.util.clock import wall_us


class SyntheticFeed(Feed):
    """Emits a :class:`SyntheticMarket` in real time.

    Ticks are generated a window ahead and emitted when their arrival time
    comes, at most once per ``batch_interval_ms``; ``ts`` is each tick's
    scheduled arrival time, so reported latency includes any lateness (or, with
    ``timestamps = "emitted"``, the wall time the batch was handed over, so that
    latency measures the server alone).

    Market hours: by default the demo market is always open (calendar
    ``always``), so quotes move on a Saturday too. Given a calendar that
    closes (``calendar = "fx"`` or ``"auto"`` on the feed), the model keeps
    running through the closed hours but no tick is emitted then: the board
    shows the market closed and the price gaps at the open, as a real one does.
    """

    WINDOW_S = 0.1
    default_calendar = "always"

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
        #: (calendar, market indices) of the calendars that ever close.
        self._hours: list[tuple[Calendar, npt.NDArray[np.int32]]] = []

    def instruments(self) -> Sequence[Instrument]:
        return [s.instrument for s in self.specs]

    def use_calendars(self, calendars: Sequence[Calendar]) -> None:
        by_name: dict[str, tuple[Calendar, list[int]]] = {}
        for i, cal in enumerate(calendars):
            if not cal.always_open:
                by_name.setdefault(cal.name, (cal, []))[1].append(i)
        self._hours = [(cal, np.array(idx, dtype=np.int32)) for cal, idx in by_name.values()]

    def previous_closes(self) -> dict[str, float]:
        """Yesterday's close of each symbol, a day's random move away from where the
        model starts (seeded apart from the market, so its ticks do not change): the
        day's change shows from the first tick, red and green as on a real board."""
        rng = np.random.default_rng(self.options.seed + 1)
        out: dict[str, float] = {}
        for s in self.specs:
            move = float(rng.standard_normal()) * s.annual_vol / np.sqrt(260.0)
            out[s.symbol] = round(s.level * float(np.exp(move)), s.instrument.decimals)
        return out

    def trading(self, batch: TickBatch) -> TickBatch:
        """The ticks of ``batch`` (market indices) whose market is open at their time."""
        if not self._hours or not len(batch):
            return batch
        keep: npt.NDArray[np.bool_] | None = None
        for cal, idx in self._hours:
            sel = np.isin(batch.sid, idx)
            if not sel.any():
                continue
            ts = batch.ts[sel]
            t0, t1 = int(ts[0]), int(ts[-1])
            now_open = cal.is_open(t0)
            change = cal.next_change(t0)
            if change is not None and change <= t1:
                state = np.fromiter((cal.is_open(int(t)) for t in ts), dtype=bool, count=len(ts))
            elif now_open:
                continue
            else:
                state = np.zeros(len(ts), dtype=bool)
            if keep is None:
                keep = np.ones(len(batch), dtype=bool)
            keep[sel] = state
        return batch if keep is None else batch.take(keep)

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
        emitted = self.options.timestamps == "emitted"
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
                due = self.trading(pending.take(slice(cursor, end)))
                if len(due):
                    if emitted:
                        due = due.with_ts(np.full(len(due), wall_us(), dtype=np.int64))
                    sink.publish(due.to_table(sids))
                cursor = end
            if cursor < len(pending):
                wait = (int(pending.ts[cursor]) - start_us) / 1e6 - (self._clock() - start)
            else:
                wait = horizon - (self._clock() - start)
            await asyncio.sleep(max(wait, min_gap))
