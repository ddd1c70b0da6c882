"""The trading day in the data path: market status, daily statistics, derived crosses.

:class:`~ticker.core.ingest.Ingest` calls a market hook around every applied
tick. Two implementations, one per kind of process:

* :class:`LiveMarket` where feeds apply ticks (a standalone service, the feed
  process on the Redis bus) computes everything below;
* :class:`MirroredMarket` on a bus gateway copies what the feed process
  computed: each bus row carries the symbol's market state
  (:meth:`Market.bus_extra`), so every gateway shows the same statistics and
  session times whenever it joined, and derives nothing itself.

Rules held by :class:`LiveMarket`:

* **Groups.** Symbols with the same calendar and the same time base
  (:mod:`ticker.core.markettime`) form a :class:`Group`: they open, close and
  roll together. :meth:`LiveMarket.due` performs whatever is due in every
  group and says how long until the next event; the runtime's timer
  (:mod:`ticker.runtime.market_timer`) calls it at exactly that moment.
* **Status.** While a group's market is closed, each of its quoted symbols
  is ``closed`` (whatever it was: live, stale, pending). A tick that arrives
  anyway (late, or an off-hours quote) is applied and sent, but the symbol
  stays closed: only the calendar reopens a market. At the open a symbol
  takes the status the runtime's ``opened`` callback gives (live with a
  price, pending without, stale when its feed is disconnected). Closed
  symbols are never live, so the staleness detector, which looks only at
  live symbols, stays quiet over a weekend.
* **Session times.** ``next_open``/``next_close`` per symbol (UTC µs, 0 =
  never) on its group's time base, refreshed at every transition; a cross's
  are its legs' (it opens when the later leg opens, closes with the earlier).
* **Daily statistics** (:mod:`ticker.core.daystats`) take every applied tick;
  a roll (on a tick, or on the timer) sends subscribers a ``day`` message with
  the new day's statistics; a new open, high or low rides on the tick's update
  as the ``day`` field (:data:`~ticker.core.daystats.UPDATE_DAY` mask bits).
* **Crosses** (:mod:`ticker.core.crosses`): after a leg's tick is published,
  the crosses using that leg are recomputed and, when their rounded price or
  status changed, applied to the table like any tick (their own ``seq``) and
  published through the same path (bus, subscribers, statistics). A cross's
  status follows its legs', never the staleness detector or the calendar.

Pure: no clock is read here; the caller passes ``now`` (the monotonic clock of
the ingest path) and the time bases answer for market time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import orjson

from ticker.core.calendar import Calendar
from ticker.core.crosses import CrossDef, CrossEngine
from ticker.core.daystats import (
    DAY,
    HIGH,
    LOW,
    OPEN,
    STREAMED,
    UPDATE_HIGH,
    UPDATE_LOW,
    UPDATE_OPEN,
    UPDATE_SHIFT,
    DailyStats,
)
from ticker.core.ingest import Ingest
from ticker.core.markettime import MarketTime
from ticker.core.model import Status
from ticker.core.table import STATUS, SymbolTable, column_view

_NEVER = 1 << 62
_NAN = math.nan
_CLOSED = int(Status.CLOSED)
_LIVE = int(Status.LIVE)
_PENDING = int(Status.PENDING)


def _num(x: float) -> float | None:
    return None if x != x else x


def encode_day(symbol: str, day: Mapping[str, Any], ts: int) -> bytes:
    """The ``day`` message: a symbol's trading day rolled; ``day`` is the new day's
    statistics, ``ts`` the instant that day began (docs/protocol.md)."""
    return orjson.dumps({"type": "day", "symbol": symbol, "day": day, "ts": ts})


@dataclass(frozen=True, slots=True)
class Derived:
    """A derived cross as the market knows it (``/api/symbols`` shows it)."""

    sid: int
    definition: CrossDef
    legs: tuple[int, int]


class Group:
    """Symbols sharing a calendar and a time base: they open, close and roll together."""

    __slots__ = ("calendar", "time", "sids", "quoted", "open", "next_change", "next_event", "ready")

    def __init__(
        self, calendar: Calendar, time: MarketTime, sids: Sequence[int], quoted: Sequence[int]
    ) -> None:
        self.calendar = calendar
        self.time = time
        #: Every symbol of the group (crosses too: they roll with it).
        self.sids = np.asarray(sids, dtype=np.int64)
        #: Its symbols whose status follows the calendar (not the derived crosses).
        self.quoted = tuple(quoted)
        self.open = False
        #: When the market next opens or closes (market µs; _NEVER: never).
        self.next_change = _NEVER
        #: The earlier of next_change and the next day roll.
        self.next_event = _NEVER
        #: False until the group's time base has a time (a replay that has not started).
        self.ready = False


class Market:
    """What both implementations hold: each symbol's calendar, session times, daily
    statistics and cross definitions, and their encoding into protocol messages."""

    def __init__(
        self,
        table: SymbolTable,
        calendars: Sequence[Calendar],
        stats: DailyStats | None,
        derived: Sequence[Derived] = (),
    ) -> None:
        if len(calendars) != len(table):
            raise ValueError(f"market: {len(calendars)} calendars for {len(table)} symbols")
        self.table = table
        self.calendars = tuple(calendars)
        self.stats = stats
        self.derived = {d.sid: d for d in derived}
        #: Per symbol: does a tick of it recompute crosses (only a LiveMarket says yes).
        self.legs: list[bool] = [False] * len(table)
        self.next_open = np.zeros(len(table), dtype=np.int64)
        self.next_close = np.zeros(len(table), dtype=np.int64)
        self._next_open = column_view(self.next_open)
        self._next_close = column_view(self.next_close)
        self._status = column_view(table.status)
        self._ts = column_view(table.ts)
        self._bid = column_view(table.bid)
        self._ask = column_view(table.ask)
        self.ingest: Ingest | None = None
        #: Day messages sent (rolls seen by subscribers' side of this process).
        self.day_messages = 0

    def attach(self, ingest: Ingest) -> None:
        """Become the ingest path's market hook and the encoder's source of extra fields."""
        self.ingest = ingest
        ingest.market = self
        ingest.encoder.market = self

    # -- what the encoder asks ----------------------------------------------

    def day_fields(self, sid: int, mask: int) -> dict[str, Any]:
        """The ``day`` field of an update: the statistics named by ``mask``'s day bits."""
        out: dict[str, Any] = {}
        if self.stats is None:
            return out
        o, h, lo = self.stats.range(sid)
        if mask & UPDATE_OPEN:
            out["open"] = _num(o)
        if mask & UPDATE_HIGH:
            out["high"] = _num(h)
        if mask & UPDATE_LOW:
            out["low"] = _num(lo)
        return out

    def snapshot_fields(self, sid: int, out: dict[str, Any]) -> None:
        """Add the snapshot's market fields: ``day`` (null before the first tick),
        ``next_open``, ``next_close`` (null when never)."""
        if self.stats is not None:
            out["day"] = self.stats.as_dict(sid)
        out["next_open"] = self._next_open[sid] or None
        out["next_close"] = self._next_close[sid] or None

    def status_fields(self, sid: int) -> dict[str, Any] | None:
        """A status message's extra field: ``next_open`` while closed, else
        ``next_close`` (when the market ever closes)."""
        if self._status[sid] == _CLOSED:
            at = self._next_open[sid]
            return {"next_open": at} if at else None
        at = self._next_close[sid]
        return {"next_close": at} if at else None

    def describe(self, sid: int) -> dict[str, Any]:
        """The symbol's market fields for ``/api/symbols``."""
        d = self.derived.get(sid)
        return {
            "calendar": self.calendars[sid].name,
            "market_open": self._status[sid] != _CLOSED,
            "next_open": self._next_open[sid] or None,
            "next_close": self._next_close[sid] or None,
            "derived": d is not None,
            **(
                {
                    "formula": f"{d.definition.left} {d.definition.op.value} {d.definition.right}",
                    "legs": [d.definition.left, d.definition.right],
                }
                if d
                else {}
            ),
        }

    # -- the bus -----------------------------------------------------------

    def bus_extra(self, sid: int) -> list[Any]:
        """The market state a bus row carries after the quote: ``[next_open,
        next_close, day statistics block or null]``."""
        block = self.stats.block(sid) if self.stats is not None else None
        return [self._next_open[sid], self._next_close[sid], block]

    def _adopt(self, sid: int, extra: Any) -> int:
        """Take a bus row's market state; returns the daily statistics' change mask
        (-1 when malformed)."""
        if not isinstance(extra, list) or len(extra) != 3:
            return -1
        nxt_open, nxt_close, block = extra
        if type(nxt_open) is not int or type(nxt_close) is not int:
            return -1
        self._next_open[sid] = nxt_open
        self._next_close[sid] = nxt_close
        if block is None or self.stats is None:
            return 0
        return self.stats.adopt(sid, block)

    # -- day messages --------------------------------------------------------

    def _send_day(self, sid: int, now: float) -> None:
        ingest = self.ingest
        if ingest is None or not ingest.hub.subscribers[sid]:
            return
        payload = self.day_message(sid)
        if payload is None:
            return
        self.day_messages += 1
        ingest.hub.publish_control(sid, payload, now)

    def day_message(self, sid: int) -> bytes | None:
        """The ``day`` message for the symbol's trading day as it stands (None without
        daily statistics or before its first tick). A roll sends it; so does a resume,
        after the replayed updates, because the ring holds updates, not day messages."""
        stats = self.stats
        if stats is None:
            return None
        day = stats.as_dict(sid)
        if day is None:
            return None
        label = date.fromordinal(int(stats.day[sid]))
        days = self.calendars[sid].trading_days(label, label)
        start = days[0].start if days else int(stats.start[sid])
        return encode_day(self.table.symbols[sid], day, start)

    # -- the hook (overridden) -------------------------------------------------

    def applied(self, sid: int, mask: int, now: float) -> int:
        return mask

    def derive(self, sid: int, now: float) -> None:
        """A leg ticked: recompute its crosses (only a LiveMarket has legs)."""

    def status_changed(self, sid: int, now: float) -> None:
        """A symbol's status was published (only a LiveMarket's crosses care)."""


