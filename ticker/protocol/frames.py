"""WebSocket framing for server-to-client text frames (RFC 6455 §5.2).

Server frames are never masked, so a frame is a 2-, 4- or 10-byte header
followed by the payload. Building it here lets the flusher write a whole
frame with one ``transport.write`` and no per-frame coroutine.
"""

from __future__ import annotations

import os
import struct

_FIN_TEXT = 0x81
_LEN16 = struct.Struct("!BBH").pack
_LEN64 = struct.Struct("!BBQ").pack
_SHORT = [bytes((_FIN_TEXT, n)) for n in range(126)]


def text_frame(payload: bytes) -> bytes:
    """A complete unmasked, unfragmented text frame carrying ``payload``."""
    n = len(payload)
    if n < 126:
        return _SHORT[n] + payload
    if n < 65536:
        return _LEN16(_FIN_TEXT, 126, n) + payload
    return _LEN64(_FIN_TEXT, 127, n) + payload


def close_frame(code: int, reason: bytes = b"") -> bytes:
    """A close frame with ``code`` and ``reason`` (at most 123 bytes: a control frame
    carries 125 at most, RFC 6455 §5.5)."""
    if len(reason) > 123:
        raise ValueError(f"close reason of {len(reason)} bytes; at most 123")
    return bytes((0x88, 2 + len(reason))) + code.to_bytes(2, "big") + reason


def masked_text_frame(payload: bytes, mask: bytes | None = None) -> bytes:
    """A client-to-server text frame (clients must mask; used by tests and benchmarks)."""
    key = mask if mask is not None else os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes((_FIN_TEXT, 0x80 | n))
    elif n < 65536:
        head = _LEN16(_FIN_TEXT, 0x80 | 126, n)
    else:
        head = _LEN64(_FIN_TEXT, 0x80 | 127, n)
    masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
    return head + key + masked


def split_frames(buf: bytearray) -> list[tuple[int, bytes]]:
    """Remove and return the complete unmasked frames at the start of ``buf``
    as ``(opcode, payload)`` pairs (client side; for tests and tools)."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while len(buf) - pos >= 2:
        n = buf[pos + 1] & 0x7F
        hdr = 2
        if n == 126:
            if len(buf) - pos < 4:
                break
            n, hdr = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
        elif n == 127:
            if len(buf) - pos < 10:
                break
            n, hdr = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
        if len(buf) - pos < hdr + n:
            break
        out.append((buf[pos] & 0x0F, bytes(buf[pos + hdr : pos + hdr + n])))
        pos += hdr + n
    del buf[:pos]
    return out
