"""Delay lines: never early, ordered, bounded, conflated; the delayed streams they feed."""

from __future__ import annotations

import math

import orjson
import pytest

from ticker.core.delay import ENTRY_BYTES, DelayLine, DelayLines
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.model import Instrument, QuoteState, Status
from ticker.core.outbox import Outbox
from ticker.core.stats import FanoutStats
from ticker.core.table import SymbolTable

S = 1_000_000  # µs
T0 = 1_700_000_000 * S


def push(line: DelayLine, now_us: int, seq: int, ts: int | None = None, bid: float = 1.0) -> bool:
    return line.push(now_us, seq, bid, bid + 0.1, 1.0, 2.0, now_us if ts is None else ts, 1)


def drain(line: DelayLine, now_us: int) -> list[tuple[int, int]]:
    """(due, seq) of every entry due at ``now_us``."""
    out = []
    while line.count and line.due_at() <= now_us:
        entry = line.pop()
        out.append((entry[0], entry[1]))
    return out


def test_an_entry_is_due_a_delay_after_its_capture_rounded_up_to_the_interval() -> None:
    line = DelayLine(900, S)
    assert push(line, T0 + 300_000, 1)  # the line was empty
    assert line.due_at() == T0 + 901 * S
    assert drain(line, T0 + 901 * S - 1) == []
    assert drain(line, T0 + 901 * S) == [(T0 + 901 * S, 1)]


def test_never_early_for_a_tick_stamped_in_the_future() -> None:
    line = DelayLine(10, S)
    push(line, T0, 1, ts=T0 + 5 * S)  # the source clock runs 5 s ahead
    assert line.due_at() == T0 + 15 * S


def test_states_of_one_interval_merge_into_the_newest() -> None:
    line = DelayLine(10, S)
    assert push(line, T0 + 100_000, 1, bid=1.0)
    assert not push(line, T0 + 500_000, 2, bid=1.5)
    assert not push(line, T0 + 900_000, 3, bid=2.0)
    push(line, T0 + 1_200_000, 4, bid=2.5)
    assert line.count == 2
    entry = line.pop()
    assert entry[:3] == (T0 + 11 * S, 3, 2.0)  # the last state of the interval, its due unchanged


def test_released_in_order_with_seq_rising() -> None:
    line = DelayLine(5, S)
    released = []
    for i in range(20):
        push(line, T0 + i * S, i + 1)
        released += drain(line, T0 + i * S)
    released += drain(line, T0 + 100 * S)
    assert [seq for _, seq in released] == list(range(1, 21))
    assert [due for due, _ in released] == [T0 + (i + 5) * S for i in range(20)]


def test_bounded_by_one_entry_per_interval_and_growing_by_doubling() -> None:
    line = DelayLine(900, S)
    assert line.limit == 902
    assert line.nbytes == 16 * ENTRY_BYTES  # a quiet line holds little
    for i in range(3000):  # a tick every 0.3 s for 900 s, nothing released
        push(line, T0 + i * 300_000, i + 1)
    assert line.count <= line.limit
    assert line.cap == 902 and line.nbytes == 902 * ENTRY_BYTES


def test_a_full_line_merges_the_newest_later_never_earlier() -> None:
    line = DelayLine(2, S)  # holds 4 entries
    for i in range(4):
        push(line, T0 + i * S, i + 1)
    assert line.count == 4
    push(line, T0 + 10 * S, 5)  # the clock jumped: no room, merge into the last
    assert line.count == 4
    *_, last = drain(line, T0 + 100 * S)
    assert last == (T0 + 12 * S, 5)


def test_a_delay_and_an_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        DelayLine(0, S)


# ------------------------------------------------------------------ the streams


