"""Where frames are written: one WebSocket connection's I/O loops.

The reader feeds client frames into the sans-I/O :class:`Session`. Frames
from the :class:`Outbox` are written without awaiting: by the shared
:class:`~ticker.flusher.Flusher` while the socket takes data, and by the
connection's own task while it does not (or when permessage-deflate needs
aiohttp's compressor). Nothing ever waits on this client's socket on behalf
of another client, so a slow client only ever delays itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

from aiohttp import WSCloseCode, WSMsgType, web

from ticker.core.outbox import Outbox
from ticker.core.slow_consumer import SlowAction, SlowConsumerGuard, SlowConsumerPolicy
from ticker.core.stats import FanoutStats
from ticker.protocol.codes import Close, CloseCode, CloseReason
from ticker.protocol.frame_guard import FrameGuard
from ticker.protocol.frames import close_frame, text_frame
from ticker.protocol.replies import encode_warning
from ticker.protocol.session import Session
from ticker.security.admission import Admitted
from ticker.server.flusher import Flusher
from ticker.server.inbound import GuardedProtocol

log = logging.getLogger("ticker.connection")

_TEXT = WSMsgType.TEXT


class ConnectionContext(Protocol):
    """What a connection needs from the service: its parts, not the whole service
    (:class:`~ticker.runtime.service.Service` implements it)."""

    @property
    def fanout_stats(self) -> FanoutStats: ...

    @property
    def slow_policy(self) -> SlowConsumerPolicy: ...

    def new_outbox(self, notify: Callable[[], None]) -> Outbox: ...

    def new_session(self, outbox: Outbox, admitted: Admitted | None = None) -> Session: ...


#: Stop writing directly while the transport holds more than this (the client is
#: not reading fast enough); resume when it is back under the low mark.
WRITE_HIGH = 64 * 1024
WRITE_LOW = 16 * 1024
BLOCKED_POLL_S = 0.005


class Connection:
    """One client. Frames normally go out through the shared :class:`Flusher`
    (direct ``transport.write``, no task switch); a connection that is blocked
    (socket buffer full) or compressed is written by its own task instead."""

    # Slots: one of these lives per client; 10,000 idle clients is a target.
    __slots__ = (
        "ws", "peer", "transport", "flusher", "stats", "observe", "_record_latency",
        "outbox", "session", "guard", "close_reason", "direct", "_marked", "_blocked",
        "_closing", "_timer", "_timer_at", "_waiter", "_writer_task", "_closer", "_close_timeout_s",
        "inbound", "close_code", "_inflated_limit",
    )  # fmt: skip

    def __init__(
        self,
        context: ConnectionContext,
        ws: web.WebSocketResponse,
        peer: str,
        transport: asyncio.Transport | None,
        flusher: Flusher,
        admitted: Admitted | None = None,
        *,
        observe: bool = True,
        close_timeout_s: float = 5.0,
        max_message_bytes: int = 0,
    ) -> None:
        self.ws = ws
        self.peer = peer
        self.transport = transport
        self.flusher = flusher
        self.stats = context.fanout_stats
        self.observe = observe
        self._close_timeout_s = close_timeout_s
        #: Per-frame latency goes to a plain list, binned by the sweep (see Histogram).
        self._record_latency = self.stats.fanout_latency.deferred.append
        self.outbox = context.new_outbox(self._notify)
        self.session = context.new_session(self.outbox, admitted)
        self.guard = SlowConsumerGuard(context.slow_policy)
        self.close_reason = CloseReason.CLIENT
        #: Direct writes need a plain transport; permessage-deflate goes through aiohttp.
        self.direct = transport is not None and not ws.compress
        self._marked = False
        self._blocked = False
        self._closing = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        #: The code of the close frame the server sent, once it sent one of its own.
        self.close_code: int | None = None
        #: Every client byte passes the frame guard (masking, framing, size) first.
        self.inbound: GuardedProtocol | None = None
        if transport is not None:
            guard = FrameGuard(max_message_bytes, compression=bool(ws.compress))
            self.inbound = GuardedProtocol.install(transport, guard, self._violation)
        #: permessage-deflate: a message can inflate past its size on the wire, so the
        #: limit is checked again on what aiohttp hands over.
        self._inflated_limit = max_message_bytes if ws.compress else 0

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Serve until the client or the server closes the connection."""
        stats = self.stats
        stats.connections += 1
        stats.opened += 1
        log.info("client connected", extra={"peer": self.peer})
        if not self.direct:  # permessage-deflate: aiohttp's compressor, so a writer task
            self._writer_task = asyncio.create_task(self._write_loop(), name=f"writer:{self.peer}")
        try:
            await self._read_loop()
        finally:
            self._closing = True
            self.session.close()
            if self._timer is not None:
                self._timer.cancel()
            if self._closer is not None:
                await self._closer
            if self._writer_task is not None:
                self._writer_task.cancel()
                await asyncio.gather(self._writer_task, return_exceptions=True)
            stats.connections -= 1
            stats.closed[self.close_reason] += 1
            extra: dict[str, object] = {"peer": self.peer, "reason": self.close_reason}
            if self.close_code is not None:
                extra["code"] = self.close_code
            elif self.inbound is not None and self.inbound.guard.peer_closed:
                extra["code"] = CloseCode.NORMAL  # the client closed; aiohttp's echo is 1000
                extra["client_code"] = self.ws.close_code
            else:
                extra["code"] = CloseCode.ABNORMAL  # no close frame went out
            log.info("client disconnected: %s", self.close_reason, extra=extra)

    async def _read_loop(self) -> None:
        session = self.session
        clock = time.monotonic
        limit = self._inflated_limit
        async for msg in self.ws:
            if limit and msg.type is not WSMsgType.ERROR and len(msg.data) > limit:
                close: Close | None = Close(
                    CloseCode.MESSAGE_TOO_BIG,
                    f"message too big: {len(msg.data)} bytes inflated, the limit is {limit}",
                    CloseReason.MESSAGE_TOO_BIG,
                )
            elif msg.type is _TEXT:
                close = session.receive(msg.data, clock())
            elif msg.type is WSMsgType.BINARY:
                close = session.receive_binary(clock())
            else:  # ERROR: aiohttp has already sent its close frame and closed the socket
                if self._closer is None:
                    self.close_reason = self._error_reason(msg.data)
                    code = getattr(msg.data, "code", None)
                    self.close_code = code if isinstance(code, int) else CloseCode.ABNORMAL
                break
            if close is not None:
                self.kill(close.code, close.frame_reason(), close.reason)
        # A missed pong closes the socket without an ERROR message when no read was pending.
        if self.close_reason is CloseReason.CLIENT and isinstance(self.ws.exception(), TimeoutError):
            self.close_reason = CloseReason.HEARTBEAT_TIMEOUT
            self.close_code = CloseCode.ABNORMAL

    def _violation(self, close: Close) -> None:
        """The frame guard refused a client frame: close with its code."""
        self.kill(close.code, close.frame_reason(), close.reason)

    @staticmethod
    def _error_reason(exc: object) -> CloseReason:
        if isinstance(exc, TimeoutError):  # aiohttp's heartbeat: no pong in time
            return CloseReason.HEARTBEAT_TIMEOUT
        code = getattr(exc, "code", None)
        if code == WSCloseCode.MESSAGE_TOO_BIG:
            return CloseReason.MESSAGE_TOO_BIG
        if isinstance(code, int):  # aiohttp refused a frame and sent this code
            return CloseReason.PROTOCOL_ERROR
        return CloseReason.CLIENT  # the connection was lost (reset, EOF): nothing was sent

    def _notify(self) -> None:
        """The outbox has something to send (or a throttled update to time)."""
        if self.direct and not self._blocked:
            if not self._marked:
                self._marked = True
                self.flusher.mark(self)
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # ------------------------------------------------------------ direct path

    def flush(self, now: float) -> None:
        """Write everything pending as one frame (called by the Flusher).

        The hot path of the server: kept to attribute reads and one write, since
        profiles put it at about 40% of CPU under load (docs/benchmarks.md)."""
        if self._closing or self._blocked:
            self._marked = False
            return
        outbox = self.outbox
        if outbox.held:
            outbox.release_due(now)
        queue = outbox.queue
        if queue:
            transport = self.transport
            assert transport is not None
            if transport.is_closing():
                self._closing = True
                self._marked = False
                return
            if self.observe:
                self._record_latency(now - outbox.since)
            frame = outbox.take_frame()
            if frame is not None:
                stats = self.stats
                stats.frames_sent += 1
                stats.bytes_sent += len(frame)
                transport.write(text_frame(frame))
                if transport.get_write_buffer_size() > WRITE_HIGH:
                    self._marked = False
                    self._block()
                    return
        if outbox.held:
            due = outbox.next_due()
            if due is not None and (self._timer is None or due < self._timer_at):
                self._arm(due)
        if queue:  # more than one frame's worth was pending
            self.flusher.mark(self)
        else:
            self._marked = False

    def _block(self) -> None:
        """The client's socket is full: stop direct writes until it drains.

        The waiting task exists only while blocked (idle connections carry no
        task: about 1 KiB each less, see docs/benchmarks.md, idle connections)."""
        self._blocked = True
        task = self._writer_task
        if task is None or task.done():
            self._writer_task = asyncio.create_task(self._until_drained(), name=f"drain:{self.peer}")

    def _arm(self, due: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = due
        self._timer = asyncio.get_running_loop().call_at(due, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        self._notify()

    async def _until_drained(self) -> None:
        """Wait for the blocked socket to drain, then hand back to the flusher."""
        transport = self.transport
        assert transport is not None
        if not await _drained(transport, WRITE_LOW, deadline=None, give_up_if_closing=True):
            return
        self._blocked = False
        if self.outbox.queue or self.outbox.held:
            self._notify()

    # ------------------------------------------------------------ task path (compression)

    async def _write_loop(self) -> None:
        outbox = self.outbox
        stats = self.stats
        send = self.ws.send_frame
        clock = time.monotonic
        loop = asyncio.get_running_loop()
        observe = self.observe
        record_latency = self._record_latency
        try:
            while not self._closing:
                now = clock()
                outbox.release_due(now)
                lag = outbox.lag(now)
                frame = outbox.take_frame()
                if frame is None:
                    waiter = self._waiter = loop.create_future()
                    due = outbox.next_due()
                    timer = loop.call_at(due, self._notify) if due is not None else None
                    try:
                        await waiter
                    finally:
                        self._waiter = None
                        if timer is not None:
                            timer.cancel()
                    continue
                if observe:
                    record_latency(lag)
                stats.frames_sent += 1
                stats.bytes_sent += len(frame)
                await send(frame, _TEXT)
        except (ConnectionError, RuntimeError):
            pass  # the socket went away; the reader sees it too

    def check_session(self, now: float) -> None:
        """The session's timers: auth deadline, token expiry."""
        if self._closer is not None:
            return
        close = self.session.check(now)
        if close is not None:
            self.kill(close.code, close.frame_reason(), close.reason)

    # ------------------------------------------------------------ slow consumers

    def check_slow(self, now: float) -> None:
        if self._closer is not None:
            return
        transport = self.transport
        buffered = transport.get_write_buffer_size() if transport is not None else 0
        pending = self.outbox.pending_bytes + buffered
        lag = self.outbox.lag(now)
        verdict = self.guard.check(pending, lag, now)
        if verdict is SlowAction.OK:
            return
        why = self.guard.describe(pending, lag)
        if verdict is SlowAction.WARN:
            self.stats.slow_consumer_warnings += 1
            grace = self.guard.policy.grace_s
            warning = encode_warning(
                "slow_consumer",
                f"this connection is not reading fast enough ({why}); "
                f"it will be closed with code 1013 if this lasts {grace:g} s",
                pending_bytes=pending,
                lag_ms=round(lag * 1000),
            )
            if self.direct and transport is not None and not transport.is_closing():
                # Straight behind the data already in flight: the outbox may be stuck.
                transport.write(text_frame(warning))
            else:
                self.outbox.push_front(warning, now)
            return
        self.stats.slow_consumer_closes += 1
        log.warning(
            "closing slow consumer: %s", why, extra={"peer": self.peer, "code": CloseCode.TRY_AGAIN_LATER}
        )
        why_bytes = b"slow consumer: " + why.encode()[:100]
        self.kill(CloseCode.TRY_AGAIN_LATER, why_bytes, CloseReason.SLOW_CONSUMER)

    # ------------------------------------------------------------ closing

    @property
    def closing(self) -> asyncio.Task[None] | None:
        """The task closing this connection from the server side, once :meth:`kill` ran."""
        return self._closer

    def kill(self, code: int, message: bytes, reason: CloseReason) -> None:
        """Close from the server side (owned by this connection; awaited in run())."""
        if self._closer is not None:
            return
        self.close_reason = reason
        self.close_code = code
        self._closer = asyncio.create_task(self._close(code, message), name=f"close:{self.peer}")

    async def _close(self, code: int, message: bytes) -> None:
        """The server's half of the closing handshake (RFC 6455 §7.1.2).

        Replies still queued go out first (the error that explains the close),
        except to a slow consumer, whose backlog is dropped. Then the close
        frame, and then the socket stays open and read until the client's close
        frame, its EOF or the deadline: input left unread when a socket is
        closed makes the kernel answer with a reset, which destroys the frames
        still on their way to the client (the warning and this close among
        them). The frame guard drops what arrives meanwhile. Once the client
        has answered, the server's FIN goes first and the socket is read until
        the client's FIN. A client that has not taken its data by the deadline
        is cut off."""
        self._closing = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(self._close_timeout_s, 0.1)
        await self._stop_writer(deadline)
        last_words = self.close_reason is not CloseReason.SLOW_CONSUMER and not self._blocked
        self.session.close()
        transport = self.transport
        inbound = self.inbound
        if transport is None or inbound is None:  # no socket of our own: aiohttp's close
            self.outbox.drop_all()
            with contextlib.suppress(TimeoutError, ConnectionError):
                async with asyncio.timeout_at(deadline):
                    await self.ws.close(code=code, message=message, drain=False)
            return
        if transport.is_closing():  # aiohttp closed it already (a client close, a missed pong)
            self.outbox.drop_all()
            return
        if last_words:
            await self._write_pending(deadline)
        self.outbox.drop_all()
        inbound.closing()
        transport.write(close_frame(code, message))
        answered = await inbound.wait_peer(deadline) and not inbound.gone
        await _drained(transport, 0, deadline=deadline, give_up_if_closing=False)
        if transport.get_write_buffer_size():
            transport.abort()  # still not taken at the deadline: the client is not reading
            return
        if answered and transport.can_write_eof() and not transport.is_closing():
            # Lingering close: our FIN first (RFC 6455 §7.1.1), and whatever the client
            # still sends is read and dropped until its own FIN, never met with a reset.
            transport.write_eof()
            await inbound.wait_gone(deadline)
        transport.close()

    async def _stop_writer(self, deadline: float) -> None:
        """Let the compression writer finish the frame it is sending (a frame cut
        short would corrupt the stream), then stop it."""
        task = self._writer_task
        if task is None or task.done():
            return
        if not self.direct:  # (a direct connection's task only waits for a drain)
            self._notify()  # wakes it; it sees _closing and returns
            timeout = max(0.0, min(deadline - asyncio.get_running_loop().time(), 0.5))
            await asyncio.wait({task}, timeout=timeout)
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _write_pending(self, deadline: float) -> None:
        """Send what the outbox still holds, as frames, before the close frame."""
        outbox = self.outbox
        stats = self.stats
        transport = self.transport
        assert transport is not None
        while (frame := outbox.take_frame()) is not None:
            stats.frames_sent += 1
            stats.bytes_sent += len(frame)
            if self.direct:
                transport.write(text_frame(frame))
                continue
            try:
                async with asyncio.timeout_at(deadline):
                    await self.ws.send_frame(frame, _TEXT)
            except (TimeoutError, ConnectionError, RuntimeError):
                return


async def _drained(
    transport: asyncio.Transport, low: int, *, deadline: float | None, give_up_if_closing: bool
) -> bool:
    """Wait until the transport holds at most ``low`` bytes; False if it closed or
    the deadline passed first. Polled: asyncio transports expose no public
    "drained" event to a protocol they do not belong to, and only slow clients
    ever get here."""
    loop = asyncio.get_running_loop()
    while transport.get_write_buffer_size() > low:
        if (give_up_if_closing and transport.is_closing()) or (
            deadline is not None and loop.time() > deadline
        ):
            return False
        await asyncio.sleep(BLOCKED_POLL_S)
    return True
