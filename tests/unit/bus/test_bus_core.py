"""The bus's pure core, no Redis: table mirroring, codec, outbound buffer, mirror rules.

A "publisher world" (the feed process's table with the Outbound tap) and a
"gateway world" (a mirrored table) each have a subscribed client session;
entries built from what the publisher's tap collected go into the gateway's
Mirror, and the two clients must receive the same messages.
"""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from feeds.sink import FeedSink
from ticker.bus.codec import (
    FIELD,
    BusFormatError,
    Entry,
    FeedKeys,
    decode_entry,
    encode_entry,
    encode_states,
    stream_id,
    unpack_row,
)
from ticker.bus.mirror import EntryOutcome, FeedLink, Mirror
from ticker.bus.outbound import Outbound
from ticker.bus.stats import BusStats
from ticker.core.batch import TickBatch
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.ingest import Ingest
from ticker.core.model import Instrument, QuoteState, Status
from ticker.core.outbox import Outbox
from ticker.core.stats import FanoutStats, FeedStats
from ticker.core.table import ASK, BID, NOT_NEWER, SEQ, STATUS, Reject, SymbolTable
from ticker.protocol.session import Session

NAN = math.nan
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY")
WALL_NS = 1_800_000_000_000_000_000


def instruments() -> list[Instrument]:
    return [Instrument(s, 3 if s.endswith("JPY") else 5, 0.0001) for s in SYMBOLS]


class World:
    """A table, its ingest path and one client session subscribed to every symbol."""

    def __init__(self) -> None:
        self.table = SymbolTable(instruments())
        self.hub = Hub(len(self.table))
        self.encoder = QuoteEncoder(self.table)
        self.stats = FanoutStats()
        self.ingest = Ingest(self.table, self.hub, self.encoder, wall_ns=lambda: WALL_NS)
        self.feed = FeedStats("fx")
        self.box = Outbox(self.encoder.update, self.stats, high_water=1_000_000, max_frame_bytes=1 << 30)
        self.session = Session(
            self.table, self.hub, self.encoder, self.box, self.stats, max_symbols=10, wall_clock=lambda: 0
        )
        self.session.receive(orjson.dumps({"op": "subscribe", "symbols": list(SYMBOLS)}), 0.0)
        self.take()  # ack and pending snapshots

    def take(self) -> list[dict[str, object]]:
        frame = self.box.take_frame()
        if frame is None:
            return []
        obj = orjson.loads(frame)
        return obj if isinstance(obj, list) else [obj]


class Publisher(World):
    def __init__(self) -> None:
        super().__init__()
        self.outbound = Outbound(self.table, [0] * len(self.table), 1)
        self.outbound.resume()
        self.ingest.tap = self.outbound
        self.sink = FeedSink(self.ingest, self.feed)
        self.epoch = "e1"
        self.new_sequence("s1")
        self.n = 0
        self.ts = 1_000_000

    def new_sequence(self, name: str) -> None:
        """The sequence epoch its entries (and its own snapshots) name."""
        self.sequence = name
        self.table.epoch[:] = [name] * len(self.table)

    def ticks(self, rng: np.random.Generator, count: int) -> None:
        sid = rng.integers(0, len(SYMBOLS), count).astype(np.int32)
        base = np.array([1.1, 1.3, 150.0])[sid]
        bid = base + rng.integers(0, 3, count) * 0.001
        ask = bid + 0.002
        size = np.where(rng.random(count) < 0.3, rng.choice([1e6, 2e6], count), NAN)
        ts = self.ts + np.arange(count, dtype=np.int64)
        self.ts += count
        self.sink.publish(TickBatch(sid, bid, ask, size, np.full(count, NAN), ts))

    def entry(self, full: bool = False) -> dict[bytes, bytes]:
        self.n += 1
        rows = self.outbound.full_rows(0) if full else self.outbound.take()[0]
        return {FIELD: encode_entry(self.epoch, self.n, full, 0, rows, self.sequence)}

    def states(self) -> list[bytes]:
        return list(encode_states(self.outbound.full_rows(0)).values())


