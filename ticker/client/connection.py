"""asyncio client for ticker's WebSocket protocol: the I/O shell.

All decisions live in sans-I/O parts: :class:`~ticker.client.book.QuoteBook`
keeps the quotes, :class:`~ticker.client.state.ConnectionLifecycle` the
connection's state, :class:`~ticker.client.state.Subscriptions` what to
resubscribe, :mod:`ticker.client.resume` where to resume from,
:func:`ticker.util.backoff.backoff` the retry delays. This module only moves
frames between aiohttp and them.

A silent server is noticed without help from TCP: the client asks for
application heartbeats (``server_heartbeat_ms``) and treats a connection that
delivered nothing, not even a heartbeat, for ``silence_factor`` times that
interval while it waited as dead: it drops it and reconnects, resuming.

Reading happens in the consumer's ``async for``: nothing is read while the
consumer is busy, so a slow consumer pushes back on the socket and the
server conflates for it (its documented slow-consumer policy) instead of
this process buffering without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp
import orjson

from ticker.client.bars import BarStore, BarWants, bar_request
from ticker.client.book import QuoteBook
from ticker.client.messages import Message, unpack
from ticker.client.resume import Recovery, outcomes, since
from ticker.client.state import ConnectionLifecycle, ConnState, Subscriptions
from ticker.core.model import Instrument
from ticker.util.backoff import backoff
from ticker.util.clock import wall_us

#: A connection that lived this long resets the backoff to its first, short delay.
HEALTHY_AFTER_S = 5.0
#: Error codes after which the server will never serve those symbols to us.
_PERMANENT_SYMBOL_ERRORS = frozenset({"unknown_symbol", "not_entitled"})
#: How long closing a connection found silent may take before it is simply dropped.
_CLOSE_SILENT_S = 1.0


class AuthError(ConnectionError):
    """The server refused the handshake (HTTP 401 or 403): retrying cannot help."""


class Client:
    """One logical connection to a ticker server, kept open across reconnects.

    Use :func:`connect`. Iterating yields :class:`Message` values: every
    server message (batched frames unpacked, in order) plus the local
    ``connected`` and ``disconnected`` messages. :attr:`book` holds the latest
    quote per symbol. While disconnected every quote reads ``stale``; after a
    reconnect the client resubscribes everything, resuming each symbol from
    the last ``seq`` it saw: the server replays what was missed (no gap) or,
    when it cannot, sends a fresh snapshot. :attr:`recovery` says which.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        reconnect: bool = True,
        heartbeat_s: float = 15.0,
        server_heartbeat_ms: int = 2000,
        silence_factor: float = 2.5,
        connect_timeout_s: float = 10.0,
        backoff_factory: Callable[[], Iterator[float]] = backoff,
        clock: Callable[[], int] = wall_us,
    ) -> None:
        if server_heartbeat_ms and not 1000 <= server_heartbeat_ms <= 60_000:
            raise ValueError(f"server_heartbeat_ms must be 0 or 1000..60000, got {server_heartbeat_ms}")
        if not silence_factor > 1.0:
            raise ValueError(f"silence_factor must be more than 1 (heartbeats can be late): {silence_factor}")
        self.url = url
        self.reconnect = reconnect
        self.book = QuoteBook()
        #: Bars of the series followed with :meth:`subscribe_bars`.
        self.bars = BarStore()
        self.bar_subscriptions = BarWants()
        #: Per symbol, how its last (re)subscription with a resume position went.
        self.recovery: dict[str, Recovery] = {}
        self.subscriptions = Subscriptions()
        self.lifecycle = ConnectionLifecycle()
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._heartbeat_s = heartbeat_s or None
        self._server_heartbeat_ms = server_heartbeat_ms
        #: Longest silence accepted from a server sending heartbeats.
        self.silence_s = server_heartbeat_ms * silence_factor / 1000 if server_heartbeat_ms else None
        #: The silence limit on the current connection (None: not watched).
        self._watch: float | None = None
        self._heartbeat_id: int | None = None
        self._connect_timeout_s = connect_timeout_s
        self._backoff_factory = backoff_factory
        self._delays = backoff_factory()
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: deque[Message] = deque()
        self._opened_at = 0.0
        self._retry_in = 0.0
        self._next_id = 0
        self._closing = asyncio.Event()

    # ------------------------------------------------------------ public API

    @property
    def state(self) -> ConnState:
        return self.lifecycle.state

    @property
    def connected(self) -> bool:
        return self.lifecycle.state is ConnState.OPEN

    @property
    def reconnects(self) -> int:
        return max(self.lifecycle.opened - 1, 0)

    async def subscribe(self, symbols: Iterable[str], *, throttle_ms: int = 0) -> int | None:
        """Subscribe (now, or on the next connect); returns the request id if sent."""
        added = self.subscriptions.add(symbols, throttle_ms)
        return await self._send_subscribe(added, throttle_ms) if added else None

    async def unsubscribe(self, symbols: Iterable[str]) -> int | None:
        removed = self.subscriptions.remove(symbols)
        self.book.forget(removed)  # late updates for them are dropped from now on
        if not removed:
            return None
        return await self._send({"op": "unsubscribe", "symbols": removed})

    async def subscribe_bars(
        self, symbols: str | Iterable[str], interval: str, *, history: int = 0, throttle_ms: int = 0
    ) -> int | None:
        """Follow the bars of ``interval`` ("1m", ...) of ``symbols``: a ``bars`` snapshot
        with the last ``history`` closed bars and the forming one, then ``bar`` messages;
        :attr:`bars` keeps them. Resubscribed (with the same history) after a reconnect."""
        names = [symbols] if isinstance(symbols, str) else list(symbols)
        added = self.bar_subscriptions.add(names, interval, history, throttle_ms)
        return await self._send(bar_request(added, interval, history, throttle_ms)) if added else None

    async def unsubscribe_bars(self, symbols: str | Iterable[str], interval: str) -> int | None:
        names = [symbols] if isinstance(symbols, str) else list(symbols)
        removed = self.bar_subscriptions.remove(names, interval)
        for s in removed:
            self.bars.forget(s, interval)
        if not removed:
            return None
        return await self._send({"op": "unsubscribe", "symbols": removed, "bars": interval})

    async def ping(self) -> int | None:
        """Ask for a ``pong`` (it arrives in the stream with the same id)."""
        return await self._send({"op": "ping"})

    async def close(self) -> None:
        if self.lifecycle.state is not ConnState.CLOSED:
            self.lifecycle.to(ConnState.CLOSED, "close()")
        self._closing.set()
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Client:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout_s)
        )
        try:
            await self._attempt()
        except BaseException:
            await self.close()
            raise
        if self.lifecycle.state is ConnState.WAITING and not self.reconnect:
            reason = self._pending[-1].data.get("reason", "") if self._pending else ""
            await self.close()
            raise ConnectionError(f"cannot connect to {self.url}: {reason}")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __aiter__(self) -> Client:
        return self

    async def __anext__(self) -> Message:
        while True:
            if self._pending:
                return self._pending.popleft()
            state = self.lifecycle.state
            if state is ConnState.CLOSED:
                raise StopAsyncIteration
            if state is ConnState.WAITING:
                with contextlib.suppress(TimeoutError):  # close() cuts the wait short
                    await asyncio.wait_for(self._closing.wait(), self._retry_in)
                if self.lifecycle.state is ConnState.WAITING:
                    await self._attempt()
                continue
            ws = self._ws
            assert ws is not None, "OPEN without a socket"
            limit = self._watch
            try:
                msg = await ws.receive(timeout=limit)
            except TimeoutError:
                await self._silent(ws, limit)
                continue
            if msg.type is aiohttp.WSMsgType.TEXT:
                self._frame(msg.data, self._clock())
            elif msg.type is aiohttp.WSMsgType.BINARY:
                continue  # the protocol sends text only; nothing to make of it
            elif self._ws is ws:  # CLOSE, CLOSING, CLOSED, ERROR: this connection is over
                # A CLOSE message carries the server's code and reason; afterwards
                # aiohttp may report 1006 for the socket itself.
                code = msg.data if msg.type is aiohttp.WSMsgType.CLOSE else ws.close_code
                reason = msg.extra if isinstance(msg.extra, str) else ""
                self._lost(
                    int(code) if code is not None else None,
                    reason or str(ws.exception() or "connection closed"),
                )

    # ------------------------------------------------------------ I/O

    async def _send(self, request: dict[str, Any]) -> int | None:
        ws = self._ws
        if ws is None or ws.closed:
            return None
        self._next_id += 1
        request["id"] = self._next_id
        try:
            await ws.send_str(orjson.dumps(request).decode())
        except (ConnectionError, aiohttp.ClientError):
            return None  # the reader sees the close and reconnects; resubscribe covers it
        return self._next_id

    async def _send_subscribe(
        self, symbols: list[str], throttle_ms: int, resume_from: dict[str, Any] | None = None
    ) -> int | None:
        request: dict[str, Any] = {"op": "subscribe", "symbols": symbols}
        if throttle_ms:
            request["throttle_ms"] = throttle_ms
        if resume_from:
            request["since"] = resume_from
        return await self._send(request)

    async def _silent(self, ws: aiohttp.ClientWebSocketResponse, limit: float | None) -> None:
        """Nothing arrived for ``limit`` seconds: the server is gone, reconnect."""
        if self._ws is not ws:
            return
        self._lost(None, f"nothing from the server (not even a heartbeat) for {limit:g} s")
        with contextlib.suppress(TimeoutError, ConnectionError, aiohttp.ClientError):
            async with asyncio.timeout(_CLOSE_SILENT_S):
                await ws.close()  # aiohttp drops the socket at once after a receive timeout

    async def _attempt(self) -> None:
        """One connection attempt; on success resubscribe everything wanted."""
        assert self._session is not None
        self.lifecycle.to(ConnState.CONNECTING, "attempt")
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                ws = await self._session.ws_connect(
                    self.url, headers=self._headers, heartbeat=self._heartbeat_s, max_msg_size=0
                )
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (401, 403):
                self.lifecycle.to(ConnState.CLOSED, f"handshake {exc.status}")
                raise AuthError(
                    f"{self.url}: server refused the connection: {exc.status} {exc.message}"
                ) from exc
            self._lost(None, f"handshake failed: {exc.status} {exc.message}")
            return
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self._lost(None, f"cannot connect: {exc or type(exc).__name__}")
            return
        self._ws = ws
        self._opened_at = time.monotonic()
        self.lifecycle.to(ConnState.OPEN, "connected")
        self.book.forget([q.symbol for q in self.book if q.symbol not in self.subscriptions])
        self._pending.append(self._local("connected", attempt=self.lifecycle.opened, url=self.url))
        self._watch = None
        if self._server_heartbeat_ms:
            interval = self._server_heartbeat_ms
            self._heartbeat_id = await self._send({"op": "heartbeat", "interval_ms": interval})
            self._watch = self.silence_s
        for symbols, throttle_ms in self.subscriptions.requests():
            await self._send_subscribe(symbols, throttle_ms, since(self.book, symbols))
        for request in self.bar_subscriptions.requests():
            await self._send(request)

    def _lost(self, code: int | None, reason: str) -> None:
        """The connection (or an attempt) ended: wait and retry, or close for good."""
        self._ws = None
        self.book.mark_stale()
        state = self.lifecycle.state
        if state is ConnState.CLOSED:
            return
        if not self.reconnect and state is ConnState.OPEN:
            self.lifecycle.to(ConnState.CLOSED, f"connection lost ({code})")
            self._pending.append(self._local("disconnected", code=code, reason=reason, retry_in_s=None))
            return
        if state is ConnState.OPEN and time.monotonic() - self._opened_at >= HEALTHY_AFTER_S:
            self._delays = self._backoff_factory()  # it was healthy: start over from short delays
        self._retry_in = next(self._delays)
        self.lifecycle.to(ConnState.WAITING, f"connection lost ({code})")
        self._pending.append(
            self._local("disconnected", code=code, reason=reason, retry_in_s=round(self._retry_in, 3))
        )

    # ------------------------------------------------------------ frames

    def _local(self, kind: str, **data: Any) -> Message:
        return Message(kind, {"type": kind, **data}, self._clock(), local=True)

    def _frame(self, data: str, now: int) -> None:
        try:
            items = unpack(data)
        except ValueError:
            return  # not protocol JSON: the server's bug, nothing to apply
        book, pending = self.book, self._pending
        for item in items:
            kind = item.get("type")
            if not isinstance(kind, str) or kind == "heartbeat":
                continue  # a heartbeat only says the connection lives: receiving it was the point
            change = book.apply(item)
            if change is None:
                if kind == "subscribed":
                    self._subscribed(item)
                elif kind == "error":
                    code = item.get("code")
                    if code in _PERMANENT_SYMBOL_ERRORS:
                        gone = [s for s in item.get("symbols") or () if isinstance(s, str)]
                        self.subscriptions.remove(gone)
                        self.bar_subscriptions.drop_symbols(gone)
                    elif code == "unknown_op" and item.get("id") == self._heartbeat_id:
                        self._watch = None  # a server without heartbeats: only TCP and pings tell
                elif kind == "bar" or kind == "bars":
                    self.bars.apply(item)
                pending.append(Message(kind, item, now))
            else:
                pending.append(Message(kind, item, now, change.quote, change.gap))


    def _subscribed(self, ack: dict[str, Any]) -> None:
        resumed = outcomes(ack)
        for symbol in ack.get("symbols") or ():
            if symbol in resumed:
                self.recovery[symbol] = resumed[symbol]
            else:
                self.recovery.pop(symbol, None)


def connect(url: str, **options: Any) -> Client:
    """``async with connect(url, token=...) as c: await c.subscribe([...]); async for m in c: ...``

    Options are :class:`Client`'s keyword arguments.
    """
    return Client(url, **options)


def api_url(ws_url: str, path: str) -> str:
    """The HTTP URL of an API path next to a WebSocket URL.

    Resolved relative to the WebSocket path, so a server behind a proxy prefix
    (``wss://host/ticker/ws``) maps to ``https://host/ticker/api/...``.
    """
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urljoin(urlunsplit((scheme, parts.netloc, parts.path, "", "")), path)


async def fetch_symbols(
    ws_url: str, *, token: str | None = None, timeout_s: float = 10.0
) -> dict[str, Instrument]:
    """Every symbol the server knows, with decimals and pip size (``GET /api/symbols``)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
        http.get(api_url(ws_url, "api/symbols"), headers=headers) as resp,
    ):
        resp.raise_for_status()
        body = await resp.json(loads=orjson.loads)
    return {
        s["symbol"]: Instrument(s["symbol"], s["decimals"], s["pip_size"], s.get("description", ""))
        for s in body["symbols"]
    }
