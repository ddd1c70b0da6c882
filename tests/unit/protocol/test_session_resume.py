"""Resume on subscribe and application heartbeats, in the sans-I/O session."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.support.session_world import EPOCH, World, drain
from ticker.client.book import QuoteBook
from ticker.core.outbox import Outbox
from ticker.protocol.session import Session


def subscribe(
    s: Session, symbols: list[str], since: dict[str, Any] | None = None, now: float = 0.0, **extra: Any
) -> None:
    req: dict[str, Any] = {"op": "subscribe", "symbols": symbols, "id": 1, **extra}
    if since is not None:
        req["since"] = since
    s.receive(orjson.dumps(req), now)


def at(book: QuoteBook, symbol: str) -> dict[str, Any]:
    q = book[symbol]
    return {"symbol": symbol, "seq": q.seq, "epoch": q.epoch}


def feed(book: QuoteBook, msgs: list[dict[str, Any]]) -> None:
    for m in msgs:
        book.apply(m)


def assert_book_is_the_table(book: QuoteBook, world: World, symbol: str) -> None:
    t, sid = world.table, world.table.ids[symbol]
    q = book[symbol]
    assert (q.seq, q.bid, q.ask, q.bid_size, q.ask_size, q.ts, q.epoch) == (
        t.seq[sid],
        t.bid[sid],
        t.ask[sid],
        t.bid_size[sid],
        t.ask_size[sid],
        t.ts[sid],
        t.epoch[sid],
    )


def updates(msgs: list[dict[str, Any]], symbol: str = "EURUSD") -> list[dict[str, Any]]:
    return [m for m in msgs if m["type"] == "update" and m["symbol"] == symbol]


@pytest.fixture
def world() -> World:
    return World(ring=(100, 60.0))


def prices(world: World, n: int, symbol: str = "EURUSD") -> None:
    for i in range(n):
        world.tick(symbol, 1.1 + (i % 7) * 0.0001, 1.2 + (i % 3) * 0.0001)


# ---------------------------------------------------------------- resume


def test_a_resumed_stream_is_the_live_stream_every_seq_once_in_order(world: World) -> None:
    live, first = world.session(), world.session()
    subscribe(live, ["EURUSD"])
    subscribe(first, ["EURUSD"])
    prices(world, 5)
    book = QuoteBook()
    feed(book, drain(first))
    mark = at(book, "EURUSD")
    first.close()  # the connection drops; ticks go on
    live_msgs = drain(live)
    prices(world, 7)
    missed = updates(drain(live))
    again = world.session()
    subscribe(again, ["EURUSD"], {"EURUSD": {"seq": mark["seq"], "epoch": mark["epoch"]}})
    msgs = drain(again)
    assert msgs[0] == {
        "type": "subscribed", "id": 1, "symbols": ["EURUSD"],
        "resume": {"EURUSD": {"recovered": True, "replayed": 7}},
    }  # fmt: skip
    assert updates(msgs) == missed  # the same messages a connected client got
    assert msgs[-1] == {"type": "status", "symbol": "EURUSD", "status": "live", "ts": 42}
    assert not [m for m in msgs if m["type"] == "snapshot"]
    prices(world, 2)  # and live continues right after the replay
    after = updates(drain(again))
    seqs = [m["seq"] for m in updates(msgs) + after]
    assert seqs == list(range(mark["seq"] + 1, mark["seq"] + 10))
    feed(book, msgs + after)
    assert_book_is_the_table(book, world, "EURUSD")
    assert book.gaps["EURUSD"] == 0
    assert updates(live_msgs) and world.stats.resumes == {"recovered": 1} and world.stats.replayed == 7


def test_resume_with_nothing_missed_replays_nothing_and_needs_no_snapshot(world: World) -> None:
    prices(world, 3)
    s = world.session()
    subscribe(s, ["EURUSD"], {"EURUSD": {"seq": 3, "epoch": EPOCH}})
    msgs = drain(s)
    assert msgs[0]["resume"] == {"EURUSD": {"recovered": True, "replayed": 0}}
    assert [m["type"] for m in msgs] == ["subscribed", "status"]


@pytest.mark.parametrize(
    ("since", "reason"),
    [
        ({"seq": 2, "epoch": "an-older-epoch"}, "epoch_changed"),
        ({"seq": 99, "epoch": EPOCH}, "unknown_seq"),
    ],
)
def test_a_position_the_server_cannot_vouch_for_gets_a_fresh_snapshot(
    world: World, since: dict[str, Any], reason: str
) -> None:
    prices(world, 5)
    s = world.session()
    subscribe(s, ["EURUSD", "GBPUSD"], {"EURUSD": since})
    msgs = drain(s)
    assert msgs[0]["resume"] == {"EURUSD": {"recovered": False, "reason": reason}}
    snaps = [m for m in msgs if m["type"] == "snapshot"]
    assert [m["symbol"] for m in snaps] == ["EURUSD", "GBPUSD"] and snaps[0]["epoch"] == EPOCH
    assert snaps[0]["seq"] == 5 and not updates(msgs)
    assert world.stats.resumes[reason] == 1


def test_a_client_away_longer_than_the_ring_holds_gets_a_snapshot_equal_to_the_state() -> None:
    world = World(ring=(4, 60.0))
    prices(world, 3)
    s = world.session()
    subscribe(s, ["EURUSD"])
    book = QuoteBook()
    feed(book, drain(s))
    mark = at(book, "EURUSD")
    s.close()
    prices(world, 10)  # more than 4 updates: overflowed
    again = world.session()
    subscribe(again, ["EURUSD"], {"EURUSD": {"seq": mark["seq"], "epoch": mark["epoch"]}})
    msgs = drain(again)
    assert msgs[0]["resume"] == {"EURUSD": {"recovered": False, "reason": "too_old"}}
    feed(book, msgs)
    assert_book_is_the_table(book, world, "EURUSD")
    assert book.gaps["EURUSD"] == 10  # the snapshot skipped what was missed, and the book says so


def test_history_expires_by_age() -> None:
    world = World(ring=(100, 5.0))
    prices(world, 2)  # seq 1 and 2 arrive at t=0
    world.now = 4.0
    prices(world, 2)  # seq 3 and 4 at t=4
    s = world.session()
    subscribe(s, ["EURUSD"], {"EURUSD": {"seq": 1, "epoch": EPOCH}}, now=6.5)
    assert drain(s)[0]["resume"]["EURUSD"] == {"recovered": False, "reason": "too_old"}
    s2 = world.session()
    subscribe(s2, ["EURUSD"], {"EURUSD": {"seq": 2, "epoch": EPOCH}}, now=6.5)
    assert drain(s2)[0]["resume"]["EURUSD"] == {"recovered": True, "replayed": 2}


def test_unknown_and_unlisted_symbols_in_since(world: World) -> None:
    s = world.session()
    subscribe(
        s, ["EURUSD", "XXXYYY"], {"XXXYYY": {"seq": 1, "epoch": EPOCH}, "EURUSD": {"seq": 0, "epoch": EPOCH}}
    )
    msgs = drain(s)
    assert msgs[0]["resume"] == {"EURUSD": {"recovered": True, "replayed": 0}}
    assert msgs[-1]["code"] == "unknown_symbol" and msgs[-1]["symbols"] == ["XXXYYY"]
    subscribe(s, ["GBPUSD"], {"AUDUSD": {"seq": 1, "epoch": EPOCH}})
    (err,) = drain(s)
    assert err["code"] == "bad_request" and err["field"] == "since" and "'AUDUSD'" in err["message"]
    assert not world.hub.has_subscribers(world.table.ids["GBPUSD"])  # nothing half-done


@pytest.mark.parametrize(
    ("since", "words"),
    [
        ([1, 2], "must be an object"),
        ({"EURUSD": 5}, "since.EURUSD must be an object"),
        ({"EURUSD": {"epoch": "x"}}, "since.EURUSD.seq"),
        ({"EURUSD": {"seq": -1, "epoch": "x"}}, "since.EURUSD.seq"),
        ({"EURUSD": {"seq": True, "epoch": "x"}}, "since.EURUSD.seq"),
        ({"EURUSD": {"seq": 1}}, "since.EURUSD.epoch"),
        ({"EURUSD": {"seq": 1, "epoch": "x" * 65}}, "since.EURUSD.epoch"),
    ],
)
def test_malformed_since_is_a_precise_bad_request(world: World, since: Any, words: str) -> None:
    s = world.session()
    subscribe(s, ["EURUSD"], since)
    (err,) = drain(s)
    assert err["code"] == "bad_request" and err["field"] == "since" and words in err["message"]


def test_a_throttled_subscription_resumes_with_one_merged_update(world: World) -> None:
    world.tick("EURUSD", 1.1, 1.2)
    s = world.session()
    subscribe(s, ["EURUSD"], throttle_ms=1000)
    book = QuoteBook()
    feed(book, drain(s))
    s.close()
    world.tick("EURUSD", 1.1001, 1.2)
    world.tick("EURUSD", 1.1001, 1.2005)
    world.tick("EURUSD", 1.1003, 1.2005)
    again = world.session()
    subscribe(again, ["EURUSD"], {"EURUSD": at(book, "EURUSD")}, throttle_ms=1000)
    msgs = drain(again)
    assert msgs[0]["resume"] == {"EURUSD": {"recovered": True, "replayed": 1}}
    (merged,) = updates(msgs)
    assert merged["seq"] == 4 and merged["bid"] == 1.1003 and merged["ask"] == 1.2005
    assert "bid_size" not in merged  # only what changed, as the throttle would have sent
    feed(book, msgs)
    assert_book_is_the_table(book, world, "EURUSD")
    world.tick("EURUSD", 1.1004, 1.2005)  # within the interval: held by the throttle
    assert not updates(drain(again))


def test_a_client_that_was_being_conflated_resumes_from_the_last_seq_it_got() -> None:
    world = World(ring=(100, 60.0))
    s = world.session()
    s.outbox = Outbox(world.encoder.update, world.stats, high_water=2)
    subscribe(s, ["EURUSD"])
    prices(world, 8)  # past the high-water mark: conflated, seq skips
    book = QuoteBook()
    got = drain(s)
    feed(book, got)
    seqs = [m["seq"] for m in updates(got)]
    assert seqs[-1] == 8 and len(seqs) < 8
    s.close()
    prices(world, 4)
    again = world.session()
    subscribe(again, ["EURUSD"], {"EURUSD": at(book, "EURUSD")})
    msgs = drain(again)
    assert [m["seq"] for m in updates(msgs)] == [9, 10, 11, 12]
    feed(book, msgs)
    assert_book_is_the_table(book, world, "EURUSD")


def test_since_for_a_symbol_already_held_on_the_connection_gets_a_snapshot(world: World) -> None:
    s = world.session()
    subscribe(s, ["EURUSD"])
    prices(world, 3)
    drain(s)
    subscribe(s, ["EURUSD"], {"EURUSD": {"seq": 1, "epoch": EPOCH}})
    msgs = drain(s)
    assert msgs[0]["resume"] == {"EURUSD": {"recovered": False, "reason": "already_subscribed"}}
    assert [m["type"] for m in msgs] == ["subscribed", "snapshot"]


def test_without_history_resume_works_only_when_nothing_was_missed() -> None:
    world = World()  # no ring
    prices(world, 3)
    s = world.session()
    subscribe(
        s, ["EURUSD", "GBPUSD"], {"EURUSD": {"seq": 2, "epoch": EPOCH}, "GBPUSD": {"seq": 0, "epoch": EPOCH}}
    )
    resume = drain(s)[0]["resume"]
    assert resume == {"EURUSD": {"recovered": False, "reason": "no_history"},
                      "GBPUSD": {"recovered": True, "replayed": 0}}  # fmt: skip


def test_updates_are_kept_even_when_nobody_is_subscribed(world: World) -> None:
    prices(world, 4)  # no session at all
    s = world.session()
    subscribe(s, ["EURUSD"], {"EURUSD": {"seq": 1, "epoch": EPOCH}})
    assert [m["seq"] for m in updates(drain(s))] == [2, 3, 4]


# ---------------------------------------------------------------- heartbeats


def test_heartbeats_only_while_idle(world: World) -> None:
    s = world.session()
    subscribe(s, ["EURUSD"])
    drain(s)
    s.receive(b'{"op":"heartbeat","interval_ms":2000,"id":5}', 10.0)
    assert drain(s) == [{"type": "heartbeat", "id": 5, "interval_ms": 2000, "ts": 42}]
    s.check(11.0)
    assert drain(s) == []
    s.check(12.0)
    assert drain(s) == [{"type": "heartbeat", "ts": 42}]
    s.check(13.5)
    assert drain(s) == []
    world.now = 13.9
    prices(world, 1)  # data went out at 13.9 ...
    drain(s)
    s.check(15.5)
    assert drain(s) == []  # ... so nothing is due before 15.9
    s.check(16.0)
    assert drain(s) == [{"type": "heartbeat", "ts": 42}]
    assert world.stats.heartbeats_sent == 2


def test_no_heartbeat_while_data_is_pending(world: World) -> None:
    s = world.session()
    s.receive(b'{"op":"heartbeat","interval_ms":1000}', 0.0)
    drain(s)
    subscribe(s, ["EURUSD"])  # queued at 0 and never taken: the client is not reading
    for t in (1.5, 2.5, 3.5):
        s.check(t)
    assert [m["type"] for m in drain(s)] == ["subscribed", "snapshot"]
    s.check(4.0)
    assert drain(s) == []  # the queue was busy at 3.5
    s.check(4.5)
    assert drain(s) == [{"type": "heartbeat", "ts": 42}]


def test_heartbeats_can_be_turned_off_and_bad_intervals_are_refused(world: World) -> None:
    s = world.session()
    s.receive(b'{"op":"heartbeat","interval_ms":1000}', 0.0)
    s.receive(b'{"op":"heartbeat","interval_ms":0,"id":"off"}', 0.0)
    assert drain(s)[-1] == {"type": "heartbeat", "id": "off", "interval_ms": 0, "ts": 42}
    s.check(100.0)
    assert drain(s) == []
    for bad in (999, 60_001, -1, "2000", True, None):
        s.receive(orjson.dumps({"op": "heartbeat", "interval_ms": bad}), 0.0)
        (err,) = drain(s)
        assert (
            err["code"] == "bad_request"
            and err["field"] == "interval_ms"
            and "1000 to 60000" in err["message"]
        )
