"""LogLimiter: a burst, then one line per interval, with the count of lines held back."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterator

import pytest

from feeds.base import Feed, TickSink
from feeds.runner import FeedRunner
from ticker.log_limit import LogLimiter
from ticker.model import Instrument


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_suppressed_then_one_per_interval_with_the_count() -> None:
    clock = Clock()
    lim = LogLimiter(burst=3, interval_s=10.0, clock=clock)
    assert [lim.allow("feed") for _ in range(3)] == [0, 0, 0]
    assert [lim.allow("feed") for _ in range(50)] == [None] * 50
    clock.now += 5.0  # half a token
    assert lim.allow("feed") is None
    clock.now += 5.0
    assert lim.allow("feed") == 51  # 51 lines held back since the last one let through
    assert lim.allow("feed") is None
    clock.now += 1000.0  # a long quiet spell refills the burst, not more
    assert [lim.allow("feed") for _ in range(4)] == [1, 0, 0, None]


def test_keys_are_independent() -> None:
    clock = Clock()
    lim = LogLimiter(burst=1, interval_s=60.0, clock=clock)
    assert lim.allow("a") == 0
    assert lim.allow("a") is None
    assert lim.allow("b") == 0


def test_keys_are_bounded_least_recently_used_forgotten() -> None:
    clock = Clock()
    lim = LogLimiter(burst=1, interval_s=60.0, max_keys=2, clock=clock)
    lim.allow("a")
    lim.allow("b")
    assert lim.allow("a") is None  # "a" is now the most recent
    lim.allow("c")  # evicts "b", the least recently used
    assert lim.allow("b") == 0  # forgotten: a fresh burst (and "a" is evicted now)
    assert lim.allow("c") is None  # remembered
    assert lim.allow("a") == 0


def test_clock_going_backwards_does_not_refill() -> None:
    clock = Clock()
    lim = LogLimiter(burst=1, interval_s=10.0, clock=clock)
    lim.allow("k")
    clock.now -= 100.0
    assert lim.allow("k") is None


@pytest.mark.parametrize(("kwargs", "key"), [({"burst": 0}, "burst"), ({"interval_s": 0.0}, "interval_s")])
def test_bad_settings_name_the_setting(kwargs: dict[str, float], key: str) -> None:
    with pytest.raises(ValueError, match=f"^{key}:"):
        LogLimiter(**kwargs)  # type: ignore[arg-type]


def test_log_adds_the_suppressed_count_to_the_context(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    lim = LogLimiter(burst=1, interval_s=10.0, clock=clock)
    logger = logging.getLogger("test.limit")
    with caplog.at_level(logging.WARNING, logger="test.limit"):
        for i in range(5):
            lim.log(logger, logging.WARNING, "file.csv", "bad line %d", i, extra={"file": "file.csv"})
        clock.now += 10.0
        assert lim.log(logger, logging.WARNING, "file.csv", "bad line %d", 5, extra={"file": "file.csv"})
    assert [r.getMessage() for r in caplog.records] == ["bad line 0", "bad line 5"]
    assert not hasattr(caplog.records[0], "suppressed")
    assert caplog.records[1].suppressed == 4  # type: ignore[attr-defined]
    assert caplog.records[1].file == "file.csv"  # type: ignore[attr-defined]
    assert caplog.records[1].funcName == "test_log_adds_the_suppressed_count_to_the_context"


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
