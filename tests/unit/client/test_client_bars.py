"""The client's bars: typed parsing and a store where the newest state of each bar wins."""

from __future__ import annotations

from typing import Any

from ticker.client.bars import Bar, BarStore, BarWants
from ticker.client.messages import Message


def bar(start: int, seq: int, closed: bool = False, **more: Any) -> dict[str, Any]:
    return {"type": "bar", "symbol": "EURUSD", "interval": "1m", "start": start, "end": start + 60,
            "open": 1.1, "high": 1.2, "low": 1.0, "close": 1.15, "ticks": 3, "seq": seq, "closed": closed,
            **more}  # fmt: skip


def test_bar_messages_parse_into_typed_bars() -> None:
    m = Message("bar", bar(0, 5, True, corrected=True), 0)
    assert m.bar == Bar("EURUSD", "1m", 0, 60, 1.1, 1.2, 1.0, 1.15, 3, 5, True, True)
    snap = Message("bars", {"type": "bars", "symbol": "EURUSD", "interval": "1m", "bars": [bar(0, 1), {"x": 1}]}, 0)
    assert [b.seq for b in snap.bars] == [1]  # the malformed item is skipped
    assert Bar.parse(bar(0, 1, open="1.1")) is None
    assert Bar.parse({**bar(0, 1), "seq": True}) is None


def test_store_keeps_the_newest_state_of_each_bar_in_any_order() -> None:
    store = BarStore()
    assert store.apply(bar(0, 1)) == []  # before the snapshot: not followed
    store.apply({"type": "bars", "symbol": "EURUSD", "interval": "1m", "bars": [bar(0, 4)]})
    assert store.apply(bar(0, 3)) == []  # older
    assert [b.seq for b in store.apply(bar(0, 5, True))] == [5]
    store.merge([Bar.parse(bar(-60, 2, True)), Bar.parse(bar(0, 4))])  # type: ignore[list-item]
    assert [(b.start, b.seq, b.closed) for b in store.series("EURUSD", "1m")] == [(-60, 2, True), (0, 5, True)]
    store.apply({"type": "bars", "symbol": "EURUSD", "interval": "1m", "bars": []})  # a snapshot replaces
    assert store.series("EURUSD", "1m") == []


def test_resubscribe_requests_group_by_interval_history_and_throttle() -> None:
    wants = BarWants()
    wants.add(["EURUSD", "GBPUSD"], "1m", 300, 0)
    wants.add(["EURUSD"], "1s", 10, 250)
    wants.drop_symbols(["GBPUSD"])
    assert wants.requests() == [
        {"op": "subscribe", "symbols": ["EURUSD"], "bars": "1m", "history": 300},
        {"op": "subscribe", "symbols": ["EURUSD"], "bars": "1s", "history": 10, "throttle_ms": 250},
    ]
