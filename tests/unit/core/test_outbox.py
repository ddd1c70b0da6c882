"""The outbox's rules, objects in and frames out, no sockets and no sleeping."""

import orjson
import pytest

from ticker.core.encode import QuoteEncoder
from ticker.core.model import Instrument
from ticker.core.outbox import Outbox
from ticker.core.stats import FanoutStats
from ticker.core.table import ASK, BID, SymbolTable


class Market:
    """A table with two symbols and helpers to tick them."""

    def __init__(self) -> None:
        self.table = SymbolTable([Instrument("EURUSD", 5, 0.0001), Instrument("GBPUSD", 5, 0.0001)])
        self.encoder = QuoteEncoder(self.table)
        self.ts = 1_000

    def tick(self, sid: int, bid: float, ask: float) -> tuple[int, bytes]:
        self.ts += 1
        mask = self.table.apply(sid, bid, ask, 1e6, 1e6, self.ts, now=0.0)
        assert mask >= 0
        return mask & 15, self.encoder.update(sid, mask)


def frame_messages(frame: bytes | None) -> list[dict]:
    assert frame is not None
    obj = orjson.loads(frame)
    return obj if isinstance(obj, list) else [obj]


@pytest.fixture
def market() -> Market:
    return Market()


def make(market: Market, **kw) -> tuple[Outbox, FanoutStats, list[int]]:
    stats = FanoutStats()
    wakes: list[int] = []
    box = Outbox(market.encoder.update, stats, notify=lambda: wakes.append(1), **kw)
    return box, stats, wakes


def test_single_message_goes_as_an_object_and_wakes_writer_once(market: Market) -> None:
    box, stats, wakes = make(market)
    mask, payload = market.tick(0, 1.1, 1.2)
    box.push_update(0, mask, payload, now=1.0)
    assert wakes == [1]
    frame = box.take_frame()
    assert frame is payload  # the very same bytes object: encoded once
    assert box.take_frame() is None
    assert stats.messages_sent == 1


def test_pending_messages_coalesce_into_one_array_frame_in_order(market: Market) -> None:
    box, _, wakes = make(market)
    box.push(b'{"type":"subscribed"}', now=1.0)
    for i in range(5):
        box.push_update(0, *market.tick(0, 1.1 + i / 1e4, 1.2), now=1.0)
    assert len(wakes) == 1  # only the empty -> non-empty transition wakes
    msgs = frame_messages(box.take_frame())
    assert msgs[0] == {"type": "subscribed"}
    assert [m["seq"] for m in msgs[1:]] == [1, 2, 3, 4, 5]


def test_frames_respect_max_frame_bytes(market: Market) -> None:
    box, _, _ = make(market, max_frame_bytes=1024, high_water=10_000)
    for i in range(200):
        box.push_update(0, *market.tick(0, 1.1 + i / 1e5, 1.2), now=1.0)
    seqs: list[int] = []
    while (frame := box.take_frame()) is not None:
        assert len(frame) <= 1024 + 200  # one message may overshoot the limit
        seqs += [m["seq"] for m in frame_messages(frame)]
    assert seqs == list(range(1, 201))


def test_conflation_above_high_water_keeps_latest_state_and_bounds_queue(market: Market) -> None:
    box, stats, _ = make(market, high_water=4)
    for i in range(100):
        box.push_update(0, *market.tick(0, 1.1 + i / 1e4, 1.2 + (i % 3) / 1e4), now=1.0)
        box.push_update(1, *market.tick(1, 1.3, 1.4 + i / 1e4), now=1.0)
    assert len(box) == 4 + 2  # high water, then one merge slot per symbol
    msgs = frame_messages(box.take_frame())
    assert len(msgs) == 6
    last = {m["symbol"]: m for m in msgs}
    assert last["EURUSD"]["seq"] == 100
    assert last["EURUSD"]["bid"] == round(1.1 + 99 / 1e4, 5)
    assert last["EURUSD"]["ask"] == round(1.2 + 99 % 3 / 1e4, 5)
    assert last["GBPUSD"]["ask"] == round(1.4 + 99 / 1e4, 5)
    assert stats.conflated == 2 * 100 - 6
    # Replaying what the client got reproduces the table exactly.
    state: dict[str, dict] = {}
    for m in msgs:
        state.setdefault(m["symbol"], {}).update(m)
    assert state["EURUSD"]["bid"] == market.table.bid[0]
    assert state["GBPUSD"]["ask"] == market.table.ask[1]


def test_merged_update_carries_union_of_fields_changed_since_last_sent(market: Market) -> None:
    box, _, _ = make(market, high_water=1)
    market.tick(0, 1.1, 1.2)
    box.push(b'{"type":"x"}', now=0.0)  # fills to high water
    box.push_update(0, *market.tick(0, 1.1, 1.3), now=0.0)  # ask only
    box.push_update(0, *market.tick(0, 1.0, 1.3), now=0.0)  # bid only
    msgs = frame_messages(box.take_frame())
    assert msgs[1]["bid"] == 1.0 and msgs[1]["ask"] == 1.3 and msgs[1]["seq"] == 3


