"""``make bench``: run the benchmark suite and write docs/benchmarks.md.

    python -m benchmarks                 # everything (about 20 minutes)
    python -m benchmarks fixed ramp      # chosen modes
    python -m benchmarks fixed --rate 4000 --clients 1000 --k 5

Modes: fixed (the default workload, latency from the tick's scheduled and its emitted
time), features (market-data features off, defaults, defaults + crosses), many
(19,500 throttled connections × 5 symbols), ceiling (the highest rates with a sleeping
and a busy-polling load generator), matrix (how C, k and T change things), ramp
(highest tick rate kept up), idle (memory per idle connection), slow (stalled clients
beside normal ones), metrics (on vs off), loop (asyncio vs uvloop), deflate
(permessage-deflate), bars (bars on vs off, and bar fan-out to 500 clients × 10
series), core (the pure fan-out core without sockets), instructions (the same core
under callgrind: instruction counts that do not move with machine load), generator
(synthetic market ticks/s), replay (tick-file parsing), profile (py-spy on the server
under the fixed workload). Every run pins the server to core 0 and the load
generators to core 1 unless --shared-cores. ``python -m benchmarks.send_cost`` times
one loopback send() with the reader asleep and polling.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks import core
from benchmarks.harness import Load, Result, Server, ServerSpec, measure
from benchmarks.report import machine, ms, result_rows, write_section

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
RESULTS = Path(__file__).resolve().parent / "results"


def say(*parts: object) -> None:
    print(*parts, flush=True)


def server_spec(a: argparse.Namespace, **kw: object) -> ServerSpec:
    """The server for a run: pinned to its own core unless --shared-cores."""
    kw.setdefault("loop", a.loop)
    return ServerSpec(pin=not a.shared_cores, **kw)  # type: ignore[arg-type]


def summary(r: Result) -> str:
    lat = r.latency_ms
    return (
        f"{r.label}: {r.msgs_per_s:,.0f} msg/s ({r.delivery_ratio * 100:.1f}% delivered), "
        f"{r.frames / r.window_s:,.0f} frames/s, p50 {ms(lat['p50'])} p99 {ms(lat['p99'])} "
        f"max {ms(lat['max'])} ms, server CPU {r.server_cpu:.2f} ({r.cpu_us_per_msg:.2f} µs/msg, "
        f"{r.msgs_per_frame:.1f} msg/frame), load-gen CPU {r.loadgen_cpu:.2f}"
    )


def run(label: str, spec: ServerSpec, load: Load) -> Result:
    r = measure(spec, load, label=label)
    say("  " + summary(r))
    return r


def mode_fixed(a: argparse.Namespace) -> list[str]:
    """The default workload twice: latency from the tick's scheduled time (what a venue's
    source time would give: the feed's 1 ms batching included) and from its emission."""
    load = Load(a.clients, a.k, duration_s=a.duration)
    r = run("fixed (scheduled → client)", server_spec(a, rate=a.rate), load)
    e = run("fixed (emitted → client)", server_spec(a, rate=a.rate, timestamps="emitted"), load)
    ok = r.delivery_ratio >= 0.99 and r.latency_ms["p50"] <= 1.0 and r.latency_ms["p99"] <= 3.0
    mode = "shared cores" if a.shared_cores else "pinned: server on core 0, load generator on core 1"
    return [
        f"Default workload: {a.clients} clients × {a.k} symbols of 100, {a.rate:,.0f} ticks/s, {mode} "
        f"(target: all delivered, p50 ≤ 1.0 ms, p99 ≤ 3.0 ms scheduled → client: "
        f"**{'met' if ok else 'not met'}**).",
        "",
        *result_rows([r, e]),
    ]


def mode_matrix(a: argparse.Namespace) -> list[str]:
    rows: list[Result] = []
    for clients, k_, rate in (
        (100, 10, 2000), (500, 10, 2000), (1000, 10, 2000),
        (500, 1, 2000), (500, 50, 2000),
        (500, 10, 500), (500, 10, 4000), (500, 10, 8000),
    ):  # fmt: skip
        rows.append(
            run(f"C={clients} k={k_} T={rate}", server_spec(a, rate=rate), Load(clients, k_, duration_s=a.duration))
        )
    return ["How throughput and latency move with clients (C), symbols per client (k) and tick rate (T):", "", *result_rows(rows)]


def mode_ramp(a: argparse.Namespace) -> list[str]:
    rows: list[Result] = []
    best: Result | None = None
    for rate in (2000, 4000, 6000, 8000, 10000, 12000, 16000, 20000):
        r = run(f"T={rate}", server_spec(a, rate=rate), Load(a.clients, a.k, duration_s=a.duration))
        rows.append(r)
        if r.delivery_ratio >= 0.99 and r.latency_ms["p99"] <= 50:
            best = r
        else:
            break
    verdict = (
        f"Highest tick rate kept up (≥ 99% delivered and p99 ≤ 50 ms): **{best.spec.rate:,.0f} ticks/s = "
        f"{best.msgs_per_s:,.0f} messages/s delivered**."
        if best
        else "No rate met the criteria."
    )
    return [verdict, "", *result_rows(rows)]


