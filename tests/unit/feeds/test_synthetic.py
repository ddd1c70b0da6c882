"""The synthetic market: realistic shape, seeded, and produced in real time."""


import numpy as np
import pytest

from feeds.catalog import DEFAULT_SYMBOLS, spec, universe
from feeds.synthetic.market import SyntheticMarket
from feeds.synthetic.options import SyntheticOptions


def market(seed: int = 1, rate: float = 0.0, symbols=DEFAULT_SYMBOLS) -> SyntheticMarket:
    return SyntheticMarket([spec(s) for s in symbols], total_rate=rate, seed=seed)


def test_default_universe_is_majors_crosses_and_metals() -> None:
    assert len(DEFAULT_SYMBOLS) == 30
    assert {"EURUSD", "USDJPY", "GBPUSD", "EURJPY", "XAUUSD", "XAGUSD"} <= set(DEFAULT_SYMBOLS)
    assert spec("EURUSD").instrument.decimals == 5
    assert spec("USDJPY").instrument.decimals == 3
    assert spec("XAUUSD").instrument.decimals == 2
    assert len(universe()) >= 100


def test_crosses_are_consistent_with_majors() -> None:
    assert spec("EURJPY").level == pytest.approx(spec("EURUSD").level * spec("USDJPY").level)


def test_seeded_runs_are_identical_and_seeds_differ() -> None:
    a, b, c = market(5), market(5), market(6)
    ga, gb, gc = a.generate(0, 5), b.generate(0, 5), c.generate(0, 5)
    for f in ("ts", "sid", "bid", "ask", "bid_size", "ask_size"):
        assert np.array_equal(getattr(ga, f), getattr(gb, f))
    assert not np.array_equal(ga.bid[:50], gc.bid[:50])


def test_spreads_positive_and_realistic_prices_near_level_and_rounded() -> None:
    m = market(3)
    g = m.generate(0, 600)  # ten minutes of market
    assert len(g) > 600 * 100
    assert np.all(np.diff(g.ts) >= 0)
    for i, sp in enumerate(m.specs):
        sel = g.sid == i
        assert sel.sum() > 100, sp.symbol
        bid, ask = g.bid[sel], g.ask[sel]
        spread_pips = (ask - bid) / sp.instrument.pip_size
        assert np.all(spread_pips > 0), sp.symbol
        assert 0.05 < np.median(spread_pips) < 40, sp.symbol
        mid = (bid + ask) / 2
        assert np.all(np.abs(mid / sp.level - 1) < 0.02), sp.symbol  # within 2% over 10 min
        d = sp.instrument.decimals
        assert np.allclose(bid, np.round(bid, d), rtol=0, atol=10.0 ** -(d + 3))
        assert np.all(g.bid_size[sel] > 0)


def test_natural_rates_majors_tick_several_times_a_second() -> None:
    m = market(4)
    g = m.generate(0, 100)
    eurusd = np.sum(g.sid == 0) / 100
    assert 5 <= eurusd <= 15


def test_total_rate_is_respected() -> None:
    m = market(4, rate=20_000)
    g = m.generate(0, 1.0)
    assert 19_000 < len(g) < 21_000


def test_price_moves_have_realistic_volatility_whatever_the_rate() -> None:
    for rate in (20.0, 400.0):
        m = market(9, rate=rate, symbols=("EURUSD",))
        g = m.generate(0, 2 * 3600)
        mid = (g.bid + g.ask) / 2
        step = np.searchsorted(g.ts, np.arange(0, 2 * 3600, 30) * 1_000_000)
        r = np.diff(np.log(mid[np.minimum(step, len(mid) - 1)]))
        annual = r.std() * np.sqrt(365.25 * 24 * 120)
        assert 0.03 < annual < 0.15, (rate, annual)


def test_options_validate_symbols() -> None:
    with pytest.raises(ValueError, match="symbols: \\[1\\] unknown synthetic symbol 'EURXYZ'"):
        SyntheticOptions(symbols=("EURUSD", "EURXYZ"))
    assert len(SyntheticOptions(count=100).symbol_list()) == 100






