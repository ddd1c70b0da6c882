"""Daily statistics: open/high/low/change over a known tick sequence, the roll at
17:00 New York on tick and on timer, weekends, holidays, and the change mask."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticker.core.calendar import CRYPTO, FX, HOUR_US, Calendar, to_us
from ticker.core.daystats import DAY, HIGH, LAST, LOW, OPEN, PREV_CLOSE, ROLL, TICKS, DailyStats

NY = ZoneInfo("America/New_York")


def ny(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    return to_us(datetime(y, m, d, h, mi, s, tzinfo=NY))


@pytest.fixture
def stats() -> DailyStats:
    fx = Calendar(FX)
    return DailyStats([fx, fx], [5, 3])  # EURUSD, USDJPY


def test_statistics_over_a_known_tick_sequence(stats: DailyStats) -> None:
    # Monday's trading day (Sunday 17:00 -> Monday 17:00 New York).
    assert stats.get(0) is None
    ticks = [(ny(2024, 3, 10, 17, 5), 1.09400), (ny(2024, 3, 11, 3), 1.09550),
             (ny(2024, 3, 11, 9), 1.09250), (ny(2024, 3, 11, 16, 59), 1.09300)]  # fmt: skip
    for ts, bid in ticks:
        stats.on_tick(0, ts, bid)
    s = stats.get(0)
    assert s is not None
    assert (s.day, s.open, s.high, s.low, s.last, s.ticks) == (date(2024, 3, 11), 1.094, 1.0955, 1.0925, 1.093, 4)
    assert math.isnan(s.prev_close) and math.isnan(s.change)  # no previous day seen yet
    # 17:00 New York: Tuesday's day begins and Monday's last bid is its previous close.
    assert stats.on_tick(0, ny(2024, 3, 11, 17, 0, 1), 1.09415) == ROLL
    s = stats.get(0)
    assert s is not None
    assert (s.day, s.open, s.high, s.low, s.prev_close, s.ticks) == (date(2024, 3, 12), 1.09415, 1.09415, 1.09415, 1.093, 1)
    assert s.change == 0.00115
    assert s.change_pct == 0.11  # 100 * 0.00115 / 1.093 = 0.1052...
    assert stats.as_dict(0) == {
        "date": "2024-03-12", "open": 1.09415, "high": 1.09415, "low": 1.09415, "prev_close": 1.093,
        "change": 0.00115, "change_pct": 0.11, "ticks": 1,
    }  # fmt: skip
    assert stats.get(1) is None  # the other symbol never ticked


def test_the_common_tick_changes_only_the_count_last_and_maybe_an_extreme(stats: DailyStats) -> None:
    t = ny(2024, 3, 11, 9)
    assert stats.on_tick(0, t, 1.09000) == ROLL
    assert stats.on_tick(0, t + 1, 1.09000) == TICKS
    assert stats.on_tick(0, t + 2, 1.09010) == TICKS | LAST | HIGH
    assert stats.on_tick(0, t + 3, 1.09005) == TICKS | LAST
    assert stats.on_tick(0, t + 4, 1.08990) == TICKS | LAST | LOW
    assert ROLL == DAY | OPEN | HIGH | LOW | LAST | TICKS | PREV_CLOSE


@pytest.mark.parametrize(
    ("monday", "roll_utc_hour"), [(date(2024, 3, 4), 22), (date(2024, 3, 11), 21), (date(2024, 11, 4), 22),
                                  (date(2025, 3, 10), 21), (date(2025, 11, 3), 22)],
)  # fmt: skip
def test_the_timer_rolls_a_quiet_symbol_at_1700_new_york_on_both_sides_of_dst(
    stats: DailyStats, monday: date, roll_utc_hour: int
) -> None:
    stats.on_tick(0, ny(monday.year, monday.month, monday.day, 12), 1.1)
    roll = ny(monday.year, monday.month, monday.day, 17)
    assert (roll // 3_600_000_000) % 24 == roll_utc_hour
    assert stats.next_roll == roll
    assert stats.roll_due(roll - 1) == []
    assert stats.roll_due(roll) == [0]
    s = stats.get(0)
    assert s is not None and s.day == monday + timedelta(days=1)
    assert s.prev_close == 1.1 and math.isnan(s.open) and math.isnan(s.change) and s.ticks == 0
    assert stats.roll_due(roll + HOUR_US) == []


def test_fridays_statistics_stand_over_the_weekend_and_roll_at_sunday_1700(stats: DailyStats) -> None:
    stats.on_tick(0, ny(2024, 3, 8, 9), 1.0950)
    stats.on_tick(0, ny(2024, 3, 8, 16, 59), 1.0940)
    assert stats.roll_due(ny(2024, 3, 8, 17)) == []  # the Friday close is not a new day
    assert stats.roll_due(ny(2024, 3, 9, 12)) == []
    assert stats.on_tick(0, ny(2024, 3, 9, 12), 1.2) == 0  # a Saturday tick is off-hours
    assert stats.ignored_closed == 1
    s = stats.get(0)
    assert s is not None and s.day == date(2024, 3, 8) and s.last == 1.094 and s.ticks == 2
    assert stats.roll_due(ny(2024, 3, 10, 17)) == [0]  # Sunday 17:00 EDT = 21:00 UTC
    s = stats.get(0)
    assert s is not None and s.day == date(2024, 3, 11) and s.prev_close == 1.094


def test_a_holiday_keeps_the_previous_days_statistics_until_the_next_day(stats: DailyStats) -> None:
    stats.on_tick(0, ny(2024, 12, 24, 10), 1.04)
    assert stats.roll_due(ny(2024, 12, 25, 12)) == []
    assert stats.next_roll == ny(2024, 12, 25, 17)
    stats.on_tick(0, ny(2024, 12, 25, 17, 1), 1.05)
    s = stats.get(0)
    assert s is not None and (s.day, s.prev_close, s.change) == (date(2024, 12, 26), 1.04, 0.01)


def test_a_day_without_ticks_carries_the_previous_close(stats: DailyStats) -> None:
    stats.on_tick(0, ny(2024, 3, 11, 10), 1.10)
    stats.roll_due(ny(2024, 3, 11, 17))  # Tuesday begins: prev close 1.10
    stats.roll_due(ny(2024, 3, 12, 17))  # Wednesday begins; Tuesday had no tick
    s = stats.get(0)
    assert s is not None and s.day == date(2024, 3, 13) and s.prev_close == 1.10


def test_a_tick_older_than_the_day_is_ignored(stats: DailyStats) -> None:
    stats.on_tick(0, ny(2024, 3, 11, 18), 1.1)  # Tuesday's day
    assert stats.on_tick(0, ny(2024, 3, 11, 16), 1.2) == 0
    assert stats.ignored_old == 1


def test_prev_close_can_be_given_and_change_pct_is_rounded_to_2_decimals(stats: DailyStats) -> None:
    stats.on_tick(1, ny(2024, 3, 11, 10), 147.123)
    stats.set_prev_close(1, 146.5)
    s = stats.get(1)
    assert s is not None and s.change == 0.623 and s.change_pct == 0.43


def test_crypto_days_roll_at_midnight_utc() -> None:
    cal = Calendar(CRYPTO)
    stats = DailyStats([cal], [2])
    stats.on_tick(0, to_us(datetime(2024, 3, 9, 23, 0, tzinfo=ZoneInfo("UTC"))), 60000.0)
    assert stats.next_roll == to_us(datetime(2024, 3, 10, tzinfo=ZoneInfo("UTC")))


def test_calendars_and_decimals_must_match() -> None:
    with pytest.raises(ValueError, match="2 calendars for 1 symbols"):
        DailyStats([Calendar(FX)] * 2, [5])


# ------------------------------------------------------- against a reference


def _label(ts: int) -> date:
    local = datetime.fromtimestamp(ts / 1e6, NY).replace(tzinfo=None)
    return (local + timedelta(hours=7)).date()


def _reference(ticks: Sequence[tuple[int, float]]) -> dict[date, tuple[float, float, float, float, int]]:
    days: dict[date, list[float]] = {}
    for ts, bid in ticks:
        label = _label(ts)
        if label.weekday() < 5 and (label.month, label.day) not in {(12, 25), (1, 1)}:
            days.setdefault(label, []).append(bid)
    return {d: (p[0], max(p), min(p), p[-1], len(p)) for d, p in days.items()}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(ny(2024, 3, 6), ny(2024, 3, 20)), st.integers(10_000, 10_100)), min_size=1, max_size=80))
def test_statistics_from_random_ticks_equal_a_per_day_reference(ticks: list[tuple[int, int]]) -> None:
    ticks_f = sorted((ts, n / 10_000) for ts, n in ticks)
    stats = DailyStats([Calendar(FX)], [4])
    seen: dict[date, tuple[float, float, float, float, int]] = {}
    closes: dict[date, float] = {}
    for ts, bid in ticks_f:
        stats.on_tick(0, ts, bid)
        s = stats.get(0)
        if s is not None and s.ticks:
            seen[s.day] = (s.open, s.high, s.low, s.last, s.ticks)
            closes[s.day] = s.prev_close
    ref = _reference(ticks_f)
    assert seen == ref
    # Each day's previous close is the last bid of the latest earlier day with ticks.
    days = sorted(ref)
    for prev, day in itertools.pairwise(days):
        assert closes[day] == ref[prev][3]


def test_the_fast_path_gives_the_same_answers_around_rolls_closes_and_early_closes() -> None:
    """Ticks inside the cached window skip the calendar; ticks at its edges (the roll,
    an early close, a timer roll, the metals' break) must still be handled."""
    from datetime import time as wall

    from ticker.core.calendar import METALS, CalendarSpec, EarlyClose

    eve = Calendar(CalendarSpec("fx", early_closes=(EarlyClose(12, 24, wall(13)),)))
    stats = DailyStats([eve, Calendar(METALS)], [5, 2])
    assert stats.on_tick(0, ny(2024, 12, 24, 12, 59), 1.04) == ROLL
    assert stats.on_tick(0, ny(2024, 12, 24, 12, 59, 30), 1.05) == TICKS | LAST | HIGH
    assert stats.on_tick(0, ny(2024, 12, 24, 13), 1.06) == 0  # the early close: off-hours
    assert stats.ignored_closed == 1
    s = stats.get(0)
    assert s is not None and (s.high, s.last, s.ticks) == (1.05, 1.05, 2)
    # Metals: the day rolls at 17:00 into the break; the first tick at 18:00 opens it.
    stats.on_tick(1, ny(2024, 3, 12, 16, 59), 2150.0)
    assert stats.on_tick(1, ny(2024, 3, 12, 17, 30), 2151.0) == 0
    assert stats.roll_due(ny(2024, 3, 12, 17)) == [1]
    assert stats.on_tick(1, ny(2024, 3, 12, 18), 2152.0) == TICKS | LAST | HIGH | LOW | OPEN
    assert stats.on_tick(1, ny(2024, 3, 12, 18, 1), 2151.5) == TICKS | LAST | LOW
    s = stats.get(1)
    assert s is not None and (s.day, s.open, s.low, s.prev_close) == (date(2024, 3, 13), 2152.0, 2151.5, 2150.0)
