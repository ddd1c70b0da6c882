"""LogLimiter: a burst, then one line per interval, with the count of lines held back."""

from __future__ import annotations

import logging

import pytest

from tests.support.clock import Clock
from ticker.util.log_limit import LogLimiter


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






