"""Where the server's time goes under the default workload: py-spy on the real process.

Runs the fixed workload (pinned unless --shared-cores), samples the server with
``py-spy record --native --format raw`` for the measurement window, and folds the
stacks into a table of the functions that hold the most samples, self and inclusive,
with the kernel's share (``--native`` attributes time inside ``send()`` to the
syscall frames). The output goes into docs/benchmarks.md's profile section.

    python -m benchmarks.profile [--rate 2000] [--seconds 8]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.harness import Load, Server, ServerSpec, measure


def _fold(raw: Path) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """(samples, self counts, inclusive counts) from py-spy's raw (collapsed) output."""
    self_counts: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n_text = line.rpartition(" ")
        if not stack or not n_text.isdigit():
            continue
        n = int(n_text)
        frames = [_short(f) for f in stack.split(";")]
        if "thread.py:_worker" in frames:
            continue  # the feed pacer's thread, sleeping or waiting for work (py-spy counts waits)
        total += n
        # Keep what runs inside the event loop's callbacks: the frames above them (runpy,
        # cli, run_forever) hold every sample and say nothing.
        for i, f in enumerate(frames):
            if f in ("events.py:Handle._run", "base_events.py:BaseEventLoop._run_once"):
                frames = frames[i:]
                break
        self_counts[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    return total, self_counts, incl


def _short(frame: str) -> str:
    """``flush (ticker/server/connection.py:189)`` -> ``connection.py:flush``."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{Path(path).name}:{name}" if path else name


def profile(
    rate: float, seconds: float, pin: bool, clients: int, k: int, throttle_ms: int = 0, warmup_s: float = 3.0
) -> list[str]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    spec = ServerSpec(rate=rate, pin=pin)
    server = Server(spec)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw.txt"
            load = Load(
                clients, k, warmup_s=warmup_s, duration_s=seconds, throttle_ms=throttle_ms,
                processes=4 if clients > 1000 else 0,
            )
            sampler: subprocess.Popen[bytes] | None = None

            def start_sampler() -> None:
                nonlocal sampler
                time.sleep(2.0 + clients / 1500 + load.warmup_s)  # connect budget + warm-up
                sampler = subprocess.Popen(
                    [py_spy, "record", "--pid", str(server.proc.pid), "--native", "--rate", "100",
                     "--duration", str(int(seconds)), "--format", "raw", "--output", str(raw)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip

            t = threading.Thread(target=start_sampler)
            t.start()
            result = measure(spec, load, server=server, label="profiled")
            t.join()
            if sampler is not None:
                sampler.wait(timeout=seconds + 30)
            total, self_counts, incl = _fold(raw)
    finally:
        server.stop()
    lines = [
        f"py-spy on the server, {clients} clients × {k}, {rate:,.0f} ticks/s, "
        f"{'pinned' if pin else 'shared cores'}: {result.msgs_per_s:,.0f} msg/s, "
        f"p50 {result.latency_ms['p50']:.2f} ms, p99 {result.latency_ms['p99']:.2f} ms, "
        f"server CPU {result.server_cpu:.2f} ({result.cpu_us_per_msg:.2f} µs/msg, "
        f"{result.msgs_per_frame:.1f} msg/frame); {total:,} samples.",
        "",
        "| function | self | inclusive |",
        "|---|---|---|",
    ]
    top = [f for f, _ in incl.most_common(30) if "0x" not in f]
    shown = sorted(set(top[:25]) | {f for f, _ in self_counts.most_common(12)}, key=lambda f: -incl[f])
    for f in shown:
        lines.append(f"| `{f}` | {self_counts[f] / total:.1%} | {incl[f] / total:.1%} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    p.add_argument("--rate", type=float, default=2000.0)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--shared-cores", action="store_true")
    a = p.parse_args()
    for line in profile(a.rate, a.seconds, not a.shared_cores, a.clients, a.k):
        print(line, flush=True)


if __name__ == "__main__":
    main()
