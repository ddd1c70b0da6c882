"""Where a client message is parsed: text frame in, :data:`Request` out.

Pure functions and values, no I/O. :func:`parse_request` never raises
anything but :class:`~ticker.protocol.errors.ProtocolError`, whose fields
become the ``error`` reply; unknown fields in a request are ignored so
clients can send newer optional fields.

A new operation is a frozen dataclass added to the :data:`Request` union
plus a parser in :data:`PARSERS`; the session's exhaustive ``match`` then
fails type-checking until it has a handler too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ticker.protocol.codes import ErrorCode
from ticker.protocol.errors import ProtocolError
from ticker.protocol.heartbeat import MAX_INTERVAL_MS, MIN_INTERVAL_MS
from ticker.protocol.replies import RequestId
from ticker.protocol.resume import Position, parse_since
from ticker.security.tokens import MAX_TOKEN_LENGTH

MAX_ID_LENGTH = 64
MAX_SYMBOL_LENGTH = 32
MAX_THROTTLE_MS = 60_000
#: Intervals one request may name (``bars``), and the longest interval name.
MAX_BAR_INTERVALS = 16
MAX_INTERVAL_LENGTH = 8
_MAX_SAFE_INT = 2**53


@dataclass(frozen=True, slots=True)
class Subscribe:
    symbols: tuple[str, ...]
    id: RequestId = None
    throttle_ms: int = 0
    #: Bar intervals: a subscription to the symbols' bars instead of their quotes.
    bars: tuple[str, ...] = ()
    #: Closed bars the ``bars`` snapshot carries before the forming one.
    history: int = 0
    #: Resume: where the client stands per symbol (a subset of ``symbols``).
    since: tuple[Position, ...] = ()


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    symbols: tuple[str, ...]
    id: RequestId = None
    bars: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Ping:
    id: RequestId = None


@dataclass(frozen=True, slots=True)
class Auth:
    token: str = field(repr=False)  # never in logs or reprs
    id: RequestId = None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Send a heartbeat whenever the connection has been silent this long (0 = off)."""

    interval_ms: int
    id: RequestId = None


#: Every request a client can send; the session's dispatch matches on it exhaustively.
Request = Subscribe | Unsubscribe | Ping | Auth | Heartbeat
Parser = Callable[[dict[str, Any], RequestId], Request]


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


def _bars(msg: dict[str, Any], id: RequestId) -> tuple[str, ...]:
    """``bars``: one interval name or a list of them (checked against the server's
    intervals by the session); () when absent."""
    value = msg.get("bars")
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or not 0 < len(items) <= MAX_BAR_INTERVALS
        or not all(isinstance(v, str) and 0 < len(v) <= MAX_INTERVAL_LENGTH for v in items)
    ):
        raise _bad(
            f"field 'bars' must be an interval such as \"1m\", or a list of 1 to {MAX_BAR_INTERVALS}",
            id,
            "bars",
        )
    return tuple(dict.fromkeys(items))


def _history(msg: dict[str, Any], id: RequestId, bars: tuple[str, ...]) -> int:
    value = msg.get("history")
    if value is None:
        return 0
    if not bars:
        raise _bad("field 'history' needs 'bars' (the interval whose bars to send)", id, "history")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_SAFE_INT:
        raise _bad("field 'history' must be a non-negative integer", id, "history")
    return value


def _parse_subscribe(msg: dict[str, Any], id: RequestId) -> Subscribe:
    symbols = _symbols(msg, id)
    throttle = msg.get("throttle_ms", 0)
    if isinstance(throttle, bool) or not isinstance(throttle, int) or not 0 <= throttle <= MAX_THROTTLE_MS:
        raise _bad(f"field 'throttle_ms' must be an integer from 0 to {MAX_THROTTLE_MS}", id, "throttle_ms")
    bars = _bars(msg, id)
    since = parse_since(msg.get("since"), symbols, id)
    return Subscribe(symbols, id, throttle, bars, _history(msg, id, bars), since)


def _parse_unsubscribe(msg: dict[str, Any], id: RequestId) -> Unsubscribe:
    return Unsubscribe(_symbols(msg, id), id, _bars(msg, id))


def _parse_ping(msg: dict[str, Any], id: RequestId) -> Ping:
    return Ping(id)


def _parse_auth(msg: dict[str, Any], id: RequestId) -> Auth:
    token = msg.get("token")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        raise _bad(f"field 'token' must be a string of 1 to {MAX_TOKEN_LENGTH} characters", id, "token")
    return Auth(token, id)


def _parse_heartbeat(msg: dict[str, Any], id: RequestId) -> Heartbeat:
    interval = msg.get("interval_ms")
    if (
        isinstance(interval, bool)
        or not isinstance(interval, int)
        or not (interval == 0 or MIN_INTERVAL_MS <= interval <= MAX_INTERVAL_MS)
    ):
        raise _bad(
            f"field 'interval_ms' must be 0 (off) or an integer from {MIN_INTERVAL_MS} to {MAX_INTERVAL_MS}",
            id,
            "interval_ms",
        )
    return Heartbeat(interval, id)


#: op name -> parser. Extensions register here.
PARSERS: dict[str, Parser] = {
    "subscribe": _parse_subscribe,
    "unsubscribe": _parse_unsubscribe,
    "ping": _parse_ping,
    "auth": _parse_auth,
    "heartbeat": _parse_heartbeat,
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


def parse_request(data: bytes | str) -> Request:
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
