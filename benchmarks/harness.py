"""Start a real ticker server and load-generator processes; measure one window.

The server runs as its own process (``ticker serve`` with a generated config)
so its CPU and RSS can be read from /proc; load generators are separate
processes (see :mod:`benchmarks.loadgen`) whose own CPU is reported, so a
saturated generator shows up as the limit instead of hiding in the numbers.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.loadgen import LAT_BINS

CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Pinned mode (the default for the tables): the server on this core, every load
#: generator on the other, so neither steals the other's core (docs/benchmarks.md).
SERVER_CORE = 0
LOADGEN_CORE = 1
HERE = Path(__file__).resolve().parent
NATIVE = HERE / ".build" / "loadgen"


def native_loadgen() -> Path | None:
    """The C load generator, compiled on first use; None when no C compiler works."""
    src = HERE / "loadgen.c"
    if NATIVE.exists() and NATIVE.stat().st_mtime >= src.stat().st_mtime:
        return NATIVE
    NATIVE.parent.mkdir(exist_ok=True)
    cc = os.environ.get("CC", "cc")
    try:
        subprocess.run([cc, "-O2", "-o", str(NATIVE), str(src)], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return NATIVE
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinning_available() -> bool:
    """taskset exists and there are two cores to split between server and load."""
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(cmd: list[str], core: int | None) -> list[str]:
    """``cmd`` run on one core (``taskset -c``), or as it is when ``core`` is None."""
    return cmd if core is None else ["taskset", "-c", str(core), *cmd]


@dataclass
class ServerSpec:
    symbols: int = 100
    rate: float = 2000.0
    metrics: bool = True
    compression: bool = False
    loop: str = "asyncio"
    extra_toml: str = ""
    #: Pin the server to SERVER_CORE and the load generators to LOADGEN_CORE.
    pin: bool = True
    #: The synthetic feed's ``timestamps``: "scheduled" (latency from the model's time,
    #: feed batching included) or "emitted" (from the hand-over to the table).
    timestamps: str = "scheduled"

    def toml(self, port: int) -> str:
        return f"""
