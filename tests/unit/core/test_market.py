"""The trading day in the data path, objects in and messages out: statuses that follow
the calendar, daily statistics on updates and day messages, derived crosses applied
like ticks, and a gateway's copy that sends the same bytes."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from ticker.core.calendar import FX, METALS, Calendar, to_us
from ticker.core.crosses import CrossEngine, parse_cross
from ticker.core.daystats import DailyStats
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.ingest import Ingest
from ticker.core.market import LiveMarket, MirroredMarket
from ticker.core.markettime import ReplayTime
from ticker.core.model import Instrument, Status
from ticker.core.outbox import Outbox
from ticker.core.stats import FanoutStats, FeedStats
from ticker.core.table import SymbolTable

NY = ZoneInfo("America/New_York")
NAN = math.nan


def ny(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
    return to_us(datetime(y, m, d, h, mi, s, tzinfo=NY))


# Friday 2024-03-08 in New York (EST); the market closes at 17:00 = 22:00 UTC and
# opens Sunday 2024-03-10 17:00 EDT = 21:00 UTC (the clocks changed that morning).
FRI_1659 = ny(2024, 3, 8, 16, 59)
FRI_CLOSE = ny(2024, 3, 8, 17)
SUN_OPEN = ny(2024, 3, 10, 17)


class Clock:
    """A market time base the test sets by hand (speed 0: it is what the test says)."""

    def __init__(self, us: int) -> None:
        self.us = us
        self.listener: Any = None

    def now_us(self) -> int:
        return self.us

    def delay_s(self, at_us: int) -> float:
        return (at_us - self.us) / 1e6

    def listen(self, listener: Any) -> None:
        self.listener = listener


class World:
    """A table, the ingest path, a LiveMarket and one subscriber to everything."""

    def __init__(self, symbols: list[tuple[str, int]], crosses: list[str] = (), calendars: list[Calendar] | None = None, at: int = FRI_1659) -> None:  # type: ignore[assignment]
        self.table = SymbolTable([Instrument(s, d, 10.0 ** -(d - 1)) for s, d in symbols])
        self.hub = Hub(len(self.table))
        self.encoder = QuoteEncoder(self.table)
        self.ingest = Ingest(self.table, self.hub, self.encoder, clock=lambda: 1.0, wall_ns=lambda: 5_000)
        self.clock = Clock(at)
        cals = calendars or [Calendar(FX)] * len(self.table)
        engine = CrossEngine([parse_cross(c) for c in crosses], self.table.ids, self.table.decimals) if crosses else None
        self.market = LiveMarket(
            self.table, cals, [self.clock] * len(self.table), DailyStats(cals, self.table.decimals), engine
        )
        self.market.attach(self.ingest)
        self.feed = FeedStats("f")
        self.box = Outbox(self.encoder.update, FanoutStats(), high_water=10_000)
        for sid in range(len(self.table)):
            self.hub.add(sid, self.box)

    def tick(self, symbol: str, bid: float, ask: float, ts: int) -> bool:
        return self.ingest.apply_row(self.feed, (self.table.ids[symbol], bid, ask, NAN, NAN, ts))

    def at(self, us: int) -> float | None:
        self.clock.us = us
        return self.market.due(1.0)

    def sent(self) -> list[dict[str, Any]]:
        frame = self.box.take_frame()
        if frame is None:
            return []
        data = orjson.loads(frame)
        return data if isinstance(data, list) else [data]

    def status(self, symbol: str) -> Status:
        return Status(int(self.table.status[self.table.ids[symbol]]))


def test_the_calendar_closes_friday_1700_and_opens_sunday_1700_with_the_next_times() -> None:
    w = World([("EURUSD", 5), ("USDJPY", 3)])
    assert w.at(FRI_1659) == pytest.approx(60.0)  # the timer's next call: the close
    w.tick("EURUSD", 1.09, 1.0902, FRI_1659)
    w.sent()
    assert w.at(FRI_CLOSE - 1) == pytest.approx(1e-6)
    assert w.sent() == []
    w.at(FRI_CLOSE)
    closed = w.sent()
    assert [(m["symbol"], m["status"], m["next_open"]) for m in closed] == [
        ("EURUSD", "closed", SUN_OPEN), ("USDJPY", "closed", SUN_OPEN),
    ]  # fmt: skip
    assert w.market.transitions == {("fx", "close"): 1}
    # A quote while closed is applied and sent, but the market stays closed.
    assert w.tick("EURUSD", 1.0905, 1.0907, ny(2024, 3, 9, 12))
    (upd,) = w.sent()
    assert upd["type"] == "update" and upd["bid"] == 1.0905 and "day" not in upd
    assert w.status("EURUSD") is Status.CLOSED
    # Sunday 17:00 (EDT since the morning): live with a price, pending without.
    w.at(SUN_OPEN)
    msgs = w.sent()
    statuses = [(m["symbol"], m["status"], m.get("next_close")) for m in msgs if m["type"] == "status"]
    assert statuses == [("EURUSD", "live", ny(2024, 3, 15, 17)), ("USDJPY", "pending", ny(2024, 3, 15, 17))]
    day = next(m for m in msgs if m["type"] == "day")
    assert day["day"]["date"] == "2024-03-11" and day["day"]["prev_close"] == 1.09 and day["ts"] == SUN_OPEN
    assert w.market.transitions == {("fx", "close"): 1, ("fx", "open"): 1}


def test_a_symbol_starts_closed_when_the_service_starts_over_a_weekend() -> None:
    w = World([("EURUSD", 5)], at=ny(2024, 3, 9, 12))
    w.at(ny(2024, 3, 9, 12))
    assert w.status("EURUSD") is Status.CLOSED
    snap = orjson.loads(w.encoder.snapshot(0))
    assert (snap["status"], snap["next_open"], snap["next_close"], snap["day"]) == (
        "closed", SUN_OPEN, ny(2024, 3, 15, 17), None,
    )  # fmt: skip


def test_daily_statistics_ride_on_updates_and_roll_with_a_day_message() -> None:
    w = World([("EURUSD", 5)], at=ny(2024, 3, 11, 9))
    w.at(ny(2024, 3, 11, 9))
    w.tick("EURUSD", 1.0900, 1.0902, ny(2024, 3, 11, 9))
    first = w.sent()
    # The symbol's first day: a day message (its statistics), live, then the update.
    assert [m["type"] for m in first] == ["day", "status", "update"] and "day" not in first[2]
    assert first[0]["day"] == {"date": "2024-03-11", "open": 1.09, "high": 1.09, "low": 1.09,
                               "prev_close": None, "change": None, "change_pct": None, "ticks": 1}  # fmt: skip
    assert w.market.groups[0].next_event == ny(2024, 3, 11, 17)  # the first day made a roll due
    w.tick("EURUSD", 1.0901, 1.0903, ny(2024, 3, 11, 10))
    w.tick("EURUSD", 1.0900, 1.0902, ny(2024, 3, 11, 11))
    w.tick("EURUSD", 1.0899, 1.0901, ny(2024, 3, 11, 12))
    assert [m.get("day") for m in w.sent()] == [{"high": 1.0901}, None, {"low": 1.0899}]
    # 17:00: Tuesday begins on the timer; then its first tick brings open, high and low.
    w.at(ny(2024, 3, 11, 17))
    (day,) = w.sent()
    assert day["day"]["date"] == "2024-03-12" and day["day"]["prev_close"] == 1.0899
    w.tick("EURUSD", 1.0950, 1.0952, ny(2024, 3, 11, 17, 1))
    (upd,) = w.sent()
    assert upd["day"] == {"open": 1.095, "high": 1.095, "low": 1.095}
    snap = orjson.loads(w.encoder.snapshot(0))
    assert snap["day"]["change"] == 0.0051 and snap["day"]["change_pct"] == 0.47 and snap["day"]["ticks"] == 1


def test_metals_close_for_their_daily_break_and_roll_at_its_start() -> None:
    w = World([("XAUUSD", 2)], calendars=[Calendar(METALS)], at=ny(2024, 3, 12, 16))
    w.at(ny(2024, 3, 12, 16))
    w.tick("XAUUSD", 2150.0, 2150.5, ny(2024, 3, 12, 16))
    w.sent()
    w.at(ny(2024, 3, 12, 17))
    kinds = [(m["type"], m.get("status")) for m in w.sent()]
    assert kinds == [("status", "closed"), ("day", None)]  # the break, and Wednesday's day
    w.at(ny(2024, 3, 12, 18))
    assert [(m["type"], m.get("status")) for m in w.sent()] == [("status", "live")]


def test_crosses_tick_with_their_own_seq_and_follow_their_legs_status() -> None:
    w = World([("EURUSD", 5), ("USDJPY", 3), ("GBPUSD", 5), ("EURJPY", 3), ("EURGBP", 5)],
              ["EURJPY = EURUSD * USDJPY", "EURGBP = EURUSD / GBPUSD"], at=ny(2024, 3, 12, 9))  # fmt: skip
    w.at(ny(2024, 3, 12, 9))
    assert w.market.legs == [True, True, True, False, False]
    w.tick("EURUSD", 1.08412, 1.08415, ny(2024, 3, 12, 9))
    w.tick("USDJPY", 155.203, 155.206, ny(2024, 3, 12, 9, 0, 1))
    w.tick("GBPUSD", 1.27100, 1.27105, ny(2024, 3, 12, 9, 0, 2))
    msgs = [m for m in w.sent() if m["type"] in ("update", "status")]
    crosses = [m for m in msgs if m["symbol"] in ("EURJPY", "EURGBP")]
    assert [(m["symbol"], m["type"], m.get("status")) for m in crosses] == [
        ("EURJPY", "status", "live"), ("EURJPY", "update", None),
        ("EURGBP", "status", "live"), ("EURGBP", "update", None),
    ]  # fmt: skip
    # docs/market-data.md's hand-computed example, each with its own seq 1.
    assert (crosses[1]["bid"], crosses[1]["ask"], crosses[1]["seq"]) == (168.259, 168.267, 1)
    assert (crosses[3]["bid"], crosses[3]["ask"], crosses[3]["seq"]) == (0.85293, 0.85299, 1)
    # The leg's update comes first, then the cross it moved.
    w.tick("EURUSD", 1.08420, 1.08423, ny(2024, 3, 12, 9, 0, 3))
    assert [m["symbol"] for m in w.sent() if m["type"] == "update"] == ["EURUSD", "EURJPY", "EURGBP"]
    assert w.market.computations == {3: 3, 4: 3} and w.market.cross_ticks == {3: 2, 4: 2}
    # A stale leg makes its crosses stale; the leg's next tick makes them live again.
    w.ingest.set_status(w.table.ids["USDJPY"], Status.STALE, 1.0)
    assert [(m["symbol"], m["status"]) for m in w.sent()] == [("USDJPY", "stale"), ("EURJPY", "stale")]
    w.tick("USDJPY", 155.210, 155.213, ny(2024, 3, 12, 9, 0, 4))
    got = [(m["symbol"], m["type"], m.get("status")) for m in w.sent()]
    assert got == [("USDJPY", "status", "live"), ("USDJPY", "update", None),
                   ("EURJPY", "status", "live"), ("EURJPY", "update", None)]  # fmt: skip
    # At the close every leg is closed, and so are the crosses, with the legs' next open.
    w.at(ny(2024, 3, 15, 17))
    closed = {m["symbol"]: m for m in w.sent() if m["type"] == "status"}
    assert {s: m["status"] for s, m in closed.items()} == dict.fromkeys(
        ["EURUSD", "USDJPY", "GBPUSD", "EURJPY", "EURGBP"], "closed"
    )
    assert closed["EURJPY"]["next_open"] == ny(2024, 3, 17, 17)
    assert w.market.describe(3) == {
        "calendar": "fx", "market_open": False, "next_open": ny(2024, 3, 17, 17),
        "next_close": ny(2024, 3, 22, 17), "derived": True, "formula": "EURUSD * USDJPY", "legs": ["EURUSD", "USDJPY"],
    }  # fmt: skip


def test_a_gateway_copying_the_bus_rows_sends_the_same_bytes() -> None:
    """Every row the feed side publishes (quote + market state) applied on a gateway's
    MirroredMarket gives its subscribers exactly the messages the feed side sent."""
    feed = World([("EURUSD", 5), ("USDJPY", 3), ("EURJPY", 3)], ["EURJPY = EURUSD * USDJPY"], at=ny(2024, 3, 11, 16))
    rows: list[tuple[int, Any, Any]] = []

    class Tap:
        def applied(self, sid: int) -> None:
            rows.append((sid, feed.table.state(sid), feed.market.bus_extra(sid)))

        status_changed = applied

    feed.ingest.tap = Tap()
    table = SymbolTable(feed.table.instruments)
    hub = Hub(len(table))
    encoder = QuoteEncoder(table)
    gw = Ingest(table, hub, encoder, clock=lambda: 1.0, wall_ns=lambda: 5_000)
    cals = [Calendar(FX)] * 3
    mirror = MirroredMarket(table, cals, DailyStats(cals, table.decimals))
    mirror.attach(gw)
    box = Outbox(encoder.update, FanoutStats(), high_water=10_000)
    for sid in range(3):
        hub.add(sid, box)
    feed.at(ny(2024, 3, 11, 16))
    for i, (eur, jpy) in enumerate([(1.0900, 150.10), (1.0903, 150.12), (1.0899, 150.05), (1.0910, 150.30)]):
        feed.tick("EURUSD", eur, eur + 0.0002, ny(2024, 3, 11, 16, 10 * i))
        feed.tick("USDJPY", jpy, jpy + 0.02, ny(2024, 3, 11, 16, 10 * i, 5))
    feed.at(ny(2024, 3, 11, 17))  # a roll on the timer: rows with the same seq
    feed.tick("EURUSD", 1.0920, 1.0922, ny(2024, 3, 11, 17, 1))
    sent_by_feed = [m for m in feed.sent() if m["type"] in ("update", "day")]
    fs = FeedStats("f")
    for sid, state, extra in rows:
        mirror.adopt(sid, extra, 1.0)
        gw.apply_mirrored(fs, sid, state, 1.0)
    frame = box.take_frame()
    assert frame is not None
    sent_by_gateway = [m for m in orjson.loads(frame) if m["type"] in ("update", "day")]
    assert sent_by_gateway == sent_by_feed
    assert len([m for m in sent_by_feed if m["type"] == "day"]) == 6  # 3 first days, 3 rolls
    for sid in range(3):
        assert mirror.stats is not None and feed.market.stats is not None
        assert mirror.stats.as_dict(sid) == feed.market.stats.as_dict(sid)
        assert orjson.loads(encoder.snapshot(sid)) == orjson.loads(feed.encoder.snapshot(sid))
    assert mirror.bad_extras == 0
    mirror.adopt(0, ["junk"], 1.0)
    assert mirror.bad_extras == 1


def test_a_replays_clock_runs_at_its_speed_and_tells_when_its_mapping_moves() -> None:
    mono = [100.0]
    rt = ReplayTime(lambda: mono[0])
    told: list[int] = []
    rt.add_listener(lambda: told.append(1))
    assert rt.now_us() is None and rt.delay_s(0) is None
    rt.start(FRI_1659, 60.0)  # a minute of the file per second
    assert told == [1] and rt.now_us() == FRI_1659
    assert rt.delay_s(FRI_CLOSE) == pytest.approx(1.0)
    mono[0] = 100.5
    assert rt.now_us() == FRI_1659 + 30_000_000
    rt.reach(FRI_1659 + 45_000_000)  # ticks about to play are ahead of the mapping
    assert rt.now_us() == FRI_1659 + 45_000_000 and told == [1, 1]
    rt.reach(FRI_1659)  # not later: nothing to tell
    assert told == [1, 1]
    fast = ReplayTime(lambda: mono[0])
    fast.start(FRI_1659, 0.0)  # as fast as possible: the time is what was played
    assert fast.delay_s(FRI_CLOSE) is None
    fast.reach(FRI_CLOSE + 5)
    assert fast.now_us() == FRI_CLOSE + 5


def test_a_market_on_a_replay_clock_closes_when_the_replay_reaches_friday_1700() -> None:
    rt = ReplayTime(lambda: 0.0)
    w = World([("EURUSD", 5)])
    w.market = LiveMarket(w.table, [Calendar(FX)], [rt], DailyStats([Calendar(FX)], [5]))
    w.market.attach(w.ingest)
    assert w.market.due(1.0) is None  # not started: nothing known, nothing to schedule
    rt.start(FRI_1659, 0.0)
    w.market.due(1.0)
    assert w.status("EURUSD") is Status.PENDING
    rt.reach(FRI_CLOSE)
    w.market.due(1.0)
    assert w.status("EURUSD") is Status.CLOSED


def test_a_restarted_feed_process_continues_the_days_statistics_from_the_bus() -> None:
    before = World([("EURUSD", 5)], at=ny(2024, 3, 12, 9))
    before.at(ny(2024, 3, 12, 9))
    before.tick("EURUSD", 1.0900, 1.0902, ny(2024, 3, 12, 9))
    before.tick("EURUSD", 1.0950, 1.0952, ny(2024, 3, 12, 10))
    extra = before.market.bus_extra(0)  # what the state hash keeps
    after = World([("EURUSD", 5)], at=ny(2024, 3, 12, 11))
    after.market.restore(0, extra)
    after.at(ny(2024, 3, 12, 11))
    after.tick("EURUSD", 1.0890, 1.0892, ny(2024, 3, 12, 11))
    (upd,) = [m for m in after.sent() if m["type"] == "update"]
    assert upd["day"] == {"low": 1.089}  # the same day goes on: no day message, a new low
    s = after.market.stats.get(0) if after.market.stats else None
    assert s is not None and (s.open, s.high, s.low, s.ticks) == (1.09, 1.095, 1.089, 3)
