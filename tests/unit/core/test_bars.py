"""The bar builder: OHLC from ticks, closes on tick and on timer, late-tick
corrections, price sources, retention, closed markets, history and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticker.core.bar_encode import bar_dict, encode_bar, encode_bars
from ticker.core.bars import (
    BAR_BYTES,
    Bar,
    BarBook,
    BarEvent,
    BarRing,
    EventKind,
    SeriesSpec,
    Source,
    SymbolBars,
    parse_source,
    retention_count,
)
from ticker.core.calendar import CRYPTO, DAY_US, FX, HOUR_US, MINUTE_US, Calendar, parse_interval, to_us

NY = ZoneInfo("America/New_York")
S = 1_000_000
M1, H1, H4, D1, S1 = (parse_interval(x) for x in ("1m", "1h", "4h", "1d", "1s"))


def ny(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    return to_us(datetime(y, m, d, h, mi, s, tzinfo=NY))


T0 = ny(2024, 3, 11, 10, 0)  # Monday 10:00 New York (EDT), market open


def make(*specs: SeriesSpec, calendar: Calendar | None = None, decimals: int = 5) -> SymbolBars:
    return SymbolBars("EURUSD", calendar or Calendar(FX), specs or (SeriesSpec(M1, 100),), decimals=decimals)


def ohlc(bar: Bar | None) -> tuple[float, float, float, float, int]:
    assert bar is not None
    return bar.open, bar.high, bar.low, bar.close, bar.ticks


# -------------------------------------------------------------------- OHLC


def test_ohlc_of_a_known_tick_sequence() -> None:
    bars = make()
    for dt, bid in [(1, 1.10000), (10, 1.10100), (20, 1.09900), (50, 1.10050)]:
        assert bars.on_tick(T0 + dt * S, bid, bid + 0.00002) == 1
    forming = bars.series[0].forming()
    assert forming is not None
    assert (forming.start, forming.end, forming.closed) == (T0, T0 + MINUTE_US, False)
    assert ohlc(forming) == (1.10000, 1.10100, 1.09900, 1.10050, 4)
    assert forming.seq == 4  # one per change
    assert bars.events == []

    # The first tick of the next minute closes the bar, then opens the next one.
    assert bars.on_tick(T0 + 61 * S, 1.10070, 1.10072) == 1
    (event,) = bars.take_events()
    assert event.kind is EventKind.CLOSED and event.series == 0
    assert event.bar == Bar(T0, T0 + MINUTE_US, 1.10000, 1.10100, 1.09900, 1.10050, 4, seq=5, closed=True)
    nxt = bars.series[0].forming()
    assert nxt is not None and (nxt.start, nxt.seq, ohlc(nxt)) == (T0 + MINUTE_US, 6, (1.1007,) * 4 + (1,))
    assert bars.take_events() == []


def test_ticks_with_equal_timestamps_open_with_the_first_and_close_with_the_last() -> None:
    bars = make()
    bars.on_tick(T0 + 5 * S, 1.2, 1.3)
    bars.on_tick(T0 + 5 * S, 1.1, 1.3)
    assert ohlc(bars.series[0].forming()) == (1.2, 1.2, 1.1, 1.1, 2)


def test_one_tick_updates_every_interval() -> None:
    bars = make(SeriesSpec(S1, 10), SeriesSpec(M1, 10), SeriesSpec(H4, 10), SeriesSpec(D1, 10))
    assert bars.on_tick(T0 + 1, 1.1, 1.2) == 0b1111
    starts = [s.forming().start for s in bars.series]  # type: ignore[union-attr]
    assert starts == [T0, T0, ny(2024, 3, 11, 9), ny(2024, 3, 10, 17)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [(Source.BID, (1.10000, 1.10020, 1.10000, 1.10020)),
     (Source.ASK, (1.10003, 1.10025, 1.10003, 1.10025)),
     (Source.MID, (1.100015, 1.100225, 1.100015, 1.100225))],
)  # fmt: skip
def test_price_sources(source: Source, expected: tuple[float, ...]) -> None:
    bars = make(SeriesSpec(M1, 10, source))
    bars.on_tick(T0, 1.10000, 1.10003)
    bars.on_tick(T0 + S, 1.10020, 1.10025)
    assert ohlc(bars.series[0].forming())[:4] == expected


def test_series_with_different_sources_side_by_side() -> None:
    bars = make(SeriesSpec(M1, 10, Source.ASK), SeriesSpec(H1, 10, Source.BID))
    assert bars.on_tick(T0, 1.1, 1.2) == 0b11
    assert bars.series[0].forming().close == 1.2  # type: ignore[union-attr]
    assert bars.series[1].forming().close == 1.1  # type: ignore[union-attr]


def test_source_parsing() -> None:
    assert parse_source(" Mid ") is Source.MID
    with pytest.raises(ValueError, match="expected bid, ask or mid"):
        parse_source("last")


# ---------------------------------------------------- empty intervals, timer


def test_an_interval_without_ticks_produces_no_bar() -> None:
    bars = make()
    bars.on_tick(T0 + S, 1.1, 1.2)
    bars.on_tick(T0 + 2 * MINUTE_US + S, 1.3, 1.4)  # nothing in minute 1
    history = bars.series[0].history(10)
    assert [(b.start, b.closed) for b in history] == [(T0, True), (T0 + 2 * MINUTE_US, False)]


def test_the_timer_closes_a_bar_at_its_end_without_a_later_tick() -> None:
    bars = make(SeriesSpec(M1, 10), SeriesSpec(H1, 10))
    bars.on_tick(T0 + S, 1.1, 1.2)
    assert bars.next_due == T0 + MINUTE_US
    assert bars.close_due(T0 + MINUTE_US - 1) == []
    (event,) = bars.close_due(T0 + MINUTE_US)
    assert event.series == 0 and event.bar.closed and event.bar.seq == 2
    assert bars.series[0].forming() is None
    assert bars.next_due == T0 + HOUR_US
    assert bars.close_due(T0 + MINUTE_US + S) == []  # closed once only
    # The next tick opens a new bar; the hour bar is still forming.
    assert bars.on_tick(T0 + 5 * MINUTE_US, 1.15, 1.2) == 0b11
    assert bars.take_events() == []
    assert [b.start for b in bars.series[0].history(10)] == [T0, T0 + 5 * MINUTE_US]


def test_a_timer_far_ahead_closes_every_series() -> None:
    bars = make(SeriesSpec(M1, 10), SeriesSpec(D1, 10))
    bars.on_tick(T0, 1.1, 1.2)
    events = bars.close_due(T0 + 2 * DAY_US)
    assert [e.series for e in events] == [0, 1]
    assert bars.next_due > T0 + 100 * DAY_US


# -------------------------------------------------------------- late ticks


def test_a_late_tick_corrects_the_closed_bar_it_belongs_to() -> None:
    bars = make(SeriesSpec(M1, 10), SeriesSpec(H1, 10))
    bars.on_tick(T0 + 10 * S, 1.10, 1.2)
    bars.on_tick(T0 + 30 * S, 1.11, 1.2)
    bars.close_due(T0 + MINUTE_US)  # the timer closed minute 0: seq 3
    bars.on_tick(T0 + 61 * S, 1.12, 1.2)  # minute 1 forming: seq 4
    # A tick stamped in minute 0 arrives now, with a new high and the latest time in that minute.
    mask = bars.on_tick(T0 + 59 * S, 1.13, 1.2)
    assert mask == 0b10  # the hour bar's forming bar took it normally; the minute bar was corrected
    (event,) = bars.take_events()
    assert event.kind is EventKind.CORRECTED and event.series == 0
    assert event.bar == Bar(T0, T0 + MINUTE_US, 1.10, 1.13, 1.10, 1.13, 3, seq=5, closed=True, corrected=True)
    assert bars.series[0].seq == 5
    assert bars.series[0].history(10)[0] == event.bar
    # An even older tick sets the open, not the close.
    bars.on_tick(T0 + 1 * S, 1.05, 1.2)
    (event,) = bars.take_events()
    assert ohlc(event.bar) == (1.05, 1.13, 1.05, 1.13, 4) and event.bar.seq == 6
    assert bars.corrections == 2
    assert ohlc(bars.series[1].forming()) == (1.05, 1.13, 1.05, 1.12, 5)


def test_a_late_tick_in_an_empty_interval_creates_the_missing_bar_in_order() -> None:
    bars = make()
    bars.on_tick(T0, 1.1, 1.2)
    bars.on_tick(T0 + 3 * MINUTE_US, 1.3, 1.4)
    bars.take_events()
    bars.on_tick(T0 + MINUTE_US + 5 * S, 1.2, 1.3)
    (event,) = bars.take_events()
    assert event.bar.corrected and event.bar.start == T0 + MINUTE_US and ohlc(event.bar) == (1.2,) * 4 + (1,)
    history = bars.series[0].history(10)
    assert [b.start for b in history] == [T0, T0 + MINUTE_US, T0 + 3 * MINUTE_US]


def test_a_tick_older_than_the_retained_history_is_counted_and_dropped() -> None:
    bars = make(SeriesSpec(M1, 3))
    for i in range(5):
        bars.on_tick(T0 + i * MINUTE_US, 1.1 + i / 100, 1.2)
    bars.take_events()
    kept = [b.start for b in bars.series[0].history(10, forming=False)]
    assert kept == [T0 + MINUTE_US, T0 + 2 * MINUTE_US, T0 + 3 * MINUTE_US]
    seq = bars.series[0].seq
    assert bars.on_tick(T0 + 5 * S, 1.0, 1.2) == 0
    assert bars.take_events() == []
    assert bars.dropped_old == 1 and bars.series[0].seq == seq
    # A late tick for a bar still held is corrected as usual.
    bars.on_tick(T0 + MINUTE_US + 5 * S, 1.0, 1.2)
    assert [e.bar.start for e in bars.take_events()] == [T0 + MINUTE_US]


# ---------------------------------------------------------- closed markets


def test_ticks_while_the_market_is_closed_make_no_bars() -> None:
    bars = make(SeriesSpec(M1, 10), SeriesSpec(D1, 10))
    saturday = ny(2024, 3, 9, 12)
    assert bars.on_tick(saturday, 1.1, 1.2) == 0
    assert bars.dropped_closed == 1
    assert all(s.forming() is None for s in bars.series)


def test_the_daily_bar_follows_1700_new_york_across_the_march_change() -> None:
    bars = make(SeriesSpec(D1, 10), SeriesSpec(H4, 10))
    friday = ny(2024, 3, 8, 16, 59)  # EST
    bars.on_tick(friday, 1.09, 1.1)
    monday = ny(2024, 3, 10, 17, 0)  # Sunday 17:00 EDT opens Monday's trading day
    bars.on_tick(monday, 1.08, 1.09)
    (daily, h4) = bars.take_events()
    assert (daily.bar.start, daily.bar.end) == (ny(2024, 3, 7, 17), ny(2024, 3, 8, 17))
    assert daily.bar.end == to_us(datetime(2024, 3, 8, 22, tzinfo=UTC))
    assert (h4.bar.start, h4.bar.end) == (ny(2024, 3, 8, 13), ny(2024, 3, 8, 17))
    f = bars.series[0].forming()
    assert f is not None and f.start == to_us(datetime(2024, 3, 10, 21, tzinfo=UTC))
    assert f.end == to_us(datetime(2024, 3, 11, 21, tzinfo=UTC))


# ----------------------------------------------------------- history, ring


def test_history_queries_return_newest_last_with_the_forming_bar() -> None:
    bars = make()
    for i in range(6):
        bars.on_tick(T0 + i * MINUTE_US, 1.1, 1.2)
    series = bars.series[0]
    # The last N closed bars, then the forming one.
    assert [b.start for b in series.history(2)] == [T0 + 3 * MINUTE_US, T0 + 4 * MINUTE_US, T0 + 5 * MINUTE_US]
    assert [b.closed for b in series.history(2)] == [True, True, False]
    assert len(series.history(3, forming=False)) == 3
    got = series.between(T0 + MINUTE_US, T0 + 3 * MINUTE_US)
    assert [b.start for b in got] == [T0 + MINUTE_US, T0 + 2 * MINUTE_US]
    assert [b.start for b in series.between(T0 + 5 * MINUTE_US, T0 + 6 * MINUTE_US)] == [T0 + 5 * MINUTE_US]
    assert series.history(0) == [series.forming()]


def test_retention_keeps_the_newest_bars_in_bounded_memory() -> None:
    bars = make(SeriesSpec(M1, 100))
    for i in range(1000):
        bars.on_tick(T0 + i * MINUTE_US, 1.1, 1.2)
    series = bars.series[0]
    assert len(series.store) == 100
    assert series.store.nbytes == 100 * BAR_BYTES
    assert series.history(1, forming=False)[0].start == T0 + 998 * MINUTE_US
    assert series.history(1000, forming=False)[0].start == T0 + 899 * MINUTE_US
    assert BAR_BYTES == 77


def test_retention_counts() -> None:
    assert retention_count(M1, 7 * DAY_US) == 10080
    assert retention_count(H4, 5 * HOUR_US) == 2
    assert SeriesSpec.default(M1).retention == 10080
    assert SeriesSpec.default(parse_interval("2m")).retention == 500
    with pytest.raises(ValueError, match="retention must be >= 1"):
        SeriesSpec(M1, 0)
    with pytest.raises(ValueError, match="configured twice"):
        make(SeriesSpec(M1, 1), SeriesSpec(M1, 2))


def _rec(start: int) -> tuple[int, int, int, int, int, float, float, float, float, int, int]:
    return (start, start + 1, start, start, 0, 1.0, 1.0, 1.0, 1.0, 1, 0)


def test_ring_inserts_in_order_when_wrapped_and_full() -> None:
    ring = BarRing(4, initial=2)
    for s in (10, 20, 30, 40, 50, 60):  # wraps: holds 30..60
        ring.append(_rec(s))
    assert ring.view()["start"].tolist() == [30, 40, 50, 60]
    assert ring.find(50) == 2 and ring.find(35) == -2
    assert ring.insert(1, _rec(35))  # full: 30 makes room
    assert ring.view()["start"].tolist() == [35, 40, 50, 60]
    assert not ring.insert(0, _rec(5))
    small = BarRing(10, initial=2)
    small.append(_rec(10))
    small.append(_rec(30))
    assert small.insert(1, _rec(20)) and small.insert(0, _rec(5))
    assert small.view()["start"].tolist() == [5, 10, 20, 30]
    assert small.between(10, 30)["start"].tolist() == [10, 20]
    assert small.tail(2)["start"].tolist() == [20, 30]


# ------------------------------------------------------------------ the book


def test_the_book_closes_due_bars_of_every_symbol() -> None:
    cal = Calendar(CRYPTO)
    a = SymbolBars("BTCUSD", cal, [SeriesSpec(M1, 5)])
    b = SymbolBars("ETHUSD", cal, [SeriesSpec(M1, 5)])
    book = BarBook([a, None, b])
    assert book.on_tick(0, T0, 60000.0, 60001.0) == 1
    assert book.on_tick(1, T0, 1.0, 2.0) == 0
    book.on_tick(2, T0 + 30 * S, 3000.0, 3001.0)
    assert book.close_due(T0 + MINUTE_US - 1) == []
    assert [(sid, e.bar.open) for sid, e in book.close_due(T0 + MINUTE_US)] == [(0, 60000.0), (2, 3000.0)]
    assert book.nbytes == a.nbytes + b.nbytes


# ------------------------------------------------------------------ encoding


def test_bar_json_fields() -> None:
    bar = Bar(T0, T0 + MINUTE_US, 1.1, 1.2, 1.0, 1.15, 7, 42, True)
    assert orjson.loads(encode_bar("EURUSD", "1m", bar)) == {
        "symbol": "EURUSD", "interval": "1m", "start": T0, "end": T0 + MINUTE_US,
        "open": 1.1, "high": 1.2, "low": 1.0, "close": 1.15, "ticks": 7, "seq": 42, "closed": True,
    }  # fmt: skip
    corrected = Bar(T0, T0 + MINUTE_US, 1.1, 1.2, 1.0, 1.15, 8, 43, True, corrected=True)
    msg = orjson.loads(encode_bar("EURUSD", "1m", corrected, message_type="bar"))
    assert next(iter(msg)) == "type" and msg["type"] == "bar" and msg["corrected"] is True
    assert "corrected" not in bar_dict("EURUSD", "1m", bar)
    assert [b["seq"] for b in orjson.loads(encode_bars("EURUSD", "1m", [bar, corrected]))] == [42, 43]


# --------------------------------------------- random ticks against a reference


_WINDOW = (ny(2024, 3, 7, 12), ny(2024, 3, 12, 12))  # Thursday to Tuesday over the March change
_INTERVALS = [parse_interval(x) for x in ("1m", "15m", "1h", "4h", "1d")]


def _reference_cell(label: str, ts: int) -> int:
    """A bar's start computed without the calendar: epoch multiples, or New York wall
    hours counted from 17:00 (FX trading days are 24h, so UTC arithmetic holds)."""
    us = {"1m": MINUTE_US, "15m": 15 * MINUTE_US, "1h": HOUR_US, "4h": 4 * HOUR_US, "1d": DAY_US}[label]
    if us <= HOUR_US:
        return ts - ts % us
    local = datetime.fromtimestamp(ts // S, NY).replace(tzinfo=None)
    day_start = datetime.combine((local - timedelta(hours=17)).date(), datetime.min.time()) + timedelta(hours=17)
    start = to_us(day_start.replace(tzinfo=NY))
    return start + (ts - start) // us * us


def _reference_open(ts: int) -> bool:
    local = datetime.fromtimestamp(ts // S, NY).replace(tzinfo=None)
    return (local + timedelta(hours=7)).date().weekday() < 5


def _reference_bars(label: str, ticks: Sequence[tuple[int, float]]) -> list[tuple[int, float, float, float, float, int]]:
    cells: dict[int, list[tuple[int, int, float]]] = {}
    for order, (ts, price) in enumerate(ticks):
        if _reference_open(ts):
            cells.setdefault(_reference_cell(label, ts), []).append((ts, order, price))
    out = []
    for start in sorted(cells):
        group = sorted(cells[start])  # by time, then arrival
        prices = [p for _, _, p in group]
        out.append((start, group[0][2], max(prices), min(prices), group[-1][2], len(group)))
    return out


_tick = st.tuples(st.integers(*_WINDOW), st.integers(100_000, 100_200).map(lambda n: n / 100_000))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_tick, min_size=1, max_size=60),
    st.lists(st.integers(0, 59), max_size=6),
    st.data(),
)
def test_bars_from_random_ticks_equal_a_batch_reference_whatever_the_arrival_order(
    ticks: list[tuple[int, float]], timer_at: list[int], data: st.DataObject
) -> None:
    # Mostly in time order, with some ticks arriving late (swapped with a later one).
    ticks = sorted(ticks)
    for _ in range(data.draw(st.integers(0, 5))):
        i = data.draw(st.integers(0, len(ticks) - 1))
        j = data.draw(st.integers(i, len(ticks) - 1))
        ticks[i], ticks[j] = ticks[j], ticks[i]
    bars = make(*(SeriesSpec(i, 10_000) for i in _INTERVALS))
    events: list[BarEvent] = []
    for n, (ts, price) in enumerate(ticks):
        bars.on_tick(ts, price, price + 0.0001)
        events.extend(bars.take_events())
        if n in timer_at:  # the timer runs at the newest tick time seen so far
            events.extend(bars.close_due(max(t for t, _ in ticks[: n + 1])))
    events.extend(bars.close_due(_WINDOW[1] + 2 * DAY_US))
    for i, interval in enumerate(_INTERVALS):
        series = bars.series[i]
        got = [(b.start, b.open, b.high, b.low, b.close, b.ticks) for b in series.history(10_000)]
        assert got == _reference_bars(interval.label, ticks), interval.label
        # Every emitted change has its own seq, in order, ending at the series' seq.
        seqs = [e.bar.seq for e in events if e.series == i]
        assert seqs == sorted(set(seqs))
        assert not seqs or seqs[-1] <= series.seq
        # A bar's last event carries its final state.
        final = {}
        for e in events:
            if e.series == i:
                final[e.bar.start] = e.bar
        assert sorted(final.values(), key=lambda b: b.start) == series.history(10_000)


# ------------------------------------------------- seq of the forming bar, adoption


def test_a_correction_does_not_renumber_the_forming_bar() -> None:
    bars = make()
    bars.on_tick(T0 + 10 * S, 1.10, 1.2)
    assert [e.bar.seq for e in bars.close_due(T0 + MINUTE_US)] == [2]
    bars.on_tick(T0 + 61 * S, 1.12, 1.2)
    forming = bars.series[0].forming()
    assert forming is not None and forming.seq == 3
    bars.on_tick(T0 + 59 * S, 1.13, 1.2)  # late: corrects minute 0 with seq 4
    bars.on_tick(T0 + 58 * S, 1.14, 1.2)  # and again: seq 5
    assert [e.bar.seq for e in bars.take_events()] == [4, 5]
    series = bars.series[0]
    assert series.forming().seq == 3 and series.seq == 5  # type: ignore[union-attr]
    bars.on_tick(T0 + 62 * S, 1.15, 1.2)  # the forming bar changes: the next seq
    assert series.forming().seq == 6  # type: ignore[union-attr]


def test_adopted_bars_restore_a_series_that_goes_on_building() -> None:
    built = make()
    for dt, bid in [(10, 1.1), (20, 1.2), (70, 1.3), (80, 1.25)]:
        built.on_tick(T0 + dt * S, bid, bid + 0.0001)
    built.take_events()
    source = built.series[0]
    restored = make()
    series = restored.series[0]
    for bar in source.history(10):  # what a restart would load back
        first, last = source.record(bar)
        assert series.adopt(bar, first, last)
    assert series.history(10) == source.history(10) and series.seq == source.seq
    # A late tick into the restored closed minute lands by time, as it would have.
    restored.on_tick(T0 + 15 * S, 1.0, 1.1)
    built.on_tick(T0 + 15 * S, 1.0, 1.1)
    assert restored.take_events() == built.take_events()
    restored.on_tick(T0 + 90 * S, 1.4, 1.5)
    built.on_tick(T0 + 90 * S, 1.4, 1.5)
    assert series.history(10) == source.history(10)


def test_ring_find_searches_both_segments_of_a_wrapped_ring() -> None:
    ring = BarRing(5, initial=5)
    for s in range(10, 80, 10):  # holds 30..70, physically [60, 70, 30, 40, 50]
        ring.append(_rec(s))
    assert [ring.find(s) for s in (30, 50, 60, 70)] == [0, 2, 3, 4]
    assert ring.find(55) == -4 and ring.find(5) == -1 and ring.find(75) == -6
