"""Bar fan-out: merged forming updates, closes and corrections in order, throttle,
encode once, the timer's clock groups, and mirroring from the bus."""

from __future__ import annotations

import pytest

from tests.support.bar_world import T0, BarWorld, S, drain, frame
from ticker.core.bars import Bar


def bar_msgs(msgs: list[dict]) -> list[tuple[int, int, bool, int]]:
    """(start, ticks, closed, seq) of the bar messages."""
    return [(m["start"], m["ticks"], m["closed"], m["seq"]) for m in msgs if m["type"] == "bar"]


def test_forming_updates_merge_into_one_message_per_series_per_frame() -> None:
    w = BarWorld()
    box = w.outbox()
    w.fanout.add(w.key("EURUSD", "1m"), box)
    for i in range(5):
        w.tick("EURUSD", T0 + i * 1000, 1.1 + i / 1e5)
    msgs = frame(box)
    assert bar_msgs(msgs) == [(T0, 5, False, 5)]
    assert msgs[0]["high"] == 1.10004 and msgs[0]["close"] == 1.10004
    assert frame(box) == []
    w.tick("EURUSD", T0 + 10 * S, 1.2)
    assert bar_msgs(frame(box)) == [(T0, 6, False, 6)]


def test_every_subscriber_gets_the_same_bytes_encoded_once() -> None:
    w = BarWorld()
    boxes = [w.outbox() for _ in range(3)]
    for b in boxes:
        w.fanout.add(w.key("EURUSD", "1s"), b)
    w.tick("EURUSD", T0, 1.1)
    frames = [b.take_frame() for b in boxes]
    assert frames[0] is frames[1] is frames[2]
    assert w.fanout.stats.messages["forming"] == 3


def test_a_close_supersedes_the_pending_forming_update_and_comes_first() -> None:
    w = BarWorld()
    box = w.outbox()
    w.fanout.add(w.key("EURUSD", "1s"), box)
    w.tick("EURUSD", T0 + 100, 1.1)
    w.tick("EURUSD", T0 + 200, 1.2)  # pending: the forming bar of second 0
    w.tick("EURUSD", T0 + S + 5, 1.3)  # closes second 0, opens second 1
    msgs = frame(box)
    assert bar_msgs(msgs) == [(T0, 2, True, 3), (T0 + S, 1, False, 4)]
    assert msgs[0]["close"] == 1.2 and msgs[0]["end"] == T0 + S
    assert w.fanout.stats.closed["1s"] == 1


