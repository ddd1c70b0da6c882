"""Built-in upstream formats. Each preset is a parser plus its default
subscribe messages; venue quirks live here and nowhere else.

* ``binance`` — Binance ``<symbol>@bookTicker`` streams, raw or wrapped in the
  combined-stream envelope ``{"stream": .., "data": {..}}``; subscribe with
  ``{"method": "SUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 1}``.
* ``coinbase`` — Coinbase Exchange ``ticker`` channel (``best_bid``,
  ``best_ask``, sizes, ISO ``time``); ``subscriptions``/``heartbeat`` ignored,
  ``error`` messages reported.
* ``ticker`` — another instance of this service (protocol v1): snapshots then
  updates carrying only changed fields, frames that may be arrays.
* ``generic`` — :class:`~feeds.upstream.mapping.JsonMapping` from config.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feeds.upstream.mapping import (
    FrameError,
    FrameParser,
    JsonMapping,
    MappingOptions,
    expand_subscribe,
    loads,
    number,
    size,
    timestamp_us,
)
from ticker.core.model import Tick
from ticker.util.errors import FieldError


class BinanceBookTicker:
    SUBSCRIBE = ('{"method":"SUBSCRIBE","params":$streams,"id":1}',)

    def __init__(self, subscribe: Sequence[str] | None = None) -> None:
        self._subscribe = tuple(subscribe) if subscribe is not None else None

    def subscribe_messages(self, symbols: Sequence[str]) -> list[str]:
        if self._subscribe is not None:
            return expand_subscribe(self._subscribe, symbols)
        streams = [f"{s.lower()}@bookTicker" for s in symbols]
        return expand_subscribe([t.replace("$streams", "$symbols") for t in self.SUBSCRIBE], streams)

    def parse(self, frame: str | bytes, recv_us: int) -> list[Tick]:
        msg = loads(frame)
        if not isinstance(msg, dict):
            raise FrameError("not a JSON object")
        if "stream" in msg and isinstance(msg.get("data"), dict):
            msg = msg["data"]
        if "s" in msg and ("b" in msg or "a" in msg):
            # Spot streams carry no time; USD-M futures add E (event) and T (transaction), in ms.
            t = msg.get("T") or msg.get("E")
            return [
                Tick(
                    _symbol(msg.get("s")),
                    number(msg.get("b"), "b (bid)"),
                    number(msg.get("a"), "a (ask)"),
                    timestamp_us(t, "unix_ms", "T") if t is not None else recv_us,
                    size(msg.get("B"), "B (bid size)"),
                    size(msg.get("A"), "A (ask size)"),
                )
            ]
        if "result" in msg and "id" in msg:
            return []  # subscription ack
        if "error" in msg:
            err = msg["error"]
            raise FrameError(f"upstream error: {err.get('msg', err) if isinstance(err, dict) else err}")
        raise FrameError("not a bookTicker message")


class CoinbaseTicker:
    SUBSCRIBE = ('{"type":"subscribe","product_ids":$symbols,"channels":["ticker"]}',)
    IGNORED = frozenset(
        {"subscriptions", "heartbeat", "status", "match", "last_match", "l2update", "snapshot"}
    )

    def __init__(self, subscribe: Sequence[str] | None = None) -> None:
        self._subscribe = tuple(subscribe) if subscribe is not None else self.SUBSCRIBE

    def subscribe_messages(self, symbols: Sequence[str]) -> list[str]:
        return expand_subscribe(self._subscribe, symbols)

    def parse(self, frame: str | bytes, recv_us: int) -> list[Tick]:
        msg = loads(frame)
        if not isinstance(msg, dict):
            raise FrameError("not a JSON object")
        kind = msg.get("type")
        if kind == "ticker":
            t = msg.get("time")
            return [
                Tick(
                    _symbol(msg.get("product_id")),
                    number(msg.get("best_bid"), "best_bid"),
                    number(msg.get("best_ask"), "best_ask"),
                    timestamp_us(t, "iso8601") if t is not None else recv_us,
                    size(msg.get("best_bid_size"), "best_bid_size"),
                    size(msg.get("best_ask_size"), "best_ask_size"),
                )
            ]
        if kind == "error":
            raise FrameError(f"upstream error: {msg.get('message')} {msg.get('reason') or ''}".strip())
        if kind in self.IGNORED:
            return []
        raise FrameError(f"unexpected message type {str(kind)[:32]!r}")


#: Protocol v1 of this service, as a generic mapping.
TICKER_MAPPING = MappingOptions(
    match={"type": ("snapshot", "update")},
    symbol="symbol",
    bid="bid",
    ask="ask",
    bid_size="bid_size",
    ask_size="ask_size",
    time="ts",
    time_format="unix_us",
    partial=True,
)
TICKER_SUBSCRIBE = ('{"op":"subscribe","symbols":$symbols,"id":"ticker-feed"}',)


class TickerUpstream(JsonMapping):
    """Another ticker: the generic mapping plus error replies reported as such."""

    def __init__(self, subscribe: Sequence[str] | None = None) -> None:
        super().__init__(TICKER_MAPPING, subscribe if subscribe is not None else TICKER_SUBSCRIBE)

    def parse(self, frame: str | bytes, recv_us: int) -> list[Tick]:
        ticks = super().parse(frame, recv_us)
        if not ticks:
            msg = loads(frame)
            for m in msg if isinstance(msg, list) else (msg,):
                if isinstance(m, dict) and m.get("type") == "error":
                    raise FrameError(f"upstream error: {m.get('code')}: {m.get('message')}")
        return ticks


def _symbol(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise FrameError("symbol is missing")
    return value


PRESETS = ("binance", "coinbase", "ticker", "generic")


def make_parser(preset: str, mapping: MappingOptions | None, subscribe: Sequence[str] | None) -> FrameParser:
    if preset == "binance":
        return BinanceBookTicker(subscribe)
    if preset == "coinbase":
        return CoinbaseTicker(subscribe)
    if preset == "ticker":
        return TickerUpstream(subscribe)
    if mapping is None:
        raise FieldError("mapping", "preset 'generic' needs a [feeds.mapping] table")
    return JsonMapping(mapping, subscribe or ())