def mode_idle(a: argparse.Namespace) -> list[str]:
    spec = server_spec(a, rate=100)
    srv = Server(spec)
    try:
        time.sleep(1)
        base = srv.rss_bytes()
        n = a.idle
        r = measure(spec, Load(n, 0, processes=4, warmup_s=5, duration_s=3), server=srv, label="idle")
        per = (r.server_rss_mb * 2**20 - base) / n
    finally:
        srv.stop()
    say(f"  idle: {n} connections, RSS {base / 2**20:.0f} -> {r.server_rss_mb:.0f} MiB, {per / 1024:.1f} KiB each")
    return [
        f"{n:,} idle connections (connected, no subscriptions): server RSS {base / 2**20:.0f} MiB before, "
        f"{r.server_rss_mb:.0f} MiB with them: **{per / 1024:.1f} KiB per connection** (target ≤ 20 KiB); "
        f"server CPU while idle {r.server_cpu:.2f}.",
    ]


def mode_slow(a: argparse.Namespace) -> list[str]:
    spec = server_spec(a, rate=a.rate)
    base = run("500 normal", spec, Load(500, a.k, duration_s=a.duration))
    # Stalled clients take every symbol with a 4 KiB receive buffer, so they fill up and
    # go through warning and 1013 within the window instead of after it.
    slow = run(
        "500 normal + 20 stalled",
        spec,
        Load(520, a.k, stalled=20, stalled_k=100, warmup_s=4, duration_s=max(a.duration, 10)),
    )
    growth = slow.server_rss_mb - slow.server_rss_start_mb
    ratio = slow.latency_ms["p99"] / base.latency_ms["p99"]
    closed = slow.counters.get("ticker_slow_consumer_disconnects_total", 0)
    return [
        f"20 stalled clients (never read) beside 500 normal ones: normal clients' p99 "
        f"{ms(base.latency_ms['p99'])} → {ms(slow.latency_ms['p99'])} ms ({ratio:.1f}×, target ≤ 2×); "
        f"server RSS grew {growth:.0f} MiB during the run (target < 100 MiB); "
        f"stalled clients closed with 1013: {closed:.0f}; updates conflated: "
        f"{slow.counters.get('ticker_updates_conflated_total', 0):,.0f}.",
        "",
        *result_rows([base, slow]),
    ]


def mode_metrics(a: argparse.Namespace) -> list[str]:
    rate = a.rate * 3
    on = run("metrics on", server_spec(a, rate=rate), Load(a.clients, a.k, duration_s=a.duration))
    off = run("metrics off", server_spec(a, rate=rate, metrics=False), Load(a.clients, a.k, duration_s=a.duration))
    cost = (on.server_cpu / on.msgs_per_s) / (off.server_cpu / off.msgs_per_s) - 1
    return [
        f"Metrics on vs off at {rate:,.0f} ticks/s: server CPU per delivered message "
        f"{cost * 100:+.1f}% with metrics on.",
        "",
        *result_rows([on, off]),
    ]


def mode_loop(a: argparse.Namespace) -> list[str]:
    rows = []
    for rate in (a.rate, a.rate * 3):
        for loop in ("asyncio", "uvloop"):
            rows.append(run(f"{loop}", server_spec(a, rate=rate, loop=loop), Load(a.clients, a.k, duration_s=a.duration)))
    return ["Event loop: asyncio vs uvloop.", "", *result_rows(rows)]


def mode_deflate(a: argparse.Namespace) -> list[str]:
    plain = run("plain", server_spec(a, rate=a.rate), Load(a.clients, a.k, duration_s=a.duration))
    spec = server_spec(a, rate=a.rate, compression=True)
    comp = run("permessage-deflate", spec, Load(a.clients, a.k, deflate=True, duration_s=a.duration))
    return [
        f"permessage-deflate: wire bytes {plain.bytes / plain.window_s / 1e6:.1f} → "
        f"{comp.bytes / comp.window_s / 1e6:.1f} MB/s; server CPU {plain.server_cpu:.2f} → {comp.server_cpu:.2f}.",
        "",
        *result_rows([plain, comp]),
    ]


