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




