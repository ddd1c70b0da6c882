"""Memory of the resume ring, measured with tracemalloc (not a timing: safe on a busy machine).

Synthetic ticks go through the real ingest path (table -> encode -> ring) until
every symbol's ring is full at the given ``max_updates``; each tick gets its own
arrival time, as sparse ticks do live (a batch shares one, which costs less).
Reports what the ring holds per update and per full symbol, and what the default
config costs: the default synthetic feed ticks each of its 30 symbols about 4
times a second, so the 120 s age bound, not the count, limits it.

    python -m benchmarks.ring_memory [--max-updates 1000] [--symbols 100]
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc

from feeds.catalog import spec, universe
from feeds.synthetic.market import SyntheticMarket
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.ingest import Ingest
from ticker.core.ring import UpdateRing
from ticker.core.stats import FeedStats
from ticker.core.table import SymbolTable

#: The default synthetic feed: ~124 ticks/s over 30 symbols (config/default.toml).
DEFAULT_RATE = 124.0
DEFAULT_SYMBOLS = 30
DEFAULT_AGE_S = 120.0


def measure(n_symbols: int, max_updates: int) -> tuple[float, float, int]:
    """(bytes per update held, payload bytes per update, updates held)."""
    specs = [spec(s) for s in universe()[:n_symbols]]
    table = SymbolTable([s.instrument for s in specs])
    clock = [0.0]
    ingest = Ingest(table, Hub(len(table)), QuoteEncoder(table), clock=lambda: clock[0], observe=False)
    market = SyntheticMarket(specs, total_rate=20_000, seed=3, start_us=1_700_000_000_000_000)
    feed = FeedStats("memory")
    # Ticks first (outside the measurement), then the ring alone is what grows.
    ticks = []
    t = 0.0
    while len(ticks) < n_symbols * max_updates * 1.3:
        batch = market.generate(t, t + 0.05)
        ticks.extend(batch.rows())
        t += 0.05
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    ingest.ring = ring = UpdateRing(len(table), max_updates=max_updates, max_age_s=1e9)
    for i, row in enumerate(ticks):
        clock[0] = i * 1e-3 + 0.5  # a distinct float per tick
        ingest.apply_row(feed, row)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    return grown / ring.updates, ring.bytes / ring.updates, ring.updates


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.ring_memory", description=__doc__)
    p.add_argument("--max-updates", type=int, default=1000)
    p.add_argument("--symbols", type=int, default=100)
    a = p.parse_args()
    per_update, payload, held = measure(a.symbols, a.max_updates)
    full = per_update * a.max_updates
    default_held = min(a.max_updates, DEFAULT_RATE / DEFAULT_SYMBOLS * DEFAULT_AGE_S)
    print(f"{held:,} updates held over {a.symbols} symbols (max_updates {a.max_updates})")
    print(f"per update: {per_update:,.0f} bytes in memory, of which {payload:,.0f} payload")
    print(
        f"per symbol, full ring: {full / 1024:,.0f} KiB; {a.symbols} symbols full: {full * a.symbols / 2**20:,.1f} MiB"
    )
    print(
        f"default config (30 synthetic symbols, ~{DEFAULT_RATE / DEFAULT_SYMBOLS:.1f} ticks/s each, 120 s): "
        f"~{default_held:,.0f} updates per symbol, {default_held * per_update / 1024:,.0f} KiB per symbol, "
        f"{default_held * per_update * DEFAULT_SYMBOLS / 2**20:,.1f} MiB in all"
    )


if __name__ == "__main__":
    main()