# ------------------------------------------------------------- the trading day


def test_a_days_statistics_look_like_a_real_market() -> None:
    """Five simulated days of EURUSD, USDJPY and gold through the daily statistics:
    daily ranges in the usual tens of pips (EURUSD 35-55 with the default model,
    20-150 allowed; gold tens of dollars), a change of a fraction of a percent, as a
    quote board would show."""
    from ticker.core.calendar import Calendar, CalendarSpec
    from ticker.core.daystats import DailyStats

    symbols = ["EURUSD", "USDJPY", "XAUUSD"]
    m = market(seed=42, rate=3.0, symbols=symbols)  # volatility does not depend on the rate
    demo = Calendar(CalendarSpec("always", weekdays=frozenset(range(7))))
    stats = DailyStats([demo] * 3, [spec(s).instrument.decimals for s in symbols])
    day0 = 1_710_190_800_000_000  # Monday 2024-03-11 17:00 New York (EDT): a day boundary
    ranges: dict[int, list[float]] = {0: [], 1: [], 2: []}
    for day in range(5):
        for hour in range(24):
            b = m.generate(day * 86400 + hour * 3600, day * 86400 + (hour + 1) * 3600)
            for sid, bid, ts in zip(b.sid.tolist(), b.bid.tolist(), (b.ts + day0).tolist(), strict=True):
                stats.on_tick(sid, ts, bid)
        for sid in range(3):
            s = stats.get(sid)
            assert s is not None
            ranges[sid].append((s.high - s.low) / spec(symbols[sid]).instrument.pip_size)
            if day:
                assert abs(s.change_pct) < 2.0
    for sid in (0, 1):  # forex, in pips
        assert all(20 <= p <= 150 for p in ranges[sid]), (symbols[sid], ranges[sid])
    assert 30 <= np.mean(ranges[0]) <= 90, ranges[0]  # EURUSD's average daily range
    assert all(10 <= p / 10 <= 150 for p in ranges[2]), ranges[2]  # gold, in dollars


def test_on_a_calendar_the_feed_emits_nothing_while_the_market_is_closed() -> None:
    from feeds.synthetic.feed import SyntheticFeed
    from ticker.core.calendar import FX, Calendar, CalendarSpec

    feed = SyntheticFeed("demo", SyntheticOptions(symbols=("EURUSD", "USDJPY"), rate=1000.0))
    fx = Calendar(FX)
    friday_1659 = 1_709_935_140_000_000  # 2024-03-08 16:59 New York (EST)
    m = feed.market(friday_1659)
    batch = m.generate(0.0, 120.0)  # 16:59 to 17:01: the close is in the middle
    feed.use_calendars([fx, fx])
    kept = feed.trading(batch)
    assert 0 < len(kept) < len(batch)
    assert kept.ts.max() < friday_1659 + 60_000_000 <= batch.ts.max()
    assert len(feed.trading(m.generate(3600.0, 3700.0))) == 0  # Friday evening: all closed
    # The default demo market never closes.
    always = SyntheticFeed("demo", SyntheticOptions(symbols=("EURUSD",)))
    assert always.default_calendar == "always"
    always.use_calendars([Calendar(CalendarSpec("always", weekdays=frozenset(range(7))))])
    assert len(always.trading(batch)) == len(batch)


def test_previous_closes_are_seeded_a_days_move_from_the_start() -> None:
    from feeds.synthetic.feed import SyntheticFeed

    feed = SyntheticFeed("demo", SyntheticOptions(symbols=("EURUSD", "XAUUSD"), seed=3))
    closes = feed.previous_closes()
    assert closes == SyntheticFeed("demo", SyntheticOptions(symbols=("EURUSD", "XAUUSD"), seed=3)).previous_closes()
    for sym, px in closes.items():
        level = spec(sym).level
        assert abs(px / level - 1) < 0.03 and px != level
        assert round(px, spec(sym).instrument.decimals) == px



def test_timestamps_option_is_validated() -> None:
    with pytest.raises(Exception, match=r"timestamps.*'scheduled' or 'emitted'"):
        SyntheticOptions(timestamps="source")
