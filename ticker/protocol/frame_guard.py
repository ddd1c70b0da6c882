"""Client frames checked before the WebSocket parser sees them (RFC 6455 §5).

aiohttp's frame parser accepts unmasked client frames, refuses a message of
exactly its ``max_msg_size`` and, on a broken frame, closes the socket at
once (unread input then turns the close into a reset). So every byte a
client sends after the upgrade passes through a :class:`FrameGuard` first:
sans-I/O, bytes in, the bytes the parser may see out, and a verdict.

Invariants:

* Frame boundaries come from the headers alone: 2 to 14 header bytes, then
  a payload that is only counted, never unmasked or copied. The stream is
  in step from the first byte after the upgrade (a client must not send
  before the server's handshake response, RFC 6455 §4.1).
* A frame reaches the parser whole or not at all: an incomplete header is
  held back until it is complete and checked, so the parser never holds
  part of a refused frame and stays in step with the guard.
* The first violation wins and nothing from that frame on is forwarded:
  1002 for an unmasked frame, reserved bits or opcodes, a fragmented or
  oversized control frame, a continuation without a message or a new message
  inside a fragmented one; 1009 for a message whose payload is over
  ``max_message_bytes`` (exactly that many is accepted), known from the
  headers before any of it is buffered.
* Once the server is closing (:meth:`closing`, or after a violation),
  from the next frame boundary on only pong frames are forwarded (any
  received bytes keep aiohttp's heartbeat from firing); everything else
  is dropped, and the client's close frame is noted (:attr:`peer_closed`)
  instead of forwarded: the parser would answer it with a second close.
"""

from __future__ import annotations

from ticker.protocol.codes import Close, CloseCode, CloseReason

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_KNOWN_OPCODES = frozenset((CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG))


def _protocol_error(why: str) -> Close:
    return Close(CloseCode.PROTOCOL_ERROR, f"protocol error: {why}", CloseReason.PROTOCOL_ERROR)


class FrameGuard:
    """Follows one client's frames; :meth:`feed` returns what the parser may see."""

    __slots__ = (
        "max_message_bytes", "compression", "violation", "peer_closed", "frames_dropped",
        "_held", "_left", "_forwarding", "_opcode", "_in_message", "_message_bytes", "_closing",
    )  # fmt: skip

    def __init__(self, max_message_bytes: int, *, compression: bool = False) -> None:
        #: Largest message payload accepted (after it, 1009); 0 = no limit.
        self.max_message_bytes = max_message_bytes
        #: permessage-deflate was negotiated: RSV1 may mark a message's first frame.
        self.compression = compression
        #: Why the connection must be closed, once a frame broke the rules.
        self.violation: Close | None = None
        #: The client's close frame has arrived whole.
        self.peer_closed = False
        #: Frames not forwarded since the server started closing (or the violation).
        self.frames_dropped = 0
        self._held = b""
        self._left = 0  # payload bytes of the current frame still to come
        self._forwarding = True  # the current frame's payload goes to the parser
        self._opcode = -1  # the current frame's opcode (-1 between frames)
        self._in_message = False  # inside a fragmented data message
        self._message_bytes = 0
        self._closing = False

    def closing(self) -> None:
        """The server has sent its close frame: from the next frame on, drop all but pongs."""
        self._closing = True

    @property
    def dropping(self) -> bool:
        return self._closing or self.violation is not None

    def feed(self, data: bytes) -> bytes:
        """Take bytes from the socket; return those the WebSocket parser may see, in order."""
        if self._held:
            data = self._held + data
            self._held = b""
        n = len(data)
        pos = 0
        parts: list[bytes] = []
        run = 0  # start of the forwarded run in progress, or -1 inside a dropped one
        left = self._left
        forwarding = self._forwarding
        limit = self.max_message_bytes
        while pos < n:
            if left:  # inside a payload: forwarded or dropped as its header decided
                if forwarding:
                    if run < 0:
                        run = pos
                elif run >= 0:
                    parts.append(data[run:pos])
                    run = -1
                take = left if left < n - pos else n - pos
                pos += take
                left -= take
                if not left:
                    self._frame_done(forwarding)
                continue
            if n - pos < 2:
                self._held = data[pos:]
                break
            b0, b1 = data[pos], data[pos + 1]
            length = b1 & 0x7F
            size = 6 if b1 & 0x80 else 2  # a mask key follows a client's header
            if length >= 126:
                size += 2 if length == 126 else 8
            if n - pos < size:  # incomplete: hold it back until the rest arrives
                self._held = data[pos:]
                break
            if length == 126:
                length = (data[pos + 2] << 8) | data[pos + 3]
            elif length == 127:
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
            self._opcode = b0 & 0x0F
            if b0 == 0x81 and b1 & 0x80 and not (self._in_message or self._closing or self.violation):
                # The common case, checked in a line: a whole masked text message.
                forwarding = not limit or length <= limit or self._decide(b0, b1, length)
            else:
                forwarding = self._decide(b0, b1, length)
            if forwarding:
                if run < 0:
                    run = pos
            elif run >= 0:
                parts.append(data[run:pos])
                run = -1
            pos += size
            left = length
            if not left:
                self._frame_done(forwarding)
        self._left = left
        self._forwarding = forwarding
        end = n - len(self._held)
        if run == 0 and end == n:
            return data  # everything, as it came
        if run >= 0:
            parts.append(data[run:end])
        return b"".join(parts)

    def _frame_done(self, forwarded: bool) -> None:
        if self._opcode == CLOSE:  # forwarded (the client closes first) or not (it answers ours)
            self.peer_closed = True
        if not forwarded:
            self.frames_dropped += 1
        self._opcode = -1

    def _decide(self, b0: int, b1: int, length: int) -> bool:
        """Whether the frame whose header this is goes to the parser; records a violation."""
        opcode = b0 & 0x0F
        masked = bool(b1 & 0x80)
        if self.dropping:
            return opcode == PONG and masked and length <= 125
        problem = self._check(b0, opcode, masked, length)
        if problem is not None:
            self.violation = problem
            return False
        return True

    def _check(self, b0: int, opcode: int, masked: bool, length: int) -> Close | None:
        """The rules of RFC 6455 §5.2-5.5 that a header shows, and the size limit."""
        fin = bool(b0 & 0x80)
        rsv1, rsv23 = b0 & 0x40, b0 & 0x30
        if not masked:
            return _protocol_error("client frames must be masked (RFC 6455 §5.1)")
        if opcode not in _KNOWN_OPCODES:
            return _protocol_error(f"reserved opcode {opcode:#x}")
        control = opcode >= CLOSE
        if rsv23 or (rsv1 and not control and (not self.compression or opcode == CONTINUATION)):
            return _protocol_error("reserved bits set")
        if control:
            if not fin:
                return _protocol_error("fragmented control frame")
            if length > 125:
                return _protocol_error(f"control frame of {length} bytes (at most 125)")
            return None
        if opcode == CONTINUATION:
            if not self._in_message:
                return _protocol_error("continuation frame without a message to continue")
            total = self._message_bytes + length
        else:
            if self._in_message:
                return _protocol_error("new message inside a fragmented one")
            total = length
        limit = self.max_message_bytes
        if limit and total > limit:
            return Close(
                CloseCode.MESSAGE_TOO_BIG,
                f"message too big: {'' if fin else 'at least '}"
                f"{total} bytes, the limit is {limit} (limits.max_message_bytes)",
                CloseReason.MESSAGE_TOO_BIG,
            )
        self._in_message = not fin
        self._message_bytes = 0 if fin else total
        return None
