"""A synthetic forex and metals market, generated with numpy in batches.

Model, per instrument: log mid-price follows a mean-reverting random walk
(Ornstein-Uhlenbeck, half-life ``reversion_half_life_s``) whose per-tick
variance is ``annual_vol² / (seconds per year × ticks per second)``, so the
path's volatility is realistic whatever the tick rate. Tick arrivals are a
Poisson process per instrument (the merged process: Poisson with the total
rate, each tick's instrument drawn by rate weight). Spreads vary log-normally
around a typical value in pips; top-of-book sizes change on about a quarter
of ticks. Everything comes from one seeded ``numpy.random.Generator``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from feeds.catalog import InstrumentSpec
from ticker.core.batch import TickBatch

SECONDS_PER_YEAR = 365.25 * 24 * 3600
_SIZE_STEPS = np.array([0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 5.0, 10.0])


class SyntheticMarket:
    """Pure, seeded generator: ``generate(t0, t1)`` returns the ticks in [t0, t1)."""

    def __init__(
        self,
        specs: Sequence[InstrumentSpec],
        *,
        total_rate: float = 0.0,
        seed: int = 42,
        reversion_half_life_s: float = 3600.0,
        start_us: int = 0,
    ) -> None:
        self.specs = tuple(specs)
        #: Wall time (µs since the epoch) of market time 0: where ``ts`` starts.
        self.start_us = start_us
        n = len(self.specs)
        natural = np.array([s.rate for s in self.specs])
        self.rates = natural * (total_rate / natural.sum()) if total_rate > 0 else natural
        self.total_rate = float(self.rates.sum())
        self._cum_weights = np.cumsum(self.rates / self.total_rate)
        self._cum_weights[-1] = 1.0
        self._rng = np.random.default_rng(seed)
        self._log_level = np.log([s.level for s in self.specs])
        self._log_mid = self._log_level.copy()
        # Per-tick standard deviation of the log price and reversion per tick.
        self._tick_sigma = np.array([s.annual_vol for s in self.specs]) / np.sqrt(
            SECONDS_PER_YEAR * self.rates
        )
        self._kappa = (math.log(2) / reversion_half_life_s) / self.rates
        self._spread = np.array([s.spread_pips * s.instrument.pip_size for s in self.specs])
        self._point = np.array([10.0**-s.instrument.decimals for s in self.specs])
        self._decimals = np.array([s.instrument.decimals for s in self.specs])
        self._base_size = np.array([s.size for s in self.specs])
        self._bid_size = self._base_size.copy()
        self._ask_size = self._base_size.copy()
        self._n = n

    def generate(self, t0: float, t1: float) -> TickBatch:
        """The ticks arriving in [t0, t1) seconds of market time: ``sid`` is the
        instrument's index in the market, ``ts`` is ``start_us`` plus the arrival
        time in µs (so consecutive windows continue each other)."""
        rng = self._rng
        count = int(rng.poisson(self.total_rate * max(t1 - t0, 0.0)))
        t = np.sort(rng.uniform(t0, t1, count))
        idx = np.searchsorted(self._cum_weights, rng.random(count), side="right")
        np.minimum(idx, self._n - 1, out=idx)

        # Log-price path: increments grouped by instrument, cumulated in time order.
        order = np.argsort(idx, kind="stable")
        sidx = idx[order]
        drift = -self._kappa[sidx] * (self._log_mid[sidx] - self._log_level[sidx])
        inc = drift + self._tick_sigma[sidx] * rng.standard_normal(count)
        cs = np.cumsum(inc)
        counts = np.bincount(sidx, minlength=self._n)
        ends = np.cumsum(counts)
        starts = ends - counts
        before = np.concatenate(([0.0], cs))[starts]  # cumsum before each group
        path_sorted = self._log_mid[sidx] + cs - np.repeat(before, counts)
        touched = counts > 0
        self._log_mid[touched] = path_sorted[ends[touched] - 1]
        mid = np.empty(count)
        mid[order] = np.exp(path_sorted)

        # Spread around the mid, at least one point, rounded to the instrument's decimals.
        point = self._point[idx]
        spread = self._spread[idx] * np.exp(0.35 * rng.standard_normal(count) - 0.06)
        spread = np.maximum(np.round(spread / point), 1.0) * point
        bid = np.round((mid - spread / 2) / point) * point
        ask = bid + spread
        decimals = self._decimals[idx]
        for d in np.unique(decimals):
            sel = decimals == d
            bid[sel] = np.round(bid[sel], int(d))
            ask[sel] = np.round(ask[sel], int(d))

        # Sizes: a quarter of ticks redraw one side's size; ticks carry current sizes.
        change = rng.random(count) < 0.25
        side = rng.random(count) < 0.5
        draw = self._base_size[idx] * rng.choice(_SIZE_STEPS, count)
        group_start = np.repeat(starts, counts)
        bid_size = np.empty(count)
        ask_size = np.empty(count)
        bid_size[order] = _carry_forward(
            (change & side)[order], draw[order], group_start, sidx, self._bid_size
        )
        ask_size[order] = _carry_forward(
            (change & ~side)[order], draw[order], group_start, sidx, self._ask_size
        )
        ts = self.start_us + (t * 1e6).astype(np.int64)
        return TickBatch(idx.astype(np.int32), bid, ask, bid_size, ask_size, ts)


def _carry_forward(
    changed: npt.NDArray[np.bool_],
    values: npt.NDArray[np.float64],
    group_start: npt.NDArray[np.intp],
    sidx: npt.NDArray[np.intp],
    state: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """For ticks sorted by instrument: the latest changed value so far within the
    instrument's group, else the instrument's carried ``state`` (updated in place)."""
    n = len(values)
    last = np.maximum.accumulate(np.where(changed, np.arange(n), -1)) if n else np.array([], int)
    own = last >= group_start
    out = np.where(own, values[np.maximum(last, 0)], state[sidx])
    if n:
        ends = np.r_[group_start[1:] != group_start[:-1], True]
        state[sidx[ends]] = out[ends]
    return out
