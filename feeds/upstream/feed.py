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

import aiohttp

from feeds.base import Feed, TickSink
from feeds.instruments import resolve
from feeds.upstream.mapping import FrameError, FrameParser
from feeds.upstream.options import WebSocketOptions
from feeds.upstream.presets import make_parser
from ticker.core.model import Instrument, Tick
from ticker.util.backoff import backoff
from ticker.util.clock import wall_us


class ConnectionLost(Exception):
    """The upstream closed, failed or went silent; the message says which."""


#: Presets of venues that trade around the clock.
CRYPTO_VENUES = ("binance", "coinbase")


class WebSocketFeed(Feed):
    #: A live upstream: each symbol on its class's calendar (metals, crypto, fx) by default.
    default_calendar = "auto"

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
        if options.preset in CRYPTO_VENUES:
            self.default_calendar = "crypto"
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
                recv_us = wall_us()
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