class World:
    def __init__(self, delays: tuple[int, ...] = (2,)) -> None:
        self.table = SymbolTable([Instrument("EURUSD", 5, 0.0001), Instrument("XAUUSD", 2, 0.01)])
        self.hub = Hub(len(self.table))
        self.encoder = QuoteEncoder(self.table)
        self.lines = DelayLines(self.table, self.hub, self.encoder, delays)
        self.stats = FanoutStats()
        self.seq = 0

    def outbox(self, hid: int) -> Outbox:
        box = Outbox(self.lines.encode_update, self.stats)
        self.hub.add(hid, box)
        return box

    def tick(self, sid: int, bid: float, ts: int) -> None:
        assert self.table.apply(sid, bid, bid + 0.0002, 1e6, 1e6, ts, 0.0) >= 0
        self.table_publish(sid)

    def table_publish(self, sid: int) -> None:
        """As Ingest does for real-time subscribers."""
        if self.hub.subscribers[sid]:
            self.hub.publish_update(sid, 3, self.encoder.update(sid, 3), 0.0)


def messages(box: Outbox) -> list[dict]:
    out: list[dict] = []
    while (frame := box.take_frame()) is not None:
        obj = orjson.loads(frame)
        out += obj if isinstance(obj, list) else [obj]
    return out


def test_the_delayed_stream_is_a_hub_id_of_its_own_and_real_time_is_untouched() -> None:
    w = World(delays=(2, 900))
    hid = w.lines.hub_id(1, 2)
    assert hid not in (0, 1) and w.lines.source(hid) == (1, 2)
    assert w.lines.source(w.lines.hub_id(1, 900)) == (1, 900) and w.lines.hub_id(1, 0) == 1
    live, delayed = w.outbox(1), w.outbox(hid)
    w.tick(1, 2000.0, T0)
    assert [m["bid"] for m in messages(live)] == [2000.0]
    assert messages(delayed) == []  # nothing before the delay


def test_a_delayed_subscriber_gets_each_interval_s_last_state_a_delay_later() -> None:
    w = World()
    hid = w.lines.hub_id(0, 2)
    box = w.outbox(hid)
    for i, bid in enumerate((1.1, 1.2, 1.3)):  # three ticks in the first second
        w.tick(0, bid, T0 + i * 300_000)
    w.lines.tick(T0 + 999_999, 0.0)  # the capture at the end of that second
    w.tick(0, 1.4, T0 + S + 100_000)
    w.lines.tick(T0 + 2 * S - 1, 0.0)
    assert w.lines.next_due() == T0 + 3 * S
    w.lines.tick(T0 + 3 * S - 1, 0.0)
    assert messages(box) == []  # one µs early: nothing
    w.lines.tick(T0 + 3 * S, 0.0)
    first = messages(box)
    assert [m["type"] for m in first] == ["status", "update"]
    assert first[0] == {"type": "status", "symbol": "EURUSD", "status": "live", "ts": T0 + S, "delayed": 2}
    assert first[1]["bid"] == 1.3 and first[1]["seq"] == 3 and first[1]["ts"] == T0 + 600_000
    assert first[1]["delayed"] == 2
    w.lines.tick(T0 + 4 * S, 0.0)
    (second,) = messages(box)
    assert second["bid"] == 1.4 and second["seq"] == 4 and "ask" in second


