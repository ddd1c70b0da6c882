"""Instruction counts of the pure core under callgrind: repeatable on a noisy machine.

Timings on a shared 2-core VM move ±30% from run to run; ``valgrind --tool=callgrind``
counts the instructions the same workload executes, which does not depend on what
else the machine is doing. Each variant runs twice in a child process, once building
the workload only and once also running it; the difference is the workload's cost.

The workload is the default shape in process: 100 synthetic symbols at 2,000
ticks/s for 2 s of market time, 500 outboxes × 10 symbols, drained every 5 ms of
market time as the flusher would. Variants switch on what the default config adds
on the hot path; each new capability adds one (the budget is +10% per delivered
message, docs/benchmarks.md). A variant may return a function that is handed the
outboxes once they exist (to subscribe them to more than quotes, or replace some:
delayed entitlements) and may return a step run after each batch with its market
time (a timer of the variant's). Deliveries are the quote updates pushed into
outboxes, counted (the hub's per-stream counters times each stream's subscribers:
subscriptions are fixed and nothing conflates here), not assumed, so a variant in
which some outboxes get fewer updates (delayed streams) is measured per update it
actually delivers; status and bar messages are not counted.

    python -m benchmarks.instructions [variant ...]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 2.0
CLIENTS = 500
K = 10


def _workload(variant: str) -> Callable[[], int]:
    """Build the core for ``variant``; return the function that runs the ticks through it."""
    from benchmarks.core import _batches
    from feeds.catalog import spec, universe
    from feeds.sink import FeedSink
    from feeds.synthetic.market import SyntheticMarket
    from ticker.core.encode import QuoteEncoder
    from ticker.core.hub import Hub
    from ticker.core.ingest import Ingest
    from ticker.core.outbox import Outbox
    from ticker.core.stats import FanoutStats, FeedStats
    from ticker.core.table import SymbolTable

    specs = [spec(s) for s in universe()[:100]]
    table = SymbolTable([s.instrument for s in specs])
    hub = Hub(len(table))
    encoder = QuoteEncoder(table)
    stats = FanoutStats()
    start_us = 1_700_000_000_000_000
    ingest = Ingest(table, hub, encoder, clock=lambda: 1.0, wall_ns=lambda: start_us * 1000)
    attach = VARIANTS[variant](ingest)
    sink = FeedSink(ingest, FeedStats("bench"))
    boxes = [Outbox(encoder.update, stats) for _ in range(CLIENTS)]
    for i, box in enumerate(boxes):
        for j in range(K):
            hub.add((i * K + j) % len(table), box)
    step = attach(boxes, stats) if attach is not None else None
    batches = _batches(SyntheticMarket(specs, total_rate=2000, seed=1, start_us=start_us), SECONDS, 0.005)

    def run() -> int:
        for n, batch in enumerate(batches):
            sink.publish(batch)
            if step is not None:
                step(start_us + (n + 1) * 5_000)
            for box in boxes:
                box.take_frame()
        return sum(n * len(subs) for n, subs in zip(hub.published, hub.subscribers, strict=True))

    return run


#: Handed the outboxes (and their stats); returns a step called after each batch with
#: its market time in µs, or None.
Attach = Callable[[list[Any], Any], Callable[[int], None] | None]


def _base(ingest: Any) -> Attach | None:
    """Quotes only: table, encode once, hub, outboxes (metrics counters on)."""
    return None


def _bar_fanout(ingest: Any) -> Any:
    """Bars at the defaults ([bars] of the built-in config) on the ingest path; the
    synthetic market is a demo market, so its bars follow the always-open calendar."""
    from ticker.config import BarsConfig
    from ticker.core.bar_fanout import BarFanout
    from ticker.core.bars import BarBook, SymbolBars
    from ticker.core.calendar import CRYPTO, Calendar
    from ticker.runtime.charts import series_specs

    table = ingest.table
    specs = series_specs(BarsConfig())
    calendar = Calendar(CRYPTO)
    book = BarBook([SymbolBars(i.symbol, calendar, specs, decimals=i.decimals) for i in table.instruments])
    fanout = BarFanout(table, book, [s.interval for s in specs])
    ingest.bars = fanout
    return fanout


def _bars(ingest: Any) -> Attach | None:
    """Bars on at the defaults, nobody subscribed to them (the quote workload's cost)."""
    _bar_fanout(ingest)
    return None


def _bars_subscribed(ingest: Any) -> Attach | None:
    """Bars on, and every outbox also follows the 1m bars of its 10 symbols (a chart
    per symbol): forming updates merge per series per frame."""
    fanout = _bar_fanout(ingest)

    def attach(boxes: list[Any], stats: Any) -> None:
        n = len(ingest.table)
        for i, box in enumerate(boxes):
            box.set_encoder(fanout.encoder(ingest.encoder.update))
            for j in range(K):
                fanout.add(fanout.key((i * K + j) % n, "1m"), box)


def _delayed(ingest: Any) -> Attach | None:
    """10% of the outboxes on a delayed entitlement (5 of each symbol's 50 subscribers):
    their 10 symbols come from the delay lines (1 s delay), sampled and released by a timer every
    250 ms of market time, so releases fall inside the 2 s window (the default 1 s
    interval would release nothing before 2 s; 250 ms gives delayed subscribers four
    times the updates, so it overstates them). The real-time 90% are unchanged."""
    from ticker.core.delay import DelayLines
    from ticker.core.outbox import Outbox

    lines = DelayLines(ingest.table, ingest.hub, ingest.encoder, (1,), interval_ms=250)
    hub = ingest.hub

    def attach(boxes: list[Any], stats: Any) -> Callable[[int], None]:
        n = len(ingest.table)
        for i in (i for i in range(len(boxes)) if (i // 10) % 10 == 0):  # every symbol keeps 45 live
            delayed = Outbox(lines.encode_update, stats)
            for j in range(K):
                sid = (i * K + j) % n
                hub.remove(sid, boxes[i])
                hub.add(lines.hub_id(sid, 1), delayed)
            boxes[i] = delayed
        due = [0]

        def step(now_us: int) -> None:  # the delay clock: call_at each interval boundary
            if now_us >= due[0]:
                due[0] = lines.tick(now_us, 1.0)

        return step

    return attach


def _idle10(ingest: Any) -> Attach | None:
    """The same 10% of outboxes as ``delayed`` subscribed to nothing: what ``delayed``
    would cost if delayed streams were free (the per-tick work spread over 10% fewer
    deliveries), to tell that apart from what the delay lines cost."""

    def attach(boxes: list[Any], stats: Any) -> None:
        n = len(ingest.table)
        for i in (i for i in range(len(boxes)) if (i // 10) % 10 == 0):
            for j in range(K):
                ingest.hub.remove((i * K + j) % n, boxes[i])

    return attach


def _ring(ingest: Any) -> Attach | None:
    """Plus the resume ring at the defaults (``resume.max_updates`` 1000, ``max_age_s`` 120),
    already full, as it is once each symbol has ticked 1000 times: every append then also
    drops the oldest entry (the steady state; filling it is part of the build, not counted)."""
    from ticker.core.ingest import Ingest
    from ticker.core.ring import UpdateRing

    assert isinstance(ingest, Ingest)
    ring = UpdateRing(len(ingest.table), max_updates=1000, max_age_s=120.0)
    filler = b'{"type":"update","symbol":"EURUSD","seq":0,"bid":1.08412,"ts":1700000000000000}'
    for sid in range(len(ingest.table)):
        ring.reset(sid, -1000)
        for seq in range(-999, 1):
            ring.append(sid, seq, filler, 1.0)
    ingest.ring = ring
    return None


#: variant name -> what it switches on in the ingest path.
VARIANTS: dict[str, Callable[[Any], Attach | None]] = {
    "base": _base,
    "bars": _bars,
    "bars_fanout": _bars_subscribed,
    "delayed": _delayed,
    "idle10": _idle10,
    "ring": _ring,
}


def _child(variant: str, run: bool) -> None:
    work = _workload(variant)
    if run:
        work()


def _count(variant: str, run: bool) -> int:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise RuntimeError("valgrind is not installed (Debian package 'valgrind')")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = [
            valgrind, "--tool=callgrind", f"--callgrind-out-file={out}",
            sys.executable, "-m", "benchmarks.instructions", "--child", variant,
        ] + (["--run"] if run else [])  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    m = re.search(r"Collected : (\d+)", proc.stderr)
    if m is None:
        raise RuntimeError(f"no callgrind total in:\n{proc.stderr[-2000:]}")
    return int(m.group(1))


def measure(variant: str) -> tuple[int, int, int]:
    """(instructions of the workload, ticks, deliveries) for one variant."""
    from benchmarks.core import _batches
    from feeds.catalog import spec, universe
    from feeds.synthetic.market import SyntheticMarket

    specs = [spec(s) for s in universe()[:100]]
    batches = _batches(SyntheticMarket(specs, total_rate=2000, seed=1), SECONDS, 0.005)
    ticks = sum(len(b) for b in batches)
    deliveries = _workload(variant)()  # the same workload, outside callgrind: updates delivered
    return _count(variant, True) - _count(variant, False), ticks, deliveries


def table(variants: list[str]) -> list[str]:
    lines = [
        f"Instructions executed by the pure core (callgrind; {CLIENTS} outboxes × {K} of 100 symbols, "
        f"2,000 ticks/s for {SECONDS:g} s of market time, drained every 5 ms):",
        "",
        "| variant | instructions | per tick (incl. fan-out) | per delivery | vs base |",
        "|---|---|---|---|---|",
    ]
    base: float | None = None
    for v in variants:
        instr, ticks, deliveries = measure(v)
        per_delivery = instr / deliveries
        base = per_delivery if v == "base" else base
        rel = f"{(per_delivery / base - 1) * 100:+.1f}%" if base and v != "base" else ""
        lines.append(f"| {v} | {instr:,} | {instr / ticks:,.0f} | {per_delivery:,.0f} | {rel} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    p.add_argument("variants", nargs="*", default=[])
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        _child(a.child, a.run)
        return
    variants = a.variants or list(VARIANTS)
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        p.error(f"unknown variant(s) {', '.join(sorted(unknown))}; known: {', '.join(VARIANTS)}")
    for line in table(["base", *[v for v in variants if v != "base"]]):
        print(line, flush=True)


if __name__ == "__main__":
    main()
