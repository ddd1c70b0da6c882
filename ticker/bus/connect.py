"""Opening a Redis connection for the bus, and which errors mean "Redis is away".

redis-py retries commands on its own by default; the bus turns that off
(``retries=0``) because the publisher and the gateway each own one
reconnect loop with backoff (``feeds/backoff.py``) and must notice a lost
connection at once: the gateway to show ``stale``, the publisher to stop
buffering. ``redis`` is imported here, lazily, so the in-process default
never loads it.
"""

from __future__ import annotations

from typing import Any

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
