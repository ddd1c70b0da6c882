"""Shared test helpers: a real server on a loopback port, and a WebSocket client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from feeds.base import Feed
from ticker.config import Config
from ticker.runtime.configure import from_dict
from ticker.runtime.service import Service
from ticker.server.app import make_app
from ticker.server.clients import Clients
from ticker.server.keys import CLIENTS
from ticker.server.listener import make_runner, start_site
from ticker.server.tls import server_context


def config(**sections: Any) -> Config:
    """A test config: loopback, random port, a fast synthetic feed, plus overrides."""
    raw: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": 0, "heartbeat_s": 0},
        "feeds": [{"type": "synthetic", "rate": 400.0, "seed": 7}],
    }
    for name, body in sections.items():
        if isinstance(body, dict):
            raw.setdefault(name, {}).update(body)
        else:
            raw[name] = body
    return from_dict(raw)


@dataclass
class Running:
    service: Service
    base: str  # http://127.0.0.1:PORT
    ws_url: str
    runner: web.AppRunner
    clients: Clients

    async def stop(self) -> None:
        """Shut the server down as SIGTERM would (idempotent)."""
        await self.runner.cleanup()


@asynccontextmanager
async def running(
    cfg: Config | None = None,
    feeds: list[Feed] | None = None,
    port: int = 0,
    clock: Callable[[], float] = time.monotonic,
    **extra: Any,
) -> AsyncIterator[Running]:
    """A real server on 127.0.0.1; ``port`` 0 picks a free one (give one to restart on it);
    ``clock``: the service's monotonic clock (staleness, metrics ages); ``extra``: more
    arguments for the :class:`Service` (an injected ``wall`` clock)."""
    cfg = cfg or config()
    service = Service(cfg, feeds=feeds, clock=clock, **extra)
    app = make_app(cfg, service)
    runner = make_runner(app, cfg)  # the listener `ticker serve` uses: handshake deadlines, TLS
    await runner.setup()
    site = await start_site(runner, cfg, "127.0.0.1", port, server_context(cfg.tls))
    port = site.port
    secure = "s" if cfg.tls.enabled else ""
    base = f"http{secure}://127.0.0.1:{port}"
    try:
        yield Running(service, base, f"ws{secure}://127.0.0.1:{port}{cfg.server.ws_path}", runner, app[CLIENTS])
    finally:
        await runner.cleanup()


def messages(data: str | bytes) -> list[dict[str, Any]]:
    """Unpack one frame: a message object or an array of them."""
    obj = orjson.loads(data)
    return obj if isinstance(obj, list) else [obj]


class Client:
    """A thin test client over aiohttp's WebSocket client."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.buffer: list[dict[str, Any]] = []

    async def send(self, obj: Any) -> None:
        await self.ws.send_str(obj if isinstance(obj, str) else orjson.dumps(obj).decode())

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no message within timeout")
            msg = await self.ws.receive(timeout=remaining)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"connection ended: {msg.type.name} {msg.data!r} {msg.extra!r}")
            self.buffer.extend(messages(msg.data))
        return self.buffer.pop(0)

    async def until(self, pred: Any, timeout: float = 5.0) -> dict[str, Any]:
        """Skip messages until one satisfies ``pred``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            msg = await self.next(max(remaining, 0.001))
            if pred(msg):
                return msg

    async def collect(self, seconds: float) -> list[dict[str, Any]]:
        """Every message received during ``seconds``."""
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                out.append(await self.next(remaining))
            except TimeoutError:
                break
        return out


@asynccontextmanager
async def client(url: str, **kwargs: Any) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url, **kwargs) as ws:
        yield Client(ws)


async def wait_for(pred: Any, timeout: float = 5.0, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(interval)


class RawClient:
    """A bare WebSocket client on a socket with a small receive buffer, that can
    stop reading: for tests of what the server does with slow consumers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.close_code: int | None = None

    @classmethod
    async def connect(cls, url: str, rcvbuf: int = 4096) -> RawClient:
        import base64
        import os
        import socket
        from urllib.parse import urlsplit

        u = urlsplit(url)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (u.hostname, u.port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**24)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def send(self, obj: Any) -> None:
        from ticker.protocol.frames import masked_text_frame

        self.writer.write(masked_text_frame(orjson.dumps(obj)))
        await self.writer.drain()

    def stop_reading(self) -> None:
        """Stop taking data off the socket: the server sees a stalled client."""
        self.writer.transport.pause_reading()  # type: ignore[attr-defined]

    def resume_reading(self) -> None:
        self.writer.transport.resume_reading()  # type: ignore[attr-defined]

    async def read_messages(self, seconds: float) -> list[dict[str, Any]]:
        """Read for ``seconds`` (or until the server closes); return the messages."""
        from ticker.protocol.frames import split_frames

        self.resume_reading()
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        while self.close_code is None and (remaining := deadline - time.monotonic()) > 0:
            try:
                data = await asyncio.wait_for(self.reader.read(1 << 20), remaining)
            except TimeoutError:
                break
            if not data:
                break
            self.buf += data
            for opcode, payload in split_frames(self.buf):
                if opcode == 8:
                    self.close_code = int.from_bytes(payload[:2], "big") if payload else 1005
                    self.close_reason = payload[2:].decode(errors="replace")
                elif opcode == 1:
                    out.extend(messages(payload))
        return out

    def close(self) -> None:
        self.writer.transport.abort()


class ScriptedFeed(Feed):
    """A feed the test drives: ``await feed.tick(...)`` publishes exactly what it is told."""

    def __init__(self, symbols: list[str], name: str = "scripted") -> None:
        from ticker.core.model import Instrument

        super().__init__(name)
        self._instruments = [Instrument(s, 5, 0.0001) for s in symbols]
        self.sink: Any = None
        self.started = asyncio.Event()
        self.ts = time.time_ns() // 1000

    def instruments(self) -> list[Any]:
        return self._instruments

    async def run(self, sink: Any) -> None:
        self.sink = sink
        self.started.set()
        await asyncio.Event().wait()

    def tick(self, symbol: str, bid: float, ask: float, size: float = 1e6) -> None:
        from ticker.core.model import Tick

        self.ts += 1
        assert self.sink.publish_tick(Tick(symbol, bid, ask, self.ts, size, size))
