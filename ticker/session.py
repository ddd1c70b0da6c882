"""One client's protocol state: its subscriptions and its replies.

Sans-I/O: :meth:`Session.receive` takes the text of one client frame and
queues every reply in the connection's :class:`~ticker.outbox.Outbox`.
Registration in the hub and the snapshot are queued in the same synchronous
step, so every update a client sees for a symbol follows its snapshot and
has a higher ``seq``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from ticker.hub import Hub
from ticker.outbox import Outbox
from ticker.protocol import (
    ErrorCode,
    Ping,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    encode_pong,
    encode_subscribed,
    encode_unsubscribed,
    parse_request,
)
from ticker.quotes import QuoteEncoder
from ticker.stats import FanoutStats
from ticker.table import SymbolTable


def wall_us() -> int:
    return time.time_ns() // 1000


class Session:
    def __init__(
        self,
        table: SymbolTable,
        hub: Hub,
        encoder: QuoteEncoder,
        outbox: Outbox,
        stats: FanoutStats,
        *,
        max_symbols: int,
        wall_clock: Callable[[], int] = wall_us,
    ) -> None:
        self.table = table
        self.hub = hub
        self.encoder = encoder
        self.outbox = outbox
        self.stats = stats
        self.max_symbols = max_symbols
        self._wall = wall_clock
        #: sid -> throttle_ms
        self.subscriptions: dict[int, int] = {}
        self.closed = False
        #: request type -> handler; extensions (e.g. auth) add entries here.
        self.handlers: dict[type, Callable[[Any, float], None]] = {
            Subscribe: self._subscribe,
            Unsubscribe: self._unsubscribe,
            Ping: self._ping,
        }

    # ------------------------------------------------------------ input

    def receive(self, data: bytes | str, now: float) -> None:
        """Handle one text frame from the client."""
        try:
            request = parse_request(data)
        except ProtocolError as exc:
            self.error(exc, now)
            return
        handler = self.handlers.get(type(request))
        if handler is None:  # a parser registered without a handler: our bug, not the client's
            raise TypeError(f"no handler for {type(request).__name__}")
        self.stats.requests[type(request).__name__.lower()] += 1
        try:
            handler(request, now)
        except ProtocolError as exc:
            self.error(exc, now)

    def receive_binary(self, now: float) -> None:
        self.error(
            ProtocolError(ErrorCode.BAD_REQUEST, "binary frames are not supported; send JSON text"),
            now,
        )

    def error(self, exc: ProtocolError, now: float) -> None:
        self.stats.errors[exc.code] += 1
        self.outbox.push(exc.encode(), now)

    # ------------------------------------------------------------ requests

    def _resolve(self, names: Iterable[str]) -> tuple[list[int], list[str]]:
        ids = self.table.ids
        known: list[int] = []
        unknown: list[str] = []
        for name in names:
            sid = ids.get(name)
            if sid is None:
                unknown.append(name)
            else:
                known.append(sid)
        return known, unknown

    def _subscribe(self, req: Subscribe, now: float) -> None:
        known, unknown = self._resolve(req.symbols)
        new = [sid for sid in known if sid not in self.subscriptions]
        if len(self.subscriptions) + len(new) > self.max_symbols:
            raise ProtocolError(
                ErrorCode.TOO_MANY_SYMBOLS,
                f"subscribing to {len(new)} more symbols would exceed the limit of "
                f"{self.max_symbols} per connection ({len(self.subscriptions)} subscribed); "
                "nothing was subscribed",
                id=req.id,
                field="symbols",
            )
        outbox = self.outbox
        if known:
            outbox.push(
                encode_subscribed(req.id, [self.table.symbols[s] for s in known], req.throttle_ms),
                now,
            )
            interval = req.throttle_ms / 1000.0
            for sid in known:
                self.subscriptions[sid] = req.throttle_ms
                self.hub.add(sid, outbox)
                outbox.set_throttle(sid, interval, now)
                outbox.push(self.encoder.snapshot(sid), now, sid)
        if unknown:
            self.error(self._unknown(unknown, req.id, "subscribed"), now)

    def _ping(self, req: Ping, now: float) -> None:
        self.outbox.push(encode_pong(req.id, self._wall()), now)

    def _unsubscribe(self, req: Unsubscribe, now: float) -> None:
        known, unknown = self._resolve(req.symbols)
        for sid in known:
            if self.subscriptions.pop(sid, None) is not None:
                self.hub.remove(sid, self.outbox)
                self.outbox.forget(sid)
        if known:
            self.outbox.push(encode_unsubscribed(req.id, [self.table.symbols[s] for s in known]), now)
        if unknown:
            self.error(self._unknown(unknown, req.id, "unsubscribed"), now)

    @staticmethod
    def _unknown(unknown: list[str], id: object, verb: str) -> ProtocolError:
        shown = ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")
        return ProtocolError(
            ErrorCode.UNKNOWN_SYMBOL,
            f"unknown symbol(s): {shown}; the others were {verb}. GET /api/symbols lists them all",
            id=id,  # type: ignore[arg-type]
            field="symbols",
            symbols=unknown,
        )

    # ------------------------------------------------------------ teardown

    def close(self) -> None:
        """Unsubscribe everything; idempotent."""
        if self.closed:
            return
        self.closed = True
        for sid in self.subscriptions:
            self.hub.remove(sid, self.outbox)
        self.subscriptions.clear()
