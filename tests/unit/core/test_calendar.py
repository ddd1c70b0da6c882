"""The trading calendar: FX hours across New York DST changes, holidays, early
closes, the day in force, and bar boundaries for every interval."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticker.core.calendar import (
    CRYPTO,
    DAY_US,
    DEFAULT_INTERVALS,
    FX,
    HOUR_US,
    METALS,
    MINUTE_US,
    Calendar,
    CalendarError,
    CalendarSpec,
    EarlyClose,
    Holiday,
    iso,
    parse_instant,
    parse_interval,
    to_us,
)

NY = ZoneInfo("America/New_York")


def ny(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> int:
    return to_us(datetime(y, m, d, h, mi, s, us, tzinfo=NY))


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    return to_us(datetime(y, m, d, h, mi, s, tzinfo=UTC))


@pytest.fixture
def fx() -> Calendar:
    return Calendar(FX)


# ---------------------------------------------------------------- FX week and DST

# (Friday before the change, its close in UTC, the Sunday after, its open in UTC)
WEEKENDS = [
    pytest.param(date(2024, 3, 8), utc(2024, 3, 8, 22), date(2024, 3, 10), utc(2024, 3, 10, 21), id="2024-03"),
    pytest.param(date(2024, 11, 1), utc(2024, 11, 1, 21), date(2024, 11, 3), utc(2024, 11, 3, 22), id="2024-11"),
    pytest.param(date(2025, 3, 7), utc(2025, 3, 7, 22), date(2025, 3, 9), utc(2025, 3, 9, 21), id="2025-03"),
    pytest.param(date(2025, 10, 31), utc(2025, 10, 31, 21), date(2025, 11, 2), utc(2025, 11, 2, 22), id="2025-11"),
]


@pytest.mark.parametrize(("friday", "close", "sunday", "open_"), WEEKENDS)
def test_fx_week_closes_friday_and_opens_sunday_at_1700_new_york_across_dst(
    fx: Calendar, friday: date, close: int, sunday: date, open_: int
) -> None:
    # 17:00 New York is 22:00 UTC under EST and 21:00 UTC under EDT.
    assert close == ny(friday.year, friday.month, friday.day, 17)
    assert open_ == ny(sunday.year, sunday.month, sunday.day, 17)
    assert fx.is_open(close - 1)
    assert not fx.is_open(close)
    assert not fx.is_open(close + 24 * HOUR_US)  # Saturday
    assert not fx.is_open(open_ - 1)
    assert fx.is_open(open_)
    assert fx.next_close(close - 1) == close
    assert fx.next_open(close) == open_
    assert fx.next_open(close + 30 * HOUR_US) == open_
    # The next close after the Sunday open is the following Friday's 17:00 New York.
    nxt = sunday + timedelta(days=5)
    assert fx.next_close(open_) == ny(nxt.year, nxt.month, nxt.day, 17)


def test_the_spring_weekend_is_an_hour_short_and_the_autumn_one_an_hour_long(fx: Calendar) -> None:
    spring_close = ny(2024, 3, 8, 17)
    assert fx.next_open(spring_close) == spring_close + 47 * HOUR_US
    autumn_close = ny(2024, 11, 1, 17)
    assert fx.next_open(autumn_close) == autumn_close + 49 * HOUR_US


def test_every_fx_trading_day_lasts_24_hours_even_in_a_dst_week(fx: Calendar) -> None:
    days = fx.trading_days(date(2024, 3, 4), date(2024, 3, 15)) + fx.trading_days(
        date(2024, 10, 28), date(2024, 11, 8)
    )
    assert [d.label.weekday() for d in days] == [0, 1, 2, 3, 4] * 4
    assert all(d.end - d.start == DAY_US for d in days)
    # ...but their UTC times move by an hour across the change.
    by_label = {d.label: d for d in days}
    assert iso(by_label[date(2024, 3, 8)].start) == "2024-03-07T22:00:00Z"
    assert iso(by_label[date(2024, 3, 11)].start) == "2024-03-10T21:00:00Z"
    assert iso(by_label[date(2024, 11, 1)].start) == "2024-10-31T21:00:00Z"
    assert iso(by_label[date(2024, 11, 4)].start) == "2024-11-03T22:00:00Z"


# ----------------------------------------------------------------- the trading day


def test_a_tick_after_1700_new_york_belongs_to_the_next_trading_day(fx: Calendar) -> None:
    assert fx.trading_day(ny(2024, 3, 11, 17, 30)) == date(2024, 3, 12)
    assert fx.trading_day(ny(2024, 3, 11, 16, 59, 59, 999_999)) == date(2024, 3, 11)
    assert fx.trading_day(ny(2024, 3, 11, 17)) == date(2024, 3, 12)
    assert fx.day_start(ny(2024, 3, 11, 17, 30)) == ny(2024, 3, 11, 17)
    assert fx.day_end(ny(2024, 3, 11, 17, 30)) == ny(2024, 3, 12, 17)
    assert fx.next_day_start(ny(2024, 3, 11, 17, 30)) == ny(2024, 3, 12, 17)


@pytest.mark.parametrize(
    ("monday", "start_utc"),
    [(date(2024, 3, 11), "2024-03-10T21:00:00Z"), (date(2024, 11, 4), "2024-11-03T22:00:00Z"),
     (date(2025, 3, 10), "2025-03-09T21:00:00Z"), (date(2025, 11, 3), "2025-11-02T22:00:00Z")],
)  # fmt: skip
def test_the_day_rolls_at_1700_new_york_on_both_sides_of_dst(fx: Calendar, monday: date, start_utc: str) -> None:
    tuesday = monday + timedelta(days=1)
    roll = ny(monday.year, monday.month, monday.day, 17)
    assert fx.trading_day(roll - 1) == monday
    assert fx.trading_day(roll) == tuesday
    sunday_open = fx.day_start(roll - 1)
    assert iso(sunday_open) == start_utc


def test_over_the_weekend_fridays_day_stays_in_force_until_sunday_1700(fx: Calendar) -> None:
    saturday = ny(2024, 3, 9, 12)
    day = fx.day(saturday)
    assert day.label == date(2024, 3, 8)
    assert day.start == ny(2024, 3, 7, 17)
    assert day.end == ny(2024, 3, 8, 17)  # when Friday stopped trading, before the instant asked
    assert day.next_start == ny(2024, 3, 10, 17)  # the daily statistics roll on Sunday's open
    assert fx.trading_day(ny(2024, 3, 10, 16, 59)) == date(2024, 3, 8)
    assert fx.trading_day(ny(2024, 3, 10, 17)) == date(2024, 3, 11)


# -------------------------------------------------------- holidays, early closes


def test_christmas_closes_the_trading_day_named_dec_25(fx: Calendar) -> None:
    # Christmas 2024 is a Wednesday: closed Tuesday 17:00 -> Wednesday 17:00 New York.
    assert fx.is_open(ny(2024, 12, 24, 16, 59))
    assert not fx.is_open(ny(2024, 12, 24, 17))
    assert not fx.is_open(ny(2024, 12, 25, 12))
    assert fx.is_open(ny(2024, 12, 25, 17))
    assert fx.next_close(ny(2024, 12, 24, 12)) == ny(2024, 12, 24, 17)
    assert fx.next_open(ny(2024, 12, 24, 17)) == ny(2024, 12, 25, 17)
    labels = [d.label for d in fx.trading_days(date(2024, 12, 23), date(2024, 12, 27))]
    assert labels == [date(2024, 12, 23), date(2024, 12, 24), date(2024, 12, 26), date(2024, 12, 27)]
    # The holiday has no label of its own: Dec 24 stays in force until Dec 26's day starts.
    assert fx.trading_day(ny(2024, 12, 25, 12)) == date(2024, 12, 24)
    assert fx.next_day_start(ny(2024, 12, 25, 12)) == ny(2024, 12, 25, 17)
    # New Year's Day 2025 (Wednesday) likewise.
    assert not fx.is_open(ny(2025, 1, 1, 9))
    assert fx.trading_day(ny(2025, 1, 1, 17, 1)) == date(2025, 1, 2)


def test_a_dated_holiday_applies_to_its_year_only() -> None:
    cal = Calendar(CalendarSpec("fx", holidays=(Holiday.on(date(2024, 7, 4), "Independence Day"),)))
    assert not cal.is_open(ny(2024, 7, 4, 10))
    assert cal.is_open(ny(2025, 7, 4, 10))


@pytest.fixture
def christmas_eve() -> Calendar:
    return Calendar(
        CalendarSpec(
            "fx",
            holidays=(Holiday(12, 25),),
            early_closes=(EarlyClose(12, 24, time(13), name="Christmas Eve"),),
        )
    )


def test_an_early_close_ends_the_trading_day_at_its_time(christmas_eve: Calendar) -> None:
    cal = christmas_eve
    assert cal.is_open(ny(2024, 12, 24, 12, 59))
    assert not cal.is_open(ny(2024, 12, 24, 13))
    assert cal.next_close(ny(2024, 12, 24, 9)) == ny(2024, 12, 24, 13)
    assert cal.next_open(ny(2024, 12, 24, 13)) == ny(2024, 12, 25, 17)
    assert cal.day_end(ny(2024, 12, 24, 9)) == ny(2024, 12, 24, 13)
    assert cal.trading_day(ny(2024, 12, 24, 15)) == date(2024, 12, 24)  # still in force after the close


def test_bars_end_at_an_early_close(christmas_eve: Calendar) -> None:
    cal = christmas_eve
    h4, d1, h1 = parse_interval("4h"), parse_interval("1d"), parse_interval("1h")
    at = ny(2024, 12, 24, 12, 30)
    assert (cal.bar_start(h4, at), cal.bar_end(h4, at)) == (ny(2024, 12, 24, 9), ny(2024, 12, 24, 13))
    assert (cal.bar_start(d1, at), cal.bar_end(d1, at)) == (ny(2024, 12, 23, 17), ny(2024, 12, 24, 13))
    assert cal.bar_end(h1, at) == ny(2024, 12, 24, 13)
    # After the close the cells go on from the close, never overlapping the day's bars.
    later = ny(2024, 12, 24, 15)
    assert (cal.bar_start(d1, later), cal.bar_end(d1, later)) == (ny(2024, 12, 24, 13), ny(2024, 12, 24, 17))
    odd = Calendar(CalendarSpec("fx", early_closes=(EarlyClose(12, 24, time(13, 15)),)))
    at = ny(2024, 12, 24, 13, 5)
    assert (odd.bar_start(h1, at), odd.bar_end(h1, at)) == (ny(2024, 12, 24, 13), ny(2024, 12, 24, 13, 15))
    m15 = parse_interval("15m")
    assert odd.bar_end(m15, at) == ny(2024, 12, 24, 13, 15)
    assert odd.bar_end(d1, at) == ny(2024, 12, 24, 13, 15)


# ------------------------------------------------------------- metals and crypto


def test_metals_break_daily_from_1700_to_1800_new_york() -> None:
    cal = Calendar(METALS)
    assert cal.is_open(ny(2024, 3, 11, 16, 59))
    assert not cal.is_open(ny(2024, 3, 11, 17, 30))
    assert cal.is_open(ny(2024, 3, 11, 18))
    assert cal.next_open(ny(2024, 3, 11, 17)) == ny(2024, 3, 11, 18)
    assert cal.next_close(ny(2024, 3, 11, 18)) == ny(2024, 3, 12, 17)
    # The week opens Sunday 18:00, but the trading day (and the daily bar) starts at 17:00.
    assert not cal.is_open(ny(2024, 3, 10, 17, 30))
    assert cal.next_open(ny(2024, 3, 9, 12)) == ny(2024, 3, 10, 18)
    assert cal.day_start(ny(2024, 3, 11, 9)) == ny(2024, 3, 10, 17)
    d1 = parse_interval("1d")
    assert cal.bar_start(d1, ny(2024, 3, 11, 9)) == ny(2024, 3, 10, 17)


def test_crypto_never_closes_and_its_days_are_utc_dates() -> None:
    cal = Calendar(CRYPTO)
    assert cal.always_open
    assert cal.is_open(utc(2024, 3, 9, 12))  # a Saturday
    assert cal.next_open(0) is None
    assert cal.next_close(0) is None
    assert cal.trading_day(utc(2024, 3, 11, 23, 59)) == date(2024, 3, 11)
    assert cal.day_start(utc(2024, 3, 11, 23, 59)) == utc(2024, 3, 11)
    assert cal.next_day_start(utc(2024, 3, 11, 23, 59)) == utc(2024, 3, 12)
    h4 = parse_interval("4h")
    assert cal.bar_start(h4, utc(2024, 3, 11, 5, 30)) == utc(2024, 3, 11, 4)
    assert cal.bar_start(parse_interval("1d"), utc(2024, 3, 11, 5, 30)) == utc(2024, 3, 11)


def test_a_seven_day_calendar_with_a_holiday_closes_only_on_it() -> None:
    cal = Calendar(CalendarSpec("c", tz="UTC", roll=time(0), weekdays=frozenset(range(7)),
                                holidays=(Holiday.on(date(2024, 6, 1)),)))  # fmt: skip
    assert cal.next_close(utc(2024, 3, 1)) == utc(2024, 6, 1)
    assert cal.next_open(utc(2024, 3, 1)) == utc(2024, 6, 2)


def test_a_roll_before_noon_names_the_day_by_its_start() -> None:
    cal = Calendar(CalendarSpec("tokyo", tz="Asia/Tokyo", roll=time(6), weekdays=frozenset(range(7))))
    tokyo = ZoneInfo("Asia/Tokyo")
    at = to_us(datetime(2024, 3, 11, 7, tzinfo=tokyo))
    assert cal.trading_day(at) == date(2024, 3, 11)
    assert cal.trading_day(at - 2 * HOUR_US) == date(2024, 3, 10)
    assert cal.day_start(at) == to_us(datetime(2024, 3, 11, 6, tzinfo=tokyo))


# ---------------------------------------------------------------- bar alignment


@pytest.mark.parametrize("when", [ny(2024, 1, 10, 10, 37, 12, 345_678), ny(2024, 7, 10, 10, 37, 12, 345_678)])
def test_intraday_intervals_up_to_1h_are_epoch_aligned(fx: Calendar, when: int) -> None:
    for label, us in [("1s", 1_000_000), ("1m", MINUTE_US), ("5m", 5 * MINUTE_US),
                      ("15m", 15 * MINUTE_US), ("1h", HOUR_US)]:  # fmt: skip
        interval = parse_interval(label)
        assert interval.us == us
        start, end = fx.bar_start(interval, when), fx.bar_end(interval, when)
        assert start == when - when % us
        assert end == start + us


@pytest.mark.parametrize(
    ("monday", "expected_utc_hours"),
    [(date(2024, 3, 4), [22, 2, 6, 10, 14, 18]),  # EST: 17:00 New York = 22:00 UTC
     (date(2024, 3, 11), [21, 1, 5, 9, 13, 17]),  # EDT: 21:00 UTC
     (date(2024, 10, 28), [21, 1, 5, 9, 13, 17]),
     (date(2024, 11, 4), [22, 2, 6, 10, 14, 18])],
)  # fmt: skip
def test_4h_bars_start_at_17_21_01_05_09_13_new_york(fx: Calendar, monday: date, expected_utc_hours: list[int]) -> None:
    h4 = parse_interval("4h")
    day = fx.day(ny(monday.year, monday.month, monday.day, 12))
    starts = []
    t = day.start
    while t < day.end:
        assert fx.bar_start(h4, t + 1) == t
        starts.append(t)
        t = fx.bar_end(h4, t)
    assert t == day.end
    local = [datetime.fromtimestamp(s / 1e6, NY).hour for s in starts]
    assert local == [17, 21, 1, 5, 9, 13]
    assert [datetime.fromtimestamp(s / 1e6, UTC).hour for s in starts] == expected_utc_hours


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [(date(2024, 3, 8), "2024-03-07T22:00:00Z", "2024-03-08T22:00:00Z"),
     (date(2024, 3, 11), "2024-03-10T21:00:00Z", "2024-03-11T21:00:00Z"),
     (date(2024, 11, 1), "2024-10-31T21:00:00Z", "2024-11-01T21:00:00Z"),
     (date(2024, 11, 4), "2024-11-03T22:00:00Z", "2024-11-04T22:00:00Z"),
     (date(2025, 3, 7), "2025-03-06T22:00:00Z", "2025-03-07T22:00:00Z"),
     (date(2025, 3, 10), "2025-03-09T21:00:00Z", "2025-03-10T21:00:00Z")],
)  # fmt: skip
def test_the_daily_bar_runs_1700_to_1700_new_york_on_both_sides_of_dst(
    fx: Calendar, label: date, start: str, end: str
) -> None:
    d1 = parse_interval("1d")
    noon = ny(label.year, label.month, label.day, 12)
    assert iso(fx.bar_start(d1, noon)) == start
    assert iso(fx.bar_end(d1, noon)) == end
    assert fx.bar_start(d1, parse_instant(end) - 1) == parse_instant(start)


def test_a_dst_change_inside_a_trading_day_makes_one_4h_bar_shorter_or_longer() -> None:
    # A New York calendar open seven days a week sees the change inside a trading day.
    cal = Calendar(CalendarSpec("ny7", weekdays=frozenset(range(7))))
    spring = cal.day(ny(2024, 3, 10, 12))  # Sat 17:00 EST -> Sun 17:00 EDT
    autumn = cal.day(ny(2024, 11, 3, 12))
    assert spring.end - spring.start == 23 * HOUR_US
    assert autumn.end - autumn.start == 25 * HOUR_US
    h4 = parse_interval("4h")
    at = ny(2024, 3, 10, 3, 30)  # just after the 02:00 -> 03:00 jump
    assert (cal.bar_start(h4, at), cal.bar_end(h4, at)) == (ny(2024, 3, 10, 1), ny(2024, 3, 10, 5))
    assert cal.bar_end(h4, at) - cal.bar_start(h4, at) == 3 * HOUR_US
    at = ny(2024, 11, 3, 3, 30)
    assert cal.bar_end(h4, at) - cal.bar_start(h4, at) == 5 * HOUR_US
    d1 = parse_interval("1d")
    assert cal.bar_end(d1, at) - cal.bar_start(d1, at) == 25 * HOUR_US


def test_default_intervals() -> None:
    assert [i.label for i in DEFAULT_INTERVALS] == ["1s", "1m", "5m", "15m", "1h", "4h", "1d"]
    assert [i.daily for i in DEFAULT_INTERVALS] == [False] * 5 + [True] * 2


@pytest.mark.parametrize(
    ("text", "message"),
    [("7m", "minutes must divide 60"), ("60s", "use 1m"), ("60m", "use 1h"), ("5h", "hours must divide 24"),
     ("24h", "use 1d"), ("2d", "only 1d"), ("1w", "unit s, m, h or d"), ("m", "a count and a unit"),
     ("", "a count and a unit"), ("0s", "a count"), ("1.5h", "a count")],
)  # fmt: skip
def test_bad_intervals_say_what_is_allowed(text: str, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        parse_interval(text)


def test_interval_parsing_accepts_divisors() -> None:
    assert parse_interval(" 30s ").us == 30_000_000
    assert parse_interval("2h").daily and parse_interval("12h").us == 12 * HOUR_US
    assert str(parse_interval("15m")) == "15m"


# ------------------------------------------------------------- specs and instants


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"tz": "Mars/Olympus"}, "tz: unknown time zone 'Mars/Olympus'"),
     ({"weekdays": frozenset()}, "weekdays"),
     ({"weekdays": frozenset({7})}, "weekdays"),
     ({"breaks": ((time(18), time(17)),)}, r"breaks\[0\]: start 18:00:00 must be before end 17:00:00"),
     ({"early_closes": (EarlyClose(12, 24, time(13)), EarlyClose(12, 24, time(14)))}, r"early_closes\[1\]")],
)  # fmt: skip
def test_bad_specs_name_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        CalendarSpec("fx", **kwargs)  # type: ignore[arg-type]


def test_impossible_holiday_dates_are_refused() -> None:
    with pytest.raises(CalendarError, match="no such date"):
        Holiday(2, 30)
    Holiday(2, 29)  # every year: fine (it matches in leap years)
    with pytest.raises(CalendarError, match="no such date"):
        Holiday(2, 29, 2025)


def test_instants_parse_from_microseconds_or_iso_8601() -> None:
    assert parse_instant("1710104400000000") == utc(2024, 3, 10, 21)
    assert parse_instant("2024-03-10T21:00:00Z") == utc(2024, 3, 10, 21)
    assert parse_instant("2024-03-10T17:00:00-04:00") == utc(2024, 3, 10, 21)
    assert parse_instant("2024-03-10T21:00:00.5+00:00") == utc(2024, 3, 10, 21) + 500_000
    assert parse_instant("2024-03-10") == utc(2024, 3, 10)
    with pytest.raises(CalendarError, match="needs an offset or Z"):
        parse_instant("2024-03-10T21:00:00")
    with pytest.raises(CalendarError, match="expected µs since the epoch or ISO 8601"):
        parse_instant("yesterday")
    assert iso(utc(2024, 3, 10, 21) + 5) == "2024-03-10T21:00:00.000005Z"


# --------------------------------------------- the caches against a reference


def _reference_label(ts: int) -> date:
    """FX trading-day label computed independently: 17:00 + 7h is midnight."""
    local = datetime.fromtimestamp(ts // 1_000_000, NY) + timedelta(microseconds=ts % 1_000_000)
    return (local.replace(tzinfo=None) + timedelta(hours=7)).date()


def _reference_open(ts: int) -> bool:
    label = _reference_label(ts)
    return label.weekday() < 5 and (label.month, label.day) not in {(12, 25), (1, 1)}


_RANGE = (utc(2023, 12, 20), utc(2025, 12, 31))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(*_RANGE), min_size=1, max_size=40), st.data())
def test_cached_answers_equal_a_fresh_calendar_and_an_independent_reference(
    instants: list[int], data: st.DataObject
) -> None:
    # Cluster some instants around the last one so cache hits and near-boundary misses mix.
    jitter = data.draw(st.lists(st.integers(-2 * HOUR_US, 2 * HOUR_US), max_size=20))
    instants = instants + [instants[-1] + j for j in jitter]
    cached = Calendar(FX)
    h4, m5 = parse_interval("4h"), parse_interval("5m")
    for ts in instants:
        fresh = Calendar(FX)
        assert cached.is_open(ts) == fresh.is_open(ts) == _reference_open(ts)
        assert cached.day(ts) == fresh.day(ts)
        assert cached.bar_start(h4, ts) == fresh.bar_start(h4, ts) <= ts < cached.bar_end(h4, ts)
        assert cached.bar_start(m5, ts) == fresh.bar_start(m5, ts)
        if _reference_open(ts):
            assert cached.trading_day(ts) == _reference_label(ts)
            assert cached.day_start(ts) <= ts < cached.day_end(ts)
        nxt = cached.next_change(ts)
        assert nxt is not None and nxt > ts
        assert cached.is_open(nxt) != cached.is_open(ts)
        assert cached.is_open(nxt - 1) == cached.is_open(ts)


def test_durations() -> None:
    from ticker.core.calendar import parse_duration

    assert parse_duration("90s") == 90 * 1_000_000
    assert parse_duration(" 7d") == 7 * DAY_US
    assert parse_duration("2y") == 730 * DAY_US
    with pytest.raises(CalendarError, match="unit s, m, h, d, w or y"):
        parse_duration("7 days")
