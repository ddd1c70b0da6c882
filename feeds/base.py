"""The one interface every feed implements.

A feed declares the instruments it provides and, in :meth:`Feed.run`,
produces ticks into a :class:`TickSink` until cancelled. Raising from
``run`` is a feed failure: the :class:`~feeds.runner.FeedRunner` logs it,
counts it and restarts the feed with backoff. Starting and stopping are the
runner's job, so an adapter holds no task bookkeeping of its own.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ticker.core.batch import TickBatch
from ticker.core.calendar import Calendar
from ticker.core.markettime import MarketTime
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


class Feed(abc.ABC):
    """A source of ticks with a name and a fixed set of instruments."""

    #: The calendar of the feed's symbols when its config gives none
    #: (``calendar = ""``): ``"auto"`` (each symbol's class: metals, crypto, fx) or
    #: a calendar name. Always open unless a feed type says otherwise, so a feed
    #: that knows nothing of market hours behaves as before they existed.
    default_calendar = "always"

    def __init__(self, name: str) -> None:
        self.name = name
        #: The clock the feed's market hours run on; None: the wall clock. A replay
        #: with original timestamps has its own (:class:`~ticker.core.markettime.ReplayTime`).
        self.time_base: MarketTime | None = None

    def use_calendars(self, calendars: Sequence[Calendar]) -> None:
        """The service tells the feed each instrument's calendar (in
        :meth:`instruments` order) before it runs; a feed that makes up its own
        ticks (synthetic) produces none while a market is closed."""
        return None

    def previous_closes(self) -> Mapping[str, float]:
        """Yesterday's closing bid per symbol when the feed knows it before it starts
        (the daily change then shows from the first tick); none by default."""
        return {}

    @abc.abstractmethod
    def instruments(self) -> Sequence[Instrument]:
        """The instruments this feed provides (known before it starts)."""

    @abc.abstractmethod
    async def run(self, sink: TickSink) -> None:
        """Produce ticks into ``sink`` until cancelled."""
