"""The gateway's side of the bus: read the feed streams into the :class:`Mirror`.

One task, one Redis connection, one ``XREAD BLOCK`` over every feed's
stream from the last id seen. A lost connection marks every symbol stale at
once and is retried with backoff; nothing here ends the task but
cancellation. On reconnecting, a feed whose stream still holds what this
gateway read last (same publisher epoch, stream not older than our last id)
simply continues: the missed entries are read in order and clients get every
``seq``. Otherwise, and whenever the mirror answers
:data:`~ticker.bus.mirror.EntryOutcome.RESYNC` (it fell off the trimmed stream,
a new publisher), the feed is resynchronised with one ``MULTI`` reading its
state hash, its meta and its last stream id together.

A gateway with a resume ring reads, in its first resync of each feed, the
stream entries of the ring's age window too (``XREVRANGE`` from Redis's own
clock minus ``max_age_s``) and replays them before the state hash
(:meth:`~ticker.bus.mirror.Mirror.prefill`): a gateway that just started can
then resume clients that reconnect from another one.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterator

from ticker.bus.bar_redis import BarRedis
from ticker.bus.codec import BusFormatError, decode_entry, stream_id
from ticker.bus.connect import Outage, RedisClient, open_redis, redis_errors
from ticker.bus.mirror import EntryOutcome, FeedLink, Mirror
from ticker.bus.stats import BusStats
from ticker.util.backoff import backoff

log = logging.getLogger("ticker.bus")

#: How long one XREAD waits for entries (ms): also how often silence is checked.
BLOCK_MS = 500
#: Entries per XREAD; each holds up to MAX_ROWS_PER_ENTRY ticks.
READ_COUNT = 200
#: A feed with no entry for this long (the publisher heartbeats every second) is stale.
SILENCE_S = 3.0
#: At most this many entries are replayed into a starting gateway's resume ring per feed.
PREFILL_MAX_ENTRIES = 20_000


class GatewayLink:
    def __init__(
        self,
        url: str,
        prefix: str,
        mirror: Mirror,
        stats: BusStats,
        *,
        clock: Callable[[], float],
        backoff_factory: Callable[[], Iterator[float]] = backoff,
        silence_s: float = SILENCE_S,
    ) -> None:
        self.url = url
        self.mirror = mirror
        self.stats = stats
        self.clock = clock
        self._backoff = backoff_factory
        self.silence_s = silence_s
        self._by_stream = {link.keys.ticks.encode(): link for link in mirror.links}
        self._errors = redis_errors()
        self._synced = asyncio.Event()
        self._unknown_logged = 0
        self._stopping = False
        #: CLIENT LIST shows which deployment and process a connection belongs to.
        self.client_name = f"ticker-gateway:{prefix}:{os.getpid()}"
        #: Bars mirrored from the bus (None: bars are off); read with each resync.
        self.bars: BarRedis | None = None

    @property
    def ready(self) -> bool:
        """Connected and every feed's publisher heard from recently."""
        return bool(self.stats.connected) and self.mirror.in_sync

    async def wait_synced(self, within_s: float) -> bool:
        """Wait for the first successful sync (a gateway starts with correct snapshots)."""
        try:
            async with asyncio.timeout(within_s):
                await self._synced.wait()
        except TimeoutError:
            return False
        return True

    def request_stop(self) -> None:
        """Make :meth:`run` return at its next step (see BusPublisher.request_stop)."""
        self._stopping = True

    async def run(self) -> None:
        outage = Outage(self.url, self.stats, self._backoff)
        while not self._stopping:
            client = open_redis(self.url, self.client_name)
            try:
                await client.ping()
                for link in self.mirror.links:
                    if not await self._can_continue(client, link):
                        await self._resync(client, link)
                if outage.ongoing:
                    log.info("Redis is back; gateway resynchronised")
                outage.over()
                self._synced.set()
                await self._consume(client)
            except self._errors as exc:
                self.mirror.link_down(self.clock())
                for link in self.mirror.links:
                    link.resync_reason = "reconnect"
                await outage.wait(exc)
            finally:
                try:
                    await client.aclose()
                except self._errors:
                    pass

    async def _consume(self, client: RedisClient) -> None:
        mirror = self.mirror
        links = mirror.links
        by_stream = self._by_stream
        while not self._stopping:
            streams = {link.keys.ticks: link.last_id for link in links}
            response = await client.xread(streams, count=READ_COUNT, block=BLOCK_MS)
            now = self.clock()
            for stream, entries in response or ():
                link = by_stream[stream]
                for entry_id, fields in entries:
                    if mirror.entry(link, entry_id, fields, now) is EntryOutcome.RESYNC:
                        why = link.resync_reason
                        log.info("feed %s: %s; resynchronising from Redis", link.keys.feed, why)
                        await self._resync(client, link)
                        break
            mirror.check_silence(now, self.silence_s)
            self._log_unknown()

    async def _can_continue(self, client: RedisClient, link: FeedLink) -> bool:
        """After a reconnect: is the stream still the one we were reading?"""
        if link.epoch is None:
            return False
        last = await client.xrevrange(link.keys.ticks, count=1)
        if not last:
            return False
        try:
            entry = decode_entry(last[0][1])
        except BusFormatError:
            return False
        return (
            entry.epoch == link.epoch
            and entry.n >= link.n
            and stream_id(last[0][0]) >= stream_id(link.last_id)
        )

    async def _resync(self, client: RedisClient, link: FeedLink) -> None:
        keys = link.keys
        ring = self.mirror.ingest.ring
        window_start = None
        if ring is not None and not link.prefilled:
            seconds, micros = await client.time()
            window_start = f"{int(seconds * 1000 + micros // 1000 - ring.max_age_s * 1000)}"
        pipe = client.pipeline(transaction=True)
        pipe.hgetall(keys.state)
        pipe.hmget(keys.meta, ["e", "n", "s"])
        pipe.xrevrange(keys.ticks, count=1)
        prefill = window_start is not None
        if prefill:
            pipe.xrevrange(keys.ticks, max="+", min=window_start, count=PREFILL_MAX_ENTRIES)
        bars = self.bars
        if bars is not None:
            bars.queue_reads(pipe, bars.feed_index(keys.feed))
        states, (epoch, n, seq_epoch), last, *rest = await pipe.execute()
        recent, bar_reads = (rest[:1], rest[1:]) if prefill else ([], rest)
        # The last entry names the epoch and number the hash is current to; the
        # meta (written with full entries) stands in when the stream is empty.
        at_epoch, at_n = (epoch.decode(), int(n)) if epoch and n else (None, 0)
        meta_sequence = seq_epoch.decode() if seq_epoch else None
        sequence = meta_sequence
        if last:
            try:
                entry = decode_entry(last[0][1])
                # the meta's sequence is its publisher's; trust it only for that one
                if entry.seq_epoch is not None:
                    sequence = entry.seq_epoch
                elif entry.epoch != at_epoch:
                    sequence = None
                at_epoch, at_n = entry.epoch, entry.n
            except BusFormatError:
                self.stats.bad_entries += 1
        now = self.clock()
        if recent:
            self.mirror.prefill(link, recent[0][::-1], now)
        bar_rows = bars.read_rows(bar_reads) if bars is not None else None
        last_id = last[0][0] if last else b"0-0"
        self.mirror.resync(link, at_epoch, at_n, last_id, list(states.values()), now, sequence, bar_rows)
        self._log_unknown()

    def _log_unknown(self) -> None:
        unknown = self.stats.unknown_symbols
        if len(unknown) > self._unknown_logged:
            self._unknown_logged = len(unknown)
            log.warning(
                "the bus carries %d symbol(s) this gateway's config does not list (%s); "
                "run feed processes and gateways with the same [[feeds]]",
                len(unknown),
                ", ".join(sorted(unknown)[:10]),
            )
