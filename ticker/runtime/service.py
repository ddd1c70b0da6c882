"""The service's core objects, built from config, with no web framework in sight.

:class:`Service` owns the symbol table, the hub, the ingest path, the feeds
and their runner, and the counters. The aiohttp layer (:mod:`ticker.server`)
holds one and only moves bytes in and out of it; its connections reach the
service through the narrow :class:`~ticker.server.connection.ConnectionContext`
it implements (:meth:`Service.new_outbox`, :meth:`Service.new_session`).

A service plays one :class:`Role`. With the in-process bus it is
``standalone``: feeds and WebSocket clients in one process. With a Redis bus
it is either the ``feed`` process (feeds -> table -> Redis, no WebSockets)
or a ``gateway`` (Redis -> table -> WebSockets, no feeds running); both
build the same table from the same ``[[feeds]]`` config, so symbol ids and
metadata agree (:mod:`ticker.bus`).

The trading day (:mod:`ticker.core.market`) is built here too: where feeds
run, a :class:`~ticker.core.market.LiveMarket` with its
:class:`~ticker.runtime.market_timer.MarketTimer` (market status, day rolls,
derived crosses); on a gateway a :class:`~ticker.core.market.MirroredMarket`
that copies what the feed process publishes.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from feeds.base import Feed
from feeds.failover import NO_FEED, Direction, Sources, Switch
from feeds.outliers import OutlierFilter
from feeds.runner import FeedRunner, FeedState
from feeds.sink import FeedSink, Gate
from ticker.config import Config, ConfigError, FeedCommon
from ticker.core.batch import TickRow
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.ingest import Ingest
from ticker.core.market import LiveMarket, Market
from ticker.core.model import Status
from ticker.core.outbox import Outbox
from ticker.core.ring import UpdateRing
from ticker.core.slow_consumer import SlowConsumerPolicy
from ticker.core.stats import FanoutStats, FeedStats
from ticker.core.table import SymbolTable
from ticker.protocol.session import Session
from ticker.runtime.assemble import backups, build_feeds, collect_instruments
from ticker.runtime.charts import Charts
from ticker.runtime.licensing import Licensing
from ticker.runtime.market_timer import MarketTimer
from ticker.runtime.markets import build_live, build_mirrored, check_symbols, plan_crosses, timing
from ticker.security.access import OPEN, Access
from ticker.security.admission import Admission, Admitted
from ticker.security.limits import InboundRate
from ticker.security.tokens import Authenticator
from ticker.util.clock import wall_us

if TYPE_CHECKING:
    from ticker.bus.gateway import GatewayLink
    from ticker.bus.publisher import BusPublisher
    from ticker.bus.stats import BusStats

log = logging.getLogger("ticker.feeds")

#: How long a starting gateway waits for its first sync before it accepts clients.
FIRST_SYNC_WAIT_S = 5.0


class Role(enum.Enum):
    STANDALONE = "standalone"
    FEED = "feed"
    GATEWAY = "gateway"


class Service:
    def __init__(
        self,
        config: Config,
        *,
        feeds: list[Feed] | None = None,
        clock: Callable[[], float] = time.monotonic,
        role: Role | None = None,
        epoch: str | None = None,
        wall: Callable[[], int] = wall_us,
    ) -> None:
        self.config = config
        self.clock = clock
        self.role = role or (Role.STANDALONE if config.bus == "memory" else Role.GATEWAY)
        if self.role is not Role.STANDALONE and config.bus == "memory":
            raise ConfigError(
                f'bus: the {self.role.value} role needs a Redis bus, e.g. bus = "redis://127.0.0.1:6379/0"'
            )
        self.feeds = feeds if feeds is not None else build_feeds(config)
        names = {f.name for f in self.feeds}
        common = {f.name: f.common for f in config.feeds}
        self.common = {f.name: common.get(f.name, FeedCommon()) for f in self.feeds}
        backup_for = {b: p for b, p in backups(config).items() if b in names and p in names}
        instruments, self.feed_of = collect_instruments(self.feeds, backup_for)
        partial = feeds is not None  # a subset (ticker feed --feeds) or a test's own feeds
        self.crosses = plan_crosses(config, instruments, self.feed_of, partial=partial)
        instruments += [p.instrument for p in self.crosses]
        self.feed_of.update({p.definition.symbol: p.feed for p in self.crosses})
        if not partial:
            check_symbols(config, [i.symbol for i in instruments])
        self.table = SymbolTable(instruments)
        self.hub = Hub(len(self.table))
        self.encoder = QuoteEncoder(self.table)
        self.ingest = Ingest(self.table, self.hub, self.encoder, clock=clock, observe=config.metrics.enabled)
        #: Each symbol's calendar and time base, followed by the trading day and the bars.
        timed = timing(config, self.feeds, self.table, self.feed_of, self.crosses)
        #: Bars (None with [bars] enabled = false); a gateway mirrors them from the bus.
        self.charts: Charts | None = None
        if config.bars.enabled:
            self.charts = Charts(config.bars, self.table, timed.calendars, timed.times, clock=clock)
        if self.charts is not None and self.role is not Role.GATEWAY:
            self.ingest.bars = self.charts.fanout
        #: This process's sequence epoch: every symbol's until the bus says otherwise
        #: (a feed process continues Redis's, a gateway copies its publishers').
        self.epoch = epoch or secrets.token_hex(8)
        self.table.epoch[:] = [self.epoch] * len(self.table)
        r = config.resume
        if self.role is not Role.FEED and r.max_updates:
            self.ingest.ring = UpdateRing(len(self.table), max_updates=r.max_updates, max_age_s=r.max_age_s)
        #: Delayed streams, symbol groups and usage records (licensed data).
        bar_ids = len(self.charts.fanout.series) if self.charts is not None else 0
        self.licensing = Licensing(
            config, self.table, self.hub, self.encoder, serves_clients=self.role is not Role.FEED,
            clock=clock, wall=wall, first_id=len(self.table) + bar_ids,
        )  # fmt: skip
        self.ingest.delayed = self.licensing.delayed
        self.fanout_stats = FanoutStats()
        self.feed_stats = {f.name: FeedStats(f.name) for f in self.feeds}
        self.feed_index = {f.name: i for i, f in enumerate(self.feeds)}
        #: symbol -> backup feed name, for symbols with failover.
        self.backup_of: dict[str, str] = {}
        for feed in self.feeds:
            primary = backup_for.get(feed.name)
            for inst in feed.instruments() if primary else ():
                if self.feed_of[inst.symbol] == primary:
                    self.backup_of[inst.symbol] = feed.name
        idx = self.feed_index
        derived = {p.definition.symbol for p in self.crosses}
        self.sources = Sources(
            [NO_FEED if s in derived else idx[self.feed_of[s]] for s in self.table.symbols],
            [idx[self.backup_of[s]] if s in self.backup_of else -1 for s in self.table.symbols],
            [self.common[f.name].stale_after_s for f in self.feeds],
            clock(),
        )
        self.runner = FeedRunner(self.feeds, self._sink, on_state=self._feed_state)
        self.market: Market
        self.market_timer: MarketTimer | None = None
        if self.role is Role.GATEWAY:
            self.market = build_mirrored(config, self.feeds, self.table, self.feed_of, self.crosses, timed)
        else:
            live = build_live(
                config, self.feeds, self.table, self.feed_of, self.crosses,
                opened=self._opened_status, on_open=self.sources.reopened, timed=timed,
            )  # fmt: skip
            self.market = live
            self.market_timer = MarketTimer(live, clock)
        self.market.attach(self.ingest)
        f = config.fanout
        self.slow_policy = SlowConsumerPolicy(
            f.slow_consumer_max_bytes, f.slow_consumer_max_lag_s, f.slow_consumer_grace_s
        )
        self.started_at = time.time()
        self.authenticator: Authenticator | None = None
        if config.auth.enabled:  # JWT delays round up to those offered (delay.delays_s, keys')
            self.authenticator = Authenticator.from_config(config.auth, delays=config.delay.delays_s)
        self.admission = Admission(config, self.authenticator)
        self.bus_stats: BusStats | None = None
        self.publisher: BusPublisher | None = None
        self.gateway: GatewayLink | None = None
        if self.role is Role.FEED:
            self._build_publisher()
        elif self.role is Role.GATEWAY:
            self._build_gateway()
        self._tasks: list[asyncio.Task[None]] = []
        #: Done with an exception when a background task fails for good (LeaseLost).
        self.failed: asyncio.Future[None] | None = None

    @property
    def serves_clients(self) -> bool:
        return self.role is not Role.FEED

    def _feed_sids(self) -> list[list[int]]:
        index = {f.name: i for i, f in enumerate(self.feeds)}
        sids: list[list[int]] = [[] for _ in self.feeds]
        for sid, sym in enumerate(self.table.symbols):
            sids[index[self.feed_of[sym]]].append(sid)
        return sids

    def _build_publisher(self) -> None:
        from ticker.bus.outbound import Outbound
        from ticker.bus.publisher import BusPublisher
        from ticker.bus.stats import BusStats

        feed_of_sid = [0] * len(self.table)
        for i, sids in enumerate(self._feed_sids()):
            for sid in sids:
                feed_of_sid[sid] = i
        self.bus_stats = BusStats("feed")
        outbound = Outbound(self.table, feed_of_sid, len(self.feeds))
        self.publisher = BusPublisher(
            self.config.bus,
            self.config.bus_prefix,
            [f.name for f in self.feeds],
            outbound,
            self.table,
            self.bus_stats,
            maxlen=self.config.bus_stream_maxlen,
            clock=self.clock,
            wall_us=wall_us,
        )
        outbound.notify = self.publisher.notify
        outbound.extra = self.market.bus_extra  # market state rides on every row
        if isinstance(self.market, LiveMarket):
            self.publisher.on_restore = self.market.restore
        self.ingest.tap = outbound
        if self.charts is not None:  # bars are built here and published beside the quotes
            from ticker.bus.bar_redis import BarRedis
            from ticker.bus.bars import BarOutbound

            fanout = self.charts.fanout
            bar_outbound = BarOutbound(fanout, feed_of_sid, len(self.feeds))
            bar_outbound.notify = self.publisher.notify
            fanout.sink = bar_outbound
            names = [f.name for f in self.feeds]
            prefix = self.config.bus_prefix
            self.publisher.bars = BarRedis(prefix, names, self._feed_sids(), fanout, bar_outbound)

    def _build_gateway(self) -> None:
        from ticker.bus.codec import FeedKeys
        from ticker.bus.gateway import GatewayLink
        from ticker.bus.mirror import FeedLink, Mirror
        from ticker.bus.stats import BusStats

        self.bus_stats = BusStats("gateway")
        links = [
            FeedLink(FeedKeys.of(self.config.bus_prefix, f.name), sids, self.feed_stats[f.name])
            for f, sids in zip(self.feeds, self._feed_sids(), strict=True)
        ]
        mirror = Mirror(self.ingest, links, self.bus_stats, wall_us=wall_us)
        mirror.adopt = self.market.adopt  # type: ignore[attr-defined]  # a MirroredMarket here
        self.gateway = GatewayLink(
            self.config.bus, self.config.bus_prefix, mirror, self.bus_stats, clock=self.clock
        )
        if self.charts is not None:  # bars come from the feed process, history included
            from ticker.bus.bar_redis import BarRedis

            names = [f.name for f in self.feeds]
            bars = BarRedis(self.config.bus_prefix, names, self._feed_sids(), self.charts.fanout)
            self.gateway.bars = bars
            mirror.bars = bars.mirror

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the role's background work: feeds, publisher or gateway link."""
        self.failed = asyncio.get_running_loop().create_future()
        if self.publisher is not None:
            # seq must continue from Redis before the first tick is applied
            await self.publisher.start()
            self._spawn(self.publisher.run(), "bus-publisher")
        if self.gateway is not None:
            self._spawn(self.gateway.run(), "bus-gateway")
            if not await self.gateway.wait_synced(FIRST_SYNC_WAIT_S):
                log.warning("Redis not reachable yet; serving stale data until it is")
        if self.charts is not None and self.role is not Role.GATEWAY:
            self.charts.start()
        if self.market_timer is not None:
            self.market_timer.start()  # statuses as the calendars say, before any tick
        if self.role is not Role.GATEWAY:
            self.runner.start()
        self.licensing.start()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self.failed is None or self.failed.done():
            return
        exc = task.exception()
        if exc is not None:
            self.failed.set_exception(exc)

    async def stop(self) -> None:
        """Stop feeds, then the bus tasks; never waits longer than the shutdown timeout
        for a task (a stuck Redis call must not keep the process from exiting).
        Usage records go first: every client is closed by now."""
        await self.licensing.stop(self.config.server.shutdown_timeout_s)
        if self.market_timer is not None:
            self.market_timer.stop()
        try:
            async with asyncio.timeout(self.config.server.shutdown_timeout_s + 1.0):
                await self.runner.stop()
        except TimeoutError:
            log.error("feeds did not stop in time; stopping anyway")
        if self.charts is not None:
            self.charts.stop()
        for link in (self.publisher, self.gateway):
            if link is not None:
                link.request_stop()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=self.config.server.shutdown_timeout_s)
            for task in stuck:
                log.error("task %s did not stop in time; abandoning it", task.get_name())
        self._tasks.clear()
        if self.publisher is not None:
            await self.publisher.close()
        if self.failed is not None and not self.failed.done():
            self.failed.cancel()

    # ------------------------------------------------------------ feeds

    def _sink(self, feed: Feed) -> FeedSink:
        symbols = [i.symbol for i in feed.instruments()]
        fi = self.feed_index[feed.name]
        outliers: OutlierFilter[TickRow] | None = None
        oc = self.common[feed.name].outliers
        if oc.enabled:
            pips = [i.pip_size for i in self.table.instruments]
            outliers = OutlierFilter(
                pips,
                max_sigma=oc.max_sigma,
                max_jump_pct=oc.max_jump_pct,
                window=oc.window,
                confirm_ticks=oc.confirm_ticks,
            )
        gate: Gate | None = None
        if any(s in self.backup_of for s in symbols):
            gate = self._gate(fi)
        return FeedSink(
            self.ingest,
            self.feed_stats[feed.name],
            symbols=symbols,
            gate=gate,
            outliers=outliers,
            on_connection_lost=lambda now: self.feed_down(fi, now),
            clock=self.clock,
        )

    def _gate(self, fi: int) -> Gate:
        sources = self.sources
        has_backup = sources.has_backup.tolist()

        def gate(sid: int, now: float) -> bool:
            if not has_backup[sid]:
                return True
            verdict = sources.admit(fi, sid, now)
            if isinstance(verdict, Switch):
                self._switched(verdict)
                return True
            return verdict

        return gate

    def _switched(self, sw: Switch) -> None:
        primary = self.feeds[int(self.sources.primary[sw.sid])].name
        self.feed_stats[primary].failovers[sw.direction.value] += 1
        symbol = self.table.symbols[sw.sid]
        why = "primary is stale or disconnected" if sw.direction is Direction.TO_BACKUP else "primary is back"
        log.info(
            "%s: now served by feed %s (was %s): %s",
            symbol, self.feeds[sw.to_feed].name, self.feeds[sw.from_feed].name, why,
            extra={"feed": primary, "symbol": symbol},
        )  # fmt: skip

    def feed_down(self, fi: int, now: float) -> None:
        """Feed ``fi`` lost its source: its live symbols turn stale (or fail over) now."""
        stale, switches = self.sources.connection_lost(fi, now, self.table.status)
        self._expire(stale, switches, now)

    def _expire(self, stale: list[int], switches: list[Switch], now: float) -> None:
        for sw in switches:
            self._switched(sw)
        for sid in stale:
            if self.table.set_status(sid, Status.STALE):
                self.ingest.publish_status(sid, now)

    def source_of(self, sid: int) -> str | None:
        """Name of the feed whose ticks are applied for ``sid`` now (None: derived)."""
        active = int(self.sources.active[sid])
        return self.feeds[active].name if active >= 0 else None

    def _opened_status(self, sid: int) -> int:
        """A symbol's status when its market opens: pending without a price, stale
        when its feed has lost its source, else live (silence counts from now)."""
        if self.table.seq[sid] == 0:
            return int(Status.PENDING)
        return int(Status.LIVE if self.sources.feed_connected(sid) else Status.STALE)

    def _feed_state(self, feed: Feed, state: FeedState) -> None:
        self.feed_stats[feed.name].state = state.value
        if state is FeedState.BACKING_OFF:  # it crashed: its quotes are no longer current
            self.feed_down(self.feed_index[feed.name], self.clock())

    # ------------------------------------------------------------ per connection

    def new_outbox(self, notify: Callable[[], None]) -> Outbox:
        f = self.config.fanout
        return Outbox(
            self.licensing.encode_update,
            self.fanout_stats,
            high_water=f.queue_high_water,
            max_frame_bytes=f.max_frame_bytes,
            notify=notify,
        )

    def new_session(self, outbox: Outbox, admitted: Admitted | None = None) -> Session:
        now = self.clock()
        lim = self.config.limits
        rate = None
        if lim.messages_per_s:
            rate = InboundRate(lim.messages_per_s, lim.message_burst, lim.rate_limit_close_after, now)
        access = self._access(admitted, now)
        return Session(
            self.table,
            self.hub,
            self.encoder,
            outbox,
            self.fanout_stats,
            max_symbols=lim.max_symbols_per_connection,
            access=access,
            rate=rate,
            bars=self.charts.fanout if self.charts is not None else None,
            max_history=self.config.bars.max_history,
            ring=self.ingest.ring,
            catalog=self.licensing.catalog,
            usage=self.licensing.connection_usage(access, admitted.ip if admitted else ""),
        )

    def _access(self, admitted: Admitted | None, now: float) -> Access:
        if self.authenticator is None:
            return OPEN
        if admitted is None:  # our bug: the handshake must go through admission
            raise ValueError("auth is enabled: a session needs the connection's admission")
        a = self.config.auth
        admission = self.admission
        return Access(
            login=lambda token, wall: admission.login(admitted, token, wall),
            identity=admitted.identity,
            now=now,
            wall=time.time(),
            auth_timeout_s=a.timeout_s,
            warn_before_s=a.expiry_warning_s,
        )

    # ------------------------------------------------------------ state

    @property
    def ready(self) -> bool:
        """True once every feed has delivered at least one tick (a gateway: once it
        is connected to the bus and hears from every feed's publisher)."""
        if self.gateway is not None:
            return self.gateway.ready
        return not self.waiting_feeds()

    def waiting_feeds(self) -> list[str]:
        """Feeds that have delivered nothing yet (a backup's standby ticks count)."""
        return [name for name, s in self.feed_stats.items() if s.ingested == 0 and s.standby == 0]

    def sweep(self, now: float) -> None:
        """Periodic housekeeping of the data side: bin deferred latencies, mark
        stale symbols and fail over. (The server's connection registry sweeps
        the connections: :meth:`ticker.server.clients.Clients.sweep`.)"""
        self.fanout_stats.fanout_latency.flush()
        self.fanout_stats.queue_depth.flush()
        self.licensing.sweep()
        for feed in self.feed_stats.values():
            feed.latency.flush()
        if self.ingest.ring is not None:
            self.ingest.ring.expire(now)
        if self.role is Role.GATEWAY:
            return  # staleness and failover are the feed process's calls; the bus carries them
        stale, switches = self.sources.sweep(now, self.table.status, self.table.applied_at)
        if stale or switches:
            self._expire(stale, switches, now)
