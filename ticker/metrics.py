"""Prometheus exposition of the service's counters.

Hot-path code counts in plain ints and :class:`~ticker.stats.Histogram`
objects; :class:`ServiceCollector` reads them only when Prometheus scrapes.
Each service gets its own registry (with the process, platform and GC
collectors), so several services can live in one process, as in tests.
Labels are bounded: feed names, reject reasons, close reasons, error codes
and the configured symbols; never a client or connection.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ticker import __version__
from ticker.model import Status
from ticker.stats import Histogram
from ticker.table import Reject

if TYPE_CHECKING:
    from ticker.service import Service

__all__ = ["CONTENT_TYPE_LATEST", "make_registry", "render"]

FEED_STATES = ("starting", "running", "backing_off", "finished", "stopped")


def _histogram(
    name: str, doc: str, labels: list[str], series: Iterable[tuple[list[str], Histogram]]
) -> Metric:
    fam = HistogramMetricFamily(name, doc, labels=labels)
    for values, h in series:
        fam.add_metric(values, h.cumulative(), h.sum)
    return fam


def _labelled(
    family: type[CounterMetricFamily] | type[GaugeMetricFamily],
    name: str,
    doc: str,
    labels: list[str],
    samples: Iterable[tuple[list[str], float]],
) -> Metric:
    fam = family(name, doc, labels=labels)
    for values, value in samples:
        fam.add_metric(values, value)
    return fam


class ServiceCollector(Collector):
    def __init__(self, service: Service) -> None:
        self.s = service

    def collect(self) -> Iterator[Metric]:
        s = self.s
        fs = s.fanout_stats
        feeds = list(s.feed_stats.values())
        counter, gauge = CounterMetricFamily, GaugeMetricFamily

        yield InfoMetricFamily(
            "ticker_build",
            "Version of ticker and of the Python running it.",
            value={"version": __version__, "python": platform.python_version()},
        )
        yield _labelled(
            counter,
            "ticker_ticks_ingested",
            "Ticks applied to the symbol table.",
            ["feed"],
            (([f.name], f.ingested) for f in feeds),
        )
        yield _labelled(
            counter,
            "ticker_ticks_rejected",
            "Ticks refused, by feed and reason.",
            ["feed", "reason"],
            (([f.name, r.label], f.rejected.get(r.label, 0)) for f in feeds for r in Reject),
        )
        yield _histogram(
            "ticker_feed_latency_seconds",
            "Ingest time minus the tick's source timestamp, by feed.",
            ["feed"],
            (([f.name], f.latency) for f in feeds),
        )
        yield _histogram(
            "ticker_fanout_latency_seconds",
            "Tick ingest to the frame carrying it handed to the socket; one observation "
            "per frame, for the oldest message in it.",
            [],
            [([], fs.fanout_latency)],
        )
        yield _histogram(
            "ticker_send_queue_depth_messages",
            "Messages pending in a connection's send queue, sampled each time its writer wakes.",
            [],
            [([], fs.queue_depth)],
        )
        yield _labelled(
            gauge,
            "ticker_feed_state",
            "1 for the feed's current state.",
            ["feed", "state"],
            (([f.name, st], float(f.state == st)) for f in feeds for st in FEED_STATES),
        )
        yield _labelled(
            counter,
            "ticker_feed_restarts",
            "Feed failures followed by a restart.",
            ["feed"],
            (([name], n) for name, n in s.runner.restarts.items()),
        )
        yield _labelled(
            counter,
            "ticker_feed_reconnects",
            "Upstream reconnects, by feed.",
            ["feed"],
            (([f.name], f.reconnects) for f in feeds),
        )

        yield gauge("ticker_connections", "WebSocket connections open now.", value=fs.connections)
        yield counter("ticker_connections_opened", "WebSocket connections accepted.", value=fs.opened)
        yield _labelled(
            counter,
            "ticker_connections_closed",
            "WebSocket connections closed, by reason.",
            ["reason"],
            (([r], n) for r, n in sorted(fs.closed.items())),
        )
        yield gauge(
            "ticker_subscriptions",
            "Symbol subscriptions held by all connections.",
            value=s.hub.subscription_count,
        )
        yield _labelled(
            counter,
            "ticker_requests",
            "Client requests handled, by op.",
            ["op"],
            (([op], n) for op, n in sorted(fs.requests.items())),
        )
        yield _labelled(
            counter,
            "ticker_protocol_errors",
            "Error replies sent to clients, by code.",
            ["code"],
            (([c], n) for c, n in sorted(fs.errors.items())),
        )
        for name, doc, value in (
            ("ticker_messages_sent", "Protocol messages sent to clients.", fs.messages_sent),
            ("ticker_frames_sent", "WebSocket frames sent to clients.", fs.frames_sent),
            ("ticker_sent_bytes", "Payload bytes sent to clients.", fs.bytes_sent),
            (
                "ticker_updates_conflated",
                "Updates merged into a later one (conflation, throttle).",
                fs.conflated,
            ),
            ("ticker_updates_dropped", "Pending messages discarded when a connection closed.", fs.dropped),
            ("ticker_slow_consumer_warnings", "Slow-consumer warnings sent.", fs.slow_consumer_warnings),
            (
                "ticker_slow_consumer_disconnects",
                "Connections closed (1013) for not keeping up.",
                fs.slow_consumer_closes,
            ),
        ):
            yield counter(name, doc, value=value)

        table = s.table
        now = s.clock()
        yield _labelled(
            gauge,
            "ticker_symbol_last_tick_age_seconds",
            "Seconds since the symbol's last applied tick (absent before its first).",
            ["symbol", "feed"],
            (
                ([sym, s.feed_of[sym]], max(now - float(table.applied_at[sid]), 0.0))
                for sid, sym in enumerate(table.symbols)
                if table.applied_at[sid]
            ),
        )
        yield _labelled(
            gauge,
            "ticker_symbols",
            "Symbols by status.",
            ["status"],
            (([st.label], float((table.status == st).sum())) for st in Status),
        )
        yield gauge("ticker_start_time_seconds", "Unix time the service started.", value=s.started_at)
        yield gauge("ticker_scrape_time_seconds", "Unix time of this scrape.", value=time.time())


def make_registry(service: Service) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(service))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
