"""Subscribing to bars over the protocol, without a socket: requests in, replies out."""

from __future__ import annotations

import orjson
import pytest

from tests.support.bar_world import T0, BarWorld, S, drain
from ticker.protocol.errors import ProtocolError
from ticker.protocol.requests import Subscribe, Unsubscribe, parse_request
from ticker.protocol.session import Session
from ticker.security.access import Access
from ticker.security.entitlements import entitlements
from ticker.security.tokens import Identity


def send(s: Session, obj: dict) -> list[dict]:
    s.receive(orjson.dumps(obj), now=0.0)
    return drain(s.outbox)


@pytest.fixture
def world() -> BarWorld:
    w = BarWorld()
    for i in range(5):  # seconds 0..4 and the minute forming
        w.tick("EURUSD", T0 + i * S + 10, 1.1 + i / 1e4)
    return w


def test_subscribe_with_bars_acks_then_sends_history_and_the_forming_bar(world: BarWorld) -> None:
    s = world.session()
    msgs = send(s, {"op": "subscribe", "symbols": ["EURUSD"], "bars": "1s", "history": 3, "id": 7})
    assert msgs[0] == {"type": "subscribed", "id": 7, "symbols": ["EURUSD"], "bars": ["1s"], "history": 3}
    snap = msgs[1]
    assert (snap["type"], snap["symbol"], snap["interval"]) == ("bars", "EURUSD", "1s")
    assert [(b["start"], b["closed"]) for b in snap["bars"]] == [
        (T0 + 1 * S, True), (T0 + 2 * S, True), (T0 + 3 * S, True), (T0 + 4 * S, False),
    ]  # fmt: skip
    assert world.hub.subscription_count == 0  # bars only: no quotes
    world.tick("EURUSD", T0 + 4 * S + 20, 1.2)
    (update,) = drain(s.outbox)
    assert update["type"] == "bar" and update["ticks"] == 2 and update["seq"] > snap["seq"]


def test_several_intervals_and_symbols_in_one_request(world: BarWorld) -> None:
    s = world.session()
    msgs = send(s, {"op": "subscribe", "symbols": ["EURUSD", "GBPUSD"], "bars": ["1m", "1s"]})
    assert msgs[0]["bars"] == ["1m", "1s"]
    assert [(m["symbol"], m["interval"]) for m in msgs[1:]] == [
        ("EURUSD", "1m"), ("EURUSD", "1s"), ("GBPUSD", "1m"), ("GBPUSD", "1s"),
    ]  # fmt: skip
    assert msgs[3]["bars"] == []  # GBPUSD has not ticked: no bar yet


def test_unknown_interval_lists_the_valid_ones_and_subscribes_nothing(world: BarWorld) -> None:
    s = world.session()
    (err,) = send(s, {"op": "subscribe", "symbols": ["EURUSD"], "bars": ["1s", "7m"], "id": 3})
    assert err["code"] == "unknown_interval" and err["field"] == "bars" and err["id"] == 3
    assert err["intervals"] == ["1s", "1m"] and "'7m'" in err["message"]
    assert world.fanout.subscription_count == 0


def test_history_is_bounded(world: BarWorld) -> None:
    s = world.session()
    (err,) = send(s, {"op": "subscribe", "symbols": ["EURUSD"], "bars": "1s", "history": 51})
    assert err["code"] == "bad_request" and err["field"] == "history" and "at most 50" in err["message"]


