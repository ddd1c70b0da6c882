"""The feed process's side of the bus: write what :class:`Outbound` collected.

One task, one Redis connection. Each round trip is one pipeline holding,
per feed with something to say, the ``HSET`` of the batch's latest rows into
the state hash, then the ``XADD`` of the batch (``MAXLEN ~``), plus the
lease renewal once a second. Ticks that arrive while a write is in flight
wait for the next one, so batches grow with the load and the bus costs one
round trip per batch, not per tick. A full entry (on every (re)connect) is a
``MULTI`` that replaces the whole hash and writes the meta with it.

Lifecycle:

* :meth:`BusPublisher.start` (before any feed runs): connect, retrying with
  backoff; take each feed's lease, waiting while another live publisher holds
  it (a standby takes over when the active one dies); load the state hash
  into the table, so ``seq`` continues where the previous publisher stopped,
  and with it that sequence's epoch, if continuity is proven (below).
* :meth:`BusPublisher.run`: write a full entry (every symbol's state), then
  batches, plus an empty heartbeat entry per idle feed every ``heartbeat_s``.
  On a Redis error: stop buffering, reconnect with backoff, retake the lease
  (:class:`LeaseLost` if another publisher has it now: this one must stop),
  write a full entry, go on.
* :meth:`BusPublisher.close`: a last best-effort write at shutdown, and the
  leases handed back.

Sequence epochs (``s`` in entries and in the meta hash, the symbols'
:attr:`~ticker.core.table.SymbolTable.epoch`): a publisher that restores a
non-empty state hash keeps the epoch the meta names only if the meta was
written to this very Redis process (its ``run_id``, kept beside as ``r``). A
Redis that restarted may have come back from an older snapshot, or empty;
either way the restored ``seq`` cannot be proven to continue what clients
saw, so the sequence gets a new epoch (clients then resynchronise with a
snapshot instead of resuming on top of different data). A publisher that
keeps running across a Redis restart keeps its epoch: its own table is the
proof, and its full entry replaces whatever Redis came back with.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ticker.bus.bar_redis import BarRedis
from ticker.bus.codec import FIELD, BusRow, FeedKeys, decode_state, encode_entry, encode_states, unpack_row
from ticker.bus.connect import Outage, RedisClient, open_redis, redis_errors
from ticker.bus.outbound import Outbound
from ticker.bus.stats import BusStats
from ticker.core.model import Status
from ticker.core.table import SymbolTable
from ticker.util.backoff import backoff

log = logging.getLogger("ticker.bus")

#: Rows per stream entry; a bigger batch is split (keeps entries small for XREAD COUNT).
MAX_ROWS_PER_ENTRY = 1000


class LeaseLost(Exception):
    """Another publisher took over a feed while this one was away from Redis."""


class BusPublisher:
    def __init__(
        self,
        url: str,
        prefix: str,
        feeds: Sequence[str],
        outbound: Outbound,
        table: SymbolTable,
        stats: BusStats,
        *,
        maxlen: int,
        clock: Callable[[], float],
        wall_us: Callable[[], int],
        heartbeat_s: float = 1.0,
        lease_ttl_s: float = 5.0,
        backoff_factory: Callable[[], Iterator[float]] = backoff,
    ) -> None:
        self.url = url
        self.keys = [FeedKeys.of(prefix, f) for f in feeds]
        self.outbound = outbound
        self.table = table
        self.stats = stats
        self.maxlen = maxlen
        self.clock = clock
        self.wall_us = wall_us
        self.heartbeat_s = heartbeat_s
        self.lease_ms = int(lease_ttl_s * 1000)
        self._backoff = backoff_factory
        #: This process's name on the bus; gateways resync when it changes.
        self.epoch = secrets.token_hex(8)
        #: Per feed: the epoch of the sequence its ``seq`` belong to (set by :meth:`start`).
        self.seq_epochs = [self.epoch] * len(feeds)
        self._run_id = ""
        self.client_name = f"ticker-feed:{prefix}:{self.epoch}"
        self.n = [0] * len(self.keys)
        self._last_write = [0.0] * len(self.keys)
        self._renewed = 0.0
        self._client: RedisClient | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._errors = redis_errors()
        self._flush_errors: tuple[type[BaseException], ...] = (*self._errors, TimeoutError)
        #: Bars built here, published beside the quotes (None: bars are off).
        self.bars: BarRedis | None = None

    def request_stop(self) -> None:
        """Make :meth:`run` return at its next step (besides cancelling its task, so
        shutdown cannot hang on a cancellation lost inside a client library)."""
        self._stopping = True
        self._wake.set()

    def notify(self) -> None:
        """Called by :class:`Outbound` when rows start pending."""
        self._wake.set()

    # ------------------------------------------------------------ start

    async def start(self) -> None:
        """Connect, take the leases and restore the table; retries until it can."""
        delays = self._backoff()
        while True:
            try:
                client = await self._connect()
                await self._take_leases(client, wait=True)
                await self._restore(client)
                return
            except self._errors as exc:
                await self._drop()
                delay = next(delays)
                log.warning("cannot reach Redis at %s (%s); retrying in %.1f s", self.url, exc, delay)
                await asyncio.sleep(delay)

    async def _connect(self) -> RedisClient:
        if self._client is None:
            client = open_redis(self.url, self.client_name)
            self._client = client
            await client.ping()
            self._run_id = str((await client.info("server")).get("run_id", ""))
        return self._client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except self._errors:
                pass

    async def _take_leases(self, client: RedisClient, *, wait: bool) -> None:
        waited: set[str] = set()
        for keys in self.keys:
            while not await client.set(keys.owner, self.epoch, nx=True, px=self.lease_ms):
                holder = await client.get(keys.owner)
                if holder is None:
                    continue  # it expired meanwhile
                if holder.decode() == self.epoch:
                    break
                if not wait:
                    raise LeaseLost(
                        f"feed {keys.feed!r} is now published by another process "
                        f"(epoch {holder.decode()}); this one stops"
                    )
                if keys.feed not in waited:
                    waited.add(keys.feed)
                    log.warning(
                        "feed %s is published by another process (epoch %s); standing by "
                        "until its lease expires",
                        keys.feed,
                        holder.decode(),
                    )
                await asyncio.sleep(self.lease_ms / 4000)
            if keys.feed in waited:
                log.info("feed %s: took over from the previous publisher", keys.feed)

    async def _restore(self, client: RedisClient) -> None:
        now = self.clock()
        ids = self.table.ids
        for i, keys in enumerate(self.keys):
            states = await client.hgetall(keys.state)
            seq_epoch, run_id = await client.hmget(keys.meta, ["s", "r"])
            self._adopt_sequence(i, bool(states), seq_epoch, run_id)
            restored = 0
            unknown: list[str] = []
            for raw in states.values():
                try:
                    sym, state = unpack_row(decode_state(raw))
                except (TypeError, ValueError):
                    continue
                sid = ids.get(sym, -1)
                if sid < 0:
                    unknown.append(sym)
                    continue
                # Stale until this process's feed ticks: the data is from before the restart.
                if state.status == Status.LIVE:
                    state = state._replace(status=int(Status.STALE))
                self.table.apply_mirrored(sid, state, now)
                restored += 1
            if restored:
                log.info("feed %s: resuming %d symbols' state and seq from Redis", keys.feed, restored)
            if unknown:
                log.warning(
                    "feed %s: RedisClient holds state of %d symbol(s) this feed no longer has (%s); "
                    "dropping it",
                    keys.feed,
                    len(unknown),
                    ", ".join(sorted(unknown)[:10]),
                )
        if self.bars is not None:
            restored = await self.bars.restore(client, now)
            if restored:
                log.info("resuming %d bars (and every series' seq) from Redis", restored)

    def _adopt_sequence(self, i: int, restored: bool, seq_epoch: bytes | None, run_id: bytes | None) -> None:
        """Feed ``i`` keeps the stored sequence epoch if its state was written to this
        Redis process, else starts a new one (see the module docstring)."""
        keep = restored and seq_epoch is not None and run_id is not None and run_id.decode() == self._run_id
        epoch = seq_epoch.decode() if keep and seq_epoch is not None else secrets.token_hex(8)
        self.seq_epochs[i] = epoch
        table = self.table
        for sid in self.outbound.feed_sids(i):
            table.epoch[sid] = epoch
        if restored and not keep:
            log.info(
                "feed %s: the stored sequence cannot be proven continuous (Redis restarted or older "
                "data); new sequence epoch %s, clients resynchronise with snapshots",
                self.keys[i].feed,
                epoch,
            )

    # ------------------------------------------------------------ run

    async def run(self) -> None:
        """Publish until cancelled; raises :class:`LeaseLost` if superseded."""
        outage = Outage(self.url, self.stats, self._backoff)
        while not self._stopping:
            try:
                client = await self._connect()
                if outage.ongoing:
                    await self._take_leases(client, wait=False)
                    log.info("Redis is back; publishing again with a full state entry")
                await self._write_full(client)
                outage.over()
                await self._pump(client)
            except self._errors as exc:
                self.outbound.pause()
                self.stats.rows_dropped = self.outbound.dropped
                await self._drop()
                await outage.wait(exc)

    async def _pump(self, client: RedisClient) -> None:
        outbound = self.outbound
        wake = self._wake
        bars = self.bars.outbound if self.bars is not None else None
        while not self._stopping:
            if not outbound.has_pending() and (bars is None or not bars.has_pending()):
                wake.clear()
                try:
                    async with asyncio.timeout(self.heartbeat_s):
                        await wake.wait()
                except TimeoutError:
                    pass
            await self._write(client, outbound.take())

    def _add_entry(
        self, pipe: Any, i: int, full: bool, wall: int, rows: list[BusRow], bars: list[Any] | None = None
    ) -> None:
        keys = self.keys[i]
        self.n[i] += 1
        pipe.xadd(
            keys.ticks,
            {FIELD: encode_entry(self.epoch, self.n[i], full, wall, rows, self.seq_epochs[i], bars)},
            maxlen=self.maxlen,
            approximate=True,
        )
        self.stats.entries_published += 1
        self.stats.rows_published += len(rows)

    def _add_meta(self, pipe: Any, i: int) -> None:
        keys = self.keys[i]
        pipe.hset(
            keys.meta, mapping={"e": self.epoch, "n": self.n[i], "s": self.seq_epochs[i], "r": self._run_id}
        )
        pipe.set(keys.owner, self.epoch, px=self.lease_ms)
        self._renewed = self.clock()

    async def _write_full(self, client: RedisClient) -> None:
        # Resume buffering first: everything from here on is pending, everything
        # before is in the full entry (nothing runs in between: no await).
        self.outbound.resume()
        wall = self.wall_us()
        pipe = client.pipeline(transaction=True)
        for i, keys in enumerate(self.keys):
            rows = self.outbound.full_rows(i)
            pipe.delete(keys.state)
            if rows:
                pipe.hset(keys.state, mapping=encode_states(rows))
            bars, rewrite = self.bars.pending(i) if self.bars is not None else ([], False)
            if self.bars is not None:
                self.bars.add_rows(pipe, i, bars, rewrite=rewrite)
            self._add_entry(pipe, i, True, wall, rows, bars)
            self._add_meta(pipe, i)
            self._last_write[i] = self.clock()
        await pipe.execute()

    async def _write(self, client: RedisClient, batches: list[list[BusRow]]) -> None:
        now = self.clock()
        wall = self.wall_us()
        # No MULTI here: the state hash is written before the entries, so a gateway
        # resynchronising between the two commands reads those rows twice (ignored
        # as not newer), never misses them. Two commands per write instead of a
        # six-command MULTI took the server side of the latency benchmark from 0.77
        # to 0.58 cores at 1,000 ticks/s (benchmarks/scaleout.py latency).
        pipe = client.pipeline(transaction=False)
        wrote = False
        renew = now - self._renewed >= self.heartbeat_s
        for i, rows in enumerate(batches):
            bars, rewrite = self.bars.pending(i) if self.bars is not None else ([], False)
            if self.bars is not None and (bars or rewrite):
                self.bars.add_rows(pipe, i, bars, rewrite=rewrite)
            if not rows and not bars:
                if now - self._last_write[i] < self.heartbeat_s * 0.5:
                    continue
                self._add_entry(pipe, i, False, wall, rows)  # heartbeat
            else:
                if rows:
                    pipe.hset(self.keys[i].state, mapping=encode_states(rows))
                for start in range(0, max(len(rows), 1), MAX_ROWS_PER_ENTRY):
                    chunk = rows[start : start + MAX_ROWS_PER_ENTRY]
                    self._add_entry(pipe, i, False, wall, chunk, bars if start == 0 else None)
            if renew:
                pipe.set(self.keys[i].owner, self.epoch, px=self.lease_ms)
            self._last_write[i] = now
            wrote = True
        if renew:
            self._renewed = now
        if wrote:
            await pipe.execute()
            self.stats.write_seconds.observe(self.clock() - now)

    # ------------------------------------------------------------ shutdown

    async def close(self, within_s: float = 1.0) -> None:
        """Graceful shutdown: write what is pending and hand the leases back, so a
        standby takes over at once; then disconnect. Best effort: Redis may be away."""
        # The run task was cancelled, possibly mid-write: use a fresh connection.
        await self._drop()
        if self.outbound.paused:
            return
        try:
            async with asyncio.timeout(within_s):
                client = await self._connect()
                bars = self.bars.outbound if self.bars is not None else None
                if self.outbound.has_pending() or (bars is not None and bars.has_pending()):
                    await self._write(client, self.outbound.take())
                for keys in self.keys:
                    holder = await client.get(keys.owner)
                    if holder is not None and holder.decode() == self.epoch:
                        await client.delete(keys.owner)
        except self._flush_errors as exc:
            log.warning("could not publish the last ticks at shutdown: %s", exc)
        finally:
            await self._drop()
