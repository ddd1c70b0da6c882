"""A feed failing in a loop under the real runner logs a burst, not a flood."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterator

import pytest

from feeds.base import Feed, TickSink
from feeds.runner import FeedRunner
from tests.support.clock import Clock
from ticker.core.model import Instrument
from ticker.util.log_limit import LogLimiter


class Failing(Feed):
    """Fails at once, every time."""

    def __init__(self) -> None:
        super().__init__("broken")
        self.runs = 0

    def instruments(self) -> list[Instrument]:
        return [Instrument("EURUSD", 5, 0.0001)]

    async def run(self, sink: TickSink) -> None:
        self.runs += 1
        raise ConnectionError(f"upstream refused (attempt {self.runs})")


def _no_delay() -> Iterator[float]:
    return itertools.repeat(0.0)


async def test_a_feed_failing_in_a_loop_logs_a_burst_not_a_flood(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()  # frozen: no token comes back during the test
    feed = Failing()
    runner = FeedRunner(
        [feed],
        lambda f: None,  # type: ignore[arg-type,return-value]
        backoff_factory=_no_delay,
        log_limiter=LogLimiter(burst=3, interval_s=60.0, clock=clock),
    )
    with caplog.at_level(logging.INFO, logger="ticker.feeds"):
        runner.start()
        try:
            deadline = asyncio.get_running_loop().time() + 5
            while runner.restarts["broken"] < 200:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0)
            clock.now += 60.0
            target = runner.restarts["broken"] + 1
            while runner.restarts["broken"] < target:
                assert asyncio.get_running_loop().time() < deadline + 5
                await asyncio.sleep(0)
        finally:
            await runner.stop()
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert runner.restarts["broken"] >= 201  # every failure counted (ticker_feed_restarts_total)
    assert len(failures) == 4  # the burst of 3, then one after the interval
    assert all(r.feed == "broken" and r.exc_info for r in failures)  # type: ignore[attr-defined]
    assert "upstream refused (attempt 1)" in str(failures[0].exc_info[1])  # type: ignore[index]
    # The fourth line reports every failure since the third line; the runner
    # may have failed once more before it was stopped.
    held_back = failures[3].suppressed  # type: ignore[attr-defined]
    assert runner.restarts["broken"] - 5 <= held_back <= runner.restarts["broken"] - 4
