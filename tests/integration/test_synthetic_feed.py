"""The synthetic feed emitting in real time into a sink."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from feeds.synthetic.feed import SyntheticFeed
from feeds.synthetic.options import SyntheticOptions
from ticker.core.batch import TickBatch


class Sink:
    def __init__(self) -> None:
        self.batches: list[TickBatch] = []

    def symbol_id(self, s: str) -> int:
        return 0

    def symbol_ids(self, symbols: list[str]) -> np.ndarray:
        return np.arange(len(symbols), dtype=np.int32)

    def publish(self, batch: TickBatch) -> int:
        self.batches.append(batch)
        return len(batch)

    def publish_tick(self, tick: object) -> bool:
        return True


async def test_feed_emits_in_real_time_with_timestamps_near_now() -> None:
    import time

    feed = SyntheticFeed("syn", SyntheticOptions(rate=2000.0))
    sink = Sink()
    task = asyncio.create_task(feed.run(sink))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    n = sum(len(b) for b in sink.batches)
    assert 500 < n < 1500  # ~2000/s for 0.5 s
    ts = np.concatenate([b.ts for b in sink.batches])
    assert np.all(np.diff(ts) >= 0)
    now_us = time.time_ns() // 1000
    assert now_us - 1_000_000 < ts[-1] <= now_us
