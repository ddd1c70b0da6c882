"""In-process benchmarks of the pure core (no sockets) and of the synthetic market.

They isolate what the Python code costs per tick, per delivery and per frame,
so the socket benchmarks' totals can be split into "ours" and "the kernel's".
"""

from __future__ import annotations

import asyncio
import resource
import time

import numpy as np

from feeds.catalog import spec, universe
from feeds.sink import FeedSink
from feeds.synthetic.feed import SyntheticFeed
from feeds.synthetic.market import SyntheticMarket
from feeds.synthetic.options import SyntheticOptions
from ticker.core.batch import TickBatch
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.ingest import Ingest
from ticker.core.outbox import Outbox
from ticker.core.stats import FanoutStats, FeedStats
from ticker.core.table import SymbolTable


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _batches(market: SyntheticMarket, seconds: float, step: float) -> list[TickBatch]:
    out = []
    t = 0.0
    while t < seconds:
        out.append(market.generate(t, t + step))
        t += step
    return out


def _core(clients: int, k: int, observe: bool) -> tuple[float, float, float, int, int]:
    symbols = universe()[:100]
    specs = [spec(s) for s in symbols]
    table = SymbolTable([s.instrument for s in specs])
    hub = Hub(len(table))
    enc = QuoteEncoder(table)
    stats = FanoutStats()
    ingest = Ingest(table, hub, enc, observe=observe)
    sink = FeedSink(ingest, FeedStats("bench"))
    boxes = [Outbox(enc.update, stats) for _ in range(clients)]
    for i, box in enumerate(boxes):
        for j in range(k):
            hub.add((i * k + j) % len(table), box)
    batches = _batches(SyntheticMarket(specs, total_rate=2000, seed=1, start_us=1_700_000_000_000_000), 20.0, 0.005)
    ticks = sum(len(b) for b in batches)
    t0 = time.perf_counter()
    frames = 0
    take_time = 0.0
    for b in batches:
        sink.publish(b)
        t1 = time.perf_counter()
        for box in boxes:
            if box.take_frame() is not None:
                frames += 1
        take_time += time.perf_counter() - t1
    total = time.perf_counter() - t0
    return total, take_time, total - take_time, ticks, frames


def run() -> list[str]:
    """Cost per tick, per delivery and per frame of table + encode + hub + outbox."""
    lines = [
        "Pure core, in process, no sockets (100 symbols, synthetic ticks, outboxes drained "
        "every 5 ms of market time as the flusher would):",
        "",
        "| clients × k | metrics | ticks | deliveries | frames | µs per tick (apply+encode+push) "
        "| µs per delivery | µs per frame taken | deliveries/s one core |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for clients, k, observe in ((0, 0, True), (500, 10, True), (500, 10, False), (2000, 10, True)):
        total, take, push, ticks, frames = _core(clients, k, observe)
        deliveries = ticks * clients * k // 100
        per_tick = push / ticks * 1e6
        per_delivery = push / deliveries * 1e6 if deliveries else float("nan")
        per_frame = take / frames * 1e6 if frames else float("nan")
        rate = deliveries / total if deliveries else float("nan")
        lines.append(
            f"| {clients} × {k} | {'on' if observe else 'off'} | {ticks:,} | {deliveries:,} | {frames:,} "
            f"| {per_tick:.1f} | {per_delivery:.2f} | {per_frame:.2f} | {rate:,.0f} |"
        )
    return lines


class _CountingSink:
    def __init__(self) -> None:
        self.n = 0

    def symbol_id(self, symbol: str) -> int:
        return 0

    def symbol_ids(self, symbols: list[str]) -> np.ndarray:
        return np.arange(len(symbols), dtype=np.int32)

    def publish(self, batch: TickBatch) -> int:
        self.n += len(batch)
        return len(batch)

    def publish_tick(self, tick: object) -> bool:
        self.n += 1
        return True


async def _feed_rate(rate: float, count: int, seconds: float) -> tuple[float, float]:
    feed = SyntheticFeed("bench", SyntheticOptions(count=count, rate=rate))
    sink = _CountingSink()
    task = asyncio.create_task(feed.run(sink))
    await asyncio.sleep(0.5)
    n0, c0, t0 = sink.n, _cpu(), time.perf_counter()
    await asyncio.sleep(seconds)
    n1, c1, t1 = sink.n, _cpu(), time.perf_counter()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return (n1 - n0) / (t1 - t0), (c1 - c0) / (t1 - t0)


def generator() -> list[str]:
    """Synthetic market: raw generation speed, and the real-time feed at high rates."""
    lines = ["Synthetic market generation on one core:", "", "| what | ticks/s | CPU |", "|---|---|---|"]
    for count in (30, 100):
        m = SyntheticMarket([spec(s) for s in universe()[:count]], total_rate=1_000_000, seed=1)
        c0, t0, n = _cpu(), time.perf_counter(), 0
        for i in range(30):
            n += len(m.generate(i * 0.1, (i + 1) * 0.1))
        dt = time.perf_counter() - t0
        lines.append(f"| generate(), {count} symbols, 0.1 s windows | {n / dt:,.0f} | {(_cpu() - c0) / dt:.2f} |")
    for rate in (50_000.0, 100_000.0):
        got, cpu = asyncio.run(_feed_rate(rate, 100, 3.0))
        lines.append(f"| real-time feed asked for {rate:,.0f}/s, 100 symbols | {got:,.0f} | {cpu:.2f} |")
    return lines
