"""Prometheus families for the bus, read from :class:`BusStats` at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ticker.bus.stats import BusStats


def _counter(name: str, doc: str, value: float) -> Metric:
    return CounterMetricFamily(name, doc, value=value)


class BusCollector(Collector):
    def __init__(self, stats: BusStats) -> None:
        self.s = stats

    def collect(self) -> Iterator[Metric]:
        s = self.s
        yield GaugeMetricFamily(
            "ticker_bus_connected", "1 while the Redis bus connection works.", value=s.connected
        )
        yield _counter("ticker_bus_reconnects", "Reconnections to Redis after losing it.", s.reconnects)
        errors = CounterMetricFamily(
            "ticker_bus_errors", "Redis errors that broke the link.", labels=["error"]
        )
        for name, n in sorted(s.errors.items()):
            errors.add_metric([name], n)
        yield errors
        if s.role == "feed":
            yield _counter("ticker_bus_entries_published", "Stream entries written.", s.entries_published)
            yield _counter("ticker_bus_ticks_published", "Symbol states (ticks) written.", s.rows_published)
            yield _counter(
                "ticker_bus_ticks_dropped",
                "Ticks not published while Redis was away (a full entry followed).",
                s.rows_dropped,
            )
            fam = HistogramMetricFamily(
                "ticker_bus_write_seconds", "Round trip of one publishing transaction."
            )
            fam.add_metric([], s.write_seconds.cumulative(), s.write_seconds.sum)
            yield fam
            return
        yield _counter("ticker_bus_entries_consumed", "Stream entries read.", s.entries_consumed)
        yield _counter("ticker_bus_ticks_consumed", "Symbol states (ticks) read.", s.rows_consumed)
        yield _counter(
            "ticker_bus_seq_resets",
            "Symbols whose sequence a new publisher restarted lower (subscribers got a snapshot).",
            s.resets,
        )
        yield _counter("ticker_bus_bad_entries", "Entries that could not be decoded.", s.bad_entries)
        yield _counter("ticker_bus_bad_ticks", "Rows that could not be decoded.", s.bad_rows)
        yield GaugeMetricFamily(
            "ticker_bus_unknown_symbols",
            "Symbols on the bus that this gateway's config does not list.",
            value=len(s.unknown_symbols),
        )
        resyncs = CounterMetricFamily(
            "ticker_bus_resyncs", "Feed state reloaded from Redis, by reason.", labels=["reason"]
        )
        for reason, n in sorted(s.resyncs.items()):
            resyncs.add_metric([reason], n)
        yield resyncs
        fam = HistogramMetricFamily(
            "ticker_bus_latency_seconds", "Publisher's write to this gateway's read of an entry."
        )
        fam.add_metric([], s.latency.cumulative(), s.latency.sum)
        yield fam
