"""The Redis side of bars on the bus: the commands the publisher and a gateway add.

The publisher (:mod:`ticker.bus.publisher`) calls :meth:`BarRedis.add_rows` in
the pipeline that writes a batch, so a bar reaches the zset of its series, the
feed's hash of newest rows and the stream entry in the same round trip, and
:meth:`BarRedis.restore` when it starts, so a restarted feed process goes on
with the bars (and every series' ``seq``) it had. A gateway queues
:meth:`BarRedis.queue_reads` in the transaction that resynchronises a feed and
adopts the result wholesale (:meth:`~ticker.bus.bars.BarMirror.replace`).
Key layout and row format: :mod:`ticker.bus.bars`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from ticker.bus.bars import CLOSED, BarMirror, BarOutbound, BarRow, decode_rows, feed_bars_key, series_key
from ticker.bus.connect import RedisClient
from ticker.core.bar_fanout import BarFanout


class BarRedis:
    """Bars of every feed of one process, on one prefix."""

    def __init__(
        self,
        prefix: str,
        feeds: Sequence[str],
        feed_sids: Sequence[Sequence[int]],
        fanout: BarFanout,
        outbound: BarOutbound | None = None,
    ) -> None:
        self.prefix = prefix
        self.feeds = list(feeds)
        self.feed_sids = [list(s) for s in feed_sids]
        self.fanout = fanout
        self.outbound = outbound
        self.mirror = BarMirror(fanout, fanout.table)
        self.hash_keys = [feed_bars_key(prefix, f) for f in self.feeds]
        #: Closed bars each interval keeps (the zsets are trimmed to it).
        self.limits = {}
        for series in fanout.series:
            if series is not None:
                self.limits[series.interval.label] = series.store.limit

    def _zset(self, symbol: str, interval: str) -> str:
        return series_key(self.prefix, symbol, interval)

    # ------------------------------------------------------------ publisher

    def pending(self, feed: int) -> tuple[list[BarRow], bool]:
        """Rows to write for a feed, and whether they replace everything (after an
        outage long enough to lose events)."""
        out = self.outbound
        if out is None:
            return [], False
        if out.overflow[feed]:
            out.overflow[feed] = False
            out.take(feed)
            return out.all_rows(self.feed_sids[feed]), True
        return out.take(feed), False

    def add_rows(self, pipe: Any, feed: int, rows: list[BarRow], *, rewrite: bool = False) -> None:
        """Queue the commands that store ``rows`` of one feed."""
        if rewrite:
            for symbol, interval in self.mirror.series_names(self.feed_sids[feed]):
                pipe.delete(self._zset(symbol, interval))
            pipe.delete(self.hash_keys[feed])
        if not rows:
            return
        newest: dict[str, bytes] = {}
        trimmed: set[str] = set()
        for row in rows:
            symbol, interval, start = row[0], row[1], row[2]
            encoded = orjson.dumps(row)
            newest[f"{symbol}:{interval}"] = encoded
            if row[10] >= CLOSED:
                key = self._zset(symbol, interval)
                pipe.zremrangebyscore(key, start, start)
                pipe.zadd(key, {encoded: start})
                trimmed.add(key)
        for key in trimmed:
            interval = key.rsplit(":", 1)[1]
            pipe.zremrangebyrank(key, 0, -self.limits.get(interval, 1) - 1)
        pipe.hset(self.hash_keys[feed], mapping=newest)

    async def restore(self, client: RedisClient, now: float) -> int:
        """Load every feed's bars from Redis (a restarted feed process); returns the rows."""
        total = 0
        for feed in range(len(self.feeds)):
            pipe = client.pipeline(transaction=True)
            self.queue_reads(pipe, feed)
            rows = self.read_rows(await pipe.execute())
            total += self.mirror.apply(rows, now)
        return total

    # ------------------------------------------------------------ gateway

    def queue_reads(self, pipe: Any, feed: int) -> int:
        """Queue the reads of a feed's bars (zsets, then the hash); returns their count."""
        names = self.mirror.series_names(self.feed_sids[feed])
        for symbol, interval in names:
            pipe.zrange(self._zset(symbol, interval), 0, -1)
        pipe.hvals(self.hash_keys[feed])
        return len(names) + 1

    @staticmethod
    def read_rows(results: Sequence[Any]) -> list[Any]:
        """The rows the reads of :meth:`queue_reads` returned, closed bars first."""
        rows: list[Any] = []
        for members in results:
            rows.extend(decode_rows(members))
        return rows

    def feed_index(self, feed: str) -> int:
        return self.feeds.index(feed)