def test_control_message_for_a_symbol_is_not_overtaken_by_older_merged_data(market: Market) -> None:
    box, _, _ = make(market, high_water=1)
    box.push(b'{"type":"x"}', now=0.0)
    box.push_update(0, *market.tick(0, 1.1, 1.2), now=0.0)  # slot for EURUSD
    box.push(b'{"type":"status","symbol":"EURUSD"}', now=0.0, sid=0)
    box.push_update(0, *market.tick(0, 1.1, 1.3), now=0.0)  # must come after the status
    types = [(m["type"], m.get("seq")) for m in frame_messages(box.take_frame())]
    assert types == [("x", None), ("update", 2), ("status", None), ("update", 2)]


def test_forget_drops_merged_updates_of_an_unsubscribed_symbol(market: Market) -> None:
    box, _, _ = make(market, high_water=1)
    box.push(b'{"type":"x"}', now=0.0)
    box.push_update(0, *market.tick(0, 1.1, 1.2), now=0.0)
    box.forget(0)
    box.push(b'{"type":"unsubscribed"}', now=0.0)
    assert [m["type"] for m in frame_messages(box.take_frame())] == ["x", "unsubscribed"]


def test_throttle_sends_first_at_once_then_at_most_once_per_interval_with_latest(market: Market) -> None:
    box, stats, wakes = make(market)
    box.set_throttle(0, 0.5, now=0.0)
    box.push_update(0, *market.tick(0, 1.10, 1.2), now=10.0)
    assert frame_messages(box.take_frame())[0]["bid"] == 1.1
    box.push_update(0, *market.tick(0, 1.11, 1.2), now=10.1)
    box.push_update(0, *market.tick(0, 1.12, 1.21), now=10.2)
    assert box.take_frame() is None  # held
    assert box.next_due() == pytest.approx(10.5)
    box.release_due(now=10.4)
    assert box.take_frame() is None  # not yet
    box.release_due(now=10.5)
    msgs = frame_messages(box.take_frame())
    assert len(msgs) == 1
    assert (msgs[0]["bid"], msgs[0]["ask"], msgs[0]["seq"]) == (1.12, 1.21, 3)
    assert stats.conflated == 1
    assert box.next_due() is None  # nothing held: last change delivered
    assert len(wakes) >= 2


def test_unthrottled_symbols_are_not_delayed_by_throttled_ones(market: Market) -> None:
    box, _, _ = make(market)
    box.set_throttle(0, 1.0, now=0.0)
    box.push_update(0, *market.tick(0, 1.1, 1.2), now=5.0)
    box.push_update(0, *market.tick(0, 1.0, 1.2), now=5.1)
    box.push_update(1, *market.tick(1, 1.3, 1.4), now=5.1)
    msgs = frame_messages(box.take_frame())
    assert [m["symbol"] for m in msgs] == ["EURUSD", "GBPUSD"]


def test_lag_is_time_since_queue_was_last_empty(market: Market) -> None:
    box, _, _ = make(market)
    assert box.lag(100.0) == 0.0
    box.push(b"{}", now=10.0)
    box.push(b"{}", now=11.0)
    assert box.lag(12.5) == pytest.approx(2.5)
    box.take_frame()
    assert box.lag(13.0) == 0.0


def test_drop_all_counts_discarded(market: Market) -> None:
    box, stats, _ = make(market)
    for _ in range(3):
        box.push(b"{}", now=0.0)
    assert box.drop_all() == 3
    assert stats.dropped == 3
    assert box.pending_bytes == 0 and box.take_frame() is None


def test_masks_are_bit_flags() -> None:
    assert BID & ASK == 0


def test_the_shared_unused_map_is_never_written() -> None:
    """Outboxes share one empty dict for maps they have not needed yet; every path
    that writes one (conflation, throttle, latest-value series) takes its own first."""
    from ticker.core import outbox as module

    stats = FanoutStats()
    a = Outbox(lambda sid, mask: b'{"u":%d}' % sid, stats, high_water=1)
    b = Outbox(lambda sid, mask: b'{"u":%d}' % sid, stats, high_water=1)
    a.push_update(1, 1, b'{"u":1}', 0.0)
    a.push_update(2, 1, b'{"u":2}', 0.0)  # over high water: a merge slot
    a.set_throttle(3, 0.5, 0.0)
    a.push_update(3, 1, b'{"u":3}', 0.1)
    a.push_latest(10_000, b'{"bar":1}', 0.0)
    a.forget(2)
    a.set_throttle(3, 0.0, 0.2)
    a.drop_all()
    b.forget(5)
    b.set_throttle(5, 0.0, 0.0)
    assert module._UNUSED == {}
    assert b._merging is module._UNUSED and a._merging is not module._UNUSED
