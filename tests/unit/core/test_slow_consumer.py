from ticker.core.slow_consumer import SlowAction, SlowConsumerGuard, SlowConsumerPolicy


def guard() -> SlowConsumerGuard:
    return SlowConsumerGuard(SlowConsumerPolicy(max_bytes=1000, max_lag_s=1.0, grace_s=5.0))


def test_warns_once_then_closes_after_grace() -> None:
    g = guard()
    assert g.check(10, 0.1, now=0.0) is SlowAction.OK
    assert g.check(5000, 0.1, now=1.0) is SlowAction.WARN
    assert g.check(5000, 0.1, now=2.0) is SlowAction.OK
    assert g.check(10, 3.0, now=5.9) is SlowAction.OK  # still over (by lag), grace not over
    assert g.check(10, 3.0, now=6.0) is SlowAction.CLOSE


def test_recovering_ends_the_episode() -> None:
    g = guard()
    assert g.check(5000, 0, now=0.0) is SlowAction.WARN
    assert g.check(0, 0, now=4.0) is SlowAction.OK
    assert g.check(5000, 0, now=8.0) is SlowAction.WARN  # a new episode warns again
    assert g.check(5000, 0, now=12.0) is SlowAction.OK
    assert g.check(5000, 0, now=13.0) is SlowAction.CLOSE


def test_describe_names_the_limit() -> None:
    assert "limit 1000" in guard().describe(5000, 0)
    assert "limit 1 s" in guard().describe(0, 3.0)
