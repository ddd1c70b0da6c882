"""Feeds a test can drive tick by tick, and a fake upstream WebSocket server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import WSMsgType, web

from feeds.base import Feed, TickSink
from ticker.core.model import Instrument, Tick


def now_us() -> int:
    return time.time_ns() // 1000


class ScriptedFeed(Feed):
    """Publishes whatever the test puts in :attr:`queue`; an Exception in the
    queue is raised from run() (a crash)."""

    def __init__(self, name: str, instruments: list[Instrument]) -> None:
        super().__init__(name)
        self._instruments = instruments
        self.queue: asyncio.Queue[Tick | Exception] = asyncio.Queue()
        self.runs = 0

    def instruments(self) -> list[Instrument]:
        return self._instruments

    def tick(self, symbol: str, bid: float, ask: float) -> None:
        self.queue.put_nowait(Tick(symbol, bid, ask, now_us()))

    async def run(self, sink: TickSink) -> None:
        self.runs += 1
        while True:
            item = await self.queue.get()
            if isinstance(item, Exception):
                raise item
            sink.publish_tick(item)


class FakeUpstream:
    """A loopback WebSocket server speaking some venue's format.

    ``frames(i)`` makes the i-th frame (text) sent every ``interval`` seconds
    after the first client message (the subscription) arrives; ``received``
    keeps what clients sent. ``stop()`` kills it mid-stream; ``start()`` brings
    it back on the same port. ``silent`` keeps connections open but sends nothing.
    """

    def __init__(self, frames: Callable[[int], str], interval: float = 0.02) -> None:
        self.frames = frames
        self.interval = interval
        self.received: list[str] = []
        self.connections = 0
        self.sent = 0
        self.silent = False
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def _handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        first = await ws.receive(timeout=5)
        if first.type is WSMsgType.TEXT:
            self.received.append(first.data)

        async def pump() -> None:
            while not ws.closed:
                if not self.silent:
                    await ws.send_str(self.frames(self.sent))
                    self.sent += 1
                await asyncio.sleep(self.interval)

        task = asyncio.create_task(pump())
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    self.received.append(msg.data)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return ws

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self._handler)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@asynccontextmanager
async def fake_upstream(frames: Callable[[int], str], interval: float = 0.02) -> AsyncIterator[FakeUpstream]:
    up = FakeUpstream(frames, interval)
    await up.start()
    try:
        yield up
    finally:
        await up.stop()


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples matching ``labels`` in Prometheus text."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    found = False
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
                found = True
    assert found, f"{name}{labels} not exported"
    return total
