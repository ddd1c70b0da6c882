"""QuoteBook and the client's sans-I/O state: messages in, quotes and decisions out."""

import pytest

from ticker.client.book import Day, Quote, QuoteBook
from ticker.client.messages import Message, unpack
from ticker.client.state import ConnectionLifecycle, ConnState, IllegalTransition, Subscriptions

SNAP = {"type": "snapshot", "symbol": "EURUSD", "seq": 10, "bid": 1.1, "ask": 1.1002,
        "bid_size": 1_000_000, "ask_size": 2_000_000, "ts": 1_000, "status": "live"}  # fmt: skip


def upd(seq: int, **fields: float) -> dict:
    return {"type": "update", "symbol": "EURUSD", "seq": seq, "ts": 1_000 + seq, **fields}


def test_snapshot_then_deltas_give_the_latest_quote() -> None:
    book = QuoteBook()
    book.apply(SNAP)
    book.apply(upd(11, ask=1.1003))
    change = book.apply(upd(12, bid=1.1001, bid_size=3_000_000))
    assert change is not None and change.gap == 0
    q = book["EURUSD"]
    assert q == Quote("EURUSD", 12, 1_012, "live", 1.1001, 1.1003, 3_000_000, 2_000_000)
    assert q.spread == pytest.approx(0.0002) and q.mid == pytest.approx(1.1002)


def test_seq_gap_is_reported_and_counted() -> None:
    book = QuoteBook()
    book.apply(SNAP)
    change = book.apply(upd(15, bid=1.2))
    assert change is not None and change.gap == 4 and change.quote is not None
    assert change.quote.bid == 1.2
    book.apply(upd(17))
    assert book.gaps["EURUSD"] == 5


def test_update_not_newer_than_the_quote_is_dropped() -> None:
    book = QuoteBook()
    book.apply(SNAP)
    change = book.apply(upd(10, bid=9.9))
    assert change is not None and change.dropped == "old_seq"
    assert book["EURUSD"].bid == 1.1 and book.dropped["old_seq"] == 1


def test_update_or_status_without_snapshot_is_dropped() -> None:
    book = QuoteBook()
    assert book.apply(upd(5, bid=1.0)).dropped == "no_snapshot"  # type: ignore[union-attr]
    assert book.apply({"type": "status", "symbol": "EURUSD", "status": "stale", "ts": 1}).dropped == "no_snapshot"  # type: ignore[union-attr]
    assert "EURUSD" not in book and len(book) == 0


def test_a_new_snapshot_replaces_the_quote_even_with_a_lower_seq() -> None:
    """After a reconnect to another gateway the snapshot is the truth."""
    book = QuoteBook()
    book.apply(SNAP)
    book.apply(upd(20, bid=1.5))
    book.apply({**SNAP, "seq": 3, "bid": 1.3})
    assert book["EURUSD"].seq == 3 and book["EURUSD"].bid == 1.3
    assert book.apply(upd(4)).gap == 0  # type: ignore[union-attr]


def test_pending_snapshot_has_no_prices_then_first_update_fills_them() -> None:
    book = QuoteBook()
    pending = {"type": "snapshot", "symbol": "XAUUSD", "seq": 0, "bid": None, "ask": None,
               "bid_size": None, "ask_size": None, "ts": 0, "status": "pending"}  # fmt: skip
    book.apply(pending)
    assert book["XAUUSD"].mid is None and book["XAUUSD"].spread is None
    book.apply({"type": "status", "symbol": "XAUUSD", "status": "live", "ts": 5})
    book.apply({"type": "update", "symbol": "XAUUSD", "seq": 1, "bid": 4080.1, "ask": 4080.35, "ts": 5})
    q = book["XAUUSD"]
    assert (q.status, q.bid, q.ask) == ("live", 4080.1, 4080.35)


def test_status_changes_only_the_status() -> None:
    book = QuoteBook()
    book.apply(SNAP)
    book.apply({"type": "status", "symbol": "EURUSD", "status": "stale", "ts": 99})
    q = book["EURUSD"]
    assert (q.status, q.seq, q.bid, q.ts) == ("stale", 10, 1.1, 1_000)


def test_unsubscribed_and_forget_remove_symbols_and_late_updates_are_dropped() -> None:
    book = QuoteBook()
    book.apply(SNAP)
    book.apply({**SNAP, "symbol": "GBPUSD"})
    book.forget(["GBPUSD"])
    assert book.apply({**upd(11), "symbol": "GBPUSD"}).dropped == "no_snapshot"  # type: ignore[union-attr]
    book.apply({"type": "unsubscribed", "symbols": ["EURUSD"], "id": 3})
    assert len(book) == 0


def test_unknown_types_and_malformed_messages_do_not_raise() -> None:
    book = QuoteBook()
    assert book.apply({"type": "pong", "ts": 1}) is None
    assert book.apply({"type": "brand_new_thing", "x": 1}) is None
    assert book.apply({"type": "update", "symbol": "EURUSD"}).dropped == "malformed"  # type: ignore[union-attr]
    assert book.apply({"type": "snapshot", "seq": "7"}).dropped == "malformed"  # type: ignore[union-attr]
    assert book.dropped["malformed"] == 2


def test_mark_stale_turns_every_quote_stale() -> None:
    book = QuoteBook()
    book.apply(SNAP)
    book.apply({**SNAP, "symbol": "GBPUSD"})
    book.mark_stale()
    assert {q.status for q in book} == {"stale"}
    assert book["EURUSD"].bid == 1.1