class Gateway(World):
    def __init__(self) -> None:
        super().__init__()
        self.bus = BusStats("gateway")
        self.link = FeedLink(FeedKeys.of("p", "fx"), list(range(len(SYMBOLS))), self.feed)
        self.mirror = Mirror(self.ingest, [self.link], self.bus, wall_us=lambda: WALL_NS // 1000)
        self.n_ids = 0

    def entry(self, fields: dict[bytes, bytes], now: float = 1.0) -> EntryOutcome:
        self.n_ids += 1
        return self.mirror.entry(self.link, f"{self.n_ids}-0".encode(), fields, now)


def quote(world: World, sid: int) -> tuple[object, ...]:
    t = world.table
    return (
        int(t.seq[sid]), float(t.bid[sid]), float(t.ask[sid]), float(t.bid_size[sid]),
        float(t.ask_size[sid]), int(t.ts[sid]), int(t.status[sid]),
    )  # fmt: skip


def same_state(a: World, b: World) -> bool:
    return all(repr(quote(a, sid)) == repr(quote(b, sid)) for sid in range(len(SYMBOLS)))


# ---------------------------------------------------------------- table


@pytest.fixture
def table() -> SymbolTable:
    return SymbolTable(instruments())


def test_apply_mirrored_takes_the_publishers_seq_and_reports_changes_against_its_own_state(
    table: SymbolTable,
) -> None:
    live = int(Status.LIVE)
    mask = table.apply_mirrored(0, QuoteState(7, 1.1, 1.2, 1e6, NAN, 10, live), now=1.0)
    assert mask & (SEQ | BID | ASK | STATUS) == SEQ | BID | ASK | STATUS
    assert (table.seq[0], table.status[0], table.ts[0]) == (7, Status.LIVE, 10)
    # seq 8..11 missed: the change is relative to what this table holds
    assert table.apply_mirrored(0, QuoteState(12, 1.1, 1.3, 1e6, NAN, 20, live), now=2.0) == SEQ | ASK
    assert table.seq[0] == 12


def test_apply_mirrored_never_goes_back_and_ignores_replays(table: SymbolTable) -> None:
    live, stale = int(Status.LIVE), int(Status.STALE)
    table.apply_mirrored(0, QuoteState(5, 1.1, 1.2, NAN, NAN, 10, live), now=1.0)
    assert table.apply_mirrored(0, QuoteState(4, 1.0, 1.05, NAN, NAN, 9, live), now=2.0) == NOT_NEWER
    assert table.apply_mirrored(0, QuoteState(5, 1.1, 1.2, NAN, NAN, 10, live), now=2.0) == NOT_NEWER
    assert (table.seq[0], table.bid[0]) == (5, 1.1)
    assert table.apply_mirrored(0, QuoteState(5, 1.1, 1.2, NAN, NAN, 10, stale), now=2.0) == STATUS
    assert table.status[0] == Status.STALE
    assert table.apply_mirrored(9, QuoteState(5, 1.1, 1.2, NAN, NAN, 10, live), now=2.0) == Reject.UNKNOWN_SYMBOL


# ---------------------------------------------------------------- codec


def test_entry_round_trip_keeps_nan_as_not_provided() -> None:
    raw = encode_entry("abc", 3, False, 99, [["EURUSD", 1, 1.1, 1.2, NAN, 5.0, 7, 1]])
    entry = decode_entry({FIELD: raw})
    assert entry == Entry("abc", 3, False, 99, [["EURUSD", 1, 1.1, 1.2, None, 5.0, 7, 1]])
    sym, (seq, bid, ask, bsz, asz, ts, status) = unpack_row(entry.rows[0])
    assert (sym, seq, bid, ask, asz, ts, status) == ("EURUSD", 1, 1.1, 1.2, 5.0, 7, 1)
    assert math.isnan(bsz)
    assert stream_id(b"1700-3") > stream_id(b"1699-9") > stream_id(b"0-0")


@pytest.mark.parametrize(
    "fields",
    [{}, {FIELD: b"not json"}, {FIELD: b"[]"}, {FIELD: b'{"e":"x","n":0,"f":false,"w":1,"r":[]}'},
     {FIELD: b'{"e":1,"n":1,"f":false,"w":1,"r":[]}'}],
)  # fmt: skip
def test_malformed_entries_raise_bus_format_error(fields: dict[bytes, bytes]) -> None:
    with pytest.raises(BusFormatError):
        decode_entry(fields)


@pytest.mark.parametrize(
    "row",
    [["EURUSD", 1, 1.1], ["EURUSD", "1", 1.1, 1.2, None, None, 7, 1], ["EURUSD", 1, "1.1", 1.2, None, None, 7, 1],
     ["EURUSD", 1, 1.1, 1.2, None, None, 7, 9], [1, 1, 1.1, 1.2, None, None, 7, 1]],
)  # fmt: skip
def test_malformed_rows_are_refused(row: list[object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        unpack_row(row)


# ---------------------------------------------------------------- outbound


def test_outbound_copies_every_tick_notifies_once_and_drops_while_paused() -> None:
    pub = Publisher()
    calls: list[int] = []
    pub.outbound.notify = lambda: calls.append(1)
    pub.ticks(np.random.default_rng(1), 5)
    rows = pub.outbound.take()[0]
    assert len(rows) == 5 and len(calls) == 1
    assert [r[1] for r in rows if r[0] == rows[-1][0]][-1] == int(pub.table.seq[pub.table.ids[rows[-1][0]]])
    pub.outbound.pause()
    pub.ticks(np.random.default_rng(2), 4)
    assert not pub.outbound.has_pending() and pub.outbound.dropped == 4
    assert {r[0] for r in pub.outbound.full_rows(0)} <= set(SYMBOLS)


# ---------------------------------------------------------------- mirror


def test_gateway_client_receives_exactly_what_a_publisher_client_receives() -> None:
    rng = np.random.default_rng(7)
    pub, gw = Publisher(), Gateway()
    assert gw.entry(pub.entry(full=True)) is EntryOutcome.APPLIED
    # the client subscribed before the first sync learns the publisher's sequence epoch
    assert {(m["type"], m["epoch"]) for m in gw.take()} == {("snapshot", "s1")}
    sent: list[dict[str, object]] = []
    got: list[dict[str, object]] = []
    for _ in range(50):
        pub.ticks(rng, int(rng.integers(0, 6)))
        sent += pub.take()
        assert gw.entry(pub.entry()) is EntryOutcome.APPLIED
        got += gw.take()
    assert len(sent) > 100
    assert got == sent
    assert same_state(pub, gw)
    assert gw.feed.ingested == pub.feed.ingested


def test_gap_asks_for_resync_which_lands_on_the_publishers_state_without_going_back() -> None:
    rng = np.random.default_rng(3)
    pub, gw = Publisher(), Gateway()
    gw.entry(pub.entry(full=True))
    pub.ticks(rng, 20)
    gw.entry(pub.entry())
    before = {m["symbol"]: m["seq"] for m in gw.take() if m["type"] == "update"}
    pub.ticks(rng, 30)
    pub.entry()  # this entry never reaches the gateway
    pub.ticks(rng, 5)
    assert gw.entry(pub.entry()) is EntryOutcome.RESYNC
    assert gw.link.resync_reason == "gap"
    gw.mirror.resync(gw.link, pub.epoch, pub.n, b"99-0", pub.states(), 2.0, pub.sequence)
    assert same_state(pub, gw)
    assert gw.bus.resyncs["gap"] == 1
    for m in gw.take():
        assert m["seq"] > before.get(m["symbol"], 0)  # type: ignore[operator]
    # and it carries on from there
    pub.ticks(rng, 10)
    assert gw.entry(pub.entry()) is EntryOutcome.APPLIED
    assert same_state(pub, gw)


def test_entries_from_another_publisher_need_a_resync_but_full_entries_are_taken_as_they_come() -> None:
    pub, gw = Publisher(), Gateway()
    assert gw.entry(pub.entry()) is EntryOutcome.IGNORED  # no baseline yet: wait for a full entry
    gw.entry(pub.entry(full=True))
    pub.epoch = "e2"
    assert gw.entry(pub.entry()) is EntryOutcome.RESYNC
    assert gw.link.resync_reason == "new_publisher"
    assert gw.entry(pub.entry(full=True)) is EntryOutcome.APPLIED
    old = pub.entry()
    assert gw.entry(old) is EntryOutcome.APPLIED
    assert gw.entry(old) is EntryOutcome.IGNORED  # a replay


def test_link_down_shows_stale_and_the_next_entry_brings_live_back_before_updates() -> None:
    rng = np.random.default_rng(5)
    pub, gw = Publisher(), Gateway()
    pub.ticks(rng, 30)
    gw.entry(pub.entry(full=True))
    gw.take()
    gw.mirror.link_down(2.0)
    stale = gw.take()
    assert {(m["type"], m["status"]) for m in stale} == {("status", "stale")}
    assert {m["symbol"] for m in stale} == set(SYMBOLS)
    assert not gw.mirror.in_sync
    pub.ticks(rng, 3)
    gw.entry(pub.entry())
    msgs = gw.take()
    lives = [i for i, m in enumerate(msgs) if m["type"] == "status"]
    assert [msgs[i]["status"] for i in lives] == ["live"] * len(SYMBOLS)
    assert max(lives) < min(i for i, m in enumerate(msgs) if m["type"] == "update")
    assert gw.mirror.in_sync


def test_a_silent_publisher_turns_symbols_stale_and_its_heartbeat_revives_them() -> None:
    rng = np.random.default_rng(6)
    pub, gw = Publisher(), Gateway()
    pub.ticks(rng, 30)
    gw.entry(pub.entry(full=True), now=1.0)
    gw.take()
    gw.mirror.check_silence(3.5, silence_s=3.0)
    assert gw.take() == []
    gw.mirror.check_silence(4.5, silence_s=3.0)
    assert {m["status"] for m in gw.take()} == {"stale"}
    assert gw.entry(pub.entry(), now=5.0) is EntryOutcome.APPLIED  # an empty heartbeat entry
    assert {m["status"] for m in gw.take()} == {"live"}


def test_resync_on_an_empty_redis_keeps_the_state_until_the_publishers_full_entry() -> None:
    rng = np.random.default_rng(8)
    pub, gw = Publisher(), Gateway()
    pub.ticks(rng, 30)
    gw.entry(pub.entry(full=True))
    gw.mirror.link_down(2.0)
    gw.take()
    gw.mirror.resync(gw.link, None, 0, b"0-0", [], 3.0)
    assert gw.take() == [] and not gw.mirror.in_sync
    pub.ticks(rng, 5)
    assert gw.entry(pub.entry(full=True)) is EntryOutcome.APPLIED
    assert same_state(pub, gw) and gw.mirror.in_sync


def test_garbage_on_the_bus_is_counted_and_never_crashes() -> None:
    rng = np.random.default_rng(9)
    pub, gw = Publisher(), Gateway()
    gw.entry(pub.entry(full=True))
    assert gw.entry({FIELD: b"\xff garbage"}) is EntryOutcome.RESYNC
    assert gw.bus.bad_entries == 1 and gw.link.resync_reason == "bad_entry"
    gw.mirror.resync(gw.link, pub.epoch, pub.n, b"5-0", [*pub.states(), b"{oops", b"[1,2]"], 2.0, pub.sequence)
    pub.ticks(rng, 4)
    rows = pub.outbound.take()[0]
    pub.n += 1
    junk = [["EURUSD", "x"], ["XXXYYY", 1, 1.0, 1.1, None, None, 1, 1], *rows]
    assert gw.entry({FIELD: encode_entry(pub.epoch, pub.n, False, 0, junk, pub.sequence)}) is EntryOutcome.APPLIED
    assert gw.bus.bad_rows == 3 and gw.bus.unknown_symbols == {"XXXYYY"}
    assert same_state(pub, gw)


def test_a_publisher_that_lost_its_sequence_is_adopted_with_fresh_snapshots() -> None:
    rng = np.random.default_rng(11)
    old, gw = Publisher(), Gateway()
    gw.entry(old.entry(full=True))
    old.ticks(rng, 60)
    gw.entry(old.entry())
    gw.take()
    # Redis lost its data and the feed process restarted: its sequence starts over.
    new = Publisher()
    new.epoch = "e2"
    new.new_sequence("s2")
    new.ts = old.ts  # source time goes on
    new.ticks(rng, 6)
    assert gw.entry(new.entry(full=True)) is EntryOutcome.APPLIED
    msgs = gw.take()
    snaps = [m for m in msgs if m["type"] == "snapshot"]
    assert {m["symbol"] for m in snaps} == set(SYMBOLS)  # ticked again or not: all re-based
    assert not [m for m in msgs if m["type"] == "update"]
    for s in snaps:
        assert s == orjson.loads(new.encoder.snapshot(new.table.ids[s["symbol"]]))  # type: ignore[index]
    assert gw.bus.resets == len(snaps)
    new.ticks(rng, 10)
    assert gw.entry(new.entry()) is EntryOutcome.APPLIED
    assert {m["type"] for m in gw.take()} <= {"update", "status"}
    assert same_state(new, gw)


# ---------------------------------------------------------------- sequence epochs and the resume ring


def with_ring(gw: Gateway) -> Gateway:
    from ticker.core.ring import UpdateRing

    gw.ingest.ring = UpdateRing(len(gw.table), max_updates=1000, max_age_s=1e9)
    return gw


def test_a_gateway_that_replays_the_stream_holds_the_same_ring_as_one_that_followed_it_live() -> None:
    rng = np.random.default_rng(21)
    pub, live = Publisher(), with_ring(Gateway())
    stream = [pub.entry(full=True)]
    live.entry(stream[0])
    for _ in range(30):
        pub.ticks(rng, int(rng.integers(0, 6)))
        stream.append(pub.entry())
        live.entry(stream[-1])
    late = with_ring(Gateway())
    late.mirror.prefill(late.link, [(f"{i}-0".encode(), e) for i, e in enumerate(stream[10:])], 1.0)
    late.mirror.resync(late.link, pub.epoch, pub.n, b"40-0", pub.states(), 1.0, pub.sequence)
    assert same_state(pub, late) and late.link.prefilled
    assert late.feed.ingested == 0  # replaying history is not ingesting ticks
    ring_live, ring_late = live.ingest.ring, late.ingest.ring
    assert ring_live is not None and ring_late is not None
    for sid in range(len(SYMBOLS)):
        floor = ring_late.floor(sid)
        assert ring_late.after(sid, floor) == ring_live.after(sid, floor)  # byte for byte
        assert late.table.epoch[sid] == live.table.epoch[sid] == "s1"
    assert sum(ring_late.held(s) for s in range(len(SYMBOLS))) > 20


def test_a_new_sequence_epoch_is_adopted_with_snapshots_even_when_seq_goes_on() -> None:
    rng = np.random.default_rng(22)
    pub, gw = Publisher(), with_ring(Gateway())
    pub.ticks(rng, 20)
    gw.entry(pub.entry(full=True))
    gw.take()
    # Redis came back from an old snapshot and the feed process restarted: same numbers,
    # no proof they continue what clients saw, so a new sequence epoch.
    pub.epoch = "e2"
    pub.new_sequence("s2")
    pub.ticks(rng, 3)
    assert gw.entry(pub.entry(full=True)) is EntryOutcome.APPLIED
    msgs = gw.take()
    assert {(m["type"], m["epoch"]) for m in msgs} == {("snapshot", "s2")}
    assert {m["symbol"] for m in msgs} == set(SYMBOLS)  # the never-ticked too
    assert gw.table.epoch == ["s2"] * len(SYMBOLS) and same_state(pub, gw)
    ring = gw.ingest.ring
    assert ring is not None and all(ring.held(s) == 0 for s in range(len(SYMBOLS)))  # history of s1 is gone
    pub.ticks(rng, 5)
    gw.entry(pub.entry())
    assert {m["type"] for m in gw.take()} <= {"update", "status"}


def test_a_feed_process_keeps_the_stored_sequence_epoch_only_for_the_same_redis() -> None:
    from ticker.bus.publisher import BusPublisher

    pub = Publisher()
    bp = BusPublisher(
        "redis://127.0.0.1:1/0", "p", ["fx"], pub.outbound, pub.table, BusStats("feed"),
        maxlen=100, clock=lambda: 0.0, wall_us=lambda: 0,
    )  # fmt: skip
    bp._run_id = "redis-a"
    bp._adopt_sequence(0, True, b"s1", b"redis-a")
    assert bp.seq_epochs == ["s1"] and pub.table.epoch == ["s1"] * len(SYMBOLS)
    for restored, stored, run_id in ((True, b"s1", b"redis-b"), (False, b"s1", b"redis-a"), (True, None, None)):
        bp._adopt_sequence(0, restored, stored, run_id)
        assert bp.seq_epochs[0] not in ("s1", bp.epoch) and set(pub.table.epoch) == {bp.seq_epochs[0]}
    raw = encode_entry("e", 1, True, 0, [], "s9")
    assert decode_entry({FIELD: raw}).sequence == "s9"
    assert decode_entry({FIELD: encode_entry("e", 1, True, 0, [])}).sequence == "e"  # an older publisher
    with pytest.raises(BusFormatError):
        decode_entry({FIELD: orjson.dumps({"e": "e", "n": 1, "f": True, "w": 0, "r": [], "s": 5})})
