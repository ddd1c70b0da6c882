"""The client's picture of the market: the latest quote per symbol.

Sans-I/O: protocol messages (already unpacked dicts) go in, :class:`Change`
values come out. No clock, no sockets, so every rule below is unit-tested
without a server. The rules, in the order :meth:`QuoteBook.apply` checks them:

- A symbol enters the book with its ``snapshot``, which replaces whatever was
  there (a resubscribe or a reconnect resynchronises this way). A snapshot
  that skips ``seq`` of the same epoch counts the skipped updates as a gap:
  they happened and this client never saw them (a reconnect that could not
  be resumed).
- An ``update`` applies on top of the current quote only when its ``seq`` is
  higher. ``seq - previous - 1`` is the *gap*: updates the server merged by
  conflation or throttling (the values are still right: a delta carries the
  latest values of every field that changed). An update whose ``seq`` is not
  higher is a leftover from before a resubscribe and is dropped.
- An update or status for a symbol without a snapshot is dropped: it belongs
  to a subscription already given up (see :meth:`QuoteBook.forget`).
- ``status`` changes the status (and the session time it carries:
  ``next_open`` while closed, ``next_close`` otherwise). ``unsubscribed``
  removes the symbols.
- The trading day (protocol v1 addition): a snapshot's ``day`` object is the
  symbol's :class:`Day`; an update's ``day`` field carries only the day's
  fields that changed (a new open, high or low) and is merged in; a ``day``
  message replaces it (the day rolled). :attr:`Quote.change` and
  :attr:`Quote.change_pct` follow the bid as the server computes them.
- Unknown message types change nothing (the protocol grows by adding them).

A message missing ``symbol`` or ``seq`` is the server's fault, not the
caller's: it is dropped and counted as ``malformed``, never raised.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

#: The quote fields a snapshot carries and an update may carry.
QUOTE_FIELDS = ("bid", "ask", "bid_size", "ask_size")
#: The daily statistics an update's ``day`` field may carry.
DAY_UPDATE_FIELDS = ("open", "high", "low")


def _price(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class Day:
    """A symbol's trading day: ``date`` is its ISO label (``2024-03-12``); prices are
    bids; ``None`` where not known yet (no tick in the day, no previous close).
    ``ticks`` is as of the last snapshot or ``day`` message (updates do not count it)."""

    date: str
    open: float | None = None
    high: float | None = None
    low: float | None = None
    prev_close: float | None = None
    ticks: int = 0

    @classmethod
    def parse(cls, obj: Any) -> Day | None:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("date"), str):
            return None
        ticks = obj.get("ticks")
        return cls(
            obj["date"],
            _price(obj.get("open")),
            _price(obj.get("high")),
            _price(obj.get("low")),
            _price(obj.get("prev_close")),
            ticks if isinstance(ticks, int) and not isinstance(ticks, bool) else 0,
        )

    def merged(self, changed: Any) -> Day:
        """This day with an update's ``day`` fields applied."""
        if not isinstance(changed, Mapping):
            return self
        o, h, lo = (_price(changed[f]) if f in changed else getattr(self, f) for f in DAY_UPDATE_FIELDS)
        return Day(self.date, o, h, lo, self.prev_close, self.ticks)


@dataclass(frozen=True, slots=True)
class Quote:
    """One symbol's top of book. ``ts`` is source time in µs since the epoch."""

    symbol: str
    seq: int
    ts: int
    status: str = "live"
    bid: float | None = None
    ask: float | None = None
    bid_size: float | None = None
    ask_size: float | None = None
    #: The epoch ``seq`` belongs to (from the snapshot): what a resume sends back.
    epoch: str = ""
    #: The trading day's statistics (None before the symbol's first day, or when
    #: the server keeps none).
    day: Day | None = None
    #: When the market next opens / closes, µs since the epoch (None: never, or unknown).
    next_open: int | None = None
    next_close: int | None = None

    @property
    def change(self) -> float | None:
        """bid − the previous close, exactly as the server rounds it (the decimal
        difference of the two prices as sent); None without either, and (as the
        server's) None in a day that has had no tick yet: just after a roll."""
        day = self.day
        if self.bid is None or day is None or day.prev_close is None or day.open is None:
            return None
        prev = day.prev_close
        return float(Decimal(repr(self.bid)) - Decimal(repr(prev)))

    @property
    def change_pct(self) -> float | None:
        """100 × change / previous close, to 2 decimals (the server's rounding)."""
        change = self.change
        prev = self.day.prev_close if self.day is not None else None
        if change is None or not prev:
            return None
        return round(100.0 * change / prev, 2)

    @property
    def mid(self) -> float | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2

    @property
    def spread(self) -> float | None:
        if self.bid is None or self.ask is None:
            return None
        return self.ask - self.bid


@dataclass(frozen=True, slots=True)
class Change:
    """What one message did to the book.

    ``quote`` is the symbol's quote after the message (None when the message
    removed it or was dropped); ``gap`` counts updates merged away just before
    this one (or, for a snapshot, skipped since the quote it replaced);
    ``dropped`` names why a message changed nothing.
    """

    quote: Quote | None
    gap: int = 0
    dropped: str | None = None


