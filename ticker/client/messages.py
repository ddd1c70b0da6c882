"""What the client yields: server messages with receive time and the quote they produced.

Besides server messages the client yields two local ones, so a consumer sees
its connection's life in the same stream: ``connected`` (``attempt``, ``url``)
and ``disconnected`` (``code``, ``reason``, ``retry_in_s``). They carry
``local=True``; like every unknown type they are safe to ignore.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ticker.client.bars import Bar, parse_bars
from ticker.client.book import Quote


def unpack(data: str | bytes) -> list[dict[str, Any]]:
    """One server frame -> its messages (a frame is one object or an array of them).

    Raises ValueError for a frame that is not JSON or holds something else.
    """
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"frame is not JSON: {exc}") from None
    items = obj if isinstance(obj, list) else [obj]
    if not all(isinstance(m, dict) for m in items):
        raise ValueError("frame holds something other than message objects")
    return items


@dataclass(frozen=True, slots=True)
class Message:
    type: str
    data: Mapping[str, Any]
    #: wall clock when the frame arrived, µs since the epoch (the unit of ``ts``)
    received_us: int
    #: for snapshot, update and status: the symbol's quote after applying it
    quote: Quote | None = None
    #: for an update: how many updates the server merged into this one (seq gap)
    gap: int = 0
    local: bool = False

    @property
    def symbol(self) -> str | None:
        s = self.data.get("symbol")
        return s if isinstance(s, str) else None

    @property
    def bar(self) -> Bar | None:
        """For a ``bar`` message: the bar, typed (None for other messages or a malformed one)."""
        return Bar.parse(self.data) if self.type == "bar" else None

    @property
    def bars(self) -> list[Bar]:
        """For a ``bars`` snapshot: its bars, oldest first, the forming one last."""
        return parse_bars(self.data.get("bars") or ()) if self.type == "bars" else []

    @property
    def latency_s(self) -> float | None:
        """End-to-end latency of an update: receive time minus the tick's source time.

        Only updates have it: a snapshot's ``ts`` is the age of the last tick,
        not a delivery delay.
        """
        ts = self.data.get("ts")
        if self.type != "update" or not isinstance(ts, int):
            return None
        return (self.received_us - ts) / 1e6
