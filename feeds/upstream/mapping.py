"""Frame parsers for upstream market-data WebSockets: JSON text in, ticks out.

Pure code, no I/O: :meth:`FrameParser.parse` takes one frame and the time it
arrived and returns ticks (upstream symbol names) or raises
:class:`FrameError` for a frame it cannot read. Frames that are valid but
carry no quote (acks, heartbeats) give no ticks and no error.

:class:`JsonMapping` is the generic parser, driven by :class:`MappingOptions`
(field paths, number-or-string values, a time field and its format). The
vendor presets (:mod:`feeds.upstream.presets`) are small classes of their
own or mappings with fixed options.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import orjson

from ticker.core.model import NO_SIZE, Tick

TimeFormat = Literal["unix_s", "unix_ms", "unix_us", "unix_ns", "iso8601"]
_SCALE = {"unix_s": 1e6, "unix_ms": 1e3, "unix_us": 1.0, "unix_ns": 1e-3}
_LONG_FRACTION = re.compile(r"\.(\d{7,})")


class FrameError(ValueError):
    """A frame the parser cannot read; the message says why (the peer's fault)."""


class FrameParser(Protocol):
    def subscribe_messages(self, symbols: Sequence[str]) -> list[str]:
        """Messages to send after connecting, for these upstream symbols."""
        ...

    def parse(self, frame: str | bytes, recv_us: int) -> list[Tick]:
        """Ticks in one frame; FrameError when it cannot be read."""
        ...


def number(value: Any, what: str) -> float:
    """A JSON number or a numeric string ("25.35") as float; FrameError otherwise."""
    if isinstance(value, bool):
        raise FrameError(f"{what} is a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise FrameError(f"{what} is not a number: {value[:32]!r}") from None
    raise FrameError(f"{what} is missing or not a number")


def size(value: Any, what: str) -> float:
    return NO_SIZE if value is None else number(value, what)


def timestamp_us(value: Any, fmt: TimeFormat, what: str = "time") -> int:
    """A time field as µs since the epoch (UTC)."""
    if fmt == "iso8601":
        if not isinstance(value, str):
            raise FrameError(f"{what} is not an ISO 8601 string")
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        m = _LONG_FRACTION.search(text)
        if m:  # nanoseconds (Coinbase can send them): fromisoformat takes at most µs
            text = text[: m.start(1)] + m.group(1)[:6] + text[m.end(1) :]
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise FrameError(f"{what} is not ISO 8601: {value[:40]!r}") from None
        if dt.tzinfo is None:
            raise FrameError(f"{what} has no time zone: {value[:40]!r}")
        return int(dt.timestamp()) * 1_000_000 + dt.microsecond
    x = number(value, what)
    if not math.isfinite(x) or x < 0:
        raise FrameError(f"{what} is not a valid epoch time")
    return round(x * _SCALE[fmt])


def parse_path(path: str) -> tuple[str | int, ...]:
    """``"data.0.s"`` -> ("data", 0, "s"); an empty path is the message itself."""
    if not path:
        return ()
    return tuple(int(p) if p.isdigit() else p for p in path.split("."))


def get(obj: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` or None when any step is missing."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or step >= len(obj):
                return None
            obj = obj[step]
        else:
            if not isinstance(obj, dict):
                return None
            obj = obj.get(step)
    return obj


def loads(frame: str | bytes) -> Any:
    try:
        return orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise FrameError(f"not JSON: {exc}") from None


@dataclass(frozen=True, slots=True)
class MappingOptions:
    """``mapping`` of a websocket feed with ``preset = "generic"``: where the quote is."""

    #: Path to the quote object (or an array of them) in a message; "" = the message.
    data: str = ""
    #: Only messages whose field (path) has one of these values carry quotes.
    match: dict[str, tuple[str, ...]] = field(default_factory=dict)
    symbol: str = "symbol"
    bid: str = "bid"
    ask: str = "ask"
    bid_size: str = ""
    ask_size: str = ""
    #: Path to the source time; "" = use the arrival time.
    time: str = ""
    time_format: TimeFormat = "unix_ms"
    #: Messages may carry only changed fields (keep each symbol's last values).
    partial: bool = False

    def __post_init__(self) -> None:
        for key in ("symbol", "bid", "ask"):
            if not getattr(self, key):
                raise ValueError(f"{key}: a field path is required")


class JsonMapping:
    """Generic parser: quotes found by field paths; a frame may be one message or an array."""

    def __init__(self, options: MappingOptions, subscribe: Sequence[str] = ()) -> None:
        o = options
        self.options = o
        self._data = parse_path(o.data)
        self._match = [(parse_path(k), set(v)) for k, v in o.match.items()]
        self._symbol = parse_path(o.symbol)
        self._bid, self._ask = parse_path(o.bid), parse_path(o.ask)
        self._bsz = parse_path(o.bid_size) if o.bid_size else None
        self._asz = parse_path(o.ask_size) if o.ask_size else None
        self._time = parse_path(o.time) if o.time else None
        self._subscribe = tuple(subscribe)
        #: symbol -> [bid, ask, bid_size, ask_size] last seen (partial messages).
        self._last: dict[str, list[float]] = {}

    def subscribe_messages(self, symbols: Sequence[str]) -> list[str]:
        return expand_subscribe(self._subscribe, symbols)

    def parse(self, frame: str | bytes, recv_us: int) -> list[Tick]:
        msg = loads(frame)
        out: list[Tick] = []
        for m in msg if isinstance(msg, list) else (msg,):
            if not all(str(get(m, path)) in values for path, values in self._match):
                continue
            data = get(m, self._data)
            for q in data if isinstance(data, list) else (data,):
                tick = self._quote(q, recv_us)
                if tick is not None:
                    out.append(tick)
        return out

    def _quote(self, q: Any, recv_us: int) -> Tick | None:
        if not isinstance(q, dict):
            raise FrameError("quote is not a JSON object")
        symbol = get(q, self._symbol)
        if not isinstance(symbol, str) or not symbol:
            raise FrameError(f"no symbol at {self.options.symbol!r}")
        raw = [get(q, self._bid), get(q, self._ask)]
        raw.append(get(q, self._bsz) if self._bsz else None)
        raw.append(get(q, self._asz) if self._asz else None)
        names = ("bid", "ask", "bid_size", "ask_size")
        if self.options.partial:
            last = self._last.setdefault(symbol, [math.nan] * 4)
            for i, v in enumerate(raw):
                if v is not None:
                    last[i] = number(v, names[i])
            if last[0] != last[0] or last[1] != last[1]:
                return None  # no full quote for this symbol yet (e.g. a pending snapshot)
            values = list(last)
        else:
            if raw[0] is None and raw[1] is None:
                return None
            values = [
                number(raw[0], "bid"),
                number(raw[1], "ask"),
                size(raw[2], "bid_size"),
                size(raw[3], "ask_size"),
            ]
        ts = recv_us
        if self._time is not None:
            value = get(q, self._time)
            if value is not None:
                ts = timestamp_us(value, self.options.time_format)
        return Tick(symbol, values[0], values[1], ts, values[2], values[3])


def expand_subscribe(templates: Sequence[str], symbols: Sequence[str]) -> list[str]:
    """Subscribe messages from templates: ``$symbols`` becomes a JSON array of the
    upstream symbols; a template with ``$symbol`` is sent once per symbol."""
    out: list[str] = []
    for t in templates:
        if "$symbols" in t:
            out.append(t.replace("$symbols", orjson.dumps(list(symbols)).decode()))
        elif "$symbol" in t:
            out.extend(t.replace("$symbol", orjson.dumps(s).decode()) for s in symbols)
        else:
            out.append(t)
    return out
