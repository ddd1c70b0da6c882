"""Fixtures shared across test modules, and the layer markers.

Every test is marked with its layer from its folder: ``unit`` (objects in,
events out: no sockets, no subprocesses, no sleeping), ``integration`` (a
real server on loopback with real clients) or ``system`` (Redis,
subprocesses, Prometheus, the browser, Docker files). ``make test-fast``
runs the unit layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis_server import (
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


_TESTS = Path(__file__).resolve().parent
_LAYERS = ("unit", "integration", "system")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        layer = item.path.relative_to(_TESTS).parts[0]
        if layer not in _LAYERS:
            raise pytest.UsageError(f"{item.nodeid}: tests live in tests/unit, tests/integration or tests/system")
        item.add_marker(getattr(pytest.mark, layer))
