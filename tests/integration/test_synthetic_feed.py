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


async def _run(options: SyntheticOptions, seconds: float) -> list[tuple[int, TickBatch]]:
    """(wall µs when published, batch) for each batch the feed publishes in ``seconds``."""
    from ticker.util.clock import wall_us

    out: list[tuple[int, TickBatch]] = []

    class Stamping(Sink):
        def publish(self, batch: TickBatch) -> int:
            out.append((wall_us(), batch))
            return len(batch)

    task = asyncio.create_task(SyntheticFeed("syn", options).run(Stamping()))
    await asyncio.sleep(seconds)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return out


async def test_scheduled_timestamps_are_the_models_and_emitted_ones_the_hand_over_time() -> None:
    opts = {"symbols": ("EURUSD", "USDJPY", "GBPUSD"), "rate": 3000.0, "batch_interval_ms": 5.0}
    scheduled = await _run(SyntheticOptions(**opts), 0.3)  # type: ignore[arg-type]
    emitted = await _run(SyntheticOptions(**opts, timestamps="emitted"), 0.3)  # type: ignore[arg-type]
    assert sum(len(b) for _, b in scheduled) > 300 and sum(len(b) for _, b in emitted) > 300
    # Scheduled: the ticks of one batch keep their own (different) times, all already due.
    assert any(len(set(b.ts.tolist())) > 1 for _, b in scheduled)
    assert all(int(b.ts.max()) <= at for at, b in scheduled)
    # Emitted: one stamp per batch, taken just before the hand-over.
    for at, b in emitted:
        stamps = set(b.ts.tolist())
        assert len(stamps) == 1
        assert 0 <= at - stamps.pop() < 5_000
