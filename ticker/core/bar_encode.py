"""Bars as JSON: one object shape for the stream, snapshots and REST history.

``{"symbol", "interval", "start", "end", "open", "high", "low", "close",
"ticks", "seq", "closed"}`` plus ``"corrected": true`` on a corrected bar
(absent otherwise, so the common message stays short). Times are UTC µs.
Encode once per bar change and send the same bytes to every subscriber.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from ticker.core.bars import Bar


def bar_dict(symbol: str, interval: str, bar: Bar) -> dict[str, Any]:
    """The bar as a JSON-ready dict (for embedding in a snapshot or a REST reply)."""
    obj: dict[str, Any] = {
        "symbol": symbol,
        "interval": interval,
        "start": bar.start,
        "end": bar.end,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "ticks": bar.ticks,
        "seq": bar.seq,
        "closed": bar.closed,
    }
    if bar.corrected:
        obj["corrected"] = True
    return obj


def encode_bar(symbol: str, interval: str, bar: Bar, *, message_type: str | None = None) -> bytes:
    """The bar as JSON bytes; with ``message_type`` a ``"type"`` key comes first
    (``encode_bar(..., message_type="bar")`` is a complete stream message)."""
    obj = bar_dict(symbol, interval, bar)
    if message_type is not None:
        obj = {"type": message_type, **obj}
    return orjson.dumps(obj)


def encode_bars(symbol: str, interval: str, bars: Iterable[Bar]) -> bytes:
    """A JSON array of bars, in the order given (history is newest last)."""
    return orjson.dumps([bar_dict(symbol, interval, b) for b in bars])
