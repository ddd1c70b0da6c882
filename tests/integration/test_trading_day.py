"""The FX trading day over real sockets: a recorded Thursday-to-Sunday replayed on its
own clock, and the synthetic feed on a calendar.

The replay plays a generated EURUSD file with ``timestamps = "original"`` at
50,000 times real time, so its weekend lasts about four seconds while the
staleness detector runs on the real clock with ``stale_after_s = 0.5``: a
feed silent that long in trading hours turns stale, so a weekend that did not
count as closed would show. A subscriber must see the Thursday 17:00 roll, the
Friday 17:00 close (with the Sunday open as ``next_open``), nothing stale in
between, and the Sunday 17:00 open and roll before the first Sunday tick.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from feeds.base import TickSink
from feeds.registry import build_feed
from feeds.replay.feed import ReplayFeed
from tests.support.helpers import client, config, running, wait_for
from ticker.core.calendar import to_us


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def us(dt: datetime) -> int:
    return to_us(dt)


# January 2024: New York is on EST (UTC-5), so 17:00 New York is 22:00 UTC.
THU_ROLL = utc(2024, 1, 4, 22)  # Friday's trading day begins
FRI_CLOSE = utc(2024, 1, 5, 22)
SUN_OPEN = utc(2024, 1, 7, 22)  # Monday's trading day begins
NEXT_FRI_CLOSE = utc(2024, 1, 12, 22)


def recording(path: Path) -> list[tuple[datetime, float]]:
    """Thursday 16:40 to Friday 16:50 New York every 10 minutes, one Saturday quote,
    Sunday 17:00:30 to 17:30 New York every 5 minutes; bids rising by a point a tick."""
    ticks: list[tuple[datetime, float]] = []
    t, bid = utc(2024, 1, 4, 21, 40, 30), 1.09000
    while t < FRI_CLOSE:
        ticks.append((t, round(bid, 5)))
        t, bid = t + timedelta(minutes=10), bid + 0.00001
    ticks.append((utc(2024, 1, 6, 17), 1.20000))  # a Saturday quote: off-hours
    t, bid = SUN_OPEN + timedelta(seconds=30), 1.10000
    while t < SUN_OPEN + timedelta(minutes=31):
        ticks.append((t, round(bid, 5)))
        t, bid = t + timedelta(minutes=5), bid + 0.00001
    lines = [f"{t:%Y-%m-%d %H:%M:%S},{b:.5f},{b + 0.00002:.5f}" for t, b in ticks]
    path.write_text("\n".join(lines) + "\n")
    return ticks


class GatedReplay(ReplayFeed):
    """Plays only once the test has subscribed."""

    gate: asyncio.Event

    async def run(self, sink: TickSink) -> None:
        await self.gate.wait()
        await super().run(sink)


async def test_a_replayed_friday_closes_at_1700_new_york_and_sunday_opens_and_rolls(tmp_path: Path) -> None:
    ticks = recording(tmp_path / "EURUSD.csv")
    feed_cfg = {
        "type": "replay", "name": "tape", "files": [str(tmp_path / "EURUSD.csv")], "format": "csv",
        "columns": ["time", "bid", "ask"], "time_format": "%Y-%m-%d %H:%M:%S", "symbol": "EURUSD",
        "timestamps": "original", "speed": 50_000.0, "stale_after_s": 0.5,
    }  # fmt: skip
    cfg = config(feeds=[feed_cfg])
    feed = build_feed("tape", "replay", cfg.feeds[0].options)
    assert isinstance(feed, ReplayFeed)
    feed.__class__ = GatedReplay
    gated: Any = feed
    gated.gate = asyncio.Event()
    async with running(cfg, feeds=[feed]) as srv, client(srv.ws_url) as c, aiohttp.ClientSession() as http:
        await c.send({"op": "subscribe", "symbols": ["EURUSD"]})
        snap = await c.until(lambda m: m["type"] == "snapshot")
        assert snap["status"] == "pending" and snap["day"] is None
        gated.gate.set()
        last_ts = us(ticks[-1][0])
        got: list[dict[str, Any]] = []
        while not (got and got[-1]["type"] == "update" and got[-1]["ts"] == last_ts):
            got.append(await c.next(timeout=15))
        table = srv.service.table
        await wait_for(lambda: table.ts[table.ids["EURUSD"]] == last_ts)
        async with http.get(srv.base + "/api/snapshot?symbols=EURUSD") as r:
            final = (await r.json())["snapshots"][0]

    statuses = [(i, m) for i, m in enumerate(got) if m["type"] == "status"]
    assert [m["status"] for _, m in statuses] == ["live", "closed", "live"]  # never stale
    updates = [(i, m) for i, m in enumerate(got) if m["type"] == "update"]
    closed_at = statuses[1][0]
    reopened_at = statuses[2][0]

    # Friday 17:00 New York: closed, after every Friday tick, with the Sunday open to come.
    closed = statuses[1][1]
    assert closed["next_open"] == us(SUN_OPEN)
    assert all(m["ts"] < us(FRI_CLOSE) for i, m in updates if i < closed_at)
    # In between, only the Saturday quote: applied and sent, but the market stays closed.
    between = [m for i, m in enumerate(got) if closed_at < i < reopened_at]
    assert [m["type"] for m in between] == ["update"]
    assert between[0]["ts"] == us(utc(2024, 1, 6, 17)) and "day" not in between[0]
    # Sunday 17:00: live (closing next Friday) and Monday's day, before the first Sunday tick.
    live = statuses[2][1]
    assert live["next_close"] == us(NEXT_FRI_CLOSE)
    first_sunday = next(i for i, m in updates if m["ts"] >= us(SUN_OPEN))
    assert reopened_at < first_sunday

    # The first tick starts Thursday's day; the statistics roll at 17:00 New York on
    # Thursday evening and on Sunday evening (Friday's stand through the weekend).
    days = [m for m in got if m["type"] == "day"]
    assert [(d["day"]["date"], d["ts"]) for d in days] == [
        ("2024-01-04", us(THU_ROLL - timedelta(days=1))), ("2024-01-05", us(THU_ROLL)), ("2024-01-08", us(SUN_OPEN)),
    ]  # fmt: skip
    assert days[0]["day"]["open"] == ticks[0][1] and days[0]["day"]["ticks"] == 1
    days = days[1:]
    before_roll = [b for t, b in ticks if t < THU_ROLL]
    friday = [b for t, b in ticks if THU_ROLL <= t < FRI_CLOSE]
    assert days[0]["day"] == {
        "date": "2024-01-05", "open": None, "high": None, "low": None, "prev_close": before_roll[-1],
        "change": None, "change_pct": None, "ticks": 0,
    }  # fmt: skip
    assert days[1]["day"]["prev_close"] == friday[-1] and days[1]["day"]["ticks"] == 0
    # The first tick of a day brings its open, high and low on the update.
    first_friday = next(m for _, m in updates if m["ts"] >= us(THU_ROLL))
    assert first_friday["day"] == {"open": friday[0], "high": friday[0], "low": friday[0]}
    # Each later tick (bids rise) is a new high; the low stays.
    second = next(m for _, m in updates if m["ts"] > first_friday["ts"])
    assert second["day"] == {"high": friday[1]}

    sunday = [b for t, b in ticks if t >= SUN_OPEN]
    assert final["status"] == "live"
    assert final["day"] == {
        "date": "2024-01-08", "open": sunday[0], "high": sunday[-1], "low": sunday[0],
        "prev_close": friday[-1], "change": round(sunday[-1] - friday[-1], 5),
        "change_pct": round(100 * round(sunday[-1] - friday[-1], 5) / friday[-1], 2), "ticks": len(sunday),
    }  # fmt: skip
    assert (final["next_open"], final["next_close"]) == (us(utc(2024, 1, 14, 22)), us(NEXT_FRI_CLOSE))


def _midday_zone() -> tuple[str, datetime]:
    """A fixed-offset zone where it is about noon now (so a break a few seconds away
    never crosses midnight), and the wall time there."""
    now = datetime.now(UTC)
    offset = (12 - now.hour) % 24
    offset = offset - 24 if offset > 12 else offset
    zone = "Etc/GMT" + (f"{-offset:+d}" if offset else "")  # Etc/ signs are inverted
    from zoneinfo import ZoneInfo

    return zone, now.astimezone(ZoneInfo(zone))


def _every_day_market(zone: str, roll: str, brk: str, rate: float) -> Any:
    """A synthetic EURUSD on a calendar of every weekday in ``zone``, rolling at ``roll``,
    with one break ``brk`` ("HH:MM[:SS]-HH:MM[:SS]")."""
    cal = {"tz": zone, "roll": roll, "trading_days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
           "holidays": [], "breaks": [brk]}  # fmt: skip
    return config(
        market={"calendars": {"test": cal}},
        feeds=[{"type": "synthetic", "symbols": ["EURUSD"], "rate": rate, "calendar": "test"}],
    )


async def test_the_synthetic_feed_on_a_calendar_closes_for_its_break_on_the_wall_clock() -> None:
    """A calendar with a two-second break starting a few seconds from now: subscribers
    get closed at its start and live at its end (the market timer on the wall clock),
    the synthetic feed sends nothing in between, and stopping the service cancels the
    timer."""
    zone, local = _midday_zone()
    start = (local + timedelta(seconds=4)).replace(microsecond=0) + timedelta(seconds=1)  # after start-up
    end = start + timedelta(seconds=2)
    cfg = _every_day_market(zone, "00:00", f"{start:%H:%M:%S}-{end:%H:%M:%S}", rate=200.0)
    async with running(cfg) as srv, client(srv.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": ["EURUSD"]})
        snap = await c.until(lambda m: m["type"] == "snapshot")
        assert snap["next_close"] == us(start)
        closed = await c.until(lambda m: m["type"] == "status" and m["status"] != "live", timeout=10)
        assert (closed["status"], closed["next_open"]) == ("closed", us(end))
        assert closed["ts"] >= us(start)  # sent at the close, not before
        during = []
        while True:
            m = await c.next(timeout=10)
            if m["type"] == "status":
                break
            during.append(m)
        assert (m["status"], m["ts"] >= us(end)) == ("live", True)
        assert not [u for u in during if u["type"] == "update" and us(start) <= u["ts"] < us(end)]
        await c.until(lambda m: m["type"] == "update" and m["ts"] >= us(end))  # ticking again
        timer = srv.service.market_timer
        assert timer is not None and timer._handle is not None
        await srv.stop()
        assert timer._handle is None


async def test_a_resume_across_the_day_roll_brings_the_new_day_and_the_session_times() -> None:
    """A dashboard that drops before 17:00 and resumes after it keeps its quotes (the
    missed updates are replayed) and gets the day that began meanwhile: the history holds
    updates, not day messages, so the server sends the day as it stands after the replay,
    then the status with its next close."""
    zone, local = _midday_zone()
    roll = (local + timedelta(seconds=4)).replace(microsecond=0) + timedelta(seconds=1)
    brk = (roll + timedelta(hours=2)).replace(second=0)  # a break later today: there is a next close
    cfg = _every_day_market(zone, f"{roll:%H:%M:%S}", f"{brk:%H:%M}-{brk + timedelta(minutes=1):%H:%M}", rate=100.0)
    async with running(cfg) as srv, client(srv.ws_url) as watcher:
        await watcher.send({"op": "subscribe", "symbols": ["EURUSD"]})
        await watcher.until(lambda m: m["type"] == "snapshot")
        await watcher.until(lambda m: m["type"] == "update")  # the day has begun: its snapshot has one
        async with client(srv.ws_url) as c:
            await c.send({"op": "subscribe", "symbols": ["EURUSD"]})
            snap = await c.until(lambda m: m["type"] == "snapshot")
            last = await c.until(lambda m: m["type"] == "update")
            old_day = snap["day"]["date"]
        rolled = await watcher.until(lambda m: m["type"] == "day", timeout=15)  # the roll, while away
        assert rolled["day"]["date"] != old_day
        after = await watcher.until(lambda m: m["type"] == "update" and "day" in m)  # the new day's first tick
        async with client(srv.ws_url) as c:
            since = {"EURUSD": {"seq": last["seq"], "epoch": snap["epoch"]}}
            await c.send({"op": "subscribe", "symbols": ["EURUSD"], "since": since})
            ack = await c.until(lambda m: m["type"] == "subscribed")
            assert ack["resume"]["EURUSD"]["recovered"] is True
            got = []
            while not got or got[-1]["type"] != "status":
                got.append(await c.next(timeout=5))
    replayed = [m for m in got if m["type"] == "update"]
    assert [m["seq"] for m in replayed] == list(range(last["seq"] + 1, last["seq"] + 1 + len(replayed)))
    assert replayed[-1]["seq"] >= after["seq"]
    day = next(m for m in got if m["type"] == "day")
    assert got.index(day) == len(got) - 2  # after the replay, before the status
    assert day["day"]["date"] == rolled["day"]["date"] and day["ts"] == rolled["ts"]
    assert day["day"]["open"] is not None and day["day"]["ticks"] >= 1  # as it stands, not as it began
    assert got[-1]["status"] == "live" and got[-1]["next_close"] == us(brk.astimezone(UTC))