def test_unpack_accepts_one_message_or_an_array() -> None:
    assert unpack(b'{"type":"pong","ts":1}') == [{"type": "pong", "ts": 1}]
    assert [m["seq"] for m in unpack('[{"type":"update","seq":1},{"type":"update","seq":2}]')] == [1, 2]
    with pytest.raises(ValueError, match="JSON"):
        unpack(b"not json")
    with pytest.raises(ValueError, match="message objects"):
        unpack(b"[1, 2]")


def test_latency_is_receive_time_minus_source_time_for_updates_only() -> None:
    update = Message("update", upd(11), received_us=1_011 + 2_500)
    assert update.latency_s == pytest.approx(0.0025)
    assert Message("snapshot", SNAP, received_us=9_999_999).latency_s is None
    assert update.symbol == "EURUSD" and Message("pong", {"type": "pong"}, 1).symbol is None


def test_lifecycle_allows_the_documented_moves_and_names_an_illegal_one() -> None:
    life = ConnectionLifecycle()
    for state in (ConnState.CONNECTING, ConnState.WAITING, ConnState.CONNECTING, ConnState.OPEN,
                  ConnState.WAITING, ConnState.CONNECTING, ConnState.OPEN, ConnState.CLOSED):  # fmt: skip
        life.to(state, "test")
    assert life.opened == 2
    with pytest.raises(IllegalTransition, match=r"closed -> connecting.*on retry"):
        life.to(ConnState.CONNECTING, "retry")
    with pytest.raises(IllegalTransition, match="idle -> open"):
        ConnectionLifecycle().to(ConnState.OPEN, "frame")


def test_subscriptions_resubscribe_one_request_per_throttle_in_order() -> None:
    subs = Subscriptions()
    assert subs.add(["EURUSD", "GBPUSD", "EURUSD"], 0) == ["EURUSD", "GBPUSD"]
    subs.add(["XAUUSD"], 250)
    subs.add(["USDJPY"], 0)
    assert subs.requests() == [(["EURUSD", "GBPUSD", "USDJPY"], 0), (["XAUUSD"], 250)]
    assert subs.remove(["GBPUSD", "NOPE"]) == ["GBPUSD"]
    assert subs.symbols == ["EURUSD", "XAUUSD", "USDJPY"] and "GBPUSD" not in subs


# ---------------------------------------------------------------- the trading day (v1 addition)

DAY = {"date": "2024-03-12", "open": 1.0901, "high": 1.0915, "low": 1.0890, "prev_close": 1.0950,
       "change": -0.004, "change_pct": -0.37, "ticks": 120}  # fmt: skip


def test_snapshot_day_then_update_day_fields_then_a_roll_and_session_times() -> None:
    book = QuoteBook()
    book.apply({**SNAP, "bid": 1.091, "day": DAY, "next_open": None, "next_close": 1_710_536_400_000_000})
    q = book["EURUSD"]
    assert q.day == Day("2024-03-12", 1.0901, 1.0915, 1.089, 1.095, 120)
    assert q.next_close == 1_710_536_400_000_000 and q.next_open is None
    assert (q.change, q.change_pct) == (-0.004, -0.37)  # the snapshot's own numbers
    book.apply(upd(11, bid=1.0916, day={"high": 1.0916}))
    q = book["EURUSD"]
    assert q.day is not None and (q.day.high, q.day.low, q.day.open) == (1.0916, 1.089, 1.0901)
    assert (q.change, q.change_pct) == (-0.0034, -0.31)
    # The market closes (status with the next open), then the next day starts.
    book.apply({"type": "status", "symbol": "EURUSD", "status": "closed", "ts": 5, "next_open": 7})
    assert (book["EURUSD"].status, book["EURUSD"].next_open) == ("closed", 7)
    roll = {"date": "2024-03-13", "open": None, "high": None, "low": None, "prev_close": 1.0916,
            "change": None, "change_pct": None, "ticks": 0}  # fmt: skip
    change = book.apply({"type": "day", "symbol": "EURUSD", "day": roll, "ts": 6})
    assert change is not None and change.quote is not None
    assert change.quote.day == Day("2024-03-13", None, None, None, 1.0916, 0)
    assert change.quote.seq == 11  # a roll is not a tick
    assert (change.quote.change, change.quote.change_pct) == (None, None)  # as the server's: no tick in the day yet
    book.apply(upd(12, bid=1.0919, day={"open": 1.0919, "high": 1.0919, "low": 1.0919}))
    assert (book["EURUSD"].change, book["EURUSD"].change_pct) == (0.0003, 0.03)


def test_change_equals_the_servers_for_prices_whose_float_difference_is_noisy() -> None:
    from ticker.core.calendar import FX, Calendar
    from ticker.core.daystats import DailyStats

    stats = DailyStats([Calendar(FX)], [5])
    ts = 1_710_252_000_000_000  # a Tuesday, trading
    stats.on_tick(0, ts, 1.1)
    for prev, bid in [(1.1, 1.10003), (1.08412, 1.08415), (0.7, 0.70001), (1.3, 1.29999), (1.2345, 1.2346)]:
        stats.set_prev_close(0, prev)
        stats.on_tick(0, ts, bid)
        s = stats.get(0)
        assert s is not None
        q = Quote("EURUSD", 1, ts, bid=bid, day=Day("2024-03-12", open=1.1, prev_close=prev))
        assert (q.change, q.change_pct) == (s.change, s.change_pct), (prev, bid)


def test_a_day_message_without_a_snapshot_or_a_date_changes_nothing() -> None:
    book = QuoteBook()
    assert book.apply({"type": "day", "symbol": "EURUSD", "day": DAY}).dropped == "no_snapshot"
    book.apply(SNAP)
    assert book.apply({"type": "day", "symbol": "EURUSD", "day": {"open": 1}}).dropped == "malformed"
    assert book["EURUSD"].day is None and book["EURUSD"].change is None