[server]
host = "127.0.0.1"
port = {port}
heartbeat_s = 0
loop = "{self.loop}"
[log]
level = "warning"
[limits]
max_symbols_per_connection = 1000
[fanout]
compression = {str(self.compression).lower()}
[metrics]
enabled = {str(self.metrics).lower()}
{self.extra_toml}
[[feeds]]
type = "synthetic"
count = {self.symbols}
rate = {self.rate}
seed = 1
timestamps = "{self.timestamps}"
"""


class Server:
    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self.port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="ticker-bench-")
        cfg = Path(self._dir.name) / "bench.toml"
        cfg.write_text(spec.toml(self.port))
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        core = SERVER_CORE if spec.pin and pinning_available() else None
        self.proc = subprocess.Popen(
            pinned([sys.executable, "-m", "ticker", "serve", "--config", str(cfg)], core),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(self._dir.name) / "server.log", "wb"),  # noqa: SIM115
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not become ready:\n" + self.log())
            time.sleep(0.1)

    def log(self) -> str:
        return (Path(self._dir.name) / "server.log").read_text(errors="replace")[-3000:]

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def rss_bytes(self) -> int:
        return int(Path(f"/proc/{self.proc.pid}/statm").read_text().split()[1]) * PAGE

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return r.read()

    def symbols(self) -> list[dict[str, Any]]:
        return json.loads(self.get("/api/symbols"))["symbols"]

    def counters(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if not self.spec.metrics:
            return out
        for fam in text_string_to_metric_families(self.get("/metrics").decode()):
            for s in fam.samples:
                if s.name.startswith("ticker_") and not s.labels:
                    out[s.name] = s.value
                elif s.name == "ticker_ticks_ingested_total":
                    out[s.name] = out.get(s.name, 0) + s.value
        return out

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._dir.cleanup()


@dataclass
class Load:
    clients: int = 500
    k: int = 10
    stalled: int = 0
    stalled_k: int = 0  # symbols per stalled connection (0 = k); the C generator only
    deflate: bool = False
    python_loadgen: bool = False  # force the Python generator (the C one is used when it builds)
    processes: int = 0  # 0 = one per 250 connections (min 1, max 4)
    #: Subscribe with this throttle_ms (the C generator only); 0 = every update.
    throttle_ms: int = 0
    #: Busy-poll instead of sleeping in epoll_wait (the C generator only; all
    #: connections in one process, which then keeps its core busy).
    spin: bool = False
    bars: str = ""  # follow this bar interval of the k symbols instead of their quotes (Python generator)
    warmup_s: float = 3.0
    duration_s: float = 10.0


@dataclass
class Result:
    label: str
    spec: ServerSpec
    load: Load
    window_s: float
    delivered: int
    expected: int
    frames: int
    bytes: int
    latency_ms: dict[str, float]
    server_cpu: float  # cores (1.0 = one core busy)
    server_rss_mb: float
    server_rss_start_mb: float
    loadgen_cpu: float  # cores, all generator processes together
    counters: dict[str, float] = field(default_factory=dict)
    close_codes: dict[str, int] = field(default_factory=dict)
    warnings: int = 0
    generator: str = "python"

    @property
    def delivery_ratio(self) -> float:
        return self.delivered / self.expected if self.expected else math.nan

    @property
    def msgs_per_s(self) -> float:
        return self.delivered / self.window_s

    @property
    def cpu_us_per_msg(self) -> float:
        """Server CPU time per delivered message, in µs (the budget every feature is held to)."""
        return self.server_cpu * self.window_s / self.delivered * 1e6 if self.delivered else math.nan

    @property
    def msgs_per_frame(self) -> float:
        return self.delivered / self.frames if self.frames else math.nan


def _quantiles(hist: np.ndarray, max_us: int) -> dict[str, float]:
    total = hist.sum()
    out: dict[str, float] = {}
    if not total:
        return {k: math.nan for k in ("p50", "p90", "p99", "p99.9", "max")}
    cum = np.cumsum(hist)
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999)):
        i = int(np.searchsorted(cum, q * total))
        out[name] = float(LAT_BINS[i + 1]) / 1000  # upper edge of the bin, ms
    out["max"] = max_us / 1000
    return out


def measure(spec: ServerSpec, load: Load, server: Server | None = None, label: str = "") -> Result:
    """Run one load against a (new, unless given) server and measure one window."""
    own = server is None
    srv = server or Server(spec)
    try:
        rss_start = srv.rss_bytes()
        symbols = [s["symbol"] for s in srv.symbols()]
        procs = load.processes or (1 if load.spin else min(max(1, math.ceil(load.clients / 250)), 4))
        per = [load.clients // procs + (1 if i < load.clients % procs else 0) for i in range(procs)]
        stalled = [load.stalled // procs + (1 if i < load.stalled % procs else 0) for i in range(procs)]
        connect_budget = 2.0 + load.clients / 1500
        start_at = time.time() + connect_budget + load.warmup_s
        end_at = start_at + load.duration_s
        gens = []
        first = 0
        native = None if load.deflate or load.python_loadgen or load.bars else native_loadgen()
        with tempfile.TemporaryDirectory(prefix="ticker-bench-") as tmp:
            edges_file = Path(tmp) / "edges"
            edges_file.write_text("\n".join(str(int(e)) for e in LAT_BINS) + "\n")
            for n, st in zip(per, stalled, strict=True):
                if native is not None:
                    cmd = [
                        str(native), "127.0.0.1", str(srv.port), "/ws", str(n), str(first), str(load.k),
                        ",".join(symbols), str(st), repr(start_at), repr(end_at), str(load.stalled_k),
                        str(load.throttle_ms), str(int(load.spin)),
                    ]
                else:
                    cmd = [
                        sys.executable, "-m", "benchmarks.loadgen", "--port", str(srv.port),
                        "--connections", str(n), "--first", str(first), "--k", str(load.k),
                        "--symbols", ",".join(symbols), "--stalled", str(st),
                        "--start-at", str(start_at), "--end-at", str(end_at),
                        *(["--deflate"] if load.deflate else []),
                        *(["--bars", load.bars] if load.bars else []),
                    ]
                core = LOADGEN_CORE if spec.pin and pinning_available() else None
                with edges_file.open("rb") as edges:  # its own open file: its own offset
                    gens.append(subprocess.Popen(pinned(cmd, core), stdin=edges, stdout=subprocess.PIPE))
                first += n
        time.sleep(max(start_at - time.time(), 0))
        seq0 = {s["symbol"]: s["seq"] for s in srv.symbols()}
        cpu0, t0 = srv.cpu_s(), time.time()
        time.sleep(max(end_at - time.time(), 0))
        cpu1, t1 = srv.cpu_s(), time.time()
        seq1 = {s["symbol"]: s["seq"] for s in srv.symbols()}
        rss_end = srv.rss_bytes()
        counters = srv.counters()
        outs = []
        for g in gens:
            out, _ = g.communicate(timeout=60 + load.clients / 100)
            if g.returncode != 0:
                raise RuntimeError(f"load generator failed (exit {g.returncode})")
            outs.append(json.loads(out))
        # Expected deliveries: each connection gets every tick of each subscribed symbol
        # (stalled connections excluded).
        ticks = np.array([seq1[s] - seq0[s] for s in symbols])
        expected = 0
        if load.bars:  # forming updates are merged per frame: no expected count
            ticks = np.zeros_like(ticks)
        first = 0
        for n, st in zip(per, stalled, strict=True):
            for i in range(first + st, first + n):
                expected += int(sum(ticks[(i * load.k + j) % len(symbols)] for j in range(load.k)))
            first += n
        hist = np.zeros(len(LAT_BINS) - 1, dtype=np.int64)
        for o in outs:
            if o["latency_hist"]:
                hist += np.array(o["latency_hist"], dtype=np.int64)
        window = t1 - t0
        codes: dict[str, int] = {}
        for o in outs:
            for c, n in o["close_codes"].items():
                codes[c] = codes.get(c, 0) + n
        return Result(
            label=label,
            spec=spec,
            load=load,
            window_s=window,
            delivered=sum(o["updates"] for o in outs),
            expected=expected,
            frames=sum(o["frames"] for o in outs),
            bytes=sum(o["bytes"] for o in outs),
            latency_ms=_quantiles(hist, max(o["latency_max_us"] for o in outs)),
            server_cpu=(cpu1 - cpu0) / window,
            server_rss_mb=rss_end / 2**20,
            server_rss_start_mb=rss_start / 2**20,
            loadgen_cpu=sum(o["cpu_s"] for o in outs) / window,
            counters=counters,
            close_codes=codes,
            warnings=sum(o["warnings"] for o in outs),
            generator=outs[0].get("generator", "python"),
        )
    except Exception:
        if own:
            sys.stderr.write(srv.log())
        raise
    finally:
        if own:
            srv.stop()
