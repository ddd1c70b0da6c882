"""Every code the protocol speaks: error codes, close codes, close reasons.

One definition each, so a reply, a close frame, a log line and a metric
label can never disagree about what happened:

* :class:`ErrorCode` is the ``code`` of an ``error`` message (docs/protocol.md).
* :class:`CloseCode` is the WebSocket close code sent (RFC 6455 §7.4).
* :class:`CloseReason` labels why a connection ended, in the
  ``ticker_connections_closed_total{reason}`` metric and the disconnect log.
* :class:`Close` is a verdict that a connection must end: all three at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ErrorCode(enum.StrEnum):
    BAD_JSON = "bad_json"
    BAD_REQUEST = "bad_request"
    UNKNOWN_OP = "unknown_op"
    UNKNOWN_SYMBOL = "unknown_symbol"
    TOO_MANY_SYMBOLS = "too_many_symbols"
    NOT_ENTITLED = "not_entitled"
    RATE_LIMITED = "rate_limited"
    UNAUTHENTICATED = "unauthenticated"
    AUTH_FAILED = "auth_failed"
    UNKNOWN_INTERVAL = "unknown_interval"


class CloseCode(enum.IntEnum):
    """WebSocket close codes the server sends."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    #: Never sent: what a connection that ended without a close frame is logged with
    #: (RFC 6455 §7.1.5).
    ABNORMAL = 1006
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013


class CloseReason(enum.StrEnum):
    """Why a connection ended (a bounded metric label)."""

    CLIENT = "client"
    PROTOCOL_ERROR = "protocol_error"
    MESSAGE_TOO_BIG = "message_too_big"
    SLOW_CONSUMER = "slow_consumer"
    SERVER_SHUTDOWN = "server_shutdown"
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"
    RATE_LIMITED = "rate_limited"
    AUTH_TIMEOUT = "auth_timeout"
    AUTH_FAILED = "auth_failed"
    TOKEN_EXPIRED = "token_expired"


@dataclass(frozen=True, slots=True)
class Close:
    """The verdict that a connection must end."""

    code: CloseCode
    #: Sent in the close frame (cut to fit the 123-byte limit).
    message: str
    reason: CloseReason

    def frame_reason(self) -> bytes:
        return frame_reason(self.message)


def frame_reason(text: str) -> bytes:
    """``text`` as a close frame's reason: UTF-8, cut to 120 bytes on a character
    boundary (a cut character would make the frame invalid, RFC 6455 §7.1.6)."""
    return text.encode()[:120].decode("utf-8", "ignore").encode()
