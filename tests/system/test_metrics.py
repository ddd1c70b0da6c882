"""/metrics of a running service: Prometheus-clean, documented, and telling the truth.

docs/operations.md must list every ``ticker_*`` family the service exports
and nothing it does not export, so neither can drift from the other.
"""

from __future__ import annotations

import asyncio
import re

from prometheus_client.parser import text_string_to_metric_families

from feeds.base import Feed, TickSink
from tests.support.helpers import client, config, running, wait_for
from tests.support.prom import OPERATIONS_DOC, family_names, promtool, scrape
from ticker.core.model import Instrument, Tick
from ticker.core.table import Reject
from ticker.protocol.codes import CloseReason, ErrorCode

# A metric is documented by a table row that starts with its name in backticks.
_DOC_ROW = re.compile(r"^\|\s*`(ticker_[a-z0-9_]+)`\s*\|\s*(\w+)\s*\|", re.M)


def documented() -> dict[str, str]:
    return dict(_DOC_ROW.findall(OPERATIONS_DOC.read_text(encoding="utf-8")))


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name:
                out[tuple(sorted(s.labels.items()))] = s.value
    return out


async def _scrape_busy_service() -> str:
    async with running() as srv, client(srv.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": ["EURUSD", "USDJPY"]})
        await c.until(lambda m: m["type"] == "update")
        return await scrape(srv.base)


async def test_every_exported_family_is_documented_and_every_documented_one_exported() -> None:
    exported = {
        n: t for n, t in family_names(await _scrape_busy_service()).items() if n.startswith("ticker_")
    }
    docs = documented()
    assert len(docs) >= 25
    assert sorted(set(exported) - set(docs)) == [], "exported but missing from docs/operations.md"
    assert sorted(set(docs) - set(exported)) == [], "documented in docs/operations.md but not exported"
    for name, kind in exported.items():
        assert docs[name] == kind, f"{name}: docs say {docs[name]}, /metrics says {kind}"


async def test_promtool_check_metrics_passes_on_the_live_exposition() -> None:
    text = await _scrape_busy_service()
    result = promtool("check", "metrics", stdin=text)
    assert result.returncode == 0, result.stdout + result.stderr
    bad = "# HELP ticker_latency_ms x\n# TYPE ticker_latency_ms counter\nticker_latency_ms 1\n"
    assert promtool("check", "metrics", stdin=bad).returncode != 0  # the check can fail


async def test_known_label_values_are_exported_as_zero_before_anything_happens() -> None:
    async with running() as srv:
        text = await scrape(srv.base)
    closed = samples(text, "ticker_connections_closed_total")
    assert {dict(k)["reason"] for k in closed} >= set(CloseReason) and set(closed.values()) == {0}
    codes = {dict(k)["code"] for k in samples(text, "ticker_protocol_errors_total")}
    assert codes >= {v for k, v in vars(ErrorCode).items() if k.isupper()}
    rejected = samples(text, "ticker_ticks_rejected_total")
    assert {dict(k)["reason"] for k in rejected} == {r.label for r in Reject}
    state = {dict(k)["state"]: v for k, v in samples(text, "ticker_feed_state").items()}
    assert sum(state.values()) == 1 and state["running"] == 1
    assert samples(text, "ticker_build_info") and samples(text, "ticker_connections") == {(): 0.0}


async def test_send_queue_depth_is_sampled_for_every_connection_even_idle_ones() -> None:
    async with running() as srv, client(srv.ws_url), client(srv.ws_url), client(srv.ws_url):
        await wait_for(lambda: srv.service.fanout_stats.connections == 3)
        depth = srv.service.fanout_stats.queue_depth
        start = depth.count
        await wait_for(lambda: depth.count >= start + 3 * 4, timeout=10)  # 4 sweeps of 3 connections
        text = await scrape(srv.base)
    buckets = samples(text, "ticker_send_queue_depth_messages_bucket")
    count = samples(text, "ticker_send_queue_depth_messages_count")[()]
    assert buckets[(("le", "0.0"),)] == count  # nobody subscribed: every queue sampled empty


class OneTick(Feed):
    """Ticks one symbol once; its other symbol never ticks."""

    def __init__(self, name: str, symbols: list[str]) -> None:
        super().__init__(name)
        self.symbols = symbols

    def instruments(self) -> list[Instrument]:
        return [Instrument(s, 5, 0.0001) for s in self.symbols]

    async def run(self, sink: TickSink) -> None:
        sink.publish_tick(Tick(self.symbols[0], 1.1, 1.2, 1))
        sink.publish_tick(Tick(self.symbols[0], 1.2, 1.1, 2))  # crossed: rejected
        await asyncio.Event().wait()


class Broken(Feed):
    def __init__(self) -> None:
        super().__init__("broken")

    def instruments(self) -> list[Instrument]:
        return [Instrument("USDCHF", 5, 0.0001)]

    async def run(self, sink: TickSink) -> None:
        raise ConnectionError("upstream refused")


async def test_per_feed_symbols_ages_rejections_and_restarts() -> None:
    feeds: list[Feed] = [OneTick("fx", ["EURUSD", "GBPUSD"]), Broken()]
    async with running(config(), feeds=feeds) as srv:
        await wait_for(lambda: srv.service.runner.restarts["broken"] >= 1, timeout=10)
        await wait_for(lambda: srv.service.feed_stats["fx"].ingested == 1)
        text = await scrape(srv.base)
    symbols = {(dict(k)["feed"], dict(k)["status"]): v for k, v in samples(text, "ticker_symbols").items()}
    assert symbols == {
        ("fx", "pending"): 1, ("fx", "live"): 1, ("fx", "stale"): 0, ("fx", "closed"): 0,
        ("broken", "pending"): 1, ("broken", "live"): 0, ("broken", "stale"): 0, ("broken", "closed"): 0,
    }  # fmt: skip
    ages = samples(text, "ticker_symbol_last_tick_age_seconds")
    assert list(ages) == [(("feed", "fx"), ("symbol", "EURUSD"))]  # GBPUSD and USDCHF never ticked
    assert 0 <= next(iter(ages.values())) < 60
    rejected = samples(text, "ticker_ticks_rejected_total")
    assert rejected[(("feed", "fx"), ("reason", "crossed"))] == 1
    assert samples(text, "ticker_ticks_ingested_total")[(("feed", "fx"),)] == 1
    assert samples(text, "ticker_feed_restarts_total")[(("feed", "broken"),)] >= 1
    assert samples(text, "ticker_feed_restarts_total")[(("feed", "fx"),)] == 0
