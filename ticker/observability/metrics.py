"""Prometheus exposition of the service's counters.

Hot-path code counts in plain ints and :class:`~ticker.core.stats.Histogram`
objects; the collectors here read them only when Prometheus scrapes, so
metrics cost the fan-out path an integer increment, never a lock. Each
service gets its own registry (with the process, platform and GC
collectors), so several services can live in one process, as in tests.
This package is the only one that imports prometheus_client.

Naming scheme (docs/operations.md lists every family; a test keeps the two
equal in both directions):

* every family starts with ``ticker_``; units are base units spelled out at
  the end (``_seconds``, ``_bytes``); counters end in ``_total``
  (prometheus-client appends it), histograms are ``_seconds`` or name what
  they count (``_messages``);
* labels are bounded: feed names, reject reasons, close reasons, error
  codes, request ops and the configured symbols; never a client, a peer
  address or a connection;
* every family is yielded on every scrape, even with no samples yet, and
  label values known in advance (reasons, codes, states) are exported as
  zero, so ``rate()`` and ``increase()`` see the first event and a dashboard
  never shows "no data" for something that simply has not happened.

The families themselves are tables (:data:`SERVICE_FAMILIES`,
:data:`~ticker.observability.bus_metrics.BUS_FAMILIES`) of
:class:`~ticker.observability.families.Family` rows.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
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

from feeds.runner import FeedState
from ticker import __version__
from ticker.core.model import Status
from ticker.core.resume import Outcome
from ticker.core.stats import Histogram
from ticker.core.table import Reject
from ticker.observability.families import Family, Kind, Sample, counter, gauge, histogram, with_known
from ticker.observability.market_metrics import MARKET_FAMILIES
from ticker.protocol.codes import CloseReason, ErrorCode
from ticker.runtime.service import Service
from ticker.security.limits import REFUSAL_REASONS

__all__ = ["CONTENT_TYPE_LATEST", "Registry", "make_registry", "render"]

#: The registry type the web shell keeps (so it need not import prometheus_client).
Registry = CollectorRegistry


@dataclass(frozen=True, slots=True)
class ServiceView:
    """A service plus what its families precompute once: the feed of every symbol."""

    service: Service
    feed_names: list[str]
    sid_feed: npt.NDArray[np.intp]

    @classmethod
    def of(cls, service: Service) -> ServiceView:
        names = list(service.feed_stats)
        index = {name: i for i, name in enumerate(names)}
        sid_feed = np.array([index[service.feed_of[s]] for s in service.table.symbols], dtype=np.intp)
        return cls(service, names, sid_feed)


def _per_feed(read: Any) -> Any:
    """Samples ``([feed], read(stats))`` for every feed."""
    return lambda v: [([f.name], read(f)) for f in v.service.feed_stats.values()]


def _symbols_by_status(v: ServiceView) -> Iterable[Sample]:
    statuses = list(Status)
    n_feeds = len(v.feed_names)
    counts = np.bincount(
        v.sid_feed * len(statuses) + v.service.table.status.astype(np.intp),
        minlength=n_feeds * len(statuses),
    ).reshape(n_feeds, len(statuses))
    return [
        ([feed, st.label], float(counts[i, st])) for i, feed in enumerate(v.feed_names) for st in statuses
    ]


def _last_tick_ages(v: ServiceView) -> Iterable[Sample]:
    s = v.service
    table = s.table
    applied = table.applied_at
    ticked = np.flatnonzero(applied).tolist()
    ages = np.maximum(s.clock() - applied, 0.0).tolist()
    return [([table.symbols[sid], s.feed_of[table.symbols[sid]]], ages[sid]) for sid in ticked]


def _fanout(name: str, doc: str, attr: str) -> Family[ServiceView]:
    return counter(name, doc, lambda v: getattr(v.service.fanout_stats, attr))


C, G, H = Kind.COUNTER, Kind.GAUGE, Kind.HISTOGRAM

#: Every family of a service, in exposition order.
SERVICE_FAMILIES: tuple[Family[ServiceView], ...] = (
    # ---- feeds
    Family(C, "ticker_ticks_ingested", "Ticks applied to the symbol table, by feed.", ("feed",),
           _per_feed(lambda f: f.ingested)),
    Family(C, "ticker_ticks_rejected", "Ticks refused without touching state, by feed and reason.",
           ("feed", "reason"),
           lambda v: [([f.name, r.label], f.rejected.get(r.label, 0))
                      for f in v.service.feed_stats.values() for r in Reject]),
    Family(H, "ticker_feed_latency_seconds", "Ingest time minus the tick's source timestamp, by feed.",
           ("feed",), _per_feed(lambda f: f.latency)),
    Family(G, "ticker_feed_state", "1 for the state each feed is in now, 0 for the others.",
           ("feed", "state"),
           lambda v: [([f.name, st.value], float(f.state == st.value))
                      for f in v.service.feed_stats.values() for st in FeedState]),
    Family(C, "ticker_feed_restarts", "Feed failures followed by a restart with backoff, by feed.",
           ("feed",), lambda v: [([f], v.service.runner.restarts.get(f, 0)) for f in v.feed_names]),
    Family(C, "ticker_feed_reconnects", "Reconnects to an upstream source within a running feed, by feed.",
           ("feed",), _per_feed(lambda f: f.reconnects)),
    Family(C, "ticker_feed_parse_errors",
           "Upstream messages or file lines a feed could not parse and skipped, by feed.",
           ("feed",), _per_feed(lambda f: f.parse_errors)),
    Family(C, "ticker_feed_failovers",
           "Symbols switched between a primary feed and its backup, by primary and direction.",
           ("feed", "direction"),
           lambda v: [([f.name, d], f.failovers.get(d, 0))
                      for f in v.service.feed_stats.values() for d in ("to_backup", "to_primary")]),
    Family(C, "ticker_feed_standby_ticks",
           "Ticks a backup feed delivered while its primary was serving (not applied), by feed.",
           ("feed",), _per_feed(lambda f: f.standby)),
    # ---- symbols
    Family(G, "ticker_symbols", "Configured symbols by feed and data status (pending, live, stale, closed).",
           ("feed", "status"), _symbols_by_status),
    Family(G, "ticker_symbol_last_tick_age_seconds",
           "Seconds since the symbol's last applied tick (absent before its first).",
           ("symbol", "feed"), _last_tick_ages),
    # ---- clients
    gauge("ticker_connections", "WebSocket connections open now.",
          lambda v: v.service.fanout_stats.connections),
    counter("ticker_connections_opened", "WebSocket connections accepted.",
            lambda v: v.service.fanout_stats.opened),
    Family(C, "ticker_connections_closed", "WebSocket connections closed, by reason.", ("reason",),
           lambda v: with_known(v.service.fanout_stats.closed, CloseReason)),
    Family(C, "ticker_handshakes_refused",
           "WebSocket handshakes refused before the upgrade (HTTP 401/403/429/503), by reason.",
           ("reason",), lambda v: with_known(v.service.fanout_stats.refused, REFUSAL_REASONS)),
    gauge("ticker_subscriptions", "Symbol subscriptions held by all connections.",
          lambda v: v.service.hub.subscription_count),
    Family(C, "ticker_requests", "Client requests handled, by op.", ("op",),
           lambda v: with_known(v.service.fanout_stats.requests, ())),
    Family(C, "ticker_protocol_errors", "Error replies sent to clients, by code.", ("code",),
           lambda v: with_known(v.service.fanout_stats.errors, ErrorCode)),
    # ---- fan-out
    histogram("ticker_fanout_latency_seconds",
              "Tick ingest to the frame carrying it handed to the socket; one observation "
              "per frame, for the oldest message in it.", lambda v: v.service.fanout_stats.fanout_latency),
    histogram("ticker_send_queue_depth_messages",
              "Messages waiting in each connection's send queue, sampled every 0.25 s.",
              lambda v: v.service.fanout_stats.queue_depth),
    _fanout("ticker_sent_messages", "Protocol messages sent to clients.", "messages_sent"),
    _fanout("ticker_sent_frames", "WebSocket frames sent to clients (a frame batches messages).",
            "frames_sent"),
    _fanout("ticker_sent_bytes", "Payload bytes of the frames sent to clients.", "bytes_sent"),
    _fanout("ticker_updates_conflated",
            "Updates merged into a later one for the same symbol (conflation, throttle).", "conflated"),
    _fanout("ticker_updates_dropped", "Messages still queued when their connection closed.", "dropped"),
    _fanout("ticker_slow_consumer_warnings", "slow_consumer warnings sent to clients.",
            "slow_consumer_warnings"),
    _fanout("ticker_slow_consumer_disconnects", "Connections closed with 1013 for not keeping up.",
            "slow_consumer_closes"),
    # ---- resume and heartbeats
    Family(C, "ticker_resumes", "Symbols a client resumed with since, by outcome (recovered or why not).",
           ("outcome",), lambda v: with_known(v.service.fanout_stats.resumes, (o.value for o in Outcome))),
    _fanout("ticker_resume_replayed_updates", "Updates sent to resuming clients from the resume ring.",
            "replayed"),
    gauge("ticker_resume_ring_bytes", "Payload bytes of the updates held in the resume ring.",
          lambda v: v.service.ingest.ring.bytes if v.service.ingest.ring else 0),
    gauge("ticker_resume_ring_updates", "Updates held in the resume ring, all symbols together.",
          lambda v: v.service.ingest.ring.updates if v.service.ingest.ring else 0),
    _fanout("ticker_heartbeats_sent", "Application heartbeat messages sent to idle connections.",
            "heartbeats_sent"),
    # ---- licensed data: delayed streams, usage records
    gauge("ticker_delayed_subscriptions", "Subscriptions served from a delay line (delayed entitlements).",
          lambda v: v.service.licensing.stats()["delayed_subscriptions"]),
    gauge("ticker_delay_line_bytes", "Memory held by the delay lines' entries.",
          lambda v: v.service.licensing.stats()["delay_line_bytes"]),
    gauge("ticker_delay_line_entries", "States waiting in the delay lines for their release.",
          lambda v: v.service.licensing.stats()["delay_line_entries"]),
    counter("ticker_delayed_updates_released", "Delayed updates published to delayed subscribers.",
            lambda v: v.service.licensing.stats()["delayed_released"]),
    gauge("ticker_usage_open_intervals", "Subscription intervals open now (usage reporting on).",
          lambda v: v.service.licensing.stats()["usage_open"]),
    counter("ticker_usage_records_written", "Usage records written (to the file, or the bus without one).",
            lambda v: v.service.licensing.stats()["usage_written"]),
    counter("ticker_usage_records_dropped",
            "Usage records lost: more than usage.max_pending waiting, or a sink failing that long.",
            lambda v: v.service.licensing.stats()["usage_dropped"]),
)  # fmt: skip


def build(family: Family[Any], source: object) -> Metric:
    """The prometheus-client family for one table row, with its samples read now."""
    labels = list(family.labels)
    samples = family.samples(source)
    if family.kind is Kind.HISTOGRAM:
        hist = HistogramMetricFamily(family.name, family.doc, labels=labels)
        for values, h in samples:
            assert isinstance(h, Histogram)
            hist.add_metric(list(values), h.cumulative(), h.sum)
        return hist
    cls = CounterMetricFamily if family.kind is Kind.COUNTER else GaugeMetricFamily
    fam = cls(family.name, family.doc, labels=labels)
    for values, value in samples:
        assert not isinstance(value, Histogram)
        fam.add_metric(list(values), value)
    return fam


class TableCollector(Collector):
    """Collects a table of families from one source object."""

    def __init__(self, families: Sequence[Family[Any]], source: object) -> None:
        self._families = families
        self._source = source

    def collect(self) -> Iterator[Metric]:
        for family in self._families:
            yield build(family, self._source)


class BuildInfo(Collector):
    def collect(self) -> Iterator[Metric]:
        yield InfoMetricFamily(
            "ticker_build",
            "Version of ticker and of the Python running it (value 1).",
            value={"version": __version__, "python": platform.python_version()},
        )


def make_registry(service: Service) -> CollectorRegistry:
    """A registry with the service's families plus ``process_*`` and ``python_*``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BuildInfo())
    registry.register(TableCollector(SERVICE_FAMILIES, ServiceView.of(service)))
    registry.register(TableCollector(MARKET_FAMILIES, service))
    if service.charts is not None:
        from ticker.observability.bar_metrics import BAR_FAMILIES

        registry.register(TableCollector(BAR_FAMILIES, service.charts))
    if service.bus_stats is not None:
        from ticker.observability.bus_metrics import bus_families

        registry.register(TableCollector(bus_families(service.bus_stats.role), service.bus_stats))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
