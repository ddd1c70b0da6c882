"""The bad-tick filter: objects in, decisions out."""

import numpy as np
import pytest

from feeds.outliers import OutlierFilter


def feed(f: OutlierFilter, mids: list[float], sid: int = 0) -> tuple[list[int], int]:
    """Offer mids in order (item = index); returns applied indexes and rejections."""
    applied: list[int] = []
    rejected = 0
    for i, m in enumerate(mids):
        out, rej = f.offer(sid, m, i)
        applied += out
        rejected += rej
    return applied, rejected


def walk(n: int, start: float = 1.1, step: float = 0.00005, seed: int = 1) -> list[float]:
    rng = np.random.default_rng(seed)
    return (start + np.cumsum(rng.normal(0, step, n))).tolist()


def test_a_lone_spike_is_rejected_and_normal_ticks_pass() -> None:
    f = OutlierFilter([0.0001], max_sigma=10, window=50, confirm_ticks=2)
    mids = walk(100)
    mids[60] = mids[59] * 1.01  # +1 %: ~200 pips
    applied, rejected = feed(f, mids)
    assert rejected == 1
    assert applied == [i for i in range(100) if i != 60]


def test_a_confirmed_jump_is_applied_late_but_in_order() -> None:
    f = OutlierFilter([0.0001], max_sigma=10, window=50, confirm_ticks=2)
    before = walk(60)
    mids = before + walk(20, start=before[-1] + 0.02, seed=2)  # a real 200-pip gap, then trading on
    applied, rejected = feed(f, mids)
    assert rejected == 0
    assert applied == list(range(80))  # nothing lost, nothing reordered


def test_held_ticks_are_released_only_after_the_confirmations() -> None:
    f = OutlierFilter([0.0001], max_jump_pct=0.5, confirm_ticks=3)
    assert f.offer(0, 100.0, "a") == (["a"], 0)
    assert f.offer(0, 101.0, "b") == ([], 0)  # +1 %: held
    assert f.offer(0, 101.01, "c") == ([], 0)
    assert f.offer(0, 101.02, "d") == ([], 0)
    assert f.held(0) == 3
    assert f.offer(0, 101.0, "e") == (["b", "c", "d", "e"], 0)
    assert f.offer(0, 101.05, "f") == (["f"], 0)  # the new level is the reference


def test_a_return_to_the_old_level_rejects_everything_held() -> None:
    f = OutlierFilter([0.0001], max_jump_pct=0.5, confirm_ticks=3)
    f.offer(0, 100.0, "a")
    f.offer(0, 90.0, "b")
    f.offer(0, 90.1, "c")
    assert f.offer(0, 100.1, "d") == (["d"], 2)


def test_a_third_level_after_a_spike_is_judged_afresh() -> None:
    f = OutlierFilter([0.0001], max_jump_pct=0.5, confirm_ticks=1)
    f.offer(0, 100.0, "a")
    assert f.offer(0, 110.0, "b") == ([], 0)
    assert f.offer(0, 80.0, "c") == ([], 1)  # b rejected; c is itself suspicious: held
    assert f.offer(0, 100.2, "d") == (["d"], 1)


def test_quiet_market_does_not_flag_a_one_pip_step() -> None:
    f = OutlierFilter([0.0001], max_sigma=5, window=30)
    mids = [1.1] * 40 + [1.1001, 1.1002, 1.1001]  # no movement, then pip steps
    applied, rejected = feed(f, mids)
    assert rejected == 0 and len(applied) == len(mids)


def test_symbols_are_independent_and_not_prices_pass_through() -> None:
    f = OutlierFilter([0.0001, 0.01], max_jump_pct=1.0)
    f.offer(0, 1.1, "eur")
    f.offer(1, 150.0, "jpy")
    assert f.offer(1, 150.5, "jpy2") == (["jpy2"], 0)
    assert f.offer(0, float("nan"), "nan") == (["nan"], 0)  # the table's validation rejects it
    assert f.offer(0, -1.0, "neg") == (["neg"], 0)


def test_confirm_ticks_must_be_positive() -> None:
    with pytest.raises(ValueError, match="confirm_ticks"):
        OutlierFilter([0.0001], max_sigma=3, confirm_ticks=0)
