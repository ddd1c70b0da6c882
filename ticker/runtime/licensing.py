"""Licensed data in the service: delayed streams, symbol groups, usage records.

:class:`Licensing` is built by the :class:`~ticker.runtime.service.Service`
from config and holds:

* the :class:`~ticker.core.delay.DelayLines` (only with authentication on and
  at least one delay offered: ``delay.delays_s`` and the API keys' delays),
  and the one timer that samples and releases them (:class:`DelayClock`:
  ``loop.call_at`` at each interval boundary, owned here, cancelled at stop;
  never one per client);
* the :class:`~ticker.protocol.catalog.Catalog` every session and the REST
  API resolve names through (patterns, ``@groups``, delayed hub ids);
* with ``usage.enabled``, the :class:`~ticker.core.usage.UsageLedger`, a
  :class:`~ticker.core.usage.ConnectionUsage` per connection, the periodic
  checkpoint (from the service's sweep) and the
  :class:`~ticker.runtime.usage_writer.UsageWriter`.

A feed process (role ``feed``) serves no client: it builds none of this.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from ticker.config import Config, ConfigError
from ticker.core.delay import DelayLines
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.outbox import UpdateEncoder
from ticker.core.table import SymbolTable
from ticker.core.usage import SHUTDOWN, ConnectionUsage, UsageLedger
from ticker.protocol.catalog import Catalog
from ticker.runtime.usage_writer import RotatingFile, UsageWriter
from ticker.security.access import Access
from ticker.security.tokens import offered_delays
from ticker.util.clock import wall_us
from ticker.util.errors import FieldError
from ticker.util.log_limit import LogLimiter

log = logging.getLogger("ticker.licensing")


class DelayClock:
    """The delay lines' one timer: ``loop.call_at`` at each interval boundary."""

    def __init__(self, lines: DelayLines, *, wall: Callable[[], int], clock: Callable[[], float]) -> None:
        self.lines = lines
        self._wall = wall
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._log = LogLimiter(burst=3, interval_s=60.0)
        self.fired = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._fire()

    def _fire(self) -> None:
        self._handle = None
        self.fired += 1
        now_us = self._wall()
        try:
            due = self.lines.tick(now_us, self._clock())
        except Exception:  # our bug: loud (not every second), and keep the clock going
            self._log.log(log, logging.ERROR, "tick", "delay line release failed", exc_info=True)
            due = now_us + self.lines.interval_us
        self._arm(due)

    def _arm(self, due_us: int) -> None:
        loop = self._loop
        assert loop is not None
        wait_s = max(due_us - self._wall(), 0) / 1e6
        self._handle = loop.call_at(loop.time() + wait_s, self._fire)

    @property
    def armed(self) -> bool:
        """Is a release scheduled?"""
        return self._handle is not None

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class Licensing:
    def __init__(
        self,
        config: Config,
        table: SymbolTable,
        hub: Hub,
        encoder: QuoteEncoder,
        *,
        serves_clients: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], int] = wall_us,
        first_id: int | None = None,
    ) -> None:
        """``first_id``: the first outbox id free for the delayed streams (after the bar
        series' ids)."""
        self.config = config
        self._wall = wall
        self._clock = clock
        self.delays = offered_delays(config.auth, config.delay.delays_s) if config.auth.enabled else ()
        self.delayed: DelayLines | None = None
        if self.delays and serves_clients:
            self.delayed = DelayLines(
                table, hub, encoder, self.delays, interval_ms=config.delay.interval_ms, first_id=first_id
            )
        try:
            self.catalog = Catalog(table, encoder, config.groups, self.delayed)
        except FieldError as exc:
            raise ConfigError(exc.reason, key=exc.field) from None
        #: The update encoder every outbox gets (both id spaces when there are delays).
        self.encode_update: UpdateEncoder = self.delayed.encode_update if self.delayed else encoder.update
        self.clock: DelayClock | None = None
        u = config.usage
        self.ledger: UsageLedger | None = None
        self.writer: UsageWriter | None = None
        if u.enabled and serves_clients:
            self.ledger = UsageLedger(
                hub.counters, max_pending=u.max_pending, checkpoint_s=u.checkpoint_s, wall=wall
            )
            stream = None
            if config.bus != "memory":
                from ticker.bus.usage_stream import UsageStream

                stream = UsageStream(config.bus, config.bus_prefix, u.stream_maxlen)
            file = RotatingFile(u.path, u.max_bytes, u.files) if u.path else None
            self.writer = UsageWriter(self.ledger, file=file, stream=stream, flush_s=u.flush_s)
        #: Names connections in usage records: host, process, then a counter.
        self._process = f"{socket.gethostname()}:{os.getpid()}"
        self._conns = itertools.count(1)

    @staticmethod
    def check_groups(config: Config, table: SymbolTable) -> None:
        """``ticker check-config``: every group names symbols of the feeds (ConfigError)."""
        try:
            Catalog(table, QuoteEncoder(table), config.groups)
        except FieldError as exc:
            raise ConfigError(exc.reason, key=exc.field) from None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self.delayed is not None:
            self.clock = DelayClock(self.delayed, wall=self._wall, clock=self._clock)
            self.clock.start()
        if self.writer is not None:
            self.writer.start()

    def begin_shutdown(self) -> None:
        """The server is closing every client: their intervals end as ``shutdown``."""
        if self.ledger is not None:
            self.ledger.shutting_down = True

    async def stop(self, timeout_s: float) -> None:
        """Stop the timer; close every open interval and write every record."""
        if self.clock is not None:
            self.clock.stop()
        if self.ledger is not None:
            self.ledger.close_all(self._wall(), SHUTDOWN)
        if self.writer is not None:
            await self.writer.stop(timeout_s)

    def sweep(self) -> None:
        """From the service's housekeeping sweep: usage checkpoints."""
        if self.ledger is not None:
            self.ledger.checkpoint(self._wall())

    # ------------------------------------------------------------ per connection

    def connection_usage(self, access: Access, ip: str) -> ConnectionUsage | None:
        """The usage intervals of a new connection (None with usage reporting off)."""
        ledger = self.ledger
        if ledger is None:
            return None
        catalog = self.catalog
        return ConnectionUsage(
            ledger,
            f"{self._process}:{next(self._conns)}",
            ip,
            lambda: access.identity.name,
            lambda hid: (catalog.name(hid), catalog.delay(hid)),
        )

    def rest_snapshot(self, identity: str, ip: str, hid: int, nbytes: int) -> None:
        """A snapshot served by ``/api/snapshot``: a usage record of no length."""
        if self.ledger is not None:
            c = self.catalog
            self.ledger.snapshot(
                f"{self._process}:rest", identity, ip, c.name(hid), c.delay(hid), nbytes, self._wall()
            )

    def stats(self) -> dict[str, Any]:
        """What the metrics read."""
        d = self.delayed
        w = self.writer
        return {
            "delayed_subscriptions": d.subscriptions() if d is not None else 0,
            "delay_line_bytes": d.nbytes if d is not None else 0,
            "delay_line_entries": d.entries if d is not None else 0,
            "delayed_released": d.released if d is not None else 0,
            "usage_recorded": self.ledger.recorded if self.ledger is not None else 0,
            "usage_written": w.written if w is not None else 0,
            "usage_dropped": w.dropped if w is not None else 0,
            "usage_open": len(self.ledger) if self.ledger is not None else 0,
        }
