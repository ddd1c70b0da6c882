"""Derived crosses: parsing, bid/ask side arithmetic and rounding against hand-computed
values, derived status, and the dependency index."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticker.core.crosses import (
    CrossDef,
    CrossEngine,
    CrossError,
    CrossQuote,
    Op,
    derive,
    derive_status,
    div_rounded,
    mul_rounded,
    parse_cross,
    parse_expression,
)
from ticker.core.model import Status

PENDING, LIVE, STALE, CLOSED = Status.PENDING, Status.LIVE, Status.STALE, Status.CLOSED

# ------------------------------------------------------------------- parsing


def test_parse_product_and_quotient() -> None:
    assert parse_cross("EURJPY = EURUSD * USDJPY") == CrossDef("EURJPY", "EURUSD", Op.MUL, "USDJPY")
    assert parse_cross("EURGBP=EURUSD/GBPUSD") == CrossDef("EURGBP", "EURUSD", Op.DIV, "GBPUSD")
    assert parse_expression("EURJPY", "EURUSD × USDJPY").op is Op.MUL
    assert parse_expression("CADJPY", "USDJPY ÷ USDCAD").op is Op.DIV  # same base: C/A / C/B = B/A
    assert parse_expression("XAUEUR", "XAUUSD / EURUSD").left == "XAUUSD"
    assert parse_expression("BTC-EUR", "BTC-USD / EUR-USD").symbol == "BTC-EUR"  # not pairs: no currency check
    assert str(parse_cross("EURJPY = EURUSD * USDJPY")) == "EURJPY = EURUSD * USDJPY"


@pytest.mark.parametrize(
    ("text", "message"),
    [("EURJPY = EURUSD + USDJPY", r"bad expression 'EURUSD \+ USDJPY': expected 'LEG \* LEG' or 'LEG / LEG'"),
     ("EURJPY EURUSD * USDJPY", "expected 'SYMBOL = LEG"),
     ("EURJPY = EURUSD *", "bad expression"),
     ("EURJPY = EURUSD * EURUSD", "both legs are EURUSD"),
     ("EURJPY = EURJPY * USDJPY", "its own leg"),
     ("EURJPY = EURUSD * GBPUSD", "does not chain through a common currency"),
     ("EURJPY = EURUSD / USDJPY", "does not chain"),
     ("EURGBP = GBPUSD / EURUSD", "is a price of GBPEUR, not EURGBP"),
     ("GBPJPY = EURUSD * USDJPY", "is a price of EURJPY, not GBPJPY"),
     (" = EURUSD * USDJPY", "bad symbol name")],
)  # fmt: skip
def test_bad_definitions_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(CrossError, match=message):
        parse_cross(text)


# ---------------------------------------------------------------- arithmetic


def test_product_takes_bid_times_bid_and_ask_times_ask() -> None:
    # EURUSD 1.08412/1.08415, USDJPY 155.203/155.206 -> EURJPY at 3 decimals:
    # 1.08412 * 155.203 = 168.25867636 -> 168.259; 1.08415 * 155.206 = 168.26658490 -> 168.267
    assert derive(Op.MUL, 1.08412, 1.08415, 5, 155.203, 155.206, 3, 3) == (168.259, 168.267)


def test_quotient_takes_bid_over_ask_and_ask_over_bid() -> None:
    # EURGBP = EURUSD / GBPUSD with GBPUSD 1.27100/1.27105:
    # bid 1.08412 / 1.27105 = 0.852932... -> 0.85293; ask 1.08415 / 1.27100 = 0.852989... -> 0.85299
    assert derive(Op.DIV, 1.08412, 1.08415, 5, 1.27100, 1.27105, 5, 5) == (0.85293, 0.85299)
    # CADJPY = USDJPY / USDCAD with USDCAD 1.36050/1.36055:
    # bid 155.203 / 1.36055 = 114.07372... -> 114.074; ask 155.206 / 1.36050 = 114.08011... -> 114.080
    assert derive(Op.DIV, 155.203, 155.206, 3, 1.36050, 1.36055, 5, 3) == (114.074, 114.08)


def test_exact_halves_round_up_where_pythons_round_would_not() -> None:
    # 1.2345 * 1.000 = 1.2345 exactly; at 3 decimals the desk shows 1.235.
    assert round(1.2345, 3) == 1.234  # the binary float is just under the half
    assert mul_rounded(12345, 4, 1000, 3, 3) == 1.235
    # 2.4690 / 2.0000 = 1.2345 exactly -> 1.235; round() of the float quotient says 1.234 or 1.235 by luck.
    assert div_rounded(24690, 4, 20000, 4, 3) == 1.235
    # Banker's rounding would give 0.12 here; half up gives 0.13.
    assert round(0.125, 2) == 0.12
    assert mul_rounded(125, 3, 1, 0, 2) == 0.13
    # Below a half rounds down; more decimals than the product has are exact.
    assert mul_rounded(12344, 4, 1000, 3, 3) == 1.234
    assert mul_rounded(108412, 5, 155203, 3, 10) == 168.25867636


_prices = st.integers(1, 10**7)


@settings(max_examples=400, deadline=None)
@given(_prices, _prices, st.integers(0, 5), st.integers(0, 5), st.integers(0, 6))
def test_rounding_matches_decimal_half_up(ia: int, ib: int, da: int, db: int, d: int) -> None:
    a, b = Decimal(ia).scaleb(-da), Decimal(ib).scaleb(-db)
    quantum = Decimal(1).scaleb(-d)
    with localcontext() as ctx:
        ctx.prec = 60
        assert mul_rounded(ia, da, ib, db, d) == float((a * b).quantize(quantum, ROUND_HALF_UP))
        assert div_rounded(ia, da, ib, db, d) == float((a / b).quantize(quantum, ROUND_HALF_UP))


@settings(max_examples=200, deadline=None)
@given(_prices, st.integers(0, 1000), _prices, st.integers(0, 1000), st.sampled_from([Op.MUL, Op.DIV]))
def test_a_derived_bid_never_exceeds_its_ask(a_bid: int, a_spread: int, b_bid: int, b_spread: int, op: Op) -> None:
    bid, ask = derive(op, a_bid / 1e5, (a_bid + a_spread) / 1e5, 5, b_bid / 1e3, (b_bid + b_spread) / 1e3, 3, 4)
    assert bid <= ask


# -------------------------------------------------------------------- status


def test_derived_status_precedence() -> None:
    assert derive_status(False, LIVE, LIVE) == PENDING
    assert derive_status(True, LIVE, LIVE) == LIVE
    assert derive_status(True, STALE, LIVE) == STALE
    assert derive_status(True, STALE, CLOSED) == CLOSED
    assert derive_status(True, LIVE, CLOSED) == CLOSED


# -------------------------------------------------------------------- engine

SYMBOLS = ["EURUSD", "USDJPY", "GBPUSD", "EURJPY", "EURGBP", "AUDUSD"]
IDS = {s: i for i, s in enumerate(SYMBOLS)}
DECIMALS = [5, 3, 5, 3, 5, 5]
EURUSD, USDJPY, GBPUSD, EURJPY, EURGBP, AUDUSD = range(6)


@pytest.fixture
def engine() -> CrossEngine:
    defs = [parse_cross("EURJPY = EURUSD * USDJPY"), parse_cross("EURGBP = EURUSD / GBPUSD")]
    return CrossEngine(defs, IDS, DECIMALS)


def test_the_dependency_index_recomputes_only_a_legs_crosses(engine: CrossEngine) -> None:
    assert engine.dependents(EURUSD) == (EURJPY, EURGBP)
    assert engine.dependents(USDJPY) == (EURJPY,)
    assert engine.dependents(AUDUSD) == ()
    assert engine.is_leg(GBPUSD) and not engine.is_leg(EURJPY) and engine.is_cross(EURJPY)
    assert engine.on_leg(AUDUSD, 0.65, 0.66, 1) == ()


def test_a_cross_is_pending_until_both_legs_have_a_price(engine: CrossEngine) -> None:
    assert engine.on_leg(EURUSD, 1.08412, 1.08415, 100) == []
    assert engine.status(EURJPY) == PENDING
    (q,) = engine.on_leg(USDJPY, 155.203, 155.206, 90)
    assert q == CrossQuote(EURJPY, 168.259, 168.267, 100, LIVE)  # ts: the later leg's
    assert engine.status(EURGBP) == PENDING
    (q,) = engine.on_leg(GBPUSD, 1.27100, 1.27105, 120)
    assert q == CrossQuote(EURGBP, 0.85293, 0.85299, 120, LIVE)
    # A EURUSD tick recomputes both of its crosses.
    got = engine.on_leg(EURUSD, 1.08420, 1.08423, 130)
    assert [c.sid for c in got] == [EURJPY, EURGBP]
    assert all(c.ts == 130 for c in got)


def test_a_leg_tick_that_leaves_the_cross_unchanged_emits_nothing(engine: CrossEngine) -> None:
    engine.on_leg(EURUSD, 1.08412, 1.08415, 1)
    engine.on_leg(USDJPY, 155.203, 155.206, 2)
    # 155.2031 rounds to the leg's 155.203: the same price, so no EURJPY tick.
    assert engine.on_leg(USDJPY, 155.2031, 155.206, 3) == []


def test_a_stale_or_closed_leg_makes_its_crosses_stale_or_closed(engine: CrossEngine) -> None:
    engine.on_leg(EURUSD, 1.08412, 1.08415, 1)
    engine.on_leg(USDJPY, 155.203, 155.206, 2)
    engine.on_leg(GBPUSD, 1.27100, 1.27105, 3)
    assert engine.set_leg_status(USDJPY, STALE) == [(EURJPY, STALE)]
    assert engine.set_leg_status(USDJPY, STALE) == []
    assert engine.set_leg_status(EURUSD, CLOSED) == [(EURJPY, CLOSED), (EURGBP, CLOSED)]
    assert engine.set_leg_status(EURUSD, LIVE) == [(EURJPY, STALE), (EURGBP, LIVE)]
    # A tick on the stale leg's partner still prices the cross, and says it is stale.
    stale, live = engine.on_leg(EURUSD, 1.08420, 1.08423, 4)
    assert (stale.sid, stale.status, live.sid, live.status) == (EURJPY, STALE, EURGBP, LIVE)
    assert engine.set_leg_status(USDJPY, LIVE) == [(EURJPY, LIVE)]
    # A leg the table forgot has no price: its crosses are pending until it ticks again.
    assert engine.set_leg_status(GBPUSD, PENDING) == [(EURGBP, PENDING)]
    (q,) = engine.on_leg(GBPUSD, 1.27100, 1.27105, 5)
    assert q.status == LIVE


def test_engine_definition_errors() -> None:
    ok = parse_cross("EURJPY = EURUSD * USDJPY")
    with pytest.raises(CrossError, match="defined twice"):
        CrossEngine([ok, ok], IDS, DECIMALS)
    with pytest.raises(CrossError, match="leg USDCHF is not an instrument"):
        CrossEngine([parse_cross("EURCHF = EURUSD * USDCHF")], {**IDS, "EURCHF": 9}, DECIMALS + [0] * 4)
    with pytest.raises(CrossError, match="EURCHF: not an instrument"):
        CrossEngine([parse_cross("EURCHF = EURUSD * USDCHF")], IDS, DECIMALS)
    with pytest.raises(CrossError, match="leg EURJPY is itself a cross"):
        CrossEngine([ok, parse_expression("X", "EURJPY / USDJPY")], {**IDS, "X": 6}, [*DECIMALS, 5])
    assert CrossEngine([ok], IDS, DECIMALS).definitions == (ok,)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(10_000, 10**7), st.integers(0, 500), st.integers(10_000, 10**7), st.integers(0, 500),
    st.integers(0, 5), st.integers(0, 5), st.integers(0, 6), st.sampled_from(["*", "/"]),
)  # fmt: skip
def test_the_engine_prices_a_cross_as_derive_does(
    a_bid: int, a_spread: int, b_bid: int, b_spread: int, da: int, db: int, d: int, op: str
) -> None:
    engine = CrossEngine([parse_expression("C", f"A {op} B")], {"A": 0, "B": 1, "C": 2}, [da, db, d])
    a = (a_bid / 10**da, (a_bid + a_spread) / 10**da)
    b = (b_bid / 10**db, (b_bid + b_spread) / 10**db)
    engine.on_leg(0, *a, 1)
    (q,) = engine.on_leg(1, *b, 2)
    assert (q.bid, q.ask) == derive(Op.MUL if op == "*" else Op.DIV, *a, da, *b, db, d)


def test_the_engine_rounds_exact_halves_up() -> None:
    ids = {"A": 0, "B": 1, "C": 2}
    product = CrossEngine([parse_expression("C", "A * B")], ids, [4, 3, 3])
    product.on_leg(0, 1.2345, 1.2346, 1)
    # 1.2345 * 1.000 = 1.2345 -> 1.235; 1.2346 * 1.001 = 1.2358346 -> 1.236
    assert product.on_leg(1, 1.000, 1.001, 1)[0][1:3] == (1.235, 1.236)
    quotient = CrossEngine([parse_expression("C", "A / B")], ids, [4, 4, 3])
    quotient.on_leg(0, 2.4690, 2.4692, 1)
    # 2.4690 / 2.0000 = 1.2345 -> 1.235; 2.4692 / 2.0000 = 1.2346 -> 1.235
    assert quotient.on_leg(1, 2.0000, 2.0000, 1)[0][1:3] == (1.235, 1.235)
