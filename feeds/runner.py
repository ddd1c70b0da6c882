"""Runs feeds and keeps them running.

Each feed gets one supervising task. A feed that raises is logged with its
name, counted, and restarted after a backoff delay; it never stops the other
feeds or the server. A feed failing in a loop logs a few lines a minute at
most (:class:`~ticker.log_limit.LogLimiter`, with the count of lines held
back), while ``restarts`` counts every failure. A feed that returns on its
own is finished (a replay that reached its end) and is not restarted. The
runner owns every task it starts: :meth:`FeedRunner.stop` cancels and
awaits them all.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable, Iterator, Sequence

from feeds.base import Feed, TickSink
from ticker.util.backoff import backoff
from ticker.util.log_limit import LogLimiter

log = logging.getLogger("ticker.feeds")


class FeedState(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    BACKING_OFF = "backing_off"
    FINISHED = "finished"
    STOPPED = "stopped"


class FeedRunner:
    def __init__(
        self,
        feeds: Sequence[Feed],
        sink_for: Callable[[Feed], TickSink],
        *,
        backoff_factory: Callable[[], Iterator[float]] = backoff,
        on_state: Callable[[Feed, FeedState], None] | None = None,
        healthy_after_s: float = 10.0,
        log_limiter: LogLimiter | None = None,
    ) -> None:
        self.feeds = tuple(feeds)
        self._sink_for = sink_for
        self._backoff_factory = backoff_factory
        self._on_state = on_state
        self._healthy_after_s = healthy_after_s
        self._log_limiter = log_limiter or LogLimiter(burst=5, interval_s=60.0)
        self._tasks: list[asyncio.Task[None]] = []
        self.restarts: dict[str, int] = {f.name: 0 for f in self.feeds}
        self.states: dict[str, FeedState] = {f.name: FeedState.STARTING for f in self.feeds}

    def _set(self, feed: Feed, state: FeedState) -> None:
        self.states[feed.name] = state
        if self._on_state is not None:
            self._on_state(feed, state)

    def start(self) -> None:
        for feed in self.feeds:
            self._tasks.append(asyncio.create_task(self._supervise(feed), name=f"feed:{feed.name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for feed in self.feeds:
            if self.states[feed.name] is not FeedState.FINISHED:
                self._set(feed, FeedState.STOPPED)

    async def _supervise(self, feed: Feed) -> None:
        sink = self._sink_for(feed)
        delays = self._backoff_factory()
        log.info(
            "feed %s started: %d instruments",
            feed.name,
            len(feed.instruments()),
            extra={"feed": feed.name},
        )
        while True:
            self._set(feed, FeedState.RUNNING)
            started = time.monotonic()
            try:
                await feed.run(sink)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.restarts[feed.name] += 1
                if time.monotonic() - started >= self._healthy_after_s:
                    delays = self._backoff_factory()  # it ran well for a while: start over
                delay = next(delays)
                self._log_limiter.log(
                    log,
                    logging.ERROR,
                    feed.name,
                    "feed %s failed; restarting in %.1f s (restart #%d)",
                    feed.name,
                    delay,
                    self.restarts[feed.name],
                    exc_info=True,
                    extra={"feed": feed.name},
                )
                self._set(feed, FeedState.BACKING_OFF)
                await asyncio.sleep(delay)
            else:
                log.info("feed %s finished", feed.name, extra={"feed": feed.name})
                self._set(feed, FeedState.FINISHED)
                return
