"""Opening a Redis connection for the bus, and which errors mean "Redis is away".

redis-py retries commands on its own by default; the bus turns that off
(``retries=0``) because the publisher and the gateway each own one
reconnect loop with backoff (``feeds/backoff.py``) and must notice a lost
connection at once: the gateway to show ``stale``, the publisher to stop
buffering. ``redis`` is imported here, lazily, so the in-process default
never loads it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

from ticker.bus.stats import BusStats

log = logging.getLogger("ticker.bus")

#: redis-py's reply types are unions of its sync and async APIs (and of bytes
#: and str); the bus code checks what it reads, so replies are treated as Any.
RedisClient = Any

#: A command that takes longer than this means the link is broken. Longer than
#: the gateway's XREAD BLOCK time, or every idle read would time out.
SOCKET_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 2.0


def redis_errors() -> tuple[type[BaseException], ...]:
    """Exceptions after which the connection is dropped and re-made with backoff."""
    from redis.exceptions import RedisError

    return (RedisError, OSError)


def open_redis(url: str, name: str) -> RedisClient:
    """One dedicated connection (a blocking XREAD must not share it)."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return Redis.from_url(
        url,
        single_connection_client=True,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),
        client_name=name,
    )


class Outage:
    """One side's reconnect loop bookkeeping: count the error, wait with backoff,
    log the first failure as a warning and the following ones at info."""

    def __init__(self, url: str, stats: BusStats, backoff_factory: Callable[[], Iterator[float]]) -> None:
        self.url = url
        self.stats = stats
        self._factory = backoff_factory
        self._delays: Iterator[float] | None = None

    @property
    def ongoing(self) -> bool:
        return self._delays is not None

    def over(self) -> None:
        """Connected again: the next failure starts the backoff afresh."""
        if self._delays is not None:
            self.stats.reconnects += 1
        self._delays = None
        self.stats.connected = 1

    async def wait(self, exc: BaseException) -> None:
        self.stats.connected = 0
        self.stats.errors[type(exc).__name__] += 1
        first = self._delays is None
        if self._delays is None:
            self._delays = self._factory()
        delay = next(self._delays)
        log.log(
            logging.WARNING if first else logging.INFO,
            "%s Redis at %s (%s); reconnecting in %.1f s",
            "lost" if first else "still no", self.url, exc, delay,
        )  # fmt: skip
        await asyncio.sleep(delay)