#: The status a symbol takes when its market opens (the runtime knows its feed).
Opener = Callable[[int], int]
#: Called with a group's quoted symbols and ``now`` when their market opens.
OnOpen = Callable[[Sequence[int], float], None]


def _default_opener(table: SymbolTable) -> Opener:
    return lambda sid: _LIVE if table.seq[sid] > 0 else _PENDING


class LiveMarket(Market):
    """The computing market of a process whose feeds apply ticks (module docstring)."""

    def __init__(
        self,
        table: SymbolTable,
        calendars: Sequence[Calendar],
        times: Sequence[MarketTime],
        stats: DailyStats | None,
        crosses: CrossEngine | None = None,
        *,
        opened: Opener | None = None,
        on_open: OnOpen | None = None,
    ) -> None:
        engine = crosses
        derived: list[Derived] = []
        if engine is not None:
            ids = table.ids
            derived = [Derived(ids[d.symbol], d, (ids[d.left], ids[d.right])) for d in engine.definitions]
        super().__init__(table, calendars, stats, derived)
        if len(times) != len(table):
            raise ValueError(f"market: {len(times)} time bases for {len(table)} symbols")
        self.crosses = engine
        self._opened = opened or _default_opener(table)
        self._on_open = on_open
        #: Called when an event moved earlier than the timer knows (a first tick made a roll due).
        self.on_schedule: Callable[[], None] | None = None
        keys: dict[tuple[int, int], list[int]] = {}
        of_id: dict[int, Any] = {}
        for sid, (cal, tb) in enumerate(zip(calendars, times, strict=True)):
            keys.setdefault((id(tb), id(cal)), []).append(sid)
            of_id[id(tb)], of_id[id(cal)] = tb, cal
        self.groups: list[Group] = []
        self.group_of = [0] * len(table)
        for i, ((tid, cid), sids) in enumerate(keys.items()):
            quoted = [s for s in sids if s not in self.derived]
            self.groups.append(Group(of_id[cid], of_id[tid], sids, quoted))
            for s in sids:
                self.group_of[s] = i
        #: Per symbol: held closed by the calendar (crosses never: theirs is derived).
        self.closed = [False] * len(table)
        for d in derived:
            for leg in d.legs:
                self.legs[leg] = True
        #: Per leg: the crosses its tick recomputes.
        self._dependents = (
            {leg: engine.dependents(leg) for leg in range(len(table)) if self.legs[leg]} if engine else {}
        )
        #: Market transitions by (calendar name, "open" | "close").
        self.transitions: dict[tuple[str, str], int] = {}
        #: Per cross: leg ticks that recomputed it, and the ticks it made (applied).
        self.computations: dict[int, int] = {d.sid: 0 for d in derived}
        self.cross_ticks: dict[int, int] = {d.sid: 0 for d in derived}
        #: Derived ticks the table refused (a leg price too small to divide by, say).
        self.cross_rejected = 0

    # -- the timer's side ------------------------------------------------------

    def due(self, now: float) -> float | None:
        """Perform every transition and day roll that is due in any group; returns the
        seconds until the next one that a clock can tell (None: nothing to schedule:
        replays at speed 0 call back through their time base)."""
        delay: float | None = None
        for g in self.groups:
            now_us = g.time.now_us()
            if now_us is None:
                continue
            if not g.ready or now_us >= g.next_event:
                self._advance(g, now_us, now)
            if g.next_event >= _NEVER:
                continue
            d = g.time.delay_s(g.next_event)
            if d is not None and (delay is None or d < delay):
                delay = d
        return delay

    def _advance(self, g: Group, now_us: int, now: float) -> None:
        cal = g.calendar
        is_open = cal.is_open(now_us)
        first = not g.ready
        g.ready = True
        if first or is_open != g.open:
            g.open = is_open
            for sid in g.quoted:
                self.closed[sid] = not is_open
            self._times(g, now_us)
            if is_open:
                self._opening(g, now, first)
            else:
                self._closing(g, now, first)
        stats = self.stats
        if stats is not None:
            for sid in stats.roll_due(now_us, g.sids):
                self._rolled(sid, now)
        nxt = cal.next_change(now_us)
        g.next_change = _NEVER if nxt is None else nxt
        roll = stats.next_roll_among(g.sids) if stats is not None else None
        g.next_event = min(g.next_change, _NEVER if roll is None else roll)

    def _times(self, g: Group, now_us: int) -> None:
        """Refresh the group's session times, then every cross's from its legs: it
        opens when its last closed leg opens, and closes with the earlier leg."""
        cal = g.calendar
        nxt_open, nxt_close = cal.next_open(now_us) or 0, cal.next_close(now_us) or 0
        for sid in g.sids.tolist():
            self._next_open[sid] = nxt_open
            self._next_close[sid] = nxt_close
        for d in self.derived.values():
            legs = d.legs
            shut = [self._next_open[x] for x in legs if self.closed[x]]
            opens = shut or [self._next_open[x] for x in legs if self._next_open[x]]
            closes = [self._next_close[x] for x in legs if self._next_close[x]]
            self._next_open[d.sid] = max(opens, default=0)
            self._next_close[d.sid] = min(closes, default=0)

    def _closing(self, g: Group, now: float, first: bool) -> None:
        if not first:
            key = (g.calendar.name, "close")
            self.transitions[key] = self.transitions.get(key, 0) + 1
        for sid in g.quoted:
            self._set(sid, _CLOSED, now)

    def _opening(self, g: Group, now: float, first: bool) -> None:
        if not first:
            key = (g.calendar.name, "open")
            self.transitions[key] = self.transitions.get(key, 0) + 1
        if self._on_open is not None:
            self._on_open(g.quoted, now)
        for sid in g.quoted:
            if first and self._status[sid] != _CLOSED:
                continue  # at start-up an open market keeps what the table says
            self._set(sid, self._opened(sid), now)

    def _set(self, sid: int, status: int, now: float) -> None:
        if self.table.set_status(sid, Status(status)) and self.ingest is not None:
            self.ingest.publish_status(sid, now)

    def _rolled(self, sid: int, now: float) -> None:
        """The timer rolled a symbol's day: tell subscribers, and the bus."""
        self._send_day(sid, now)
        ingest = self.ingest
        if ingest is not None and ingest.tap is not None:
            ingest.tap.status_changed(sid)  # a row with the new statistics, same seq

    def restore(self, sid: int, extra: Any) -> None:
        """A restarted feed process continues the statistics it published before
        (the bus state hash's rows)."""
        if isinstance(extra, list) and len(extra) == 3:
            self._adopt(sid, extra)

    # -- the ingest path --------------------------------------------------------

    def applied(self, sid: int, mask: int, now: float) -> int:
        if mask & STATUS and self.closed[sid]:
            self._status[sid] = _CLOSED  # only the calendar reopens a market
            mask ^= STATUS
        stats = self.stats
        if stats is not None:
            m = stats.on_tick(sid, self._ts[sid], self._bid[sid])
            if m & STREAMED:
                if m & DAY:  # a roll: the day message carries everything
                    self._send_day(sid, now)
                    g = self.groups[self.group_of[sid]]
                    r = int(stats.roll_at[sid])
                    if r < g.next_event:
                        g.next_event = r
                        if self.on_schedule is not None:
                            self.on_schedule()
                else:
                    mask |= (m & STREAMED) << UPDATE_SHIFT
        return mask

    def derive(self, sid: int, now: float) -> None:
        engine = self.crosses
        ingest = self.ingest
        if engine is None or ingest is None:
            return
        table = self.table
        status = self._status
        moved = engine.set_leg_status(sid, status[sid])  # [] unless the leg's status changed
        changed = dict(moved) if moved else None
        computations = self.computations
        for c in self._dependents[sid]:
            computations[c] += 1
        for q in engine.on_leg(sid, self._bid[sid], self._ask[sid], self._ts[sid]):
            csid = q.sid
            if changed is not None:
                changed.pop(csid, None)
            before = status[csid]
            m = table.apply(csid, q.bid, q.ask, _NAN, _NAN, q.ts, now)
            if m < 0:
                self.cross_rejected += 1
                continue
            status[csid] = q.status
            m &= ~STATUS
            if before != q.status:
                m |= STATUS
            self.cross_ticks[csid] += 1
            ingest.publish_applied(csid, m, now)
        if changed:
            for csid, st in changed.items():  # status changed, price did not
                self._set(csid, st, now)

    def status_changed(self, sid: int, now: float) -> None:
        engine = self.crosses
        if engine is None or not self.legs[sid]:
            return
        for csid, st in engine.set_leg_status(sid, self._status[sid]):
            self._set(csid, st, now)


class MirroredMarket(Market):
    """A bus gateway's market: copies the publisher's (module docstring)."""

    def __init__(
        self,
        table: SymbolTable,
        calendars: Sequence[Calendar],
        stats: DailyStats | None,
        derived: Sequence[Derived] = (),
    ) -> None:
        super().__init__(table, calendars, stats, derived)
        self._pending = [0] * len(table)
        #: Bus rows whose market state was malformed (ignored).
        self.bad_extras = 0

    def adopt(self, sid: int, extra: Any, now: float) -> None:
        """A bus row's market state, just before its quote is applied: a new day is
        sent as a ``day`` message now; a new open, high or low rides on the update."""
        m = self._adopt(sid, extra)
        if m < 0:
            self.bad_extras += 1
            return
        if m & DAY:
            self._pending[sid] = 0
            self._send_day(sid, now)
        else:
            self._pending[sid] = (m & (OPEN | HIGH | LOW)) << UPDATE_SHIFT

    def applied(self, sid: int, mask: int, now: float) -> int:
        pending = self._pending[sid]
        if pending:
            self._pending[sid] = 0
            return mask | pending
        return mask
