"""Patterns, groups and delayed grants: what a subscribe means, through a real session."""

from __future__ import annotations

import pytest

from tests.support.session_world import drain
from ticker.core.delay import DelayLines
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.model import Instrument
from ticker.core.outbox import Outbox
from ticker.core.stats import FanoutStats
from ticker.core.table import SymbolTable
from ticker.core.usage import ConnectionUsage, UsageLedger
from ticker.protocol.catalog import MAX_PATTERNS, Catalog
from ticker.protocol.session import Session
from ticker.security.access import Access
from ticker.security.entitlements import EVERYTHING, entitlements
from ticker.security.tokens import Identity, TokenError
from ticker.util.errors import FieldError

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "EURJPY", "XAUUSD", "XAGUSD", "XAUEUR")
GROUPS = {"majors": ("EURUSD", "GBPUSD", "USDJPY"), "metals": ("XA?USD",)}
WALL_US = 1_800_000_000_000_000
#: Real time: EUR*; delayed 900 s: XAU*, and USDJPY at 60 s.
RETAIL = entitlements(("EUR*",), (("XAU*", 900), ("USDJPY", 60)))


class World:
    def __init__(self, max_symbols: int = 10) -> None:
        self.table = SymbolTable([Instrument(s, 5, 0.0001) for s in SYMBOLS])
        self.hub = Hub(len(self.table))
        self.encoder = QuoteEncoder(self.table)
        self.delayed = DelayLines(self.table, self.hub, self.encoder, (60, 900))
        self.catalog = Catalog(self.table, self.encoder, GROUPS, self.delayed)
        self.stats = FanoutStats()
        self.max_symbols = max_symbols
        self.wall = WALL_US
        self.ledger = UsageLedger(self.hub.counters, wall=lambda: self.wall)

    def hid(self, symbol: str, delay: int = 0) -> int:
        return self.delayed.hub_id(self.table.ids[symbol], delay)

    def session(self, identity: Identity, refresh: list[Identity] | None = None) -> Session:
        queue = list(refresh or [])

        def login(token: str, wall: float) -> Identity:
            if not queue:
                raise TokenError("no")
            return queue.pop(0)

        access = Access(login=login, identity=identity, now=0, wall=WALL_US / 1e6 - 1)
        box = Outbox(self.delayed.encode_update, self.stats)
        usage = ConnectionUsage(
            self.ledger, "c1", "10.0.0.1", lambda: access.identity.name,
            lambda h: (self.catalog.name(h), self.catalog.delay(h)),
        )  # fmt: skip
        return Session(
            self.table, self.hub, self.encoder, box, self.stats, max_symbols=self.max_symbols,
            access=access, wall_clock=lambda: self.wall, catalog=self.catalog, usage=usage,
        )  # fmt: skip


def names(world: World, hids: list[int]) -> list[tuple[str, int]]:
    return [(world.catalog.name(h), world.catalog.delay(h)) for h in hids]


# ------------------------------------------------------------------ expansion


def test_patterns_and_groups_expand_in_order_without_repeats() -> None:
    w = World()
    sel = w.catalog.select(["@majors", "*JPY", "EURUSD", "XA?USD"], EVERYTHING)
    assert names(w, sel.ids) == [
        ("EURUSD", 0), ("GBPUSD", 0), ("USDJPY", 0), ("EURJPY", 0), ("XAUUSD", 0), ("XAGUSD", 0),
    ]  # fmt: skip
    assert sel.unknown == [] and sel.denied == []


def test_mixed_real_time_and_delayed_entitlements_pick_each_symbol_s_stream() -> None:
    w = World()
    sel = w.catalog.select(["EUR*", "@majors", "XAU*", "@metals"], RETAIL)
    assert names(w, sel.ids) == [
        ("EURUSD", 0), ("EURJPY", 0), ("USDJPY", 60), ("XAUUSD", 900), ("XAUEUR", 900),
    ]  # fmt: skip
    # GBPUSD (in majors) and XAGUSD (in metals) are silently left out of the group and
    # the pattern: they only ever yield what the identity may see.
    assert sel.denied == [] and sel.unknown == []


