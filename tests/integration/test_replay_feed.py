"""Replay as a feed: pacing, looping, start offset, and what a client receives."""

import asyncio
import time

import numpy as np
import pytest

from feeds.replay.feed import ReplayFeed, ReplayOptions, schedule
from tests.support.helpers import client, config, running, wait_for
from tests.support.paths import DATA
from ticker.core.batch import TickBatch

EURUSD_FILE = str(DATA / "DAT_ASCII_EURUSD_T_202401.csv")


class Sink:
    def __init__(self, symbols: list[str]) -> None:
        self.symbols = symbols
        self.batches: list[tuple[float, TickBatch]] = []
        self.errors: list[tuple[str, str, int]] = []

    def symbol_id(self, s: str) -> int:
        return self.symbols.index(s) if s in self.symbols else -1

    def symbol_ids(self, symbols: list[str]) -> np.ndarray:
        return np.array([self.symbol_id(s) for s in symbols], dtype=np.int32)

    def publish(self, batch: TickBatch) -> int:
        self.batches.append((time.monotonic(), batch))
        return len(batch)

    def publish_tick(self, tick: object) -> bool:
        return True

    def parse_error(self, where: str, reason: str, count: int = 1) -> None:
        self.errors.append((where, reason, count))

    def connection_lost(self, reason: str) -> None:
        pass

    def column(self, name: str) -> np.ndarray:
        return np.concatenate([getattr(b, name) for _, b in self.batches])


def test_schedule_scales_data_time_by_speed() -> None:
    ts = np.array([0, 1_000_000, 10_000_000]) + 5
    assert schedule(ts, 5, 1.0).tolist() == [0.0, 1.0, 10.0]
    assert schedule(ts, 5, 10.0).tolist() == [0.0, 0.1, 1.0]


async def test_speed_zero_plays_everything_with_original_times_and_reports_bad_lines() -> None:
    feed = ReplayFeed(
        "r",
        ReplayOptions(files=(str(DATA / "DAT_ASCII_*"),), format="histdata", speed=0, timestamps="original"),
    )
    sink = Sink(["EURUSD", "USDJPY"])
    await feed.run(sink)
    ts, sid = sink.column("ts"), sink.column("sid")
    assert np.bincount(sid).tolist() == [2997, 2997]
    assert np.all(np.diff(ts) >= 0)  # one time-ordered stream across files
    assert 1704189600_000000 <= ts[0] < 1704189601_000000  # 10:00:00 UTC, from 05:00:00 EST
    lines = sorted(int(where.rsplit(":", 1)[1]) for where, _, _ in sink.errors if "EURUSD" in where)
    assert lines[0] == 101 and sum(c for _, _, c in sink.errors) == 6


async def test_speed_paces_in_real_time_and_stamps_ticks_with_play_time() -> None:
    # The file covers ~10 minutes; at 300x its first 60 data seconds take ~0.2 s.
    feed = ReplayFeed(
        "r", ReplayOptions(files=(EURUSD_FILE,), format="histdata", speed=300, symbols=("EURUSD",))
    )
    sink = Sink(["EURUSD"])
    started = time.monotonic()
    task = asyncio.create_task(feed.run(sink))
    await asyncio.sleep(0.5)
    task.cancel()
    elapsed = time.monotonic() - started
    ts = sink.column("ts")
    # ~0.5 s of play at 300x = ~150 s of data; ticks are ~5/s in the data.
    assert 300 < len(ts) < 1000, len(ts)
    wall_span = (ts[-1] - ts[0]) / 1e6
    assert wall_span <= elapsed + 0.05  # stamps follow play time, not file time
    now_us = time.time_ns() // 1000
    assert now_us - 2_000_000 < ts[-1] <= now_us + 1000


async def test_loop_with_start_offset_keeps_time_moving_forward() -> None:
    opts = ReplayOptions(
        files=(EURUSD_FILE,), format="histdata", speed=0, loop=True, start_offset_s=300, timestamps="original"
    )
    feed = ReplayFeed("r", opts)
    sink = Sink(["EURUSD"])
    task = asyncio.create_task(feed.run(sink))
    await wait_for(lambda: sum(len(b) for _, b in sink.batches) > 5000, timeout=10)
    task.cancel()
    ts = sink.column("ts")
    assert np.all(np.diff(ts) > -1)  # never backwards, even across passes
    first_pass = ts[ts < ts[0] + 400_000_000]
    assert ts[0] >= 1704189600_000000 + 300_000_000  # started 5 minutes in
    assert len(first_pass) < 2997  # the first 5 minutes were skipped
    assert ts[-1] - ts[0] > 400_000_000  # we are in a later pass


async def test_client_receives_the_files_final_quotes() -> None:
    cfg = config(
        feeds=[
            {
                "type": "replay",
                "name": "truefx",
                "files": [str(DATA / "EURGBP-2024-01.csv")],
                "format": "truefx",
                "speed": 0,
            }
        ]
    )
    async with running(cfg) as srv, client(srv.ws_url) as c:
        await wait_for(lambda: srv.service.runner.states["truefx"].value == "finished", timeout=10)
        await c.send({"op": "subscribe", "symbols": ["EURGBP"]})
        await c.next()
        snap = await c.next()
    last = (DATA / "EURGBP-2024-01.csv").read_text().strip().splitlines()[-1].split(",")
    assert (snap["bid"], snap["ask"]) == (float(last[2]), float(last[3]))
    assert snap["seq"] == 2997  # every good line, once
    assert srv.service.feed_stats["truefx"].parse_errors == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"files": ("x",)}, "format: must be one of histdata, dukascopy, truefx, csv"),
        ({"format": "histdata"}, "files: give at least one"),
        ({"files": ("x",), "format": "csv", "time_format": "unix_ms"}, "columns: format 'csv' needs"),
        (
            {"files": ("x",), "format": "csv", "columns": ("time", "bid", "ask")},
            "time_format: format 'csv' needs",
        ),
        ({"files": ("x",), "format": "histdata", "columns": ("time",)}, "columns: only for format 'csv'"),
    ],
)
def test_options_errors(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReplayOptions(**options)
