"""Usage records on the Redis bus: every gateway appends, the report reads one place.

With a Redis bus, each gateway's usage records (:mod:`ticker.core.usage`)
also go to the stream ``<bus_prefix>:usage`` (field ``r``: the record's JSON
line), capped at about ``usage.stream_maxlen`` entries, so
``ticker usage-report --source redis`` sums the usage of every gateway
without collecting their files. A record is appended once per gateway that
made it; ``conn`` names the gateway (host and pid), so records never clash.

The gateway side (:class:`UsageStream`) opens its own connection lazily and,
when Redis is away, raises to its caller, which keeps the records and tries
again at the next flush (:mod:`ticker.runtime.usage_writer`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from ticker.bus.connect import RedisClient, open_redis

FIELD = b"r"
READ_CHUNK = 1000


def usage_key(prefix: str) -> str:
    return f"{prefix}:usage"


class UsageStream:
    """Appends records to the usage stream (one pipeline per flush)."""

    def __init__(self, url: str, prefix: str, maxlen: int) -> None:
        self.url = url
        self.key = usage_key(prefix)
        self.maxlen = maxlen
        self._redis: RedisClient | None = None

    async def append(self, lines: Sequence[bytes]) -> None:
        """Append every line, in order; raises on a Redis error (the connection is
        dropped and re-made next time)."""
        if self._redis is None:
            self._redis = open_redis(self.url, "ticker-usage")
        pipe = self._redis.pipeline(transaction=False)
        for line in lines:
            pipe.xadd(self.key, {FIELD: line.rstrip(b"\n")}, maxlen=self.maxlen, approximate=True)
        try:
            await pipe.execute()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        redis, self._redis = self._redis, None
        if redis is not None:
            await redis.aclose()


async def read_usage(url: str, prefix: str, since_ms: int = 0) -> AsyncIterator[bytes]:
    """Every record in the stream appended from ``since_ms`` (Unix ms) on, oldest first."""
    redis = open_redis(url, "ticker-usage-report")
    key = usage_key(prefix)
    start = f"{since_ms}-0"
    try:
        while True:
            entries = await redis.xrange(key, min=start, max="+", count=READ_CHUNK)
            for _id, fields in entries:
                value = fields.get(FIELD)
                if value is not None:
                    yield value
            if len(entries) < READ_CHUNK:
                return
            last = entries[-1][0]
            last = last.decode() if isinstance(last, bytes) else str(last)
            start = "(" + last
    finally:
        await redis.aclose()
