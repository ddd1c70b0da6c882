"""Replies to client requests and other session messages, encoded as bytes.

Market-data messages (snapshot, update, status) live in
:mod:`ticker.core.encode`; these are the protocol's own: acks, errors,
pongs, warnings. Every reply to a request echoes the request's ``id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

#: A client's request id, echoed in the reply: an integer within ±2^53 or a short string.
RequestId = int | str | None


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
    extra: dict[str, Any] | None = None,
) -> bytes:
    obj: dict[str, Any] = _with_id({"type": "error"}, id)
    obj["code"] = code
    obj["message"] = message
    if field:
        obj["field"] = field
    if symbols is not None:
        obj["symbols"] = list(symbols)
    if extra:
        obj.update(extra)
    return orjson.dumps(obj)


def encode_subscribed(
    id: RequestId,
    symbols: Sequence[str],
    throttle_ms: int = 0,
    resume: dict[str, Any] | None = None,
    *,
    delayed: Mapping[str, int] | None = None,
) -> bytes:
    """``delayed``: the symbols served delayed, with their delay in seconds (v1 addition)."""
    obj = _with_id({"type": "subscribed"}, id)
    obj["symbols"] = list(symbols)
    if throttle_ms:
        obj["throttle_ms"] = throttle_ms
    if resume is not None:
        obj["resume"] = resume
    if delayed:
        obj["delayed"] = dict(delayed)
    return orjson.dumps(obj)


def encode_unsubscribed(id: RequestId, symbols: Sequence[str]) -> bytes:
    obj = _with_id({"type": "unsubscribed"}, id)
    obj["symbols"] = list(symbols)
    return orjson.dumps(obj)


def encode_pong(id: RequestId, ts: int) -> bytes:
    obj = _with_id({"type": "pong"}, id)
    obj["ts"] = ts
    return orjson.dumps(obj)


def encode_heartbeat(id: RequestId, ts: int, interval_ms: int | None = None) -> bytes:
    """A heartbeat; the reply to a ``heartbeat`` request also echoes ``id`` and ``interval_ms``."""
    obj = _with_id({"type": "heartbeat"}, id)
    if interval_ms is not None:
        obj["interval_ms"] = interval_ms
    obj["ts"] = ts
    return orjson.dumps(obj)


def encode_authenticated(id: RequestId, identity: str, expires_at: float | None) -> bytes:
    obj = _with_id({"type": "authenticated"}, id)
    obj["identity"] = identity
    obj["expires_at"] = None if expires_at is None else int(expires_at * 1_000_000)
    return orjson.dumps(obj)


def encode_warning(code: str, message: str, **context: Any) -> bytes:
    return orjson.dumps({"type": "warning", "code": code, "message": message, **context})
