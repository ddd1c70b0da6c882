"""Fixtures shared across test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis_server import (
    SHARED_URL,
    RedisServer,
    delete_prefix,
    own_redis,
    ping,
    unavailable,
    unique_prefix,
)


@pytest.fixture
def redis_url() -> str:
    """The shared loopback Redis (127.0.0.1:6379 unless TICKER_TEST_REDIS_URL says otherwise)."""
    if not ping(SHARED_URL):
        unavailable(f"no Redis answers at {SHARED_URL}")
    return SHARED_URL


@pytest.fixture
def bus_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix no one else uses on the shared Redis; its keys are deleted afterwards."""
    prefix = unique_prefix()
    yield prefix
    delete_prefix(redis_url, prefix)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server on a free port, for tests that crash and restart it."""
    yield from own_redis()
