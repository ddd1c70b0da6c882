"""The one interface every feed implements.

A feed declares the instruments it provides and, in :meth:`Feed.run`,
produces ticks into a :class:`TickSink` until cancelled. Raising from
``run`` is a feed failure: the :class:`~feeds.runner.FeedRunner` logs it,
counts it and restarts the feed with backoff. Starting and stopping are the
runner's job, so an adapter holds no task bookkeeping of its own.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ticker.core.batch import TickBatch
from ticker.core.model import Instrument, Tick


class TickSink(Protocol):
    """Where a feed delivers ticks (one sink per feed; it knows the feed's name)."""

    def symbol_id(self, symbol: str) -> int: ...

    def symbol_ids(self, symbols: list[str]) -> npt.NDArray[np.int32]:
        """Table ids of the feed's symbols, in its order (for :meth:`TickBatch.to_table`)."""
        ...

    def publish(self, batch: TickBatch) -> int: ...

    def publish_tick(self, tick: Tick) -> bool: ...

    def parse_error(self, where: str, reason: str, count: int = 1) -> None:
        """Input the feed could not read (``where``: file:line or a frame excerpt);
        counted, and logged at a limited rate."""

    def connection_lost(self, reason: str) -> None:
        """The feed's source went away and it will reconnect: its symbols turn
        stale now rather than when the staleness timer notices."""


class TimeBase(enum.Enum):
    """What a feed's tick times are, for what runs on them (bars close on a timer).

    ``live``: a live market's times, on the wall clock. ``demo``: stamped by the feed
    as it plays (a synthetic market, a replay with ``timestamps = "now"``): on the
    wall clock, in a market that never closes. ``recorded``: a recording's own times
    (a replay with ``timestamps = "original"``): the feed's own clock, which runs at
    its ``speed``."""

    LIVE = "live"
    DEMO = "demo"
    RECORDED = "recorded"


class Feed(abc.ABC):
    """A source of ticks with a name and a fixed set of instruments."""

    #: How this feed's tick times relate to the wall clock.
    time_base: TimeBase = TimeBase.LIVE
    #: For a recorded time base: how many times faster than real time the recording
    #: plays (0: as fast as the service takes it).
    speed: float = 1.0

    def __init__(self, name: str) -> None:
        self.name = name

    @abc.abstractmethod
    def instruments(self) -> Sequence[Instrument]:
        """The instruments this feed provides (known before it starts)."""

    @abc.abstractmethod
    async def run(self, sink: TickSink) -> None:
        """Produce ticks into ``sink`` until cancelled."""