@pytest.mark.parametrize(
    ("request_", "field", "text"),
    [
        ({"op": "subscribe", "symbols": ["EURUSD"], "bars": 5}, "bars", "interval such as"),
        ({"op": "subscribe", "symbols": ["EURUSD"], "bars": []}, "bars", "list of 1 to 16"),
        ({"op": "subscribe", "symbols": ["EURUSD"], "bars": ["x" * 9]}, "bars", "interval"),
        ({"op": "subscribe", "symbols": ["EURUSD"], "history": 5}, "history", "needs 'bars'"),
        ({"op": "subscribe", "symbols": ["EURUSD"], "bars": "1m", "history": -1}, "history", "non-negative"),
        ({"op": "subscribe", "symbols": ["EURUSD"], "bars": "1m", "history": True}, "history", "integer"),
    ],
)
def test_malformed_bar_requests_name_the_field(request_: dict, field: str, text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_request(orjson.dumps(request_))
    assert info.value.field == field and text in info.value.message


def test_old_requests_parse_as_before() -> None:
    assert parse_request(b'{"op":"subscribe","symbols":["EURUSD"],"throttle_ms":5}') == Subscribe(
        ("EURUSD",), None, 5
    )
    assert parse_request(b'{"op":"unsubscribe","symbols":["EURUSD"]}') == Unsubscribe(("EURUSD",))


def test_unsubscribe_bars_stops_them_and_leaves_quotes(world: BarWorld) -> None:
    s = world.session()
    send(s, {"op": "subscribe", "symbols": ["EURUSD"]})
    send(s, {"op": "subscribe", "symbols": ["EURUSD"], "bars": "1s"})
    (ack,) = send(s, {"op": "unsubscribe", "symbols": ["EURUSD"], "bars": "1s", "id": 4})
    assert ack == {"type": "unsubscribed", "id": 4, "symbols": ["EURUSD"], "bars": ["1s"]}
    world.tick("EURUSD", T0 + 9 * S, 1.3)
    assert [m["type"] for m in drain(s.outbox)] == ["update"]
    assert world.fanout.subscription_count == 0 and world.hub.subscription_count == 1


def test_bar_series_count_against_the_connection_limit(world: BarWorld) -> None:
    world.max_symbols = 3
    s = world.session()
    send(s, {"op": "subscribe", "symbols": ["EURUSD", "GBPUSD"], "bars": "1s"})
    (err,) = send(s, {"op": "subscribe", "symbols": ["EURUSD", "GBPUSD"], "bars": "1m"})
    assert err["code"] == "too_many_symbols" and err["field"] == "bars"
    assert world.fanout.subscription_count == 2


def test_unknown_and_unentitled_symbols_are_reported_like_quotes(world: BarWorld) -> None:
    s = world.session()
    eur_only = Identity("jwt:alice", entitlements(("EUR*",)), 5, None)
    s.access = Access(login=lambda token, wall: eur_only, identity=eur_only, now=0, wall=1e9)
    msgs = send(s, {"op": "subscribe", "symbols": ["EURUSD", "GBPUSD", "NOPE"], "bars": "1s", "id": 2})
    assert [m["type"] for m in msgs] == ["subscribed", "bars", "error", "error"]
    assert msgs[2]["code"] == "unknown_symbol" and msgs[3]["code"] == "not_entitled"
    assert msgs[3]["symbols"] == ["GBPUSD"]


def test_closing_the_session_unsubscribes_its_bars(world: BarWorld) -> None:
    s = world.session()
    send(s, {"op": "subscribe", "symbols": ["EURUSD"], "bars": ["1s", "1m"]})
    s.close()
    assert world.fanout.subscription_count == 0


def test_a_refreshed_token_that_grants_less_drops_those_bar_series(world: BarWorld) -> None:
    everything = Identity("jwt:bob", entitlements(("*",)), 5, None)
    eur_only = Identity("jwt:bob", entitlements(("EUR*",)), 5, None)
    queue = [eur_only]
    s = world.session()
    s.access = Access(login=lambda token, wall: queue.pop(0), identity=everything, now=0, wall=1e9)
    send(s, {"op": "subscribe", "symbols": ["EURUSD", "GBPUSD"], "bars": ["1s", "1m"]})
    msgs = send(s, {"op": "auth", "token": "fresh", "id": 3})
    assert [m["type"] for m in msgs] == ["authenticated", "unsubscribed", "error"]
    assert msgs[1] == {"type": "unsubscribed", "id": 3, "symbols": ["GBPUSD"], "bars": ["1s", "1m"]}
    assert msgs[2]["code"] == "not_entitled" and msgs[2]["symbols"] == ["GBPUSD"]
    assert world.fanout.subscription_count == 2
