"""Wire protocol v1: parse client requests, encode server messages.

Pure functions and values, no I/O. Parsing never raises anything but
:class:`ProtocolError`, whose fields become the ``error`` reply; unknown
fields in a request are ignored so clients can send newer optional fields.
New operations are added by registering a parser in :data:`PARSERS`.

A server frame carries one message object or a JSON array of them
(:func:`join_frame`); clients must accept both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

RequestId = int | str | None

MAX_ID_LENGTH = 64
MAX_SYMBOL_LENGTH = 32
MAX_THROTTLE_MS = 60_000
MAX_TOKEN_LENGTH = 8192
_MAX_SAFE_INT = 2**53


class ErrorCode:
    BAD_JSON = "bad_json"
    BAD_REQUEST = "bad_request"
    UNKNOWN_OP = "unknown_op"
    UNKNOWN_SYMBOL = "unknown_symbol"
    TOO_MANY_SYMBOLS = "too_many_symbols"
    NOT_ENTITLED = "not_entitled"
    RATE_LIMITED = "rate_limited"
    UNAUTHENTICATED = "unauthenticated"
    AUTH_FAILED = "auth_failed"


class CloseCode:
    """WebSocket close codes the server sends (RFC 6455 §7.4)."""

    GOING_AWAY = 1001
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    TRY_AGAIN_LATER = 1013


@dataclass(frozen=True, slots=True)
class Close:
    """The session's verdict that the connection must end."""

    code: int
    #: Sent in the close frame (kept under the 123-byte limit).
    message: str
    #: Label for the ``ticker_connections_closed_total`` metric.
    reason: str

    def frame_reason(self) -> bytes:
        return self.message.encode()[:120]


