"""Histogram: immediate and deferred observations land in the same buckets."""

from __future__ import annotations

import math

import numpy as np

from ticker.core.stats import FLUSH_AT, LATENCY_BUCKETS, Histogram


def test_buckets_hold_values_up_to_and_including_their_bound() -> None:
    h = Histogram((0.001, 0.01))
    for v in (0.0005, 0.001, 0.002, 0.01, 5.0):
        h.observe(v)
    assert h.cumulative() == [("0.001", 2), ("0.01", 4), ("+Inf", 5)]
    assert h.count == 5 and math.isclose(h.sum, 5.0135)


def test_deferred_values_are_binned_exactly_like_observed_ones() -> None:
    values = np.random.default_rng(3).lognormal(-7, 2, 5000)
    now, later = Histogram(LATENCY_BUCKETS), Histogram(LATENCY_BUCKETS)
    record = later.deferred.append  # bound once, as the writer loop does
    for v in values.tolist():
        now.observe(v)
        record(v)
    assert len(later.deferred) == 5000
    assert later.cumulative() == now.cumulative()  # reading flushes
    assert later.deferred == [] and later.count == 5000 and math.isclose(later.sum, now.sum)
    record(100.0)  # the bound append still feeds the same buffer after a flush
    assert later.count == 5001 and later.cumulative()[-1] == ("+Inf", 5001)
    assert later.cumulative()[-2] == ("10.0", 5000)


def test_quantile_reads_deferred_values_too() -> None:
    h = Histogram(LATENCY_BUCKETS)
    assert math.isnan(h.quantile(0.99))
    h.deferred.extend([0.0002] * 98 + [0.3, 0.3])
    assert h.quantile(0.5) == 0.00025 and h.quantile(0.99) == 0.5


def test_observe_many_defers_and_bounds_the_buffer() -> None:
    h = Histogram(LATENCY_BUCKETS)
    h.observe_many(np.full(10, 0.002))
    assert len(h.deferred) == 10  # not binned yet: cheap on the feed path
    assert h.cumulative()[6] == ("0.0025", 10)
    h.observe_many(np.full(FLUSH_AT + 1, 0.002))
    assert h.deferred == []  # a reader-less histogram cannot grow without bound
    assert h.count == FLUSH_AT + 11
