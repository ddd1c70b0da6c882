import math

import numpy as np
import pytest

from ticker.core.model import Instrument, Status
from ticker.core.table import ASK, ASK_SIZE, BID, BID_SIZE, STATUS, Reject, SymbolTable

NAN = math.nan


@pytest.fixture
def table() -> SymbolTable:
    return SymbolTable([Instrument("EURUSD", 5, 0.0001), Instrument("USDJPY", 3, 0.01)])


def test_first_tick_sets_everything_and_goes_live(table: SymbolTable) -> None:
    mask = table.apply(0, 1.08412, 1.08415, 1e6, 1.5e6, 100, now=1.0)
    assert mask == BID | ASK | BID_SIZE | ASK_SIZE | STATUS
    assert table.seq[0] == 1
    assert table.status[0] == Status.LIVE
    assert (table.bid[0], table.ask[0], table.ts[0]) == (1.08412, 1.08415, 100)


def test_reports_only_changed_fields_and_counts_seq(table: SymbolTable) -> None:
    table.apply(0, 1.08412, 1.08415, 1e6, 1e6, 100, now=1.0)
    assert table.apply(0, 1.08412, 1.08416, 1e6, 1e6, 101, now=1.1) == ASK
    assert table.apply(0, 1.08412, 1.08416, NAN, 2e6, 102, now=1.2) == ASK_SIZE
    assert table.apply(0, 1.08412, 1.08416, NAN, NAN, 103, now=1.3) == 0  # seq still moves
    assert table.seq[0] == 4
    assert table.bid_size[0] == 1e6  # NaN size = not provided, kept


def test_prices_are_rounded_to_decimals_before_comparing(table: SymbolTable) -> None:
    table.apply(1, 155.2001, 155.2034, NAN, NAN, 1, now=0)
    assert table.bid[1] == 155.2
    assert table.apply(1, 155.20004, 155.2031, NAN, NAN, 2, now=0) == 0


@pytest.mark.parametrize(
    ("sid", "bid", "ask", "bsz", "ts", "reason"),
    [
        (5, 1.0, 1.1, NAN, 10, Reject.UNKNOWN_SYMBOL),
        (-1, 1.0, 1.1, NAN, 10, Reject.UNKNOWN_SYMBOL),
        (0, NAN, 1.1, NAN, 10, Reject.BAD_PRICE),
        (0, 1.0, math.inf, NAN, 10, Reject.BAD_PRICE),
        (0, 0.0, 1.1, NAN, 10, Reject.BAD_PRICE),
        (0, -1.0, 1.1, NAN, 10, Reject.BAD_PRICE),
        (0, 1.2, 1.1, NAN, 10, Reject.CROSSED),
        (0, 1.0, 1.1, -5.0, 10, Reject.BAD_SIZE),
        (0, 1.0, 1.1, math.inf, 10, Reject.BAD_SIZE),
        (0, 1.0, 1.1, NAN, 5, Reject.TS_BACKWARDS),
    ],
)
def test_bad_ticks_are_rejected_without_touching_state(
    table: SymbolTable, sid: int, bid: float, ask: float, bsz: float, ts: int, reason: Reject
) -> None:
    table.apply(0, 1.0, 1.1, 1e6, 1e6, 8, now=0)
    before = (table.bid.copy(), table.ask.copy(), table.seq.copy(), table.ts.copy())
    assert table.apply(sid, bid, ask, bsz, NAN, ts, now=1) == reason
    after = (table.bid, table.ask, table.seq, table.ts)
    for a, b in zip(before, after, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    assert table.rejected_by_reason()[reason.label] == 1


def test_locked_quote_is_allowed(table: SymbolTable) -> None:
    assert table.apply(0, 1.1, 1.1, NAN, NAN, 1, now=0) > 0


def test_equal_timestamps_are_allowed(table: SymbolTable) -> None:
    table.apply(0, 1.1, 1.2, NAN, NAN, 5, now=0)
    assert table.apply(0, 1.1, 1.3, NAN, NAN, 5, now=0) == ASK


def test_duplicate_symbols_refused() -> None:
    with pytest.raises(ValueError, match="EURUSD"):
        SymbolTable([Instrument("EURUSD", 5, 0.0001), Instrument("EURUSD", 5, 0.0001)])
