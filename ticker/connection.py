"""Where frames are written: one WebSocket connection's I/O loops.

The reader feeds client frames into the sans-I/O :class:`Session`; the
writer, the connection's own task, takes coalesced frames from the
:class:`Outbox` and awaits the socket. Nothing else ever awaits this
client's socket, so a slow client only ever delays itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, WSMsgType, web

from ticker.protocol import encode_warning
from ticker.slow_consumer import SlowConsumerGuard, Verdict

if TYPE_CHECKING:
    from ticker.service import Service

log = logging.getLogger("ticker.connection")

#: Close code for a client that cannot keep up ("try again later").
TRY_AGAIN_LATER = 1013
_TEXT = WSMsgType.TEXT


class Connection:
    def __init__(
        self,
        service: Service,
        ws: web.WebSocketResponse,
        peer: str,
        transport: asyncio.Transport | None,
    ) -> None:
        self.service = service
        self.ws = ws
        self.peer = peer
        self.transport = transport
        self.stats = service.fanout_stats
        self.outbox = service.new_outbox(self._notify)
        self.session = service.new_session(self.outbox)
        self.guard = SlowConsumerGuard(service.slow_policy)
        self.close_reason = "client"
        self._waiter: asyncio.Future[None] | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Serve until the client or the server closes the connection."""
        stats = self.stats
        stats.connections += 1
        stats.opened += 1
        log.info("client connected", extra={"peer": self.peer})
        self._writer_task = asyncio.create_task(self._write_loop(), name=f"writer:{self.peer}")
        try:
            await self._read_loop()
        finally:
            self.session.close()
            if self._closer is not None:
                await self._closer
            self._writer_task.cancel()
            await asyncio.gather(self._writer_task, return_exceptions=True)
            stats.connections -= 1
            stats.closed[self.close_reason] += 1
            log.info(
                "client disconnected: %s",
                self.close_reason,
                extra={"peer": self.peer, "code": self.ws.close_code},
            )

    async def _read_loop(self) -> None:
        session = self.session
        clock = time.monotonic
        async for msg in self.ws:
            if msg.type is _TEXT:
                session.receive(msg.data, clock())
            elif msg.type is WSMsgType.BINARY:
                session.receive_binary(clock())
            else:  # ERROR: aiohttp has already closed the socket with the right code
                if self.close_reason == "client":
                    code = getattr(msg.data, "code", None)
                    too_big = code == WSCloseCode.MESSAGE_TOO_BIG
                    self.close_reason = "message_too_big" if too_big else "protocol_error"
                break

    def _notify(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _write_loop(self) -> None:
        outbox = self.outbox
        stats = self.stats
        send = self.ws.send_frame
        clock = time.monotonic
        loop = asyncio.get_running_loop()
        latency = stats.fanout_latency
        depth = stats.queue_depth
        try:
            while True:
                now = clock()
                outbox.release_due(now)
                lag = outbox.lag(now)
                depth.observe(len(outbox))
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
                latency.observe(lag)
                stats.frames_sent += 1
                stats.bytes_sent += len(frame)
                await send(frame, _TEXT)
        except (ConnectionError, RuntimeError):
            pass  # the socket went away; the reader sees it too

    # ------------------------------------------------------------ slow consumers

    def check_slow(self, now: float) -> None:
        if self._closer is not None:
            return
        transport = self.transport
        buffered = transport.get_write_buffer_size() if transport is not None else 0
        pending = self.outbox.pending_bytes + buffered
        lag = self.outbox.lag(now)
        verdict = self.guard.check(pending, lag, now)
        if verdict is Verdict.OK:
            return
        why = self.guard.describe(pending, lag)
        if verdict is Verdict.WARN:
            self.stats.slow_consumer_warnings += 1
            grace = self.guard.policy.grace_s
            self.outbox.push_front(
                encode_warning(
                    "slow_consumer",
                    f"this connection is not reading fast enough ({why}); "
                    f"it will be closed with code 1013 if this lasts {grace:g} s",
                    pending_bytes=pending,
                    lag_ms=round(lag * 1000),
                ),
                now,
            )
            return
        self.stats.slow_consumer_closes += 1
        log.warning("closing slow consumer: %s", why, extra={"peer": self.peer, "code": 1013})
        self.kill(TRY_AGAIN_LATER, b"slow consumer: " + why.encode()[:100], "slow_consumer")

    # ------------------------------------------------------------ closing

    def kill(self, code: int, message: bytes, reason: str) -> None:
        """Close from the server side (owned by this connection; awaited in run())."""
        if self._closer is not None:
            return
        self.close_reason = reason
        self._closer = asyncio.create_task(self._close(code, message), name=f"close:{self.peer}")

    async def _close(self, code: int, message: bytes) -> None:
        if self._writer_task is not None:
            self._writer_task.cancel()
        self.outbox.drop_all()
        self.session.close()
        timeout = self.service.config.server.shutdown_timeout_s
        try:
            async with asyncio.timeout(max(timeout, 0.1)):
                await self.ws.close(code=code, message=message, drain=False)
        except (TimeoutError, ConnectionError):
            pass
        # A client that is not reading never takes the close frame: don't wait for it.
        transport = self.transport
        if transport is not None and (not transport.is_closing() or transport.get_write_buffer_size()):
            transport.abort()
