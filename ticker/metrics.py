"""Prometheus exposition of the service's counters.

Hot-path code counts in plain ints and :class:`~ticker.stats.Histogram`
objects; :class:`ServiceCollector` reads them only when Prometheus scrapes,
so metrics cost the fan-out path an integer increment, never a lock. Each
service gets its own registry (with the process, platform and GC
collectors), so several services can live in one process, as in tests.

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
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
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
from ticker.model import Status
from ticker.protocol import ErrorCode
from ticker.stats import CLOSE_REASONS, REFUSAL_REASONS, Histogram
from ticker.table import Reject

if TYPE_CHECKING:
    from ticker.service import Service

__all__ = ["CONTENT_TYPE_LATEST", "make_registry", "render"]

_COUNTER = CounterMetricFamily
_GAUGE = GaugeMetricFamily
ERROR_CODES: tuple[str, ...] = tuple(v for k, v in vars(ErrorCode).items() if k.isupper())


def _histogram(
    name: str, doc: str, labels: list[str], series: Iterable[tuple[list[str], Histogram]]
) -> Metric:
    fam = HistogramMetricFamily(name, doc, labels=labels)
    for values, h in series:
        fam.add_metric(values, h.cumulative(), h.sum)
    return fam


def _family(
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


def _with_known(counts: dict[str, int], known: Iterable[str]) -> list[tuple[list[str], float]]:
    """Every known label value (zero when unseen) plus any other counted one."""
    keys = dict.fromkeys(known)
    keys.update(dict.fromkeys(sorted(counts)))
    return [([k], counts.get(k, 0)) for k in keys]


class ServiceCollector(Collector):
    """Reads one :class:`~ticker.service.Service`'s counters at scrape time."""

    def __init__(self, service: Service) -> None:
        self.s = service
        self._feed_names = list(service.feed_stats)
        index = {name: i for i, name in enumerate(self._feed_names)}
        #: feed index of every symbol id, for per-feed status counts
        self._sid_feed = np.array(
            [index[service.feed_of[sym]] for sym in service.table.symbols], dtype=np.intp
        )

    def collect(self) -> Iterator[Metric]:
        yield InfoMetricFamily(
            "ticker_build",
            "Version of ticker and of the Python running it (value 1).",
            value={"version": __version__, "python": platform.python_version()},
        )
        yield from self._feeds()
        yield from self._symbols()
        yield from self._clients()
        yield from self._fanout()

    def _feeds(self) -> Iterator[Metric]:
        feeds = list(self.s.feed_stats.values())
        restarts = self.s.runner.restarts
        yield _family(
            _COUNTER,
            "ticker_ticks_ingested",
            "Ticks applied to the symbol table, by feed.",
            ["feed"],
            (([f.name], f.ingested) for f in feeds),
        )
        yield _family(
            _COUNTER,
            "ticker_ticks_rejected",
            "Ticks refused without touching state, by feed and reason.",
            ["feed", "reason"],
            (([f.name, r.label], f.rejected.get(r.label, 0)) for f in feeds for r in Reject),
        )
        yield _histogram(
            "ticker_feed_latency_seconds",
            "Ingest time minus the tick's source timestamp, by feed.",
            ["feed"],
            (([f.name], f.latency) for f in feeds),
        )
        yield _family(
            _GAUGE,
            "ticker_feed_state",
            "1 for the state each feed is in now, 0 for the others.",
            ["feed", "state"],
            (([f.name, st.value], float(f.state == st.value)) for f in feeds for st in FeedState),
        )
        yield _family(
            _COUNTER,
            "ticker_feed_restarts",
            "Feed failures followed by a restart with backoff, by feed.",
            ["feed"],
            (([f.name], restarts.get(f.name, 0)) for f in feeds),
        )
        yield _family(
            _COUNTER,
            "ticker_feed_reconnects",
            "Reconnects to an upstream source within a running feed, by feed.",
            ["feed"],
            (([f.name], f.reconnects) for f in feeds),
        )
        yield _family(
            _COUNTER,
            "ticker_feed_parse_errors",
            "Upstream messages or file lines a feed could not parse and skipped, by feed.",
            ["feed"],
            (([f.name], f.parse_errors) for f in feeds),
        )
        yield _family(
            _COUNTER,
            "ticker_feed_failovers",
            "Symbols switched between a primary feed and its backup, by primary and direction.",
            ["feed", "direction"],
            (([f.name, d], f.failovers.get(d, 0)) for f in feeds for d in ("to_backup", "to_primary")),
        )
        yield _family(
            _COUNTER,
            "ticker_feed_standby_ticks",
            "Ticks a backup feed delivered while its primary was serving (not applied), by feed.",
            ["feed"],
            (([f.name], f.standby) for f in feeds),
        )

    def _symbols(self) -> Iterator[Metric]:
        s = self.s
        table = s.table
        statuses = list(Status)
        counts = np.bincount(
            self._sid_feed * len(statuses) + table.status.astype(np.intp),
            minlength=len(self._feed_names) * len(statuses),
        ).reshape(len(self._feed_names), len(statuses))
        yield _family(
            _GAUGE,
            "ticker_symbols",
            "Configured symbols by feed and data status (pending, live, stale).",
            ["feed", "status"],
            (
                ([feed, st.label], float(counts[i, st]))
                for i, feed in enumerate(self._feed_names)
                for st in statuses
            ),
        )
        now = s.clock()
        applied = table.applied_at
        ticked = np.flatnonzero(applied).tolist()
        ages = np.maximum(now - applied, 0.0).tolist()
        yield _family(
            _GAUGE,
            "ticker_symbol_last_tick_age_seconds",
            "Seconds since the symbol's last applied tick (absent before its first).",
            ["symbol", "feed"],
            (([table.symbols[sid], s.feed_of[table.symbols[sid]]], ages[sid]) for sid in ticked),
        )

    def _clients(self) -> Iterator[Metric]:
        fs = self.s.fanout_stats
        yield _GAUGE("ticker_connections", "WebSocket connections open now.", value=fs.connections)
        yield _COUNTER("ticker_connections_opened", "WebSocket connections accepted.", value=fs.opened)
        yield _family(
            _COUNTER,
            "ticker_connections_closed",
            "WebSocket connections closed, by reason.",
            ["reason"],
            _with_known(fs.closed, CLOSE_REASONS),
        )
        yield _family(
            _COUNTER,
            "ticker_handshakes_refused",
            "WebSocket handshakes refused before the upgrade (HTTP 401/403/429/503), by reason.",
            ["reason"],
            _with_known(fs.refused, REFUSAL_REASONS),
        )
        yield _GAUGE(
            "ticker_subscriptions",
            "Symbol subscriptions held by all connections.",
            value=self.s.hub.subscription_count,
        )
        yield _family(
            _COUNTER,
            "ticker_requests",
            "Client requests handled, by op.",
            ["op"],
            _with_known(fs.requests, ()),
        )
        yield _family(
            _COUNTER,
            "ticker_protocol_errors",
            "Error replies sent to clients, by code.",
            ["code"],
            _with_known(fs.errors, ERROR_CODES),
        )

    def _fanout(self) -> Iterator[Metric]:
        fs = self.s.fanout_stats
        yield _histogram(
            "ticker_fanout_latency_seconds",
            "Tick ingest to the frame carrying it handed to the socket; one observation "
            "per frame, for the oldest message in it.",
            [],
            [([], fs.fanout_latency)],
        )
        yield _histogram(
            "ticker_send_queue_depth_messages",
            "Messages waiting in each connection's send queue, sampled every 0.25 s.",
            [],
            [([], fs.queue_depth)],
        )
        for name, doc, value in (
            ("ticker_sent_messages", "Protocol messages sent to clients.", fs.messages_sent),
            (
                "ticker_sent_frames",
                "WebSocket frames sent to clients (a frame batches messages).",
                fs.frames_sent,
            ),
            ("ticker_sent_bytes", "Payload bytes of the frames sent to clients.", fs.bytes_sent),
            (
                "ticker_updates_conflated",
                "Updates merged into a later one for the same symbol (conflation, throttle).",
                fs.conflated,
            ),
            ("ticker_updates_dropped", "Messages still queued when their connection closed.", fs.dropped),
            (
                "ticker_slow_consumer_warnings",
                "slow_consumer warnings sent to clients.",
                fs.slow_consumer_warnings,
            ),
            (
                "ticker_slow_consumer_disconnects",
                "Connections closed with 1013 for not keeping up.",
                fs.slow_consumer_closes,
            ),
        ):
            yield _COUNTER(name, doc, value=value)


def make_registry(service: Service) -> CollectorRegistry:
    """A registry with the service's families plus ``process_*`` and ``python_*``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(service))
    if service.bus_stats is not None:
        from ticker.bus.metrics import BusCollector

        registry.register(BusCollector(service.bus_stats))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
