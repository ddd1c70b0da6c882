"""The frame guard: what reaches aiohttp's parser, and which client frames close the connection."""

import os
import struct

import pytest

from ticker.protocol.codes import CloseCode, CloseReason
from ticker.protocol.frame_guard import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, FrameGuard


def frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv: int = 0) -> bytes:
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    bit = 0x80 if masked else 0
    n = len(payload)
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


FIRST_HALF = frame(TEXT, b"a", fin=False)


def feed_bytewise(guard: FrameGuard, data: bytes) -> bytes:
    return b"".join(guard.feed(data[i : i + 1]) for i in range(len(data)))


def test_valid_frames_pass_unchanged_and_uncopied() -> None:
    data = frame(TEXT, b'{"op":"ping"}') + frame(PING, b"") + frame(BINARY, b"x" * 300)
    guard = FrameGuard(1024)
    assert guard.feed(data) is data
    assert guard.violation is None and not guard.peer_closed


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70_000])
def test_any_split_forwards_the_same_bytes(size: int) -> None:
    data = frame(TEXT, b"a" * size) + frame(PONG, b"p") + frame(TEXT, b"b" * 3)
    assert feed_bytewise(FrameGuard(0), data) == data
    guard = FrameGuard(0)
    assert b"".join(guard.feed(data[i : i + 7]) for i in range(0, len(data), 7)) == data


def test_an_incomplete_header_is_held_back() -> None:
    data = frame(TEXT, b"x" * 200)  # 4-byte length header + 4-byte mask
    guard = FrameGuard(1024)
    assert guard.feed(data[:5]) == b""
    assert guard.feed(data[5:]) == data


@pytest.mark.parametrize("limit", [256, 1024, 65536])
def test_a_message_of_exactly_the_limit_passes_one_byte_more_closes_1009(limit: int) -> None:
    ok = frame(TEXT, b"x" * limit)
    guard = FrameGuard(limit)
    assert guard.feed(ok) == ok and guard.violation is None
    guard = FrameGuard(limit)
    assert guard.feed(frame(TEXT, b"x" * (limit + 1))) == b""
    assert guard.violation is not None
    assert guard.violation.code is CloseCode.MESSAGE_TOO_BIG
    assert guard.violation.reason is CloseReason.MESSAGE_TOO_BIG
    assert f"{limit + 1} bytes, the limit is {limit}" in guard.violation.message


def test_fragments_count_towards_one_message_with_control_frames_between() -> None:
    data = frame(TEXT, b"x" * 60, fin=False) + frame(PING, b"") + frame(CONTINUATION, b"y" * 40)
    guard = FrameGuard(100)
    assert guard.feed(data) == data  # 100 bytes: exactly the limit
    assert guard.violation is None


def test_fragments_over_the_limit_close_before_their_payload_is_forwarded() -> None:
    guard = FrameGuard(100)
    first = frame(TEXT, b"x" * 60, fin=False)
    assert guard.feed(first) == first
    assert guard.feed(frame(CONTINUATION, b"y" * 41)) == b""
    assert guard.violation is not None and guard.violation.code is CloseCode.MESSAGE_TOO_BIG


def test_a_huge_announced_length_closes_1009_from_the_header_alone() -> None:
    header = bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 2**62) + os.urandom(4)
    guard = FrameGuard(65536)
    assert guard.feed(header) == b""
    assert guard.violation is not None and guard.violation.code is CloseCode.MESSAGE_TOO_BIG
    assert guard.feed(os.urandom(1000)) == b""  # its payload is dropped


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (frame(TEXT, b'{"op":"ping"}', masked=False), "must be masked"),
        (frame(0x3, b"x"), "reserved opcode 0x3"),
        (frame(0xB, b""), "reserved opcode 0xb"),
        (frame(TEXT, b"{}", rsv=0b010), "reserved bits"),
        (frame(TEXT, b"{}", rsv=0b100), "reserved bits"),  # RSV1 without permessage-deflate
        (frame(PING, b"x" * 126), "control frame of 126 bytes"),
        (frame(PING, b"x", fin=False), "fragmented control frame"),
        (frame(CONTINUATION, b"x"), "continuation frame without a message"),
        (FIRST_HALF + frame(TEXT, b"b"), "new message inside a fragmented one"),
    ],
)
def test_rfc6455_violations_close_1002(data: bytes, why: str) -> None:
    guard = FrameGuard(1024)
    out = guard.feed(data)
    assert guard.violation is not None
    assert guard.violation.code is CloseCode.PROTOCOL_ERROR
    assert guard.violation.reason is CloseReason.PROTOCOL_ERROR
    assert why in guard.violation.message
    assert len(guard.violation.frame_reason()) <= 123
    # the bad frame never reaches the parser; what came before it does
    assert out == (FIRST_HALF if data.startswith(FIRST_HALF) else b"")


def test_rsv1_marks_a_compressed_message_only_when_negotiated() -> None:
    guard = FrameGuard(1024, compression=True)
    first = frame(TEXT, b"a", fin=False, rsv=0b100)
    assert guard.feed(first) == first and guard.violation is None
    guard.feed(frame(CONTINUATION, b"b", rsv=0b100))  # only a message's first frame may carry it
    assert guard.violation is not None and "reserved bits" in guard.violation.message


def test_nothing_after_a_violation_is_forwarded_but_pongs() -> None:
    good = frame(TEXT, b"1")
    guard = FrameGuard(1024)
    pong = frame(PONG, b"p")
    out = guard.feed(good + frame(TEXT, b"2", masked=False) + frame(TEXT, b"3") + pong)
    assert out == good + pong
    assert guard.frames_dropped == 2


def test_closing_drops_all_but_pongs_and_notes_the_peers_close() -> None:
    guard = FrameGuard(1024)
    guard.closing()
    pong = frame(PONG, b"")
    data = frame(TEXT, b"late") + frame(PING, b"") + pong + frame(CLOSE, struct.pack("!H", 1000))
    assert feed_bytewise(guard, data) == pong
    assert guard.peer_closed
    assert guard.violation is None  # what a closing client sends is never held against it


def test_closing_finishes_forwarding_the_frame_in_progress() -> None:
    data = frame(TEXT, b"x" * 500)
    guard = FrameGuard(1024)
    head = guard.feed(data[:100])
    guard.closing()
    rest = guard.feed(data[100:] + frame(TEXT, b"after"))
    assert head + rest == data  # the parser gets the whole frame it had begun, nothing more


def test_a_client_close_is_forwarded_while_not_closing() -> None:
    close = frame(CLOSE, struct.pack("!H", 1000) + b"bye")
    guard = FrameGuard(1024)
    assert guard.feed(close) == close
    assert guard.peer_closed
