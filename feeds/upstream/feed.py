"""``type = "websocket"``: the one connection loop for every upstream format.

The loop owns all the I/O: connect, send the parser's subscribe messages,
read frames with an idle timeout, hand each frame to the (pure) parser,
publish the ticks, and on any loss (close, error, silence) report it to the
sink, so the feed's symbols turn stale at once, then reconnect after an
exponential backoff with jitter and subscribe again. The backoff starts over
after a connection that delivered data. Nothing here knows a venue: that is
the parser's business (:mod:`feeds.upstream.presets`).

A parser raising :class:`FrameError` is the upstream's fault: counted as a
parse error and logged at a limited rate. Any other exception is our bug
and propagates to the :class:`~feeds.runner.FeedRunner`, which logs it
loudly and restarts the feed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import aiohttp

from feeds.backoff import backoff
from feeds.base import Feed, TickSink
from feeds.catalog import spec
from feeds.instruments import InstrumentOptions, resolve
from feeds.upstream.mapping import FrameError, FrameParser, MappingOptions
from feeds.upstream.presets import make_parser
from ticker.model import Instrument, Tick

Preset = Literal["binance", "coinbase", "ticker", "generic"]


@dataclass(frozen=True, slots=True)
class WebSocketOptions:
    """Options of a ``type = "websocket"`` feed."""

    url: str = ""
    preset: Preset = "generic"
    #: Upstream symbol names to subscribe to (and to accept).
    symbols: tuple[str, ...] = ()
    #: upstream name -> served name (e.g. {"BTC-USD" = "BTCUSD"}).
    rename: dict[str, str] = field(default_factory=dict)
    #: Decimals and pip size by served name; required for symbols the catalog does not know.
    instruments: dict[str, InstrumentOptions] = field(default_factory=dict)
    #: Messages sent after connecting, replacing the preset's; "$symbols" -> JSON array,
    #: "$symbol" -> one message per symbol.
    subscribe: tuple[str, ...] | None = None
    mapping: MappingOptions | None = None
    #: No message for this long means the upstream went silent: reconnect.
    idle_timeout_s: float = field(default=30.0, metadata={"min": 0.05, "max": 3600})
    #: WebSocket ping interval (0 = none); a missing pong drops the connection.
    heartbeat_s: float = field(default=20.0, metadata={"min": 0, "max": 3600})
    connect_timeout_s: float = field(default=10.0, metadata={"min": 0.1, "max": 300})
    reconnect_initial_s: float = field(default=0.5, metadata={"min": 0.01, "max": 600})
    reconnect_max_s: float = field(default=30.0, metadata={"min": 0.01, "max": 3600})
    max_message_bytes: int = field(default=4 * 1024 * 1024, metadata={"min": 1024})

    def __post_init__(self) -> None:
        if not self.url.startswith(("ws://", "wss://")):
            raise ValueError(f"url: must start with ws:// or wss://, got {self.url!r}")
        if not self.symbols:
            raise ValueError("symbols: list the upstream symbols to subscribe to")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbols: lists a symbol twice")
        unknown = set(self.rename) - set(self.symbols)
        if unknown:
            raise ValueError(f"rename: {', '.join(sorted(unknown))} not in symbols")
        served = [self.rename.get(s, s) for s in self.symbols]
        if len(set(served)) != len(served):
            raise ValueError("rename: two symbols get the same name")
        extra = set(self.instruments) - set(served)
        if extra:
            raise ValueError(f"instruments: {', '.join(sorted(extra))} not among the served symbols {served}")
        for s in served:
            if s not in self.instruments:
                try:
                    spec(s)
                except KeyError:
                    raise ValueError(
                        f"instruments: {s} is not a known pair; add instruments.{s} = "
                        "{ decimals = .., pip_size = .. }"
                    ) from None
            elif self.instruments[s].decimals < 0:
                try:
                    spec(s)
                except KeyError:
                    raise ValueError(f"instruments: {s}.decimals is required") from None
        if self.preset == "generic" and self.mapping is None:
            raise ValueError("mapping: preset 'generic' needs a mapping table (symbol, bid, ask paths...)")
        if self.preset != "generic" and self.mapping is not None:
            raise ValueError(f"mapping: only for preset 'generic'; {self.preset!r} has its own")
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError("reconnect_max_s: must be >= reconnect_initial_s")

    def served(self) -> list[str]:
        return [self.rename.get(s, s) for s in self.symbols]


class ConnectionLost(Exception):
    """The upstream closed, failed or went silent; the message says which."""


class WebSocketFeed(Feed):
    def __init__(
        self,
        name: str,
        options: WebSocketOptions,
        *,
        backoff_factory: Callable[[], Iterator[float]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name)
        self.options = options
        self._instruments = [resolve(s, options.instruments.get(s), None) for s in options.served()]
        self._rename = {u: options.rename.get(u, u) for u in options.symbols}
        self._backoff = backoff_factory or (
            lambda: backoff(options.reconnect_initial_s, options.reconnect_max_s)
        )
        self._clock = clock
        #: Connections made so far (tests and logs).
        self.connections = 0

    def instruments(self) -> Sequence[Instrument]:
        return self._instruments

    def parser(self) -> FrameParser:
        o = self.options
        return make_parser(o.preset, o.mapping, o.subscribe)

    async def run(self, sink: TickSink) -> None:
        o = self.options
        delays = self._backoff()
        timeout = aiohttp.ClientWSTimeout(ws_close=2.0)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(connect=o.connect_timeout_s)) as http:
            while True:
                parser = self.parser()  # fresh state (partial quotes) per connection
                got_data = False
                try:
                    async with http.ws_connect(
                        o.url,
                        heartbeat=o.heartbeat_s or None,
                        max_msg_size=o.max_message_bytes,
                        timeout=timeout,
                    ) as ws:
                        self.connections += 1
                        for message in parser.subscribe_messages(o.symbols):
                            await ws.send_str(message)
                        got_data = await self._read(ws, parser, sink)
                        reason = f"closed by upstream (code {ws.close_code})"
                except ConnectionLost as exc:
                    reason = str(exc)
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                sink.connection_lost(reason)
                if got_data:
                    delays = self._backoff()
                await asyncio.sleep(next(delays))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, parser: FrameParser, sink: TickSink) -> bool:
        """Pump frames until the connection ends; True if any tick came through."""
        idle = self.options.idle_timeout_s
        rename = self._rename
        got = False
        while True:
            try:
                msg = await ws.receive(timeout=idle)
            except TimeoutError:
                raise ConnectionLost(f"no message for {idle:g} s (idle timeout)") from None
            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                recv_us = time.time_ns() // 1000
                try:
                    ticks = parser.parse(msg.data, recv_us)
                except FrameError as exc:
                    excerpt = msg.data[:80] if isinstance(msg.data, str) else repr(msg.data[:80])
                    sink.parse_error(f"frame {excerpt!r}", str(exc))
                    continue
                for t in ticks:
                    name = rename.get(t.symbol)
                    if name is None:
                        continue  # a symbol we did not subscribe to
                    if name != t.symbol:
                        t = Tick(name, t.bid, t.ask, t.ts, t.bid_size, t.ask_size)
                    sink.publish_tick(t)
                    got = True
            elif msg.type is aiohttp.WSMsgType.ERROR:
                raise ConnectionLost(f"connection error: {ws.exception()}")
            else:  # CLOSE, CLOSING, CLOSED
                return got