def test_plain_names_not_entitled_are_denied_patterns_that_yield_nothing_are_unknown() -> None:
    w = World()
    sel = w.catalog.select(["GBPUSD", "XAUUSD", "GBP*", "NOPE*", "@nogroup", "XXXYYY"], RETAIL)
    assert names(w, sel.ids) == [("XAUUSD", 900)]
    assert sel.denied == ["GBPUSD"]
    assert sel.unknown == ["NOPE*", "@nogroup", "XXXYYY", "GBP*"]


def test_too_many_patterns_in_one_request() -> None:
    w = World()
    with pytest.raises(ValueError, match=f"at most {MAX_PATTERNS} patterns"):
        w.catalog.select([f"X{i}*" for i in range(MAX_PATTERNS + 1)], EVERYTHING)


def test_a_group_naming_an_unknown_symbol_is_a_config_error() -> None:
    w = World()
    with pytest.raises(FieldError) as info:
        Catalog(w.table, w.encoder, {"fx": ("EURUSD", "EURUSX")})
    assert info.value.field == "groups.fx" and "[1] 'EURUSX' is not a symbol" in info.value.reason
    with pytest.raises(FieldError, match="matches no symbol"):
        Catalog(w.table, w.encoder, {"fx": ("ZZ*",)})


def test_a_delay_without_a_line_is_not_served() -> None:
    w = World()
    assert w.catalog.hub_id(0, 1800) is None  # only 60 and 900 are offered
    assert Catalog(w.table, w.encoder).hub_id(0, 900) is None


# ------------------------------------------------------------------ through a session


def test_subscribe_acks_what_was_subscribed_with_the_delayed_ones_marked() -> None:
    w = World()
    s = w.session(Identity("key:retail", RETAIL))
    s.receive('{"op":"subscribe","symbols":["EURUSD","@metals","USDJPY"],"id":1}', now=0)
    msgs = drain(s)
    assert msgs[0] == {
        "type": "subscribed", "id": 1, "symbols": ["EURUSD", "XAUUSD", "USDJPY"],
        "delayed": {"XAUUSD": 900, "USDJPY": 60},
    }  # fmt: skip
    snaps = {m["symbol"]: m for m in msgs[1:]}
    assert "delayed" not in snaps["EURUSD"]
    assert snaps["XAUUSD"]["delayed"] == 900 and snaps["USDJPY"]["delayed"] == 60
    assert set(s.subscriptions) == {w.hid("EURUSD"), w.hid("XAUUSD", 900), w.hid("USDJPY", 60)}


def test_a_delayed_subscriber_never_gets_the_real_time_update() -> None:
    w = World()
    s = w.session(Identity("key:retail", RETAIL))
    s.receive('{"op":"subscribe","symbols":["XAUUSD"]}', now=0)
    drain(s)
    sid = w.table.ids["XAUUSD"]
    w.table.apply(sid, 2000.0, 2000.5, 1.0, 1.0, WALL_US, 0.0)
    w.hub.publish_update(sid, 3, w.encoder.update(sid, 3), 0.0)  # the real-time fan-out
    assert drain(s) == []
    w.delayed.tick(WALL_US, 0.0)
    w.delayed.tick(WALL_US + 900_000_000, 0.0)
    (status, update) = drain(s)
    assert update["bid"] == 2000.0 and update["delayed"] == 900 and status["delayed"] == 900


def test_errors_for_unknown_and_not_entitled_name_no_price() -> None:
    w = World()
    s = w.session(Identity("key:retail", RETAIL))
    s.receive('{"op":"subscribe","symbols":["GBPUSD","NOPE*"],"id":2}', now=0)
    msgs = drain(s)
    assert [m["code"] for m in msgs] == ["unknown_symbol", "not_entitled"]
    assert "patterns and groups matching none you may see: NOPE*" in msgs[0]["message"]
    assert all(set(m) <= {"type", "id", "code", "message", "field", "symbols"} for m in msgs)


def test_the_limit_counts_what_patterns_expand_to() -> None:
    w = World(max_symbols=3)
    s = w.session(Identity("key:all", EVERYTHING))
    s.receive('{"op":"subscribe","symbols":["*USD"],"id":3}', now=0)
    (err,) = drain(s)
    assert err["code"] == "too_many_symbols" and not s.subscriptions