class ProtocolError(Exception):
    """The peer sent something we cannot act on; becomes an ``error`` reply."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        id: RequestId = None,
        field: str | None = None,
        symbols: Sequence[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.id = id
        self.field = field
        self.symbols = tuple(symbols) if symbols is not None else None

    def encode(self) -> bytes:
        return encode_error(self.code, self.message, id=self.id, field=self.field, symbols=self.symbols)


@dataclass(frozen=True, slots=True)
class Subscribe:
    symbols: tuple[str, ...]
    id: RequestId = None
    throttle_ms: int = 0


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    symbols: tuple[str, ...]
    id: RequestId = None


@dataclass(frozen=True, slots=True)
class Ping:
    id: RequestId = None


@dataclass(frozen=True, slots=True)
class Auth:
    token: str = field(repr=False)  # never in logs or reprs
    id: RequestId = None


Request = Subscribe | Unsubscribe | Ping | Auth
Parser = Callable[[dict[str, Any], RequestId], Any]


def _bad(message: str, id: RequestId, field: str) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_REQUEST, message, id=id, field=field)


def _symbols(msg: dict[str, Any], id: RequestId) -> tuple[str, ...]:
    value = msg.get("symbols")
    if value is None:
        raise _bad("missing field 'symbols' (a list of symbol names)", id, "symbols")
    if not isinstance(value, list) or not value:
        raise _bad("field 'symbols' must be a non-empty list of strings", id, "symbols")
    seen: dict[str, None] = {}
    for i, s in enumerate(value):
        if not isinstance(s, str) or not 0 < len(s) <= MAX_SYMBOL_LENGTH:
            raise _bad(
                f"symbols[{i}] must be a string of 1 to {MAX_SYMBOL_LENGTH} characters",
                id,
                "symbols",
            )
        seen[s] = None
    return tuple(seen)


def _parse_subscribe(msg: dict[str, Any], id: RequestId) -> Subscribe:
    symbols = _symbols(msg, id)
    throttle = msg.get("throttle_ms", 0)
    if isinstance(throttle, bool) or not isinstance(throttle, int) or not 0 <= throttle <= MAX_THROTTLE_MS:
        raise _bad(f"field 'throttle_ms' must be an integer from 0 to {MAX_THROTTLE_MS}", id, "throttle_ms")
    return Subscribe(symbols, id, throttle)


def _parse_unsubscribe(msg: dict[str, Any], id: RequestId) -> Unsubscribe:
    return Unsubscribe(_symbols(msg, id), id)


def _parse_ping(msg: dict[str, Any], id: RequestId) -> Ping:
    return Ping(id)


def _parse_auth(msg: dict[str, Any], id: RequestId) -> Auth:
    token = msg.get("token")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        raise _bad(f"field 'token' must be a string of 1 to {MAX_TOKEN_LENGTH} characters", id, "token")
    return Auth(token, id)


#: op name -> parser. Extensions register here.
PARSERS: dict[str, Parser] = {
    "subscribe": _parse_subscribe,
    "unsubscribe": _parse_unsubscribe,
    "ping": _parse_ping,
    "auth": _parse_auth,
}


def _request_id(msg: dict[str, Any]) -> RequestId:
    value = msg.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _bad("field 'id' must be an integer or a string", None, "id")
    if isinstance(value, int) and not -_MAX_SAFE_INT < value < _MAX_SAFE_INT:
        raise _bad("field 'id' must be an integer within ±2^53", None, "id")
    if isinstance(value, str) and len(value) > MAX_ID_LENGTH:
        raise _bad(f"field 'id' must be at most {MAX_ID_LENGTH} characters", None, "id")
    return value


def parse_request(data: bytes | str) -> Any:
    """Parse one client text frame into a request value.

    Raises :class:`ProtocolError` for anything that is not a valid request.
    """
    try:
        msg = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(ErrorCode.BAD_JSON, f"message is not valid JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise ProtocolError(ErrorCode.BAD_REQUEST, "message must be a JSON object", field="")
    id = _request_id(msg)
    op = msg.get("op")
    if op is None:
        raise _bad("missing field 'op'", id, "op")
    if not isinstance(op, str):
        raise _bad("field 'op' must be a string", id, "op")
    parser = PARSERS.get(op)
    if parser is None:
        known = ", ".join(sorted(PARSERS))
        shown = op if len(op) <= 32 else op[:32] + "…"
        raise ProtocolError(
            ErrorCode.UNKNOWN_OP, f"unknown op {shown!r}; expected one of: {known}", id=id, field="op"
        )
    return parser(msg, id)


# ---------------------------------------------------------------- encoding


def _with_id(obj: dict[str, Any], id: RequestId) -> dict[str, Any]:
    if id is not None:
        obj["id"] = id
    return obj


def encode_error(
    code: str,
    message: str,
    *,
    id: RequestId = None,
    field: str | None = None,
    symbols: Iterable[str] | None = None,
) -> bytes:
    obj: dict[str, Any] = _with_id({"type": "error"}, id)
    obj["code"] = code
    obj["message"] = message
    if field:
        obj["field"] = field
    if symbols is not None:
        obj["symbols"] = list(symbols)
    return orjson.dumps(obj)


def encode_subscribed(id: RequestId, symbols: Sequence[str], throttle_ms: int = 0) -> bytes:
    obj = _with_id({"type": "subscribed"}, id)
    obj["symbols"] = list(symbols)
    if throttle_ms:
        obj["throttle_ms"] = throttle_ms
    return orjson.dumps(obj)


def encode_unsubscribed(id: RequestId, symbols: Sequence[str]) -> bytes:
    obj = _with_id({"type": "unsubscribed"}, id)
    obj["symbols"] = list(symbols)
    return orjson.dumps(obj)


def encode_pong(id: RequestId, ts: int) -> bytes:
    obj = _with_id({"type": "pong"}, id)
    obj["ts"] = ts
    return orjson.dumps(obj)


def encode_authenticated(id: RequestId, identity: str, expires_at: float | None) -> bytes:
    obj = _with_id({"type": "authenticated"}, id)
    obj["identity"] = identity
    obj["expires_at"] = None if expires_at is None else int(expires_at * 1_000_000)
    return orjson.dumps(obj)


def encode_status(symbol: str, status: str, ts: int) -> bytes:
    return orjson.dumps({"type": "status", "symbol": symbol, "status": status, "ts": ts})


def encode_warning(code: str, message: str, **context: Any) -> bytes:
    return orjson.dumps({"type": "warning", "code": code, "message": message, **context})


def join_frame(messages: Sequence[bytes]) -> bytes:
    """One frame from encoded messages: the message itself, or a JSON array."""
    if len(messages) == 1:
        return messages[0]
    return b"[" + b",".join(messages) + b"]"