def mode_bars(a: argparse.Namespace) -> list[str]:
    """Bars on at the defaults vs off, on the default quote workload (budget: +10% server
    CPU per delivered message), then bar fan-out: every client follows 10 series of 1s bars."""
    off_spec = server_spec(a, rate=a.rate, extra_toml="[bars]\nenabled = false\n")
    off = run("bars off", off_spec, Load(a.clients, a.k, duration_s=a.duration))
    on = run("bars on", server_spec(a, rate=a.rate), Load(a.clients, a.k, duration_s=a.duration))
    cost = (on.server_cpu / on.msgs_per_s) / (off.server_cpu / off.msgs_per_s) - 1
    fan = run(
        "bar fan-out", server_spec(a, rate=a.rate), Load(a.clients, a.k, bars="1s", duration_s=a.duration)
    )
    closed = fan.counters.get("ticker_bar_corrections_total", 0)
    return [
        f"Bars at the defaults (7 intervals, every symbol) vs off, {a.clients} clients × {a.k} symbols, "
        f"{a.rate:,.0f} ticks/s: server CPU per delivered quote message {cost * 100:+.1f}% "
        f"(budget +10%).",
        "",
        *result_rows([off, on]),
        "",
        f"Bar fan-out: {a.clients} clients × {a.k} series of 1s bars ({a.clients * a.k:,} subscriptions): "
        f"{fan.msgs_per_s:,.0f} bar messages/s delivered (forming updates merged per series per frame), "
        f"server CPU {fan.server_cpu:.2f}, {closed:,.0f} corrections (late ticks).",
        "",
        *result_rows([fan]),
    ]


#: Every market-data feature off: the quote path alone.
FEATURES_OFF = "[bars]\nenabled = false\n[resume]\nmax_updates = 0\n[market]\nday_stats = false\n"
#: Ten derived crosses over the benchmark's 100 synthetic symbols.
CROSSES = [
    "JPYCNH = USDCNH / USDJPY", "JPYMXN = USDMXN / USDJPY", "JPYSEK = USDSEK / USDJPY",
    "JPYNOK = USDNOK / USDJPY", "JPYZAR = USDZAR / USDJPY", "JPYPLN = USDPLN / USDJPY",
    "JPYSGD = USDSGD / USDJPY", "JPYHKD = USDHKD / USDJPY", "JPYTRY = USDTRY / USDJPY",
    "JPYDKK = USDDKK / USDJPY",
]


def mode_features(a: argparse.Namespace) -> list[str]:
    """What the market-data layer costs per delivered quote message at the default workload:
    everything off, the defaults (bars at 7 intervals, the resume ring, daily statistics),
    and the defaults with 10 derived crosses (budget: +10% per capability)."""
    load = Load(a.clients, a.k, duration_s=a.duration)
    off = run("market data off", server_spec(a, rate=a.rate, extra_toml=FEATURES_OFF), load)
    on = run("defaults", server_spec(a, rate=a.rate), load)
    crosses = "[market]\ncrosses = [" + ", ".join(f'"{c}"' for c in CROSSES) + "]\n"
    cx = run("defaults + 10 crosses", server_spec(a, rate=a.rate, extra_toml=crosses), load)

    def cost(r: Result) -> str:
        return f"{(r.cpu_us_per_msg / off.cpu_us_per_msg - 1) * 100:+.1f}%"

    return [
        f"Market-data features, {a.clients} clients × {a.k} symbols, {a.rate:,.0f} ticks/s: server CPU per "
        f"delivered message with the defaults (bars, resume ring, daily statistics) {cost(on)} over all off; "
        f"with 10 derived crosses as well {cost(cx)} (crosses are symbols too: they add ticks and deliveries).",
        "",
        *result_rows([off, on, cx]),
    ]


def mode_many(a: argparse.Namespace) -> list[str]:
    """Many dashboards at a human rate: ~20,000 connections × 5 symbols, throttled to 250 ms.

    19,500, not 20,000: this machine's open-file limit is 20,000 per process (hard, and
    not raisable here), and the server needs a few dozen files of its own. 975
    subscribers per symbol turn each tick into 975 deliveries, so the tick rates are
    low: 50 and 100 ticks/s over 100 symbols (0.5 and 1 per symbol per second)."""
    n = 19_500
    rows = [
        run(
            f"{n:,} × 5, throttle 250 ms, {rate:.0f} ticks/s",
            server_spec(a, rate=rate),
            Load(n, 5, processes=4, throttle_ms=250, warmup_s=45, duration_s=a.duration),
        )
        for rate in (50.0, 100.0)
    ]
    lines = [
        f"{n:,} connections × 5 symbols, each subscription throttled to one update per 250 ms "
        f"(19,500 rather than 20,000: the machine's hard open-file limit is 20,000 per process). "
        f"Latency is from the tick's time and includes up to 250 ms held by the throttle.",
        "",
    ]
    for r in rows:
        per_conn_kib = (r.server_rss_mb - r.server_rss_start_mb) * 1024 / n
        lines.append(
            f"- {r.spec.rate:,.0f} ticks/s: {r.msgs_per_s:,.0f} messages/s delivered "
            f"({r.delivery_ratio * 100:.1f}% of the ticks' deliveries), server CPU {r.server_cpu:.2f}, "
            f"RSS {r.server_rss_start_mb:,.0f} → {r.server_rss_mb:,.0f} MB (**{per_conn_kib:.1f} KiB per "
            f"subscribed connection**), p50 {ms(r.latency_ms['p50'])} ms, p99 {ms(r.latency_ms['p99'])} ms."
        )
    return [*lines, "", *result_rows(rows)]