_MALFORMED = Change(None, dropped="malformed")
_NO_SNAPSHOT = Change(None, dropped="no_snapshot")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class QuoteBook:
    """Latest quote per symbol, kept from snapshot, update and status messages."""

    def __init__(self) -> None:
        self._quotes: dict[str, Quote] = {}
        #: per symbol: updates the server merged away (sum of gaps)
        self.gaps: Counter[str] = Counter()
        #: why messages were dropped: no_snapshot, old_seq, malformed
        self.dropped: Counter[str] = Counter()

    # ------------------------------------------------------------ reading

    def __getitem__(self, symbol: str) -> Quote:
        return self._quotes[symbol]

    def get(self, symbol: str) -> Quote | None:
        return self._quotes.get(symbol)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._quotes

    def __iter__(self) -> Iterator[Quote]:
        return iter(list(self._quotes.values()))

    def __len__(self) -> int:
        return len(self._quotes)

    # ------------------------------------------------------------ writing

    def apply(self, msg: Mapping[str, Any]) -> Change | None:
        """Apply one server message; None for types that do not touch quotes."""
        kind = msg.get("type")
        if kind == "update":
            change = self._update(msg)
        elif kind == "snapshot":
            change = self._snapshot(msg)
        elif kind == "status":
            change = self._status(msg)
        elif kind == "day":
            change = self._day(msg)
        elif kind == "unsubscribed":
            self.forget(s for s in msg.get("symbols") or () if isinstance(s, str))
            return Change(None)
        else:
            return None
        if change.dropped is not None:
            self.dropped[change.dropped] += 1
        return change

    def forget(self, symbols: Iterable[str]) -> None:
        """Drop symbols now, so late updates for them are ignored."""
        for s in symbols:
            self._quotes.pop(s, None)

    def mark_stale(self) -> None:
        """Every quote turns ``stale``: the connection is gone, nothing is live."""
        for symbol, q in self._quotes.items():
            if q.status != "stale":
                self._quotes[symbol] = dataclasses.replace(q, status="stale")

    def _snapshot(self, msg: Mapping[str, Any]) -> Change:
        symbol, seq, ts = msg.get("symbol"), _int(msg.get("seq")), _int(msg.get("ts"))
        if not isinstance(symbol, str) or seq is None:
            return _MALFORMED
        status, epoch = msg.get("status"), msg.get("epoch")
        quote = Quote(
            symbol,
            seq,
            ts if ts is not None else 0,
            status if isinstance(status, str) else "live",
            bid=msg.get("bid"),
            ask=msg.get("ask"),
            bid_size=msg.get("bid_size"),
            ask_size=msg.get("ask_size"),
            day=Day.parse(msg.get("day")),
            next_open=_int(msg.get("next_open")),
            next_close=_int(msg.get("next_close")),
            epoch=epoch if isinstance(epoch, str) else "",
        )
        old = self._quotes.get(symbol)
        self._quotes[symbol] = quote
        gap = seq - old.seq if old is not None and old.epoch == quote.epoch and seq > old.seq else 0
        if gap:
            self.gaps[symbol] += gap
        return Change(quote, gap)

    def _update(self, msg: Mapping[str, Any]) -> Change:
        symbol, seq, ts = msg.get("symbol"), _int(msg.get("seq")), _int(msg.get("ts"))
        if not isinstance(symbol, str) or seq is None:
            return _MALFORMED
        old = self._quotes.get(symbol)
        if old is None:
            return _NO_SNAPSHOT
        if seq <= old.seq:
            return Change(old, dropped="old_seq")
        changed: dict[str, Any] = {f: msg[f] for f in QUOTE_FIELDS if f in msg}
        if "day" in msg and old.day is not None:
            changed["day"] = old.day.merged(msg["day"])
        quote = dataclasses.replace(old, seq=seq, ts=ts if ts is not None else old.ts, **changed)
        self._quotes[symbol] = quote
        gap = seq - old.seq - 1
        if gap:
            self.gaps[symbol] += gap
        return Change(quote, gap)

    def _status(self, msg: Mapping[str, Any]) -> Change:
        symbol, status = msg.get("symbol"), msg.get("status")
        if not isinstance(symbol, str) or not isinstance(status, str):
            return _MALFORMED
        old = self._quotes.get(symbol)
        if old is None:
            return _NO_SNAPSHOT
        times: dict[str, Any] = {k: _int(msg[k]) for k in ("next_open", "next_close") if k in msg}
        quote = dataclasses.replace(old, status=status, **times)
        self._quotes[symbol] = quote
        return Change(quote)

    def _day(self, msg: Mapping[str, Any]) -> Change:
        symbol, day = msg.get("symbol"), Day.parse(msg.get("day"))
        if not isinstance(symbol, str) or day is None:
            return _MALFORMED
        old = self._quotes.get(symbol)
        if old is None:
            return _NO_SNAPSHOT
        quote = dataclasses.replace(old, day=day)
        self._quotes[symbol] = quote
        return Change(quote)