def test_unsubscribe_by_pattern_and_group_drops_the_streams_held() -> None:
    w = World()
    s = w.session(Identity("key:retail", RETAIL))
    s.receive('{"op":"subscribe","symbols":["EUR*","XAU*"]}', now=0)
    drain(s)
    s.receive('{"op":"unsubscribe","symbols":["XAU*"],"id":4}', now=0)
    assert drain(s) == [{"type": "unsubscribed", "id": 4, "symbols": ["XAUUSD", "XAUEUR"]}]
    assert set(s.subscriptions) == {w.hid("EURUSD"), w.hid("EURJPY")}
    assert not w.hub.subscribers[w.hid("XAUUSD", 900)]
    s.receive('{"op":"unsubscribe","symbols":["EURUSD","NOPE*"],"id":5}', now=0)
    msgs = drain(s)
    assert msgs[0]["symbols"] == ["EURUSD"] and msgs[1]["code"] == "unknown_symbol"


def test_a_refreshed_token_moves_subscriptions_to_the_stream_it_now_grants() -> None:
    w = World()
    upgraded = Identity("key:retail", entitlements(("EUR*", "XAU*")))  # XAU* now real time
    downgraded = Identity("key:retail", entitlements((), (("EUR*", 900),)))
    s = w.session(Identity("key:retail", RETAIL), refresh=[upgraded, downgraded])
    s.receive('{"op":"subscribe","symbols":["EURUSD","XAUUSD","USDJPY"],"throttle_ms":250}', now=0)
    drain(s)
    s.receive('{"op":"auth","token":"t","id":6}', now=0)
    msgs = drain(s)
    assert msgs[0]["type"] == "authenticated"
    assert msgs[1] == {"type": "unsubscribed", "id": 6, "symbols": ["USDJPY"]}
    assert msgs[2]["code"] == "not_entitled"
    assert msgs[3] == {"type": "subscribed", "id": 6, "symbols": ["XAUUSD"], "throttle_ms": 250}
    assert msgs[4]["type"] == "snapshot" and "delayed" not in msgs[4]
    assert set(s.subscriptions) == {w.hid("EURUSD"), w.hid("XAUUSD")}
    s.receive('{"op":"auth","token":"t","id":7}', now=0)
    msgs = drain(s)
    assert [m["type"] for m in msgs] == ["authenticated", "unsubscribed", "error", "subscribed", "snapshot"]
    assert msgs[3]["delayed"] == {"EURUSD": 900} and msgs[4]["delayed"] == 900
    assert set(s.subscriptions) == {w.hid("EURUSD", 900)}
    assert not w.hub.subscribers[w.hid("EURUSD")]


def test_every_subscription_is_a_usage_interval() -> None:
    w = World()
    s = w.session(Identity("key:retail", RETAIL))
    s.receive('{"op":"subscribe","symbols":["EURUSD","XAUUSD"]}', now=0)
    drain(s)
    sid = w.table.ids["EURUSD"]
    for i in range(3):
        w.table.apply(sid, 1.1 + i / 1000, 1.2, 1.0, 1.0, WALL_US + i, 0.0)
        w.hub.publish_update(sid, 3, w.encoder.update(sid, 3), 0.0)
    w.wall += 60_000_000
    s.receive('{"op":"unsubscribe","symbols":["EURUSD"]}', now=0)
    w.wall += 60_000_000
    s.close()
    import orjson

    records = [orjson.loads(line) for line in w.ledger.take()]
    eur, xau = records
    assert (eur["symbol"], eur["delay_s"], eur["reason"], eur["updates"]) == ("EURUSD", 0, "unsubscribed", 3)
    assert eur["end"] - eur["start"] == 60_000_000 and eur["identity"] == "key:retail" and eur["snapshots"] == 1
    assert eur["bytes"] > 3 * 40
    assert (xau["symbol"], xau["delay_s"], xau["reason"]) == ("XAUUSD", 900, "closed")
    assert xau["end"] - xau["start"] == 120_000_000 and xau["ip"] == "10.0.0.1"
