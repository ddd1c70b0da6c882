"""Bars as the client sees them: typed values and a per-series store (pure, no I/O).

The server builds the bars (docs/protocol.md, "Bars"); a client only keeps
them. :class:`Bar` is one bar from a ``bar`` or ``bars`` message or from
``GET /api/bars``; :class:`BarStore` holds every subscribed series by start,
where a bar's newest state (higher ``seq`` for its ``start``) wins, so a
history read over REST and the stream can be merged in any order. A ``bars``
snapshot replaces its series (a resubscribe or a reconnect resynchronises).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLC bar. Times are µs since the epoch, UTC; ``end`` is exclusive;
    ``closed`` false: the forming bar; ``corrected``: changed by a late tick after it closed."""

    symbol: str
    interval: str
    start: int
    end: int
    open: float
    high: float
    low: float
    close: float
    ticks: int
    seq: int
    closed: bool
    corrected: bool = False

    @classmethod
    def parse(cls, m: Mapping[str, Any]) -> Bar | None:
        """A bar from a message or a REST item; None when a field is missing or ill-typed."""
        try:
            ints = [m["start"], m["end"], m["ticks"], m["seq"]]
            prices = [m["open"], m["high"], m["low"], m["close"]]
            symbol, interval, closed = m["symbol"], m["interval"], m["closed"]
        except (KeyError, TypeError):
            return None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints):
            return None
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in prices):
            return None
        if not isinstance(symbol, str) or not isinstance(interval, str) or not isinstance(closed, bool):
            return None
        start, end, ticks, seq = ints
        o, h, low, c = (float(v) for v in prices)
        return cls(symbol, interval, start, end, o, h, low, c, ticks, seq, closed, m.get("corrected") is True)


def parse_bars(items: Iterable[Any]) -> list[Bar]:
    """The well-formed bars of a ``bars`` snapshot's list or a REST reply's ``bars``."""
    out = []
    for item in items:
        bar = Bar.parse(item) if isinstance(item, Mapping) else None
        if bar is not None:
            out.append(bar)
    return out


class BarStore:
    """Every followed series: ``(symbol, interval)`` -> its bars by start."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], dict[int, Bar]] = {}

    def apply(self, msg: Mapping[str, Any]) -> list[Bar]:
        """Apply a ``bars`` or ``bar`` message; returns the bars that changed."""
        kind = msg.get("type")
        if kind == "bars":
            symbol, interval = msg.get("symbol"), msg.get("interval")
            if not isinstance(symbol, str) or not isinstance(interval, str):
                return []
            bars = parse_bars(msg.get("bars") or ())
            self._series[(symbol, interval)] = {b.start: b for b in bars}
            return bars
        if kind == "bar":
            bar = Bar.parse(msg)
            if bar is None:
                return []
            series = self._series.get((bar.symbol, bar.interval))
            if series is None:  # not subscribed (or given up): a late message
                return []
            return [bar] if self._put(series, bar) else []
        return []

    def merge(self, bars: Iterable[Bar]) -> None:
        """Add history read elsewhere (``GET /api/bars``) to followed series."""
        for bar in bars:
            series = self._series.setdefault((bar.symbol, bar.interval), {})
            self._put(series, bar)

    @staticmethod
    def _put(series: dict[int, Bar], bar: Bar) -> bool:
        held = series.get(bar.start)
        if held is not None and held.seq >= bar.seq:
            return False
        series[bar.start] = bar
        return True

    def series(self, symbol: str, interval: str) -> list[Bar]:
        """A series' bars, oldest first (the forming one last)."""
        return sorted(self._series.get((symbol, interval), {}).values(), key=lambda b: b.start)

    def forget(self, symbol: str, interval: str) -> None:
        self._series.pop((symbol, interval), None)


class BarWants:
    """The bar series the user wants, with history and throttle: what a reconnect asks for."""

    def __init__(self) -> None:
        self._wanted: dict[tuple[str, str], tuple[int, int]] = {}

    def add(self, symbols: Iterable[str], interval: str, history: int, throttle_ms: int) -> list[str]:
        added = list(dict.fromkeys(symbols))
        for s in added:
            self._wanted[(s, interval)] = (history, throttle_ms)
        return added

    def remove(self, symbols: Iterable[str], interval: str) -> list[str]:
        return [s for s in dict.fromkeys(symbols) if self._wanted.pop((s, interval), None) is not None]

    def drop_symbols(self, symbols: Iterable[str]) -> None:
        gone = set(symbols)
        for key in [k for k in self._wanted if k[0] in gone]:
            del self._wanted[key]

    def requests(self) -> list[dict[str, Any]]:
        """Subscribe requests that restore every series: one per interval, history and throttle."""
        groups: dict[tuple[str, int, int], list[str]] = {}
        for (symbol, interval), (history, throttle) in self._wanted.items():
            groups.setdefault((interval, history, throttle), []).append(symbol)
        return [bar_request(symbols, interval, history, throttle) for (interval, history, throttle), symbols
                in groups.items()]  # fmt: skip


def bar_request(symbols: list[str], interval: str, history: int, throttle_ms: int) -> dict[str, Any]:
    request: dict[str, Any] = {"op": "subscribe", "symbols": symbols, "bars": interval, "history": history}
    if throttle_ms:
        request["throttle_ms"] = throttle_ms
    return request
