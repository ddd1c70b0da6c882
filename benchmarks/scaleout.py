"""Scale-out benchmarks for docs/scaling.md: the Redis bus, and gateway workers.

    python -m benchmarks.scaleout bus       # bus throughput: feed -> Redis -> gateway, ticks/s
    python -m benchmarks.scaleout latency   # end-to-end latency the bus adds (in-process vs bus)
    python -m benchmarks.scaleout workers   # the fan-out workload with 1 and 2 gateway workers

Each run starts its own ``redis-server`` on a free loopback port (no
persistence), a ``ticker feed`` process and ``ticker serve --workers N``, all
as real processes; clients are the fan-out harness's load generators
(:mod:`benchmarks.harness`). CPU is read from /proc for every process of the
topology (feed, gateway parent and workers, Redis), in cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.harness import CLK_TCK, PAGE, Load, Result, Server, ServerSpec, free_port, measure


def cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except FileNotFoundError:
        return 0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{base} did not become ready:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.1)


def scrape(base: str) -> dict[str, Any]:
    """Unlabelled samples by name, and histogram buckets as name -> [(le, count)]."""
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        text = r.read().decode()
    out: dict[str, Any] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name.endswith("_bucket"):
                out.setdefault(s.name, []).append((float(s.labels["le"]), s.value))
            elif not s.labels:
                out[s.name] = s.value
    return out


def hist_quantile(before: list[tuple[float, float]], after: list[tuple[float, float]], q: float) -> float:
    """Upper bucket bound holding quantile q of the observations between two scrapes (ms)."""
    b = dict(before)
    delta = [(le, c - b.get(le, 0.0)) for le, c in after]
    total = delta[-1][1]
    if total <= 0:
        return float("nan")
    for le, c in delta:
        if c >= q * total:
            return le * 1000
    return float("inf")


class Topology:
    """Redis + ``ticker feed`` + ``ticker serve --workers N``; duck-types harness.Server."""

    def __init__(self, spec: ServerSpec, workers: int) -> None:
        self.spec = spec
        self.workers = workers
        self.port = free_port()
        self.feed_port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="ticker-scale-")
        d = Path(self._dir.name)
        redis_port = free_port()
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        self.redis = subprocess.Popen(
            [binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        cfg = d / "bench.toml"
        cfg.write_text(f'bus = "redis://127.0.0.1:{redis_port}/0"\n' + spec.toml(self.port))
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        time.sleep(0.3)
        self.feed = subprocess.Popen(
            [sys.executable, "-m", "ticker", "feed", "--config", str(cfg), "--http-port", str(self.feed_port)],
            env=env, stdout=subprocess.DEVNULL, stderr=open(d / "feed.log", "wb"),  # noqa: SIM115
        )  # fmt: skip
        self.gateway = subprocess.Popen(
            [sys.executable, "-m", "ticker", "serve", "--config", str(cfg), "--workers", str(workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=open(d / "serve.log", "wb"),  # noqa: SIM115
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        self.feed_base = f"http://127.0.0.1:{self.feed_port}"
        wait_ready(self.feed_base, self.feed, d / "feed.log")
        wait_ready(self.base, self.gateway, d / "serve.log")
        while workers > 1 and len(children(self.gateway.pid)) < workers:
            time.sleep(0.1)
        time.sleep(1.0)  # every worker synced

    def pids(self) -> list[int]:
        return [self.redis.pid, self.feed.pid, self.gateway.pid, *children(self.gateway.pid)]

    def cpu_s(self) -> float:
        return sum(cpu_s(p) for p in self.pids())

    def rss_bytes(self) -> int:
        return sum(rss(p) for p in self.pids())

    def log(self) -> str:
        d = Path(self._dir.name)
        return "".join((d / f).read_text(errors="replace")[-2000:] for f in ("feed.log", "serve.log"))

    def symbols(self) -> list[dict[str, Any]]:
        # The feed process's table: every gateway mirrors these seqs.
        with urllib.request.urlopen(self.feed_base + "/api/symbols", timeout=10) as r:
            return list(json.loads(r.read())["symbols"])

    def counters(self) -> dict[str, float]:
        return {}

    def stop(self) -> None:
        for p in (self.gateway, self.feed, self.redis):
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._dir.cleanup()


def say(*parts: object) -> None:
    print(*parts, flush=True)


def row(label: str, r: Result) -> str:
    lat = r.latency_ms
    return (
        f"| {label} | {r.msgs_per_s:,.0f} | {r.delivery_ratio * 100:.1f}% | {lat['p50']:.2f} | "
        f"{lat['p99']:.2f} | {r.server_cpu:.2f} | {r.loadgen_cpu:.2f} |"
    )


HEADER = (
    "| topology | msgs/s delivered | delivered | p50 ms | p99 ms | server CPU (cores) | load-gen CPU |\n"
    "|---|---|---|---|---|---|---|"
)


def run_topology(label: str, spec: ServerSpec, load: Load, workers: int) -> Result:
    server: Any = Server(spec) if workers == 0 else Topology(spec, workers)
    try:
        r = measure(spec, load, server=server)
    finally:
        server.stop()
    say(row(label, r))
    return r


def mode_workers(a: argparse.Namespace) -> None:
    spec = ServerSpec(rate=a.rate)
    load = Load(a.clients, a.k, duration_s=a.duration)
    say(f"fan-out workload: {a.clients} clients x {a.k} of 100 symbols, {a.rate:,.0f} ticks/s, {a.duration:g} s")
    say(HEADER)
    results = {}
    for label, workers in (("in-process (memory bus)", 0), ("bus, 1 gateway", 1), ("bus, 2 gateway workers", 2)):
        results[workers] = run_topology(label, spec, load, workers)
    say(f"ratio 2 workers / 1 worker (msgs/s delivered): {results[2].msgs_per_s / results[1].msgs_per_s:.2f}")


def mode_latency(a: argparse.Namespace) -> None:
    spec = ServerSpec(rate=a.latency_rate)
    load = Load(a.latency_clients, 10, duration_s=a.duration)
    say(f"latency: {a.latency_clients} clients x 10 symbols, {a.latency_rate:,.0f} ticks/s (light load)")
    say(HEADER)
    for label, workers in (("in-process (memory bus)", 0), ("bus, 1 gateway", 1)):
        run_topology(label, spec, load, workers)


def mode_bus(a: argparse.Namespace) -> None:
    say("bus throughput: synthetic feed at the offered rate -> Redis -> one gateway (no clients)")
    say("| offered ticks/s | published/s | consumed/s | bus p50 ms | bus p99 ms | feed CPU | gateway CPU | Redis CPU |")
    say("|---|---|---|---|---|---|---|---|")
    for rate in a.bus_rates:
        topo = Topology(ServerSpec(rate=rate), 1)
        try:
            time.sleep(2.0)
            f0, g0 = scrape(topo.feed_base), scrape(topo.base)
            c0 = [cpu_s(p) for p in (topo.feed.pid, topo.gateway.pid, topo.redis.pid)]
            t0 = time.monotonic()
            time.sleep(a.duration)
            f1, g1 = scrape(topo.feed_base), scrape(topo.base)
            c1 = [cpu_s(p) for p in (topo.feed.pid, topo.gateway.pid, topo.redis.pid)]
            dt = time.monotonic() - t0
        finally:
            topo.stop()
        pub = (f1["ticker_bus_ticks_published_total"] - f0["ticker_bus_ticks_published_total"]) / dt
        con = (g1["ticker_bus_ticks_consumed_total"] - g0["ticker_bus_ticks_consumed_total"]) / dt
        h0, h1 = g0["ticker_bus_latency_seconds_bucket"], g1["ticker_bus_latency_seconds_bucket"]
        cpu = np.subtract(c1, c0) / dt
        say(
            f"| {rate:,.0f} | {pub:,.0f} | {con:,.0f} | {hist_quantile(h0, h1, 0.5):.2f} | "
            f"{hist_quantile(h0, h1, 0.99):.2f} | {cpu[0]:.2f} | {cpu[1]:.2f} | {cpu[2]:.2f} |"
        )


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scaleout")
    p.add_argument("modes", nargs="*", default=["bus", "latency", "workers"])
    p.add_argument("--rate", type=float, default=8000.0, help="ticks/s for the workers mode")
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--duration", type=float, default=8.0)
    p.add_argument("--latency-rate", type=float, default=1000.0)
    p.add_argument("--latency-clients", type=int, default=20)
    p.add_argument("--bus-rates", type=float, nargs="+", default=[10_000.0, 50_000.0, 100_000.0, 200_000.0])
    a = p.parse_args()
    modes = {"bus": mode_bus, "latency": mode_latency, "workers": mode_workers}
    for m in a.modes:
        modes[m](a)


if __name__ == "__main__":
    main()
