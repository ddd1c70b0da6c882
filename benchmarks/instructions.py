"""Instruction counts of the pure core under callgrind: repeatable on a noisy machine.

Timings on a shared 2-core VM move ±30% from run to run; ``valgrind --tool=callgrind``
counts the instructions the same workload executes, which does not depend on what
else the machine is doing. Each variant runs twice in a child process, once building
the workload only and once also running it; the difference is the workload's cost.

The workload is the default shape in process: 100 synthetic symbols at 2,000
ticks/s for 2 s of market time, 500 outboxes × 10 symbols, drained every 5 ms of
market time as the flusher would. Variants switch on what the default config adds
on the hot path; each new capability adds one (the budget is +10% per delivered
message, docs/benchmarks.md). ``bars``: bars at the defaults, nobody subscribed;
``bars_fanout``: every outbox also follows the 1m bars of its symbols; ``ring``: the
resume ring at the defaults, full; ``daystats``: the trading day's market hook with
daily statistics on the FX calendar; ``crosses``: that plus EURJPY and EURGBP
derived from their legs (the feed no longer sends them, as with a feed of USD
pairs), so "per tick" is per tick the feed delivers, the derived ticks' cost included;
``delayed``: 10% of the outboxes on delayed entitlements (1 s delay lines released
by their timer), against ``idle10``, the same outboxes subscribed to nothing (to tell
the delay lines' cost from delivering 10% fewer updates); ``default``: what the
default config turns on together (bars, the resume ring, daily statistics).

Deliveries are the quote updates pushed into outboxes, counted (the hub's per-stream
counters times each stream's subscribers; subscriptions are fixed here), not assumed.

    python -m benchmarks.instructions [variant ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 2.0
CLIENTS = 500
K = 10


START_US = 1_700_000_000_000_000  # Tuesday 2023-11-14 17:13 New York: the FX market is open


def _workload(variant: str) -> tuple[Callable[[], None], Callable[[], tuple[int, int, int]]]:
    """Build the core for ``variant``; return the function that runs the ticks through it,
    and one that says how many ticks the feed delivered, how many were applied (derived
    ones included) and how many messages were taken since."""
    import numpy as np

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
    start_us = START_US
    ingest = Ingest(table, hub, encoder, clock=lambda: 1.0, wall_ns=lambda: start_us * 1000)
    ingest_only = variant.startswith("ingest-")
    setup = VARIANTS[variant](ingest) or Setup()
    derived = setup.derived
    feed = FeedStats("bench")
    sink = FeedSink(ingest, feed)
    boxes = [] if ingest_only else [Outbox(encoder.update, stats) for _ in range(CLIENTS)]
    for i, box in enumerate(boxes):
        for j in range(K):
            hub.add((i * K + j) % len(table), box)
    step = setup.attach(boxes, stats) if setup.attach is not None else None
    batches = _batches(SyntheticMarket(specs, total_rate=2000, seed=1, start_us=start_us), SECONDS, 0.005)
    if derived:  # the feed does not send what the service derives
        batches = [b.take(~np.isin(b.sid, list(derived))) for b in batches]

    def run() -> None:
        for n, batch in enumerate(batches):
            sink.publish(batch)
            if step is not None:
                step(start_us + (n + 1) * 5_000)
            for box in boxes:
                box.take_frame()

    def counts() -> tuple[int, int, int]:
        market = ingest.market
        derived = sum(getattr(market, "cross_ticks", {}).values()) if market is not None else 0
        delivered = sum(n * len(subs) for n, subs in zip(hub.published, hub.subscribers, strict=True))
        return feed.ingested, feed.ingested + derived, delivered

    return run, counts


class Setup(NamedTuple):
    """What a variant adds beyond the ingest path it configures."""

    #: Symbols the service derives (the feed does not send them).
    derived: Sequence[int] = ()
    #: Called with the outboxes (and their stats) once they exist (to subscribe them to
    #: more than quotes, or replace some: delayed entitlements); may return a step run
    #: after each batch with its market time in µs (a timer of the variant's).
    attach: Callable[[list[Any], Any], Callable[[int], None] | None] | None = None


def _base(ingest: Any) -> Setup | None:
    """Quotes only: table, encode once, hub, outboxes (metrics counters on)."""


def _market(ingest: Any, crosses: Sequence[str]) -> list[int]:
    from feeds.catalog import spec
    from ticker.core.calendar import FX, Calendar
    from ticker.core.crosses import CrossEngine, parse_cross
    from ticker.core.daystats import DailyStats
    from ticker.core.market import LiveMarket
    from ticker.core.markettime import WallTime

    table = ingest.table
    cals = [Calendar(FX)] * len(table)
    defs = [parse_cross(c) for c in crosses]
    engine = CrossEngine(defs, table.ids, table.decimals) if defs else None
    times = [WallTime(lambda: START_US)] * len(table)
    stats = DailyStats(cals, table.decimals)
    market = LiveMarket(table, cals, times, stats, engine)
    market.attach(ingest)
    market.due(1.0)
    derived = [table.ids[d.symbol] for d in defs]
    # The steady state: the day began before the measured ticks (at each symbol's model
    # level), so a symbol's first day message is not counted; new highs and lows are.
    for sid, symbol in enumerate(table.symbols):
        if sid not in derived:
            stats.on_tick(sid, START_US - 1, round(spec(symbol).level, table.decimals[sid]))
    return derived


def _daystats(ingest: Any) -> Setup | None:
    """base + the market hook: daily statistics (FX calendar), status held by the calendar."""
    _market(ingest, ())
    return None


def _crosses(ingest: Any) -> Setup | None:
    """daystats + EURJPY = EURUSD * USDJPY and EURGBP = EURUSD / GBPUSD derived on every leg tick."""
    return Setup(derived=_market(ingest, ("EURJPY = EURUSD * USDJPY", "EURGBP = EURUSD / GBPUSD")))


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


def _bars(ingest: Any) -> Setup | None:
    """Bars on at the defaults, nobody subscribed to them (the quote workload's cost)."""
    _bar_fanout(ingest)
    return None


def _bars_subscribed(ingest: Any) -> Setup | None:
    """Bars on, and every outbox also follows the 1m bars of its 10 symbols (a chart
    per symbol): forming updates merge per series per frame."""
    fanout = _bar_fanout(ingest)

    def attach(boxes: list[Any], stats: Any) -> None:
        n = len(ingest.table)
        for i, box in enumerate(boxes):
            box.set_encoder(fanout.encoder(ingest.encoder.update))
            for j in range(K):
                fanout.add(fanout.key((i * K + j) % n, "1m"), box)

    return Setup(attach=attach)


def _delayed(ingest: Any) -> Setup | None:
    """10% of the outboxes on a delayed entitlement (5 of each symbol's 50 subscribers):
    their 10 symbols come from the delay lines (1 s delay), sampled and released by a timer
    every 250 ms of market time, so releases fall inside the 2 s window (the default 1 s
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

    return Setup(attach=attach)


def _idle10(ingest: Any) -> Setup | None:
    """The same 10% of outboxes as ``delayed`` subscribed to nothing: what ``delayed``
    would cost if delayed streams were free (the per-tick work spread over 10% fewer
    deliveries), to tell that apart from what the delay lines cost."""

    def attach(boxes: list[Any], stats: Any) -> None:
        n = len(ingest.table)
        for i in (i for i in range(len(boxes)) if (i // 10) % 10 == 0):
            for j in range(K):
                ingest.hub.remove((i * K + j) % n, boxes[i])

    return Setup(attach=attach)


def _ring(ingest: Any) -> Setup | None:
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



def _default(ingest: Any) -> Setup | None:
    """What the default config turns on together: bars (nobody subscribed), the resume
    ring and daily statistics."""
    _bars(ingest)
    _ring(ingest)
    _daystats(ingest)
    return None


#: variant name -> what it switches on in the ingest path (and the symbols it derives).
#: ``ingest-*``: the same with nobody subscribed, so no encoding and no fan-out: the
#: cost of applying a tick alone (deliveries are 0, so only per-tick figures mean much).
VARIANTS: dict[str, Callable[[Any], Setup | None]] = {
    "base": _base,
    "bars": _bars,
    "bars_fanout": _bars_subscribed,
    "ring": _ring,
    "delayed": _delayed,
    "idle10": _idle10,
    "daystats": _daystats,
    "crosses": _crosses,
    "default": _default,
    "ingest-base": _base,
    "ingest-daystats": _daystats,
    "ingest-crosses": _crosses,
}


def _child(variant: str, run: bool) -> None:
    work, _ = _workload(variant)
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
        # Without address randomisation: outboxes are dict keys hashed by address, and
        # random addresses moved counts by about ±2% from run to run.
        setarch = shutil.which("setarch")
        if setarch is not None:
            cmd = [setarch, platform.machine(), "-R", *cmd]
        # One BLAS thread: numpy's OpenBLAS workers spin while idle, and callgrind counts
        # their instructions too (ingest-base measured 56.6M and 78.7M in two runs with
        # them, 81.49M in both without).
        env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    m = re.search(r"Collected : (\d+)", proc.stderr)
    if m is None:
        raise RuntimeError(f"no callgrind total in:\n{proc.stderr[-2000:]}")
    return int(m.group(1))


def measure(variant: str) -> tuple[int, int, int, int]:
    """(instructions of the workload, ticks the feed delivered, ticks applied, messages
    delivered) for one variant; the counts come from the same workload without callgrind."""
    work, counts = _workload(variant)
    work()
    ticks, applied, deliveries = counts()
    return _count(variant, True) - _count(variant, False), ticks, applied, deliveries


def table(variants: list[str]) -> list[str]:
    lines = [
        f"Instructions executed by the pure core (callgrind; {CLIENTS} outboxes × {K} of 100 symbols, "
        f"2,000 ticks/s for {SECONDS:g} s of market time, drained every 5 ms):",
        "",
        "| variant | instructions | feed ticks | applied ticks | deliveries | per feed tick (incl. fan-out) "
        "| per applied tick | per delivery | vs base: feed tick | applied tick | delivery |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    bases: dict[str, tuple[float, float, float]] = {}
    for v in variants:
        instr, ticks, applied, deliveries = measure(v)
        per = (instr / ticks, instr / applied, instr / max(deliveries, 1))
        ref = "ingest-base" if v.startswith("ingest-") else "base"
        if v == ref:
            bases[ref] = per
        base = bases.get(ref)
        rel = [f"{(p / b - 1) * 100:+.1f}%" if base and v != ref else "" for p, b in zip(per, base or per, strict=True)]
        if not deliveries:  # nobody subscribed: no per-delivery figure
            rel[2] = "—"
        per_delivery = f"{per[2]:,.0f}" if deliveries else "—"
        lines.append(
            f"| {v} | {instr:,} | {ticks:,} | {applied:,} | {deliveries:,} | {per[0]:,.0f} | {per[1]:,.0f} "
            f"| {per_delivery} | {' | '.join(rel)} |"
        )
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
    ordered = sorted(variants, key=lambda v: (v.startswith("ingest-"), v not in ("base", "ingest-base")))
    if any(v.startswith("ingest-") for v in ordered) and "ingest-base" not in ordered:
        ordered.insert(next(i for i, v in enumerate(ordered) if v.startswith("ingest-")), "ingest-base")
    for line in table(["base", *[v for v in ordered if v != "base"]]):
        print(line, flush=True)


if __name__ == "__main__":
    main()
