"""A raw-socket WebSocket client for tests that must misbehave below any client library."""

from __future__ import annotations

import asyncio
import os
import struct

import orjson

from tests.support.helpers import RawClient

REQUEST = (
    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
)

TEXT, BINARY, CLOSE, PING = 0x1, 0x2, 0x8, 0x9


def frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv: int = 0) -> bytes:
    """One frame, masked like a client's unless told otherwise."""
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if masked else 0
    n = len(payload)
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def huge_length_header() -> bytes:
    """A masked text frame header announcing 2^62 bytes of payload."""
    return bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 2**62) + os.urandom(4)


async def upgrade(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a socket and complete the WebSocket handshake; nothing else."""
    c = await RawClient.connect(f"ws://127.0.0.1:{port}/ws", rcvbuf=65536)
    return c.reader, c.writer


async def outcome(reader: asyncio.StreamReader, timeout: float = 5.0) -> str:
    """What the server did next: ``close:<code>``, ``eof``, or ``reply:<type or error code>``."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                b0, b1 = await reader.readexactly(2)
            except (asyncio.IncompleteReadError, ConnectionError):
                return "eof"
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", await reader.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", await reader.readexactly(8))[0]
            payload = await reader.readexactly(n)
            opcode = b0 & 0x0F
            if opcode == CLOSE:
                return f"close:{struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else 1005}"
            if opcode == TEXT:
                msg = orjson.loads(payload)
                msg = msg[0] if isinstance(msg, list) else msg
                return f"reply:{msg.get('code', msg['type'])}"


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The next server frame: (opcode, payload)."""
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    return b0 & 0x0F, await reader.readexactly(n)


class Ending:
    """How the server ended a connection, as the client saw it."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.pongs = 0
        self.close_code: int | None = None
        self.close_reason = ""
        #: After the close frame: "eof" (a clean TCP close), "reset", or "open" (still open).
        self.then = ""
        #: Before any close frame: the socket was reset or ended.
        self.lost = ""

    def __repr__(self) -> str:
        kinds = [m.get("code", m.get("type")) for m in self.messages][-5:]
        return f"Ending(close={self.close_code} {self.close_reason!r} then={self.then} lost={self.lost} last={kinds})"


async def ending(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float = 10.0, *, answer: bool = True
) -> Ending:
    """Read everything up to the server's close frame, answer it with a close frame (as
    a client should, unless ``answer`` is false) and see how the TCP connection ends."""
    out = Ending()
    async with asyncio.timeout(timeout):
        while out.close_code is None:
            try:
                opcode, payload = await read_frame(reader)
            except asyncio.IncompleteReadError:
                out.lost = "eof"
                return out
            except ConnectionResetError:
                out.lost = "reset"
                return out
            if opcode == CLOSE:
                out.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                out.close_reason = payload[2:].decode()
            elif opcode == TEXT:
                msg = orjson.loads(payload)
                out.messages.extend(msg if isinstance(msg, list) else [msg])
            elif opcode == 0xA:
                out.pongs += 1
        if answer:
            writer.write(frame(CLOSE, struct.pack("!H", out.close_code)))
        try:
            async with asyncio.timeout(timeout / 2):
                while await reader.read(65536):
                    pass
            out.then = "eof"
            writer.close()  # as a client does once the server has closed
        except ConnectionResetError:
            out.then = "reset"
        except TimeoutError:
            out.then = "open"
    return out