def test_every_released_price_is_at_least_the_delay_old() -> None:
    w = World(delays=(5,))
    box = w.outbox(w.lines.hub_id(1, 5))
    now = T0
    seen: list[tuple[int, dict]] = []
    for step in range(400):  # 40 s: a tick every 100 ms, the timer every 250 ms
        now = T0 + step * 100_000
        w.tick(1, 2000.0 + step, now)
        if step % 5 == 0:
            w.lines.tick(now, 0.0)
            seen += [(now, m) for m in messages(box)]
    updates = [(t, m) for t, m in seen if m["type"] == "update"]
    assert len(updates) > 30
    assert all(t - m["ts"] >= 5 * S for t, m in updates)
    seqs = [m["seq"] for _, m in updates]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_the_delayed_snapshot_is_pending_until_something_is_released() -> None:
    w = World()
    hid = w.lines.hub_id(1, 2)
    w.tick(1, 2000.0, T0)
    w.lines.tick(T0, 0.0)
    snap = orjson.loads(w.lines.snapshot(hid))
    assert snap["status"] == "pending" and snap["bid"] is None and snap["delayed"] == 2
    w.lines.tick(T0 + 3 * S, 0.0)
    snap = orjson.loads(w.lines.snapshot(hid))
    assert snap["status"] == "live" and snap["bid"] == 2000.0 and snap["seq"] == 1
    assert w.lines.snapshot_dict(1)["seq"] == 1 and "delayed" not in w.lines.snapshot_dict(1)
    assert w.lines.state(hid) == (1, int(Status.LIVE))


def test_a_status_change_alone_is_delayed_too() -> None:
    w = World()
    box = w.outbox(w.lines.hub_id(0, 2))
    w.tick(0, 1.1, T0)
    w.lines.tick(T0, 0.0)
    w.lines.tick(T0 + 2 * S, 0.0)
    messages(box)
    w.table.set_status(0, Status.STALE)
    w.lines.tick(T0 + 5 * S, 0.0)
    assert messages(box) == []
    w.lines.tick(T0 + 7 * S, 0.0)
    assert messages(box) == [
        {"type": "status", "symbol": "EURUSD", "status": "stale", "ts": T0 + 5 * S, "delayed": 2}
    ]


def test_a_restarted_sequence_reaches_delayed_subscribers_as_a_snapshot() -> None:
    w = World()
    box = w.outbox(w.lines.hub_id(0, 2))
    for i in range(5):
        w.tick(0, 1.1 + i / 100, T0 + i)
    w.lines.tick(T0, 0.0)
    w.lines.tick(T0 + 2 * S, 0.0)
    messages(box)
    w.table.forget(0)  # as a gateway adopting a publisher that started over
    w.table.apply_mirrored(0, QuoteState(2, 1.5, 1.6, math.nan, math.nan, T0 + S, 1), 0.0)
    w.lines.reset(0)
    w.lines.tick(T0 + S, 0.0)
    w.lines.tick(T0 + 3 * S, 0.0)
    (snap,) = messages(box)
    assert snap["type"] == "snapshot" and snap["seq"] == 2 and snap["bid"] == 1.5 and snap["delayed"] == 2


def test_conflated_delayed_updates_still_carry_the_marker() -> None:
    w = World()
    hid = w.lines.hub_id(0, 2)
    box = Outbox(w.lines.encode_update, w.stats, high_water=1)
    w.hub.add(hid, box)
    box.push(b'{"type":"x"}', 0.0)  # the queue is at its high-water mark
    for i in range(3):
        w.tick(0, 1.1 + i / 100, T0 + i * S)
        w.lines.tick(T0 + i * S, 0.0)
    w.lines.tick(T0 + 10 * S, 0.0)
    got = messages(box)
    assert got[-1]["delayed"] == 2 and got[-1]["bid"] == 1.12  # merged, latest value


def test_memory_is_counted_and_subscriptions_too() -> None:
    w = World(delays=(2, 900))
    # 2 symbols × (a 2 s line: 4 slots, its bound; a 900 s line: 16 slots to start with)
    assert w.lines.nbytes == 2 * (4 + 16) * ENTRY_BYTES
    w.outbox(w.lines.hub_id(0, 900))
    w.outbox(0)
    assert w.lines.subscriptions() == 1


def test_the_delay_lines_must_be_the_first_to_extend_the_hub() -> None:
    table = SymbolTable([Instrument("EURUSD", 5, 0.0001)])
    hub = Hub(1)
    hub.extend(3)
    with pytest.raises(ValueError, match="extend the hub"):
        DelayLines(table, hub, QuoteEncoder(table), (2,))
