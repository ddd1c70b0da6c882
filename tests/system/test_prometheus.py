"""A real Prometheus scrapes the running service: what an SRE will see.

One Prometheus server (Debian's package) scrapes a live service every
second while a WebSocket client is subscribed, so ticks are ingested and
fanned out. The test then asks Prometheus itself: ticks grow, the latency
histograms have samples and give a p99, every query of the Grafana
dashboard returns data, and every alert rule evaluates cleanly and stays
quiet on a healthy service.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
from typing import Any

from tests.support.helpers import client, config, running
from tests.support.prom import ALERTS, dashboard_queries, prometheus, substitute

SYMBOLS = ["EURUSD", "USDJPY", "GBPUSD", "AUDUSD", "XAUUSD"]


def _value(result: list[dict[str, Any]]) -> float:
    assert len(result) == 1, result
    return float(result[0]["value"][1])


async def test_prometheus_scrapes_ticks_latency_dashboard_and_alerts() -> None:
    async with running(config()) as srv, client(srv.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": SYMBOLS, "id": 1})
        await c.until(lambda m: m["type"] == "update")

        async def drain() -> None:  # a client that keeps reading, so fan-out never backs up
            while True:
                await c.ws.receive()

        reader = asyncio.create_task(drain())
        target = srv.base.removeprefix("http://")
        try:
            async with prometheus([target], [ALERTS]) as prom:
                up = await prom.until('up{job="ticker"}', lambda r: len(r) == 1, timeout=30)
                assert up[0]["value"][1] == "1", prom.log_tail()

                # Ingested ticks grow from scrape to scrape.
                series = await prom.until(
                    'ticker_ticks_ingested_total{job="ticker", feed="synthetic"}[30s]',
                    lambda r: len(r) == 1 and len(r[0]["values"]) >= 3,
                )
                counts = [float(v) for _, v in series[0]["values"]]
                assert all(b > a for a, b in itertools.pairwise(counts)), counts

                # Both latency histograms have samples, and Prometheus computes a p99 from them.
                for hist in ("ticker_fanout_latency_seconds", "ticker_feed_latency_seconds"):
                    assert _value(await prom.query(f"sum({hist}_count)")) > 0
                    p99 = _value(
                        await prom.until(
                            f"histogram_quantile(0.99, sum by (le) (rate({hist}_bucket[5s])))",
                            lambda r: len(r) == 1 and math.isfinite(float(r[0]["value"][1])),
                        )
                    )
                    assert 0 < p99 <= 10, (hist, p99)

                # Every dashboard query returns data from this service.
                values = {"job": "ticker", "instance": ".*", "feed": ".*", "__rate_interval": "5s"}
                for title, expr in dashboard_queries():
                    try:
                        await prom.until(substitute(expr, values), lambda r: len(r) > 0, timeout=15)
                    except AssertionError as exc:
                        raise AssertionError(f"dashboard panel {title!r} shows no data: {exc}") from None

                # Every alert rule loaded, evaluates without error, and none fires on a healthy service.
                rules = await _evaluated_rules(prom)
                assert {r["name"] for r in rules} >= {"TickerFeedStale", "TickerFanoutLatencyHigh"}
                for rule in rules:
                    assert rule["health"] == "ok", rule
                    assert rule["state"] == "inactive", rule
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def _evaluated_rules(prom: Any, timeout: float = 15.0) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        data = await prom.api("/api/v1/rules")
        rules = [r for g in data["groups"] for r in g["rules"]]
        if rules and all(not r["lastEvaluation"].startswith("0001") for r in rules):
            return rules
        assert loop.time() < deadline, f"rules not evaluated in time: {rules}"
        await asyncio.sleep(0.5)
