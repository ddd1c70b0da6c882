"""The in-memory symbol table: the latest quote of every symbol.

Invariants, held by :meth:`SymbolTable.apply` alone:

* a rejected tick changes nothing but a rejection counter;
* an applied tick increases its symbol's ``seq`` by exactly one;
* stored prices are rounded to the symbol's decimals, so "changed" means
  changed as a client would see it;
* ``ts`` never goes backwards for a symbol.

Each symbol's ``seq`` belongs to an *epoch* (:attr:`SymbolTable.epoch`, a
short string): the name of one unbroken sequence. Whoever can no longer
prove that ``seq`` continues what clients saw (a new process, a sequence
started over) gives the symbol a new epoch; the table only holds it, so
snapshots carry it and resuming clients can be checked against it.

A gateway fed by the Redis bus (:mod:`ticker.bus`) does not assign ``seq``:
:meth:`SymbolTable.apply_mirrored` copies the publisher's full state of a
symbol, ``seq`` included, and refuses anything older than what it holds, so
every gateway shows the publisher's sequence and none ever goes backwards.

State lives in numpy arrays indexed by symbol id so that snapshots, metrics
and the staleness sweep can read whole columns at once.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ticker.core.model import Instrument, QuoteState, Status

INF = math.inf

# Bits of the change mask returned by apply().
BID = 1
ASK = 2
BID_SIZE = 4
ASK_SIZE = 8
#: The change bits of the four quote fields (the client names them in ``QUOTE_FIELDS``).
QUOTE_MASK = BID | ASK | BID_SIZE | ASK_SIZE
#: The symbol's status changed (to live) with this tick.
STATUS = 16
_LIVE = int(Status.LIVE)
#: apply_mirrored(): the publisher's seq advanced, so an update is due.
SEQ = 32
#: apply_mirrored(): the state is not newer than the table's (old or repeated seq).
NOT_NEWER = -100


def column_view(column: np.ndarray) -> Any:
    """The column's memory as a memoryview: indexing yields plain Python numbers.
    (Typed Any because typeshed's memoryview only knows int items.)"""
    return column.data


class Reject(enum.IntEnum):
    """Why a tick was refused; the values are negative so apply() can return them."""

    UNKNOWN_SYMBOL = -1
    BAD_PRICE = -2
    CROSSED = -3
    BAD_SIZE = -4
    TS_BACKWARDS = -5
    OUTLIER = -6

    @property
    def label(self) -> str:
        return self.name.lower()


class SymbolTable:
    """Latest bid/ask/sizes/ts/seq/status per symbol, with validation on write."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self.instruments: tuple[Instrument, ...] = tuple(instruments)
        self.ids: dict[str, int] = {}
        for sid, inst in enumerate(self.instruments):
            if inst.symbol in self.ids:
                raise ValueError(f"symbol {inst.symbol} is defined twice")
            self.ids[inst.symbol] = sid
        n = len(self.instruments)
        self.symbols: tuple[str, ...] = tuple(i.symbol for i in self.instruments)
        self.decimals: tuple[int, ...] = tuple(i.decimals for i in self.instruments)
        self.bid = np.full(n, np.nan)
        self.ask = np.full(n, np.nan)
        self.bid_size = np.full(n, np.nan)
        self.ask_size = np.full(n, np.nan)
        self.ts = np.zeros(n, dtype=np.int64)
        self.seq = np.zeros(n, dtype=np.int64)
        self.status = np.full(n, Status.PENDING, dtype=np.int8)
        #: The epoch each symbol's ``seq`` belongs to (set by the service or the bus).
        self.epoch: list[str] = [""] * n
        #: Monotonic time of the last applied tick (for staleness), 0 = never.
        self.applied_at = np.zeros(n)
        #: Rejections so far, indexed by -Reject.
        self.rejected = [0] * (len(Reject) + 1)
        # The hot path reads and writes the same memory through memoryviews: an
        # element access then costs a third of a numpy scalar round trip (measured
        # by timeit on apply(): 12.8 -> 2.9 µs per applied tick).
        self._bid = column_view(self.bid)
        self._ask = column_view(self.ask)
        self._bsz = column_view(self.bid_size)
        self._asz = column_view(self.ask_size)
        self._ts = column_view(self.ts)
        self._seq = column_view(self.seq)
        self._status = column_view(self.status)
        self._applied_at = column_view(self.applied_at)

    def __len__(self) -> int:
        return len(self.instruments)

    def sid(self, symbol: str) -> int:
        """The symbol's id, or -1 when the table does not know it."""
        return self.ids.get(symbol, -1)

    def apply(
        self,
        sid: int,
        bid: float,
        ask: float,
        bid_size: float,
        ask_size: float,
        ts: int,
        now: float,
    ) -> int:
        """Apply one tick; return the change mask (>= 0) or a negative :class:`Reject`.

        NaN sizes mean "not provided" and keep the stored size.
        """
        if not 0 <= sid < len(self.decimals):
            return self._reject(Reject.UNKNOWN_SYMBOL)
        if not (0.0 < bid < INF and 0.0 < ask < INF):
            return self._reject(Reject.BAD_PRICE)
        d = self.decimals[sid]
        bid = round(bid, d)
        ask = round(ask, d)
        if bid > ask:
            return self._reject(Reject.CROSSED)
        if (bid_size == bid_size and not 0.0 <= bid_size < INF) or (
            ask_size == ask_size and not 0.0 <= ask_size < INF
        ):
            return self._reject(Reject.BAD_SIZE)
        if ts < self._ts[sid]:
            return self._reject(Reject.TS_BACKWARDS)

        mask = self._write(sid, bid, ask, bid_size, ask_size)
        if self._status[sid] != _LIVE:
            self._status[sid] = _LIVE
            mask |= STATUS
        self._ts[sid] = ts
        self._seq[sid] += 1
        self._applied_at[sid] = now
        return mask

    def apply_mirrored(self, sid: int, state: QuoteState, now: float) -> int:
        """Copy a publisher's full state of a symbol, taking its ``seq``.

        Returns the change mask relative to this table (with :data:`SEQ` when
        ``seq`` advanced, :data:`STATUS` when the status changed to anything),
        :data:`NOT_NEWER` when ``seq`` is older than ours, or equal with the
        same status (a replay after a resync), or ``Reject.UNKNOWN_SYMBOL``.
        The publisher validated and rounded the values; NaN means "not
        provided" as in :meth:`apply`.
        """
        if not 0 <= sid < len(self.decimals):
            return self._reject(Reject.UNKNOWN_SYMBOL)
        seq, bid, ask, bid_size, ask_size, ts, status = state
        current = self._seq[sid]
        if seq < current:
            return NOT_NEWER
        mask = 0
        if seq > current:
            mask = SEQ | self._write(sid, bid, ask, bid_size, ask_size)
            if ts > self._ts[sid]:
                self._ts[sid] = ts
            self._seq[sid] = seq
            self._applied_at[sid] = now
        if status != self._status[sid]:
            self._status[sid] = status
            mask |= STATUS
        return mask if mask else NOT_NEWER

    def _write(self, sid: int, bid: float, ask: float, bid_size: float, ask_size: float) -> int:
        """Store the fields that differ; NaN means "not provided" and keeps the
        stored value. Returns their change bits. Shared by :meth:`apply` and
        :meth:`apply_mirrored` (as a call it cost apply nothing measurable: 2.2-2.4 µs
        per tick either way, timeit)."""
        mask = 0
        if bid == bid and bid != self._bid[sid]:
            self._bid[sid] = bid
            mask = BID
        if ask == ask and ask != self._ask[sid]:
            self._ask[sid] = ask
            mask |= ASK
        if bid_size == bid_size and bid_size != self._bsz[sid]:
            self._bsz[sid] = bid_size
            mask |= BID_SIZE
        if ask_size == ask_size and ask_size != self._asz[sid]:
            self._asz[sid] = ask_size
            mask |= ASK_SIZE
        return mask

    def state(self, sid: int) -> QuoteState:
        """The symbol's state as Python numbers (read through the memoryviews: the
        feed process copies one per tick)."""
        return QuoteState(
            self._seq[sid], self._bid[sid], self._ask[sid], self._bsz[sid],
            self._asz[sid], self._ts[sid], self._status[sid],
        )  # fmt: skip

    def count_reject(self, reason: Reject) -> None:
        """Count a rejection decided outside apply() (e.g. by an outlier filter)."""
        self.rejected[-reason] += 1

    def _reject(self, reason: Reject) -> int:
        self.rejected[-reason] += 1
        return int(reason)

    def forget(self, sid: int) -> None:
        """Back to "never ticked" (a gateway adopting a publisher that started over)."""
        self._bid[sid] = self._ask[sid] = self._bsz[sid] = self._asz[sid] = math.nan
        self._ts[sid] = self._seq[sid] = 0
        self._status[sid] = int(Status.PENDING)

    def set_status(self, sid: int, status: Status) -> bool:
        """Set a symbol's status; True when it changed."""
        if self.status[sid] == status:
            return False
        self.status[sid] = status
        return True

    def rejected_by_reason(self) -> dict[str, int]:
        return {r.label: self.rejected[-r] for r in Reject}