def mode_ceiling(a: argparse.Namespace) -> list[str]:
    """The highest rates once more, with the load generator polling instead of sleeping, to
    separate the server's own cost from the wake-ups a sleeping client adds to each send."""
    rows = []
    for rate in (10000, 20000):
        for spin in (False, True):
            label = f"T={rate} " + ("busy-polling client" if spin else "sleeping client")
            rows.append(run(label, server_spec(a, rate=rate), Load(a.clients, a.k, spin=spin, duration_s=a.duration)))
    best = max(rows, key=lambda r: r.msgs_per_s if r.delivery_ratio >= 0.99 else 0)
    return [
        f"Ceiling, {a.clients} clients × {a.k}: best {best.msgs_per_s:,.0f} messages/s delivered "
        f"({best.label}) on {best.server_cpu:.2f} server cores = "
        f"{best.msgs_per_s / max(best.server_cpu, 1e-9):,.0f} messages/s per core, load generator "
        f"{best.loadgen_cpu:.2f} cores.",
        "",
        *result_rows(rows),
    ]


def mode_core(a: argparse.Namespace) -> list[str]:
    lines = core.run()
    for line in lines:
        say("  " + line)
    return lines


def mode_generator(a: argparse.Namespace) -> list[str]:
    lines = core.generator()
    for line in lines:
        say("  " + line)
    return lines


def mode_instructions(a: argparse.Namespace) -> list[str]:
    from benchmarks import instructions

    lines = instructions.table(list(instructions.VARIANTS))
    for line in lines:
        say("  " + line)
    return lines


def mode_profile(a: argparse.Namespace) -> list[str]:
    from benchmarks import profile

    lines = profile.profile(a.rate, a.duration, not a.shared_cores, a.clients, a.k)
    for line in lines:
        say("  " + line)
    return lines


def mode_replay(a: argparse.Namespace) -> list[str]:
    from benchmarks import replay_parse

    lines = replay_parse.table()
    for line in lines:
        say("  " + line)
    return lines


MODES = {
    "core": mode_core, "instructions": mode_instructions, "generator": mode_generator, "replay": mode_replay,
    "fixed": mode_fixed, "features": mode_features, "many": mode_many, "ceiling": mode_ceiling,
    "matrix": mode_matrix, "ramp": mode_ramp, "idle": mode_idle,
    "slow": mode_slow, "metrics": mode_metrics, "loop": mode_loop, "deflate": mode_deflate,
    "profile": mode_profile,
    "bars": mode_bars,
}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("modes", nargs="*", choices=[*MODES, []], default=[])
    p.add_argument("--rate", type=float, default=2000.0, help="ticks/s for the fixed workload")
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--k", type=int, default=10, help="symbols per client")
    p.add_argument("--duration", type=float, default=8.0, help="seconds measured per run")
    p.add_argument("--idle", type=int, default=10_000, help="connections for the idle mode")
    p.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    p.add_argument(
        "--no-write", action="store_true", help="print only; leave docs/benchmarks.md and results/ alone"
    )
    p.add_argument(
        "--shared-cores", action="store_true",
        help="let server and load generators share both cores (default: server pinned to core 0, "
        "load generators to core 1)",
    )
    a = p.parse_args()
    modes = a.modes or list(MODES)
    RESULTS.mkdir(exist_ok=True)
    say(f"machine: {machine()}")
    if not a.no_write:
        write_section(DOC, "machine", [f"Machine: {machine()}."])
    for name in modes:
        say(f"== {name}")
        try:
            lines = MODES[name](a)
        except Exception as exc:  # keep going: one failed mode must not lose the others
            say(f"  {name} failed: {exc!r}")
            lines = [f"Mode `{name}` failed: `{exc!r}`."]
        cmd = f"python -m benchmarks {name}" + ("" if a.loop == "asyncio" else f" --loop {a.loop}")
        cmd += " --shared-cores" if a.shared_cores else ""
        if not a.no_write:
            write_section(DOC, name, [*lines, "", f"<sub>`{cmd}`</sub>"])
        if not a.no_write:
            (RESULTS / f"{name}.json").write_text(json.dumps({"lines": lines}, indent=1))
    if not a.no_write:
        say(f"wrote {DOC}")


if __name__ == "__main__":
    main()
