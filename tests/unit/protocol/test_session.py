"""The per-connection protocol, without a socket: frames in, queued replies out."""

import orjson
import pytest

from tests.support.session_world import World, drain


@pytest.fixture
def world() -> World:
    return World()


def test_subscribe_replies_then_snapshots_then_updates(world: World) -> None:
    world.tick("EURUSD", 1.1, 1.2)
    s = world.session()
    s.receive(b'{"op":"subscribe","symbols":["EURUSD","GBPUSD"],"id":1}', now=0)
    msgs = drain(s)
    assert msgs[0] == {"type": "subscribed", "id": 1, "symbols": ["EURUSD", "GBPUSD"]}
    assert msgs[1] == {
        "type": "snapshot", "symbol": "EURUSD", "seq": 1, "bid": 1.1, "ask": 1.2,
        "bid_size": 1000000, "ask_size": 1000000, "ts": 1001, "status": "live", "epoch": "e1",
    }  # fmt: skip
    assert msgs[2]["symbol"] == "GBPUSD" and msgs[2]["status"] == "pending" and msgs[2]["bid"] is None
    world.tick("EURUSD", 1.1, 1.3)
    assert drain(s) == [{"type": "update", "symbol": "EURUSD", "seq": 2, "ask": 1.3, "ts": 1002}]


def test_first_tick_of_a_pending_symbol_sends_status_live(world: World) -> None:
    s = world.session()
    s.receive('{"op":"subscribe","symbols":["GBPUSD"]}', now=0)
    drain(s)
    world.tick("GBPUSD", 1.3, 1.4)
    msgs = drain(s)
    assert msgs[0] == {"type": "status", "symbol": "GBPUSD", "status": "live", "ts": 5_000_000}
    assert msgs[1]["type"] == "update" and msgs[1]["bid"] == 1.3


def test_unknown_symbols_are_reported_and_known_ones_subscribed(world: World) -> None:
    s = world.session()
    s.receive('{"op":"subscribe","symbols":["EURUSD","XXXYYY"],"id":7}', now=0)
    msgs = drain(s)
    assert msgs[0]["type"] == "subscribed" and msgs[0]["symbols"] == ["EURUSD"]
    err = msgs[-1]
    assert err["type"] == "error" and err["code"] == "unknown_symbol" and err["id"] == 7
    assert err["symbols"] == ["XXXYYY"]
    assert world.hub.subscription_count == 1


def test_only_unknown_symbols_gives_only_an_error(world: World) -> None:
    s = world.session()
    s.receive('{"op":"subscribe","symbols":["NOPE"],"id":2}', now=0)
    assert [m["type"] for m in drain(s)] == ["error"]


def test_too_many_symbols_subscribes_nothing(world: World) -> None:
    s = world.session()
    s.receive('{"op":"subscribe","symbols":["EURUSD","GBPUSD"]}', now=0)
    drain(s)
    s.receive('{"op":"subscribe","symbols":["AUDUSD","NZDUSD"],"id":9}', now=0)
    (err,) = drain(s)
    assert err["code"] == "too_many_symbols" and err["id"] == 9 and "limit of 3" in err["message"]
    assert set(s.subscriptions) == {0, 1}
    # Re-subscribing to held symbols does not count against the limit.
    s.receive('{"op":"subscribe","symbols":["EURUSD","AUDUSD"]}', now=0)
    assert drain(s)[0]["type"] == "subscribed"


def test_unsubscribe_stops_updates(world: World) -> None:
    s = world.session()
    s.receive('{"op":"subscribe","symbols":["EURUSD","GBPUSD"]}', now=0)
    drain(s)
    s.receive('{"op":"unsubscribe","symbols":["GBPUSD"],"id":2}', now=0)
    assert drain(s) == [{"type": "unsubscribed", "id": 2, "symbols": ["GBPUSD"]}]
    world.tick("GBPUSD", 1.3, 1.4)
    world.tick("EURUSD", 1.1, 1.2)
    assert [m["symbol"] for m in drain(s) if m["type"] == "update"] == ["EURUSD"]


def test_ping_pong_and_errors_do_not_disturb_subscriptions(world: World) -> None:
    s = world.session()
    s.receive('{"op":"subscribe","symbols":["EURUSD"]}', now=0)
    drain(s)
    s.receive("garbage", now=0)
    s.receive('{"op":"ping","id":3}', now=0)
    s.receive_binary(now=0)
    msgs = drain(s)
    assert [m.get("code") or m["type"] for m in msgs] == ["bad_json", "pong", "bad_request"]
    assert msgs[1] == {"type": "pong", "id": 3, "ts": 42}
    world.tick("EURUSD", 1.1, 1.2)
    assert drain(s)[-1]["type"] == "update"
    assert world.stats.errors == {"bad_json": 1, "bad_request": 1}


def test_close_removes_every_subscription(world: World) -> None:
    a, b = world.session(), world.session()
    a.receive('{"op":"subscribe","symbols":["EURUSD","GBPUSD"]}', now=0)
    b.receive('{"op":"subscribe","symbols":["EURUSD"]}', now=0)
    drain(a)
    a.close()
    assert world.hub.subscription_count == 1
    drain(b)
    world.tick("EURUSD", 1.1, 1.2)
    assert drain(a) == []
    assert drain(b)[-1]["type"] == "update"


def test_throttled_subscription_is_acknowledged(world: World) -> None:
    s = world.session()
    s.receive('{"op":"subscribe","symbols":["EURUSD"],"throttle_ms":250,"id":1}', now=0)
    assert drain(s)[0] == {"type": "subscribed", "id": 1, "symbols": ["EURUSD"], "throttle_ms": 250}


def test_a_subscribe_naming_more_than_the_limit_is_refused_by_count_before_any_lookup(world: World) -> None:
    s = world.session()
    names = [f"NOPE{i}" for i in range(4)]  # unknown names: a lookup would answer unknown_symbol
    s.receive(orjson.dumps({"op": "subscribe", "symbols": names, "id": 3}), now=0)
    (err,) = drain(s)
    assert err["code"] == "too_many_symbols" and err["id"] == 3 and err["field"] == "symbols"
    assert "names 4 symbols; the limit is 3" in err["message"]
    assert "symbols" not in err  # nothing is echoed back
    assert world.hub.subscription_count == 0


@pytest.mark.parametrize("op", ["subscribe", "unsubscribe"])
def test_errors_list_at_most_20_symbols_and_say_how_many_more(op: str) -> None:
    world = World(max_symbols=1000)
    s = world.session()
    names = [f"X{i:04d}" for i in range(500)]
    s.receive(orjson.dumps({"op": op, "symbols": names, "id": 1}), now=0)
    (err,) = drain(s)
    assert err["code"] == "unknown_symbol"
    assert err["symbols"] == names[:20]
    assert "X0019 (and 480 more);" in err["message"] and "X0020" not in err["message"]
    assert len(orjson.dumps(err)) < 1000
