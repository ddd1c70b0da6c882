"""Markdown tables for benchmark results, written between markers in a doc.

``<!-- bench:NAME -->`` ... ``<!-- /bench:NAME -->`` regions are replaced;
everything else in the document (the analysis) is left as written.
"""

from __future__ import annotations

import platform
import re
import subprocess
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from benchmarks.harness import Result


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    ncpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    versions = []
    for pkg in ("aiohttp", "orjson", "numpy", "uvloop"):
        try:
            versions.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{pkg} (not installed)")
    return (
        f"{cpu}, {ncpu} cores, {int(mem) // 1024 // 1024} GiB RAM; Linux {platform.release()}; "
        f"Python {platform.python_version()}; {', '.join(versions)}; "
        f"measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def ms(x: float) -> str:
    return "—" if x != x else (f"{x:.2f}" if x < 10 else f"{x:.0f}")


def k(x: float) -> str:
    return f"{x / 1000:,.1f}k"


def result_rows(results: Sequence[Result], label: str = "") -> list[str]:
    head = (
        f"| {label or 'run'} | mode | clients × k | ticks/s | delivered msg/s | delivered | frames/s "
        "| msg/frame | MB/s | p50 ms | p90 | p99 | p99.9 | max | server CPU | CPU µs/msg "
        "| server RSS MB | load-gen CPU |"
    )
    rows = [head, "|" + "---|" * 18]
    for r in results:
        mode = "pinned" if r.spec.pin else "shared cores"
        rows.append(
            f"| {r.label} | {mode} | {r.load.clients} × {r.load.k} | {r.spec.rate:,.0f} "
            f"| {k(r.msgs_per_s)} | {r.delivery_ratio * 100:.1f}% | {k(r.frames / r.window_s)} "
            f"| {r.msgs_per_frame:.1f} | {r.bytes / r.window_s / 1e6:.1f} | {ms(r.latency_ms['p50'])} "
            f"| {ms(r.latency_ms['p90'])} | {ms(r.latency_ms['p99'])} | {ms(r.latency_ms['p99.9'])} "
            f"| {ms(r.latency_ms['max'])} | {r.server_cpu:.2f} | {r.cpu_us_per_msg:.2f} "
            f"| {r.server_rss_mb:.0f} | {r.loadgen_cpu:.2f} |"
        )
    return rows


def write_section(doc: Path, name: str, lines: Sequence[str]) -> None:
    text = doc.read_text() if doc.exists() else ""
    body = f"<!-- bench:{name} -->\n" + "\n".join(lines) + f"\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    found = pattern.search(text)
    doc.write_text(pattern.sub(lambda _: body, text) if found else text.rstrip() + f"\n\n{body}\n")
