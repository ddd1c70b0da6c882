"""Where things live in Redis and how they are written: pure functions, no I/O.

Per feed ``F`` under the configured prefix ``P``:

==================  ======  ====================================================
``P:feed:F:ticks``  stream  one entry per published batch, field ``m`` (below)
``P:feed:F:state``  hash    symbol -> latest row; what a (re)starting gateway loads
``P:feed:F:meta``   hash    ``e`` epoch and ``n`` of the last full entry (when the stream is empty),
                            ``s`` the sequence epoch, ``r`` the run id of the Redis it was written to
``P:feed:F:owner``  string  the epoch of the one publisher of F, with a TTL (lease)
==================  ======  ====================================================

An entry's ``m`` is orjson of ``{"e": epoch, "n": n, "f": full, "w": wall_us,
"r": rows, "s": seq_epoch}``, plus ``"b": bar rows`` when bars changed (:mod:`ticker.bus.bars`).
``epoch`` names one publisher process, ``n`` counts its entries
from 1 with no gaps, so a gateway knows it missed nothing when each entry it
reads has the ``n`` after the last; ``full`` marks an entry holding every
symbol's state (written whenever a publisher (re)connects). ``w`` is the
publisher's wall clock at writing, for the bus-latency histogram. ``s``
names the *sequence* the rows' ``seq`` belong to: unlike ``e`` it survives a
publisher restart that continues the sequence from the state hash, and
changes when the sequence starts over or its continuity cannot be proven
(docs/scaling.md, Resuming across gateways). Entries without ``s`` (older
publishers) count as a sequence of their own, named by ``e``.

A row is one symbol's complete state after a change:
``[symbol, seq, bid, ask, bid_size, ask_size, ts, status]``; NaN (not
provided) travels as ``null``. Rows carry symbol names, not ids, so a
gateway whose config lists the symbols in another order still maps them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from ticker.core.model import QuoteState, Status
from ticker.core.table import SymbolTable

#: The stream entry field holding the encoded batch.
FIELD = b"m"
_STATUSES = frozenset(int(s) for s in Status)
_NAN = math.nan

#: One symbol's state as the bus carries it: ``[symbol, seq, bid, ask, bid_size, ask_size, ts, status]``.
BusRow = list[Any]


class BusFormatError(ValueError):
    """Something on the bus is not what a publisher of this version writes."""


@dataclass(frozen=True, slots=True)
class FeedKeys:
    """The Redis keys of one feed under a prefix."""

    feed: str
    ticks: str
    state: str
    meta: str
    owner: str

    @classmethod
    def of(cls, prefix: str, feed: str) -> FeedKeys:
        base = f"{prefix}:feed:{feed}"
        return cls(feed, f"{base}:ticks", f"{base}:state", f"{base}:meta", f"{base}:owner")


@dataclass(frozen=True, slots=True)
class Entry:
    """One decoded stream entry."""

    epoch: str
    n: int
    full: bool
    wall_us: int
    rows: list[BusRow]
    #: Bar rows (:mod:`ticker.bus.bars`); empty when none changed.
    bars: list[Any] = field(default_factory=list)
    #: The sequence epoch (``None`` from a publisher that does not send one).
    seq_epoch: str | None = None

    @property
    def sequence(self) -> str:
        """The epoch the rows' ``seq`` belong to."""
        return self.seq_epoch if self.seq_epoch is not None else self.epoch


def stream_id(raw: bytes) -> tuple[int, int]:
    """A stream entry id (``b"1700000000000-3"``) as a comparable pair."""
    ms, _, seq = raw.partition(b"-")
    return int(ms), int(seq or 0)


def state_row(table: SymbolTable, sid: int) -> BusRow:
    """The symbol's full current state as a bus row."""
    return [table.symbols[sid], *table.state(sid)]


def encode_entry(
    epoch: str,
    n: int,
    full: bool,
    wall_us: int,
    rows: list[BusRow],
    seq_epoch: str | None = None,
    bars: list[Any] | None = None,
) -> bytes:
    obj: dict[str, Any] = {"e": epoch, "n": n, "f": full, "w": wall_us, "r": rows}
    if seq_epoch is not None:
        obj["s"] = seq_epoch
    if bars:
        obj["b"] = bars
    return orjson.dumps(obj)


def decode_entry(fields: dict[bytes, bytes]) -> Entry:
    """Decode a stream entry's fields; :class:`BusFormatError` if malformed."""
    raw = fields.get(FIELD)
    if raw is None:
        raise BusFormatError(f"entry has no field {FIELD.decode()!r}")
    try:
        obj = orjson.loads(raw)
        epoch, n, full, wall, rows = obj["e"], obj["n"], obj["f"], obj["w"], obj["r"]
        seq_epoch = obj.get("s")
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise BusFormatError(f"entry is not a batch object: {exc}") from None
    if not (
        isinstance(epoch, str)
        and type(n) is int
        and n > 0
        and type(full) is bool
        and type(wall) is int
        and isinstance(rows, list)
        and (seq_epoch is None or isinstance(seq_epoch, str))
    ):
        raise BusFormatError("entry fields e/n/f/w/r/s have the wrong types")
    bars = obj.get("b", [])
    if not isinstance(bars, list):
        raise BusFormatError("entry field b is not a list")
    return Entry(epoch, n, full, wall, rows, bars=bars, seq_epoch=seq_epoch)


def encode_states(rows: list[BusRow]) -> dict[str, bytes]:
    """Hash fields for the state hash: the last row of each symbol."""
    latest: dict[str, BusRow] = {}
    for row in rows:
        latest[row[0]] = row
    return {sym: orjson.dumps(row) for sym, row in latest.items()}


def decode_state(raw: bytes) -> BusRow:
    try:
        row = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BusFormatError(f"state row is not JSON: {exc}") from None
    if not isinstance(row, list):
        raise BusFormatError("state row is not an array")
    return row


def _num(value: Any) -> float:
    if value is None:
        return _NAN
    if type(value) is float or type(value) is int:
        return float(value)
    raise TypeError(f"not a number: {value!r}")


def unpack_row(row: BusRow) -> tuple[str, QuoteState]:
    """Check and convert a row; TypeError/ValueError if it is malformed."""
    symbol, seq, bid, ask, bid_size, ask_size, ts, status = row
    if type(symbol) is not str or type(seq) is not int or type(ts) is not int or status not in _STATUSES:
        raise TypeError("row has a field of the wrong type")
    return symbol, QuoteState(seq, _num(bid), _num(ask), _num(bid_size), _num(ask_size), ts, status)
