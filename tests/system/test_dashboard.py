"""The Grafana dashboard (config/grafana/ticker.json) cannot drift from the code.

Importable structure (datasource as a variable, unique ids, a sane grid),
the panels the issue asks for, every query parsed by promtool, and every
series it reads exported by a running service. tests/test_prometheus.py
runs each query against a real Prometheus scraping a live service.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.helpers import client, running
from tests.support.prom import (
    GRAFANA_BUILTINS,
    dashboard,
    dashboard_panels,
    dashboard_queries,
    metric_names,
    promtool,
    sample_names,
    scrape,
    substitute,
    variables,
)

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def test_dashboard_is_importable_with_the_datasource_as_a_variable() -> None:
    d = dashboard()
    assert isinstance(d["schemaVersion"], int) and d["schemaVersion"] >= 36
    assert d["uid"] and d["title"] and d["id"] is None
    templating = {v["name"]: v for v in d["templating"]["list"]}
    ds = templating["datasource"]
    assert ds["type"] == "datasource" and ds["query"] == "prometheus"
    for var in templating.values():
        if var["type"] == "query":
            assert var["datasource"] == DATASOURCE, var["name"]

    panels = dashboard_panels()
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    cells: set[tuple[int, int]] = set()
    for p in panels:
        g = p["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, f"panel {p['title']!r} overlaps another"
        cells |= mine
        if p["type"] == "row":
            continue
        assert p["datasource"] == DATASOURCE, p["title"]
        assert p["targets"], p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            assert t["datasource"] == DATASOURCE and t["expr"], p["title"]


def test_dashboard_has_the_panels_an_sre_needs() -> None:
    """Throughput, latency quantiles, connections, subscriptions, rejections,
    staleness and slow consumers: each read by at least one panel."""
    used = set().union(*(metric_names(e) for _, e in dashboard_queries()))
    for needed in (
        "ticker_ticks_ingested_total",
        "ticker_sent_messages_total",
        "ticker_sent_frames_total",
        "ticker_sent_bytes_total",
        "ticker_fanout_latency_seconds_bucket",
        "ticker_feed_latency_seconds_bucket",
        "ticker_connections",
        "ticker_subscriptions",
        "ticker_ticks_rejected_total",
        "ticker_symbols",
        "ticker_symbol_last_tick_age_seconds",
        "ticker_slow_consumer_disconnects_total",
        "ticker_send_queue_depth_messages_bucket",
    ):
        assert needed in used, needed
    quantiles = [e for _, e in dashboard_queries() if e.startswith("histogram_quantile(")]
    for q in ("0.5", "0.99"):
        for hist in ("ticker_fanout_latency_seconds", "ticker_feed_latency_seconds"):
            assert any(e.startswith(f"histogram_quantile({q},") and hist in e for e in quantiles), (q, hist)


def test_dashboard_variables_are_defined() -> None:
    defined = {v["name"] for v in dashboard()["templating"]["list"]} | set(GRAFANA_BUILTINS)
    for title, expr in dashboard_queries():
        assert variables(expr) <= defined, f"{title}: {expr}"


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    """promtool parses each query as a recording rule's expression."""
    queries = dashboard_queries()
    values = {"datasource": "prometheus", "job": ".*", "instance": ".*", "feed": ".*"}
    rules = [
        {"record": f"ticker:dashboard_query_{i}", "expr": substitute(expr, values)}
        for i, (_, expr) in enumerate(queries)
    ]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_promtool_rejects_a_broken_query(tmp_path: Path) -> None:
    """The check above can fail: an unbalanced parenthesis is caught."""
    path = tmp_path / "bad.yml"
    rule = {"record": "x:y", "expr": "sum(rate(ticker_sent_bytes_total[1m])"}
    path.write_text(json.dumps({"groups": [{"name": "g", "rules": [rule]}]}), encoding="utf-8")
    assert promtool("check", "rules", str(path)).returncode != 0


async def test_every_series_the_dashboard_reads_is_exported() -> None:
    async with running() as srv, client(srv.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": ["EURUSD"]})
        await c.until(lambda m: m["type"] == "update")
        exported = sample_names(await scrape(srv.base))
    for title, expr in dashboard_queries():
        names = metric_names(expr)
        assert names, f"{title}: reads no ticker/process series: {expr}"
        assert names <= exported, f"{title}: not exported: {sorted(names - exported)}"


def test_metric_names_ignores_label_values_and_functions() -> None:
    expr = 'sum by (feed) (rate(ticker_ticks_ingested_total{feed="ticker_fake_total"}[5m])) / process_max_fds'
    assert metric_names(expr) == {"ticker_ticks_ingested_total", "process_max_fds"}
