"""A WebSocket's bytes from the client, through the frame guard, to aiohttp.

After the upgrade the connection puts a :class:`GuardedProtocol` between the
transport and aiohttp's protocol (``transport.set_protocol``, asyncio's own
API: no aiohttp internals). Every received chunk goes through the sans-I/O
:class:`~ticker.protocol.frame_guard.FrameGuard`; what it lets through goes
on to aiohttp's parser unchanged, everything else of the transport's
protocol calls is passed on as it is. A violation is reported once to the
connection, which closes with the guard's code; while the server closes,
:meth:`GuardedProtocol.wait_peer` tells it when the client has answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ticker.protocol.codes import Close
from ticker.protocol.frame_guard import FrameGuard


class GuardedProtocol(asyncio.Protocol):
    __slots__ = ("inner", "guard", "_on_violation", "_reported", "_peer_done", "_gone", "_waiter")

    def __init__(
        self, inner: asyncio.Protocol, guard: FrameGuard, on_violation: Callable[[Close], None]
    ) -> None:
        self.inner = inner
        self.guard = guard
        self._on_violation = on_violation
        self._reported = False
        #: The client sent its close frame, or EOF, or the connection is gone.
        self._peer_done = False
        #: The client sent EOF, or the connection is gone.
        self._gone = False
        self._waiter: asyncio.Future[None] | None = None

    @classmethod
    def install(
        cls, transport: asyncio.BaseTransport, guard: FrameGuard, on_violation: Callable[[Close], None]
    ) -> GuardedProtocol:
        """Put a guard in front of ``transport``'s protocol (right after the upgrade,
        before anything else is read)."""
        inner = transport.get_protocol()
        assert isinstance(inner, asyncio.Protocol)
        guarded = cls(inner, guard, on_violation)
        transport.set_protocol(guarded)
        return guarded

    @property
    def peer_done(self) -> bool:
        return self._peer_done

    def closing(self) -> None:
        """The server has sent its close frame."""
        self.guard.closing()

    @property
    def gone(self) -> bool:
        return self._gone

    async def wait_peer(self, deadline: float) -> bool:
        """Wait until the client has answered the close (or gone), at most until
        ``deadline`` (loop time); True if it did."""
        await self._wait(lambda: self._peer_done, deadline)
        return self._peer_done

    async def wait_gone(self, deadline: float) -> bool:
        """Wait for the client's EOF (or the end of the connection) until ``deadline``."""
        await self._wait(lambda: self._gone, deadline)
        return self._gone

    async def _wait(self, done: Callable[[], bool], deadline: float) -> None:
        while not done():
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout_at(deadline):
                    await self._waiter
            except TimeoutError:
                return
            finally:
                self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _done(self, gone: bool = False) -> None:
        self._peer_done = True
        self._gone = self._gone or gone
        self._wake()

    # ------------------------------------------------------------ asyncio.Protocol

    def data_received(self, data: bytes) -> None:
        guard = self.guard
        out = guard.feed(data)
        if out:
            self.inner.data_received(out)
        if guard.violation is not None and not self._reported:
            self._reported = True
            self._on_violation(guard.violation)
        if guard.peer_closed:
            self._done()

    def eof_received(self) -> bool | None:
        self._done(gone=True)
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._done(gone=True)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()
