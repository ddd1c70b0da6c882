"""One connection's bar subscriptions: ``subscribe``/``unsubscribe`` with ``bars``.

Sans-I/O like the :class:`~ticker.protocol.session.Session` that holds it: a
request in, replies queued in the connection's outbox in one synchronous step
(ack, then one ``bars`` snapshot per series, registered with the
:class:`~ticker.core.bar_fanout.BarFanout` in the same step, so every ``bar``
message a client gets follows its snapshot). Symbols are resolved and cut to
the connection's entitlements by the session, as for quotes; what is about
bars is checked here:

* an interval this server does not build is an ``unknown_interval`` error
  listing the ones it does (``intervals``), and nothing in the request is
  subscribed;
* ``history`` is bounded by ``bars.max_history``;
* series count against ``limits.max_symbols_per_connection`` on their own
  (``too_many_symbols``, field ``bars``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from ticker.core.bar_fanout import BarFanout
from ticker.core.outbox import Outbox, UpdateEncoder
from ticker.protocol.codes import ErrorCode
from ticker.protocol.errors import ProtocolError
from ticker.protocol.replies import RequestId


def _ack(kind: str, id: RequestId, symbols: Sequence[str], bars: Sequence[str], **more: Any) -> bytes:
    obj: dict[str, Any] = {"type": kind}
    if id is not None:
        obj["id"] = id
    obj["symbols"] = list(symbols)
    obj["bars"] = list(bars)
    obj.update({k: v for k, v in more.items() if v})
    return orjson.dumps(obj)


class BarSubscriptions:
    """The bar series one connection follows (series index -> throttle_ms)."""

    __slots__ = ("fanout", "outbox", "max_series", "max_history", "_quotes", "keys", "_encoder_set")

    def __init__(
        self,
        fanout: BarFanout | None,
        outbox: Outbox,
        quotes: UpdateEncoder,
        *,
        max_series: int,
        max_history: int,
    ) -> None:
        self.fanout = fanout
        self.outbox = outbox
        self.max_series = max_series
        self.max_history = max_history
        self._quotes = quotes
        self.keys: dict[int, int] = {}
        self._encoder_set = False

    def _intervals(self, asked: Iterable[str], id: RequestId) -> list[str]:
        fanout = self.fanout
        known = fanout.labels if fanout is not None else ()
        unknown = [i for i in asked if i not in known]
        if unknown:
            shown = ", ".join(repr(i) for i in unknown)
            if fanout is None:
                why = "this server builds no bars ([bars] enabled = false)"
            else:
                why = f"this server builds {', '.join(known)}"
            raise ProtocolError(
                ErrorCode.UNKNOWN_INTERVAL,
                f"unknown bar interval {shown}; {why}; nothing was subscribed",
                id=id,
                field="bars",
                extra={"intervals": list(known)},
            )
        return list(asked)

    def subscribe(
        self, id: RequestId, sids: list[int], bars: Sequence[str], history: int, throttle_ms: int, now: float
    ) -> None:
        """Subscribe the (resolved, entitled) symbols' series of ``bars``."""
        intervals = self._intervals(bars, id)
        fanout = self.fanout
        assert fanout is not None
        if history > self.max_history:
            raise ProtocolError(
                ErrorCode.BAD_REQUEST,
                f"field 'history' must be at most {self.max_history} (bars.max_history); "
                "GET /api/bars pages further back",
                id=id,
                field="history",
            )
        keys = [fanout.key(sid, label) for sid in sids for label in intervals]
        keys = [k for k in keys if k >= 0]
        new = [k for k in keys if k not in self.keys]
        if len(self.keys) + len(new) > self.max_series:
            raise ProtocolError(
                ErrorCode.TOO_MANY_SYMBOLS,
                f"subscribing to {len(new)} more bar series would exceed the limit of "
                f"{self.max_series} per connection ({len(self.keys)} subscribed); nothing was subscribed",
                id=id,
                field="bars",
            )
        if not keys:
            return
        outbox = self.outbox
        if not self._encoder_set:
            outbox.set_encoder(fanout.encoder(self._quotes))
            self._encoder_set = True
        names = fanout.table.symbols
        symbols = [names[s] for s in sids]
        outbox.push(_ack("subscribed", id, symbols, intervals, history=history, throttle_ms=throttle_ms), now)
        interval_s = throttle_ms / 1000.0
        for key in keys:
            series_id = fanout.series_id(key)
            self.keys[key] = throttle_ms
            fanout.add(key, outbox, history)
            outbox.set_throttle(series_id, interval_s, now)
            outbox.push_series(series_id, fanout.snapshot(key, history), now, supersede=True)

    def unsubscribe(self, id: RequestId, sids: list[int], bars: Sequence[str], now: float) -> None:
        intervals = self._intervals(bars, id)
        fanout = self.fanout
        assert fanout is not None
        self.drop(fanout.key(sid, label) for sid in sids for label in intervals)
        if sids:
            names = fanout.table.symbols
            self.outbox.push(_ack("unsubscribed", id, [names[s] for s in sids], intervals), now)

    def drop(self, keys: Iterable[int]) -> None:
        fanout = self.fanout
        if fanout is None:
            return
        for key in keys:
            if key >= 0 and self.keys.pop(key, None) is not None:
                fanout.remove(key, self.outbox)
                self.outbox.forget(fanout.series_id(key))

    def drop_unentitled(self, id: RequestId, allows: Callable[[str], bool], now: float) -> list[str]:
        """Drop the series of symbols a refreshed token no longer covers; queue their
        ``unsubscribed`` and return their names (the session sends the error)."""
        fanout = self.fanout
        if fanout is None:
            return []
        names = fanout.table.symbols
        lost = [k for k in self.keys if not allows(names[k // fanout.n])]
        if not lost:
            return []
        symbols = list(dict.fromkeys(names[k // fanout.n] for k in lost))
        intervals = list(dict.fromkeys(fanout.labels[k % fanout.n] for k in lost))
        self.drop(lost)
        self.outbox.push(_ack("unsubscribed", id, symbols, intervals), now)
        return symbols

    def close(self) -> None:
        fanout = self.fanout
        if fanout is not None:
            for key in self.keys:
                fanout.remove(key, self.outbox)
        self.keys.clear()
