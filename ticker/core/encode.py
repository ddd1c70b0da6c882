"""Market-data messages (snapshot, update, status), encoded once as bytes.

An update carries ``symbol``, ``seq``, ``ts`` and only the fields named in
its change mask, with the table's current values. Because fan-out runs in
the same synchronous step as :meth:`SymbolTable.apply`, "current values"
are the values of the tick being published; for a conflated update they are
the latest values, which is exactly what conflation promises.

A snapshot also names the epoch its ``seq`` belongs to (see
:mod:`ticker.core.table`): what a client sends back to resume.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from ticker.core.daystats import UPDATE_DAY
from ticker.core.model import Status
from ticker.core.table import ASK, ASK_SIZE, BID, BID_SIZE, SymbolTable, column_view


class MarketFields(Protocol):
    """Where the trading-day fields come from (:class:`ticker.core.market.Market`)."""

    def day_fields(self, sid: int, mask: int) -> dict[str, Any]: ...

    def snapshot_fields(self, sid: int, out: dict[str, Any]) -> None: ...

    def status_fields(self, sid: int) -> dict[str, Any] | None: ...

    def day_message(self, sid: int) -> bytes | None: ...


def _size(value: float) -> float | int | None:
    if value != value:  # NaN: never provided
        return None
    return int(value) if value.is_integer() else value


def _price(value: float) -> float | None:
    return None if value != value else value


class QuoteEncoder:
    """Encodes table rows as protocol messages (bytes, ready to send)."""

    __slots__ = ("_table", "_symbols", "_bid", "_ask", "_bsz", "_asz", "_ts", "_seq", "market")

    def __init__(self, table: SymbolTable) -> None:
        self._table = table
        self._symbols = table.symbols
        # memoryviews of the table's arrays: plain Python numbers, no numpy scalars.
        self._bid = column_view(table.bid)
        self._ask = column_view(table.ask)
        self._bsz = column_view(table.bid_size)
        self._asz = column_view(table.ask_size)
        self._ts = column_view(table.ts)
        self._seq = column_view(table.seq)
        #: Daily statistics and session times, when the service keeps them.
        self.market: MarketFields | None = None

    def update(self, sid: int, mask: int) -> bytes:
        obj: dict[str, Any] = {
            "type": "update",
            "symbol": self._symbols[sid],
            "seq": self._seq[sid],
        }
        if mask & BID:
            obj["bid"] = self._bid[sid]
        if mask & ASK:
            obj["ask"] = self._ask[sid]
        if mask & BID_SIZE:
            obj["bid_size"] = _size(self._bsz[sid])
        if mask & ASK_SIZE:
            obj["ask_size"] = _size(self._asz[sid])
        obj["ts"] = self._ts[sid]
        if mask & UPDATE_DAY and self.market is not None:
            obj["day"] = self.market.day_fields(sid, mask)
        return orjson.dumps(obj)

    def snapshot_dict(self, sid: int) -> dict[str, Any]:
        t = self._table
        return {
            "type": "snapshot",
            "symbol": self._symbols[sid],
            "seq": self._seq[sid],
            "bid": _price(self._bid[sid]),
            "ask": _price(self._ask[sid]),
            "bid_size": _size(self._bsz[sid]),
            "ask_size": _size(self._asz[sid]),
            "ts": self._ts[sid],
            "status": Status(int(t.status[sid])).label,
            "epoch": t.epoch[sid],
            **self._market_fields(sid),
        }

    def _market_fields(self, sid: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.market is not None:
            self.market.snapshot_fields(sid, out)
        return out

    def snapshot(self, sid: int) -> bytes:
        return orjson.dumps(self.snapshot_dict(sid))


def encode_status(symbol: str, status: str, ts: int, extra: dict[str, Any] | None = None) -> bytes:
    """A symbol's data status changed (``live``, ``stale``, ``closed``, ...); ``extra``:
    the market's session time (``next_open`` / ``next_close``)."""
    obj: dict[str, Any] = {"type": "status", "symbol": symbol, "status": status, "ts": ts}
    if extra:
        obj.update(extra)
    return orjson.dumps(obj)
