"""Replay parse throughput at speed 0: ticks/s read, parsed and merged, on one core.

Run: ``python -m benchmarks.replay_parse [--lines N] [--repeat R]``; prints a
markdown table. Files are generated into a temporary directory in each
format (from the seeded synthetic market), then read by the same code the
replay feed runs (TickFileReader chunks, and the time-ordered merge), with
no service behind it: this measures parsing, not fan-out.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from feeds.replay.layout import DUKASCOPY, HISTDATA, TRUEFX, CsvLayout
from feeds.replay.merge import merge
from feeds.replay.reader import TickFileReader

GENERIC = CsvLayout("csv", ("time", "bid", "ask", "bid_size", "ask_size"), "unix_ms")


def _series(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = 1704189600_000 + np.cumsum(rng.integers(1, 400, n))  # ms
    bid = np.round(1.1 + np.cumsum(rng.normal(0, 2e-5, n)), 5)
    ask = np.round(bid + rng.integers(1, 20, n) * 1e-5, 5)
    return t, bid, ask


def _write(path: Path, lines: Iterator[str], header: str | None = None) -> None:
    text = ((header + "\n") if header else "") + "\n".join(lines) + "\n"
    data = text.encode()
    path.write_bytes(gzip.compress(data, 1, mtime=0) if path.suffix == ".gz" else data)


def make_files(out: Path, n: int) -> dict[str, tuple[Path, CsvLayout]]:
    from datetime import UTC, datetime, timedelta

    t, bid, ask = _series(n, 1)
    stamps = [datetime(2024, 1, 2, tzinfo=UTC) + timedelta(milliseconds=int(x - t[0])) for x in t]
    est = [s - timedelta(hours=5) for s in stamps]
    b, a = [f"{x:.5f}" for x in bid], [f"{x:.5f}" for x in ask]
    files: dict[str, tuple[Path, CsvLayout]] = {}
    hd = [
        f"{e:%Y%m%d %H%M%S}{e.microsecond // 1000:03d},{x},{y},0" for e, x, y in zip(est, b, a, strict=True)
    ]
    files["histdata"] = (out / "DAT_ASCII_EURUSD_T_1.csv", HISTDATA)
    _write(files["histdata"][0], iter(hd))
    files["histdata (gzip)"] = (out / "DAT_ASCII_EURUSD_T_2.csv.gz", HISTDATA)
    _write(files["histdata (gzip)"][0], iter(hd))
    # Prices with trailing zeros dropped: lines differ in length, the general (gather) path.
    files["histdata, ragged prices"] = (out / "DAT_ASCII_EURUSD_T_3.csv", HISTDATA)
    br, ar = [x.rstrip("0") for x in b], [y.rstrip("0") for y in a]
    _write(
        files["histdata, ragged prices"][0],
        (
            f"{e:%Y%m%d %H%M%S}{e.microsecond // 1000:03d},{x},{y},0"
            for e, x, y in zip(est, br, ar, strict=True)
        ),
    )
    files["dukascopy"] = (out / "EURUSD_Ticks_1.csv", DUKASCOPY)
    _write(
        files["dukascopy"][0],
        (
            f"{s:%d.%m.%Y %H:%M:%S}.{s.microsecond // 1000:03d},{y},{x},1.5,2.25"
            for s, x, y in zip(stamps, b, a, strict=True)
        ),
        "Gmt time,Ask,Bid,AskVolume,BidVolume",
    )
    files["truefx"] = (out / "EURUSD-2024-01.csv", TRUEFX)
    _write(
        files["truefx"][0],
        (
            f"EUR/USD,{s:%Y%m%d %H:%M:%S}.{s.microsecond // 1000:03d},{x},{y}"
            for s, x, y in zip(stamps, b, a, strict=True)
        ),
    )
    files["csv (unix_ms)"] = (out / "eurusd.csv", GENERIC)
    _write(
        files["csv (unix_ms)"][0], (f"{ms},{x},{y},1000000,2000000" for ms, x, y in zip(t, b, a, strict=True))
    )
    return files


def best_rate(run: Callable[[], int], repeat: int) -> tuple[float, float, int]:
    """Best ticks/s over ``repeat`` runs, by wall clock and by this process's CPU time
    (the CPU figure is what one core does even when the machine is shared)."""
    wall = cpu = 0.0
    n = 0
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        n = run()
        w1, c1 = time.perf_counter(), time.process_time()
        wall = max(wall, n / (w1 - w0))
        cpu = max(cpu, n / max(c1 - c0, 1e-9))
    return wall, cpu, n


def into_service(path: Path) -> int:
    """The replay feed at speed 0 through the real ingest path into the symbol table
    (no subscribers): what the service as a whole takes in from a file."""
    from ticker.runtime.configure import from_dict
    from ticker.runtime.service import Service

    cfg = from_dict({"feeds": [{"type": "replay", "format": "histdata", "files": [str(path)], "speed": 0}]})
    service = Service(cfg)
    (feed,) = service.feeds
    asyncio.run(feed.run(service._sink(feed)))
    return service.feed_stats[feed.name].ingested


def reader(path: Path, layout: CsvLayout) -> TickFileReader:
    return TickFileReader(path, layout, {"EURUSD": 0}, file_symbol="EURUSD")


def table(lines: int = 1_000_000, repeat: int = 3) -> list[str]:
    """The benchmark as markdown lines (used by ``python -m benchmarks replay``)."""
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp), lines)
        rows = []
        for label, (path, layout) in files.items():
            wall, cpu, n = best_rate(
                lambda p=path, lay=layout: sum(len(c) for c in reader(p, lay).chunks()), repeat
            )
            rows.append((label, n, path.stat().st_size, wall, cpu))
        hd, gz = files["histdata"], files["histdata (gzip)"]

        def merged() -> int:
            return sum(len(c) for c in merge([reader(*hd).chunks(), reader(*gz).chunks()]))

        wall, cpu, n = best_rate(merged, repeat)
        rows.append(
            ("merge: histdata + histdata (gzip)", n, hd[0].stat().st_size + gz[0].stat().st_size, wall, cpu)
        )
        wall, cpu, n = best_rate(lambda: into_service(hd[0]), repeat)
        rows.append(("whole feed: histdata into the symbol table", n, hd[0].stat().st_size, wall, cpu))
    py = f"{platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}"
    out = [
        f"Replay parse throughput at speed 0, one core ({py}; best of {repeat}; target ≥ 500,000 ticks/s):",
        "",
        "| format | ticks | file MB | ticks/s (wall) | ticks/s (CPU) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for label, n, size, wall, cpu in rows:
        out.append(f"| {label} | {n:,} | {size / 1e6:.1f} | {wall:,.0f} | {cpu:,.0f} |")
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lines", type=int, default=1_000_000, help="ticks per file (default 1,000,000)")
    p.add_argument("--repeat", type=int, default=3, help="runs per case; the best is reported")
    args = p.parse_args(argv)
    print("\n".join(table(args.lines, args.repeat)))


if __name__ == "__main__":
    main()
