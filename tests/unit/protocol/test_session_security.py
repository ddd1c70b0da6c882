"""The session's policy, without a socket: entitlements, auth messages, timers, rate limit."""


from tests.support.session_world import World, drain
from ticker.core.outbox import Outbox
from ticker.protocol.codes import Close
from ticker.protocol.session import Session
from ticker.security.access import Access
from ticker.security.entitlements import entitlements
from ticker.security.limits import InboundRate
from ticker.security.tokens import Identity, TokenError

WALL_US = 1_800_000_000_000_000
WALL = WALL_US / 1e6
EUR_ONLY = Identity("jwt:alice", entitlements(("EUR*", "AUD*")), 5, WALL + 100)


def session(world: World, access: Access | None = None, rate: InboundRate | None = None) -> Session:
    box = Outbox(world.encoder.update, world.stats)
    return Session(
        world.table, world.hub, world.encoder, box, world.stats,
        max_symbols=world.max_symbols, access=access, rate=rate, wall_clock=lambda: WALL_US,
    )  # fmt: skip


def logins(*identities: Identity):  # type: ignore[no-untyped-def]
    queue = list(identities)

    def login(token: str, wall: float) -> Identity:
        if token != "good":
            raise TokenError("not a known API key")
        return queue.pop(0)

    return login


def test_subscribe_is_cut_to_entitlements() -> None:
    w = World(max_symbols=4)  # a request may name up to 4
    s = session(w, Access(login=logins(), identity=EUR_ONLY, now=0, wall=WALL))
    s.receive('{"op":"subscribe","symbols":["EURUSD","GBPUSD","XXXYYY","NZDUSD"],"id":4}', now=0)
    msgs = drain(s)
    assert msgs[0] == {"type": "subscribed", "id": 4, "symbols": ["EURUSD"]}
    errors = {m["code"]: m for m in msgs if m["type"] == "error"}
    assert errors["unknown_symbol"]["symbols"] == ["XXXYYY"]
    denied = errors["not_entitled"]
    assert denied["symbols"] == ["GBPUSD", "NZDUSD"] and denied["id"] == 4 and denied["field"] == "symbols"
    assert "not entitled to: GBPUSD, NZDUSD" in denied["message"]
    # Denied and unknown symbols do not count against max_symbols (1 of 4 is held, not 4):
    # one more entitled one still fits.
    s.receive('{"op":"subscribe","symbols":["AUDUSD","GBPUSD"]}', now=0)
    assert drain(s)[0]["symbols"] == ["AUDUSD"]
    assert set(s.subscriptions) == {w.table.ids["EURUSD"], w.table.ids["AUDUSD"]}
    w.tick("GBPUSD", 1.3, 1.4)
    assert drain(s) == []


def test_only_auth_and_ping_before_authentication() -> None:
    w = World()
    s = session(w, Access(login=logins(EUR_ONLY), now=0, wall=WALL, auth_timeout_s=5))
    s.receive('{"op":"subscribe","symbols":["EURUSD"],"id":1}', now=0)
    s.receive('{"op":"ping","id":2}', now=0)
    err, pong = drain(s)
    assert err["code"] == "unauthenticated" and err["id"] == 1 and '"op":"auth"' in err["message"]
    assert pong["type"] == "pong"
    assert w.hub.subscription_count == 0
    assert s.receive('{"op":"auth","token":"good","id":3}', now=1) is None
    assert drain(s) == [
        {"type": "authenticated", "id": 3, "identity": "jwt:alice", "expires_at": WALL_US + 100_000_000}
    ]
    s.receive('{"op":"subscribe","symbols":["EURUSD"],"id":4}', now=1)
    assert drain(s)[0]["type"] == "subscribed"


def test_bad_first_auth_closes_with_1008() -> None:
    s = session(World(), Access(login=logins(), now=0, wall=WALL))
    close = s.receive('{"op":"auth","token":"bad","id":1}', now=0)
    assert close == Close(1008, "authentication failed: not a known API key", "auth_failed")
    (err,) = drain(s)
    assert err["code"] == "auth_failed" and err["id"] == 1 and err["field"] == "token"
    assert "bad" not in err["message"]  # the token is not echoed


def test_refresh_with_narrower_token_drops_what_it_no_longer_covers() -> None:
    w = World()
    narrower = Identity("jwt:alice", entitlements(("AUDUSD",)), 5, WALL + 1000)
    s = session(w, Access(login=logins(EUR_ONLY, narrower), now=0, wall=WALL))
    s.receive('{"op":"auth","token":"good"}', now=0)
    s.receive('{"op":"subscribe","symbols":["EURUSD","AUDUSD"]}', now=0)
    drain(s)
    s.receive('{"op":"auth","token":"good","id":9}', now=1)
    auth, unsub, err = drain(s)
    assert auth["type"] == "authenticated" and auth["expires_at"] == WALL_US + 1_000_000_000
    assert unsub == {"type": "unsubscribed", "id": 9, "symbols": ["EURUSD"]}
    assert err["code"] == "not_entitled" and err["symbols"] == ["EURUSD"]
    assert set(s.subscriptions) == {w.table.ids["AUDUSD"]}
    # A failed refresh is an error, not a disconnect.
    assert s.receive('{"op":"auth","token":"bad","id":10}', now=2) is None
    assert drain(s)[0]["code"] == "auth_failed"


def test_timers_auth_deadline_warning_and_expiry() -> None:
    w = World()
    waiting = session(w, Access(login=logins(), now=0, wall=WALL, auth_timeout_s=5))
    assert waiting.check(4.9) is None
    close = waiting.check(5.0)
    assert close is not None and (close.code, close.reason) == (1008, "auth_timeout")
    assert "no auth message within 5 s" in close.message

    s = session(w, Access(login=logins(), identity=EUR_ONLY, now=0, wall=WALL, warn_before_s=60))
    assert s.check(39.0) is None
    assert s.check(40.0) is None
    (warning,) = drain(s)
    assert warning["type"] == "warning" and warning["code"] == "token_expiring"
    assert warning["expires_at"] == WALL_US + 100_000_000 and '"op":"auth"' in warning["message"]
    close = s.check(100.0)
    assert close == Close(1008, "token expired", "token_expired")


def test_rate_limit_refuses_then_closes_and_counts_binary_frames_too() -> None:
    w = World()
    s = session(w, rate=InboundRate(rate=10, burst=3, close_after=3, now=0))
    results = [s.receive('{"op":"ping"}', now=0) for _ in range(3)]
    results.append(s.receive_binary(now=0))
    results.append(s.receive('{"op":"ping"}', now=0))
    results.append(s.receive("not even json", now=0))
    assert results[:5] == [None] * 5
    close = results[5]
    assert close is not None and (close.code, close.reason) == (1008, "rate_limited")
    msgs = drain(s)
    assert [m["type"] for m in msgs] == ["pong"] * 3 + ["error"] * 3
    assert {m["code"] for m in msgs[3:]} == {"rate_limited"}  # refused frames are not even parsed
    assert "limit 10/s, bursts of 3" in msgs[3]["message"]
    assert w.stats.errors["rate_limited"] == 3 and "bad_json" not in w.stats.errors
    s.close()
    assert s.receive('{"op":"ping"}', now=10) is None and drain(s) == []


def test_auth_message_when_auth_is_off_is_a_harmless_error() -> None:
    s = session(World())
    assert s.receive('{"op":"auth","token":"x","id":1}', now=0) is None
    (err,) = drain(s)
    assert err["code"] == "auth_failed" and "not enabled" in err["message"]