def test_a_correction_keeps_seq_increasing_per_series() -> None:
    w = BarWorld(groups=[0, 0, 0])
    box = w.outbox()
    w.fanout.add(w.key("EURUSD", "1s"), box)
    w.tick("EURUSD", T0 + 100, 1.1)
    w.fanout.close_group(0, T0 + S, now=0.0)  # the timer closes second 0
    w.tick("EURUSD", T0 + S + 100, 1.2)  # second 1 forming
    drain(box)
    w.tick("EURUSD", T0 + S + 200, 1.25)  # a forming update is pending...
    # ...when a tick stamped in second 0 arrives late (as after the timer's close).
    bars = w.book.symbols[0]
    assert bars is not None
    bars.on_tick(T0 + 900_000, 1.0, 1.1)
    w.fanout._emit(0, bars.take_events(), 0.0)
    w.tick("EURUSD", T0 + S + 300, 1.3)
    msgs = drain(box)
    got = bar_msgs(msgs)
    assert [(start, closed) for start, _, closed, _ in got] == [(T0 + S, False), (T0, True), (T0 + S, False)]
    seqs = [seq for *_, seq in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert msgs[1]["corrected"] is True and msgs[1]["low"] == 1.0
    assert msgs[0]["close"] == 1.25 and msgs[2]["close"] == 1.3


def test_throttle_holds_forming_updates_but_never_a_close() -> None:
    w = BarWorld()
    box = w.outbox()
    w.fanout.add(w.key("EURUSD", "1s"), box)
    sid = w.fanout.series_id(w.key("EURUSD", "1s"))
    box.set_throttle(sid, 1.0, now=0.0)
    w.ingest._clock = lambda: 0.5  # type: ignore[method-assign]
    w.tick("EURUSD", T0 + 100, 1.1)
    assert bar_msgs(frame(box)) == [(T0, 1, False, 1)]
    w.tick("EURUSD", T0 + 200, 1.2)
    w.tick("EURUSD", T0 + 300, 1.3)
    assert frame(box) == [] and box.held
    box.release_due(1.6)
    assert bar_msgs(frame(box)) == [(T0, 3, False, 3)]
    w.tick("EURUSD", T0 + 400, 1.4)  # held again...
    w.tick("EURUSD", T0 + S, 1.5)  # ...and the close goes out at once, superseding it
    msgs = frame(box)
    assert bar_msgs(msgs)[0] == (T0, 4, True, 5)


def test_nothing_is_encoded_or_queued_for_series_nobody_follows() -> None:
    w = BarWorld()
    quotes = w.outbox()
    w.hub.add(0, quotes)
    w.tick("EURUSD", T0, 1.1)
    w.tick("EURUSD", T0 + S, 1.2)  # a close too
    assert w.fanout.stats.messages == {}
    assert [m["type"] for m in frame(quotes)] == ["status", "update", "update"]
    assert w.fanout.stats.closed["1s"] == 1


def test_a_connection_with_quotes_and_bars_conflates_both_correctly() -> None:
    w = BarWorld()
    box = w.outbox()
    box.high_water = 1
    box.set_encoder(w.fanout.encoder(w.encoder.update))
    w.hub.add(0, box)
    w.fanout.add(w.key("EURUSD", "1m"), box)
    for i in range(4):
        w.tick("EURUSD", T0 + i, 1.1 + i / 1e5)
    msgs = frame(box)
    kinds = [m["type"] for m in msgs]
    assert sorted(kinds) == ["bar", "status", "update"]  # four ticks: one of each
    last_update = [m for m in msgs if m["type"] == "update"][-1]
    assert last_update["seq"] == 4 and last_update["bid"] == 1.10003


def test_the_timer_closes_the_bars_of_its_clock_group_only() -> None:
    w = BarWorld(groups=[0, 1, 1])
    box = w.outbox()
    for sym in ("EURUSD", "GBPUSD"):
        w.fanout.add(w.key(sym, "1s"), box)
    w.tick("EURUSD", T0 + 10, 1.1)
    w.tick("GBPUSD", T0 + 10, 1.3)
    assert w.fanout.due == [T0 + S, T0 + S]
    drain(box)
    assert w.fanout.close_group(0, T0 + S, 0.0) == T0 + 60 * S  # the 1m bar is next
    assert bar_msgs(drain(box)) == [(T0, 1, True, 2)]


def test_a_recorded_group_closes_on_its_own_progress() -> None:
    w = BarWorld(groups=[0, 1, 1])
    box = w.outbox()
    w.fanout.add(w.key("GBPUSD", "1s"), box)
    w.tick("GBPUSD", T0 + 10, 1.3)
    drain(box)
    w.tick("AUDUSD", T0 + 3 * S, 0.65)  # same replay, later: GBPUSD's second 0 is over
    assert bar_msgs(drain(box)) == [(T0, 1, True, 2)]
    w.tick("EURUSD", T0 + 9 * S, 1.1)  # the wall-clock group does not close anything there
    assert w.book.symbols[2] is not None and w.book.symbols[2].series[0].forming() is not None


def test_adopted_bars_keep_the_newest_whatever_the_order() -> None:
    w = BarWorld()
    box = w.outbox()
    key = w.key("EURUSD", "1s")
    w.fanout.add(key, box)
    forming = Bar(T0, T0 + S, 1.1, 1.2, 1.0, 1.15, 3, 3, False)
    closed = Bar(T0, T0 + S, 1.1, 1.3, 1.0, 1.25, 5, 6, True)
    assert w.fanout.adopt(key, forming, T0, T0 + 5, 0.0)
    assert w.fanout.adopt(key, closed, T0, T0 + 9, 0.0)
    assert not w.fanout.adopt(key, forming, T0, T0 + 5, 0.0)  # older: ignored
    assert not w.fanout.adopt(key, closed, T0, T0 + 9, 0.0)  # repeated: ignored
    series = w.fanout.series[key]
    assert series is not None and series.forming() is None and series.seq == 6
    assert series.history(5) == [closed]
    assert bar_msgs(drain(box)) == [(T0, 5, True, 6)]
    nxt = Bar(T0 + S, T0 + 2 * S, 1.2, 1.2, 1.2, 1.2, 1, 7, False)
    assert w.fanout.adopt(key, nxt, T0 + S, T0 + S, 0.0)
    assert bar_msgs(drain(box)) == [(T0 + S, 1, False, 7)]


@pytest.mark.parametrize("interval", ["1s", "1m"])
def test_snapshot_carries_history_then_the_forming_bar(interval: str) -> None:
    w = BarWorld()
    for i in range(130):
        w.tick("EURUSD", T0 + i * S, 1.1)
    snap = w.fanout.snapshot_dict(w.key("EURUSD", interval), 2)
    assert snap["type"] == "bars" and snap["interval"] == interval
    assert [b["closed"] for b in snap["bars"]] == [True, True, False]
    assert snap["seq"] == max(b["seq"] for b in snap["bars"])
