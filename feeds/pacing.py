"""Sleeping until a tick is due, to the tenth of a millisecond, for feeds that keep time.

A feed that plays ticks on a schedule (the synthetic market, a replay at speed) sleeps
between batches. ``asyncio.sleep`` cannot sleep less than a millisecond: the event
loop's ``epoll_wait`` takes its timeout in whole milliseconds, rounded up, so a
0.3 ms wait becomes 1 ms and a tick waits on average half a millisecond more than
its schedule says, on top of the batch interval (measured: +2 ms p50 from the
scheduled time to the client at the default workload, docs/benchmarks.md).

:class:`Pacer` sleeps short waits in one worker thread instead (``time.sleep`` is
``clock_nanosleep``: tens of µs of slack) and wakes the loop the way a socket would,
with ``call_soon_threadsafe``. Long waits stay on the loop's timer, where a
millisecond does not matter. Each feed run owns its pacer and closes it on the way out.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

#: Waits this long or longer go to the loop's own timer (rounding is < 5% of them).
COARSE_S = 0.02


class Pacer:
    """``await pacer.sleep(s)``: like ``asyncio.sleep`` but on time for short waits."""

    __slots__ = ("_pool",)

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    async def sleep(self, delay: float) -> None:
        if delay <= 0:
            await asyncio.sleep(0)
            return
        if delay >= COARSE_S:
            await asyncio.sleep(delay)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-pacer")
        await asyncio.get_running_loop().run_in_executor(self._pool, time.sleep, delay)

    def close(self) -> None:
        """Let the worker thread go (after at most one short sleep)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
