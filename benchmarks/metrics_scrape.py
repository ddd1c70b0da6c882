"""What metrics cost: one /metrics scrape, one hot-path observation, one sweep sample.

    python -m benchmarks.metrics_scrape [--symbols N] [--connections C]

Builds a real :class:`~ticker.service.Service` (synthetic feed, ``N`` symbols,
every symbol ticked so every per-symbol series exists), then times:

* rendering the whole exposition (what a Prometheus scrape costs the event
  loop), and its size;
* the per-frame cost of the fan-out latency histogram: a deferred append
  (what the writer does) against ``Histogram.observe``, and the bulk
  ``flush`` that bins the deferred values; ``observe_many`` on a feed batch;
* the housekeeping sweep's send-queue depth sample over ``C`` connections.

The fan-out throughput with metrics on and off is measured by the fan-out
benchmark; this one isolates the pieces.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from ticker.core.model import Tick
from ticker.core.stats import DEPTH_BUCKETS, LATENCY_BUCKETS, Histogram
from ticker.observability.metrics import make_registry, render
from ticker.runtime.configure import from_dict
from ticker.runtime.service import Service


def _per_call(fn: Callable[[], object], number: int, repeat: int = 5) -> float:
    """Median seconds per call over ``repeat`` runs of ``number`` calls."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - t0) / number)
    return statistics.median(runs)


def _per_value(fn: Callable[[float], object], number: int, repeat: int = 5) -> float:
    """Median seconds per ``fn(value)`` call, called the way a hot loop calls a bound method."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn(0.00042)
        runs.append((time.perf_counter() - t0) / number)
    return statistics.median(runs)


class _Conn:
    __slots__ = ("outbox",)

    def __init__(self, depth: int) -> None:
        self.outbox = [b""] * depth


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--symbols", type=int, default=30)
    ap.add_argument("--connections", type=int, default=10_000)
    args = ap.parse_args(argv)

    cfg = from_dict({"feeds": [{"type": "synthetic", "count": args.symbols}]})
    service = Service(cfg)
    ingest = service.ingest
    stats = service.feed_stats["synthetic"]
    ts = time.time_ns() // 1000
    for sym in service.table.symbols:
        ingest.apply_tick(stats, Tick(sym, 1.0, 1.0001, ts))
    registry = make_registry(service)
    body = render(registry)
    scrape = _per_call(lambda: render(registry), 200)
    print(f"scrape: {len(service.table)} symbols, {len(body)} bytes, {scrape * 1e3:.3f} ms per render")

    h = Histogram(LATENCY_BUCKETS)
    observe = _per_value(h.observe, 200_000)
    appended = _per_value(h.deferred.append, 200_000)
    values = np.random.default_rng(2).exponential(0.001, 25_000).tolist()
    flushes = []
    for _ in range(5):
        h.deferred[:] = values
        t0 = time.perf_counter()
        h.flush()
        flushes.append((time.perf_counter() - t0) / len(values))
    print(f"Histogram.observe: {observe * 1e9:.0f} ns per observation")
    print(
        f"deferred append: {appended * 1e9:.0f} ns per frame sent, then flush "
        f"{statistics.median(flushes) * 1e9:.1f} ns per value (25,000 values per sweep)"
    )
    batch = np.random.default_rng(1).exponential(0.001, 64)
    many = _per_call(lambda: h.observe_many(batch), 20_000)
    print(f"Histogram.observe_many: {many * 1e6:.2f} µs per 64-tick feed batch")

    conns = [_Conn(d % 8) for d in range(args.connections)]
    depth = Histogram(DEPTH_BUCKETS)

    def sample() -> None:
        depth.observe_many(np.fromiter((len(c.outbox) for c in conns), dtype=np.float64, count=len(conns)))

    per_sweep = _per_call(sample, 50)
    print(
        f"queue-depth sample: {per_sweep * 1e3:.3f} ms per sweep of {args.connections} connections "
        f"({per_sweep * 4 * 100:.2f} % of one core at 4 sweeps/s)"
    )


if __name__ == "__main__":
    main()
