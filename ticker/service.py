"""The service's core objects, built from config, with no web framework in sight.

:class:`Service` owns the symbol table, the hub, the ingest path, the feeds
and their runner, and the counters. The aiohttp layer (:mod:`ticker.app`)
holds one and only moves bytes in and out of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from feeds.base import Feed
from feeds.registry import build_feed
from feeds.runner import FeedRunner, FeedState
from ticker.config import Config, ConfigError
from ticker.hub import Hub
from ticker.ingest import FeedSink, Ingest
from ticker.model import Instrument
from ticker.outbox import Outbox
from ticker.quotes import QuoteEncoder
from ticker.session import Session
from ticker.slow_consumer import SlowConsumerPolicy
from ticker.stats import FanoutStats, FeedStats
from ticker.table import SymbolTable

if TYPE_CHECKING:
    from ticker.connection import Connection


def build_feeds(config: Config) -> list[Feed]:
    return [build_feed(f.name, f.type, f.options) for f in config.feeds]


def collect_instruments(feeds: list[Feed]) -> tuple[list[Instrument], dict[str, str]]:
    """The union of the feeds' instruments, and which feed provides each symbol."""
    instruments: list[Instrument] = []
    owner: dict[str, str] = {}
    for feed in feeds:
        for inst in feed.instruments():
            if inst.symbol in owner:
                raise ConfigError(
                    f"symbol {inst.symbol} is provided by feeds {owner[inst.symbol]!r} "
                    f"and {feed.name!r}; each symbol needs one feed"
                )
            owner[inst.symbol] = feed.name
            instruments.append(inst)
    return instruments, owner


class Service:
    def __init__(
        self,
        config: Config,
        *,
        feeds: list[Feed] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.clock = clock
        self.feeds = feeds if feeds is not None else build_feeds(config)
        instruments, self.feed_of = collect_instruments(self.feeds)
        self.table = SymbolTable(instruments)
        self.hub = Hub(len(self.table))
        self.encoder = QuoteEncoder(self.table)
        self.ingest = Ingest(self.table, self.hub, self.encoder, clock=clock, observe=config.metrics.enabled)
        self.fanout_stats = FanoutStats()
        self.feed_stats = {f.name: FeedStats(f.name) for f in self.feeds}
        self.runner = FeedRunner(
            self.feeds,
            lambda feed: FeedSink(self.ingest, self.feed_stats[feed.name]),
            on_state=self._feed_state,
        )
        f = config.fanout
        self.slow_policy = SlowConsumerPolicy(
            f.slow_consumer_max_bytes, f.slow_consumer_max_lag_s, f.slow_consumer_grace_s
        )
        self.connections: set[Connection] = set()
        self.started_at = time.time()

    def _feed_state(self, feed: Feed, state: FeedState) -> None:
        self.feed_stats[feed.name].state = state.value

    # ------------------------------------------------------------ per connection

    def new_outbox(self, notify: Callable[[], None]) -> Outbox:
        f = self.config.fanout
        return Outbox(
            self.encoder.update,
            self.fanout_stats,
            high_water=f.queue_high_water,
            max_frame_bytes=f.max_frame_bytes,
            notify=notify,
        )

    def new_session(self, outbox: Outbox) -> Session:
        return Session(
            self.table,
            self.hub,
            self.encoder,
            outbox,
            self.fanout_stats,
            max_symbols=self.config.limits.max_symbols_per_connection,
        )

    # ------------------------------------------------------------ state

    @property
    def ready(self) -> bool:
        """True once every feed has delivered at least one tick."""
        return all(s.ingested > 0 for s in self.feed_stats.values())

    def sweep(self, now: float) -> None:
        """Periodic housekeeping: bin deferred latencies, sample send-queue
        depths, check slow consumers.

        Depth is sampled here, at a fixed rate for every connection, rather
        than by each writer: the histogram then shows how backed up
        connections are over time, not how full queues are when a writer
        happens to wake, and the writer's per-frame path does one thing less.
        """
        self.fanout_stats.fanout_latency.flush()
        for feed in self.feed_stats.values():
            feed.latency.flush()
        conns = list(self.connections)
        if conns and self.config.metrics.enabled:
            depths = np.fromiter((len(c.outbox) for c in conns), dtype=np.float64, count=len(conns))
            self.fanout_stats.queue_depth.observe_many(depths)
        for conn in conns:
            conn.check_slow(now)
