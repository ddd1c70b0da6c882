"""The one tick-column type: :class:`TickBatch`.

Every vectorised producer of ticks (the synthetic market, the replay
parsers and merger, a test) hands out a :class:`TickBatch`; the ingest path
takes one. ``sid`` indexes a list of symbols, and which list depends on who
holds the batch: a feed's own symbol list while the feed builds it, the
symbol table's once :meth:`TickBatch.to_table` has mapped it (that is what a
feed publishes). ``-1`` means "no such symbol" in either space.

On the per-tick path a tick is a plain :data:`TickRow` tuple: building a
tuple from ``tolist()`` columns costs far less than touching numpy scalars.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

#: One tick on the per-tick path: ``(sid, bid, ask, bid_size, ask_size, ts)``.
TickRow = tuple[int, float, float, float, float, int]


@dataclass(frozen=True, slots=True)
class TickBatch:
    """Columns of ticks in arrival (time) order; ``ts`` in µs since the epoch."""

    sid: npt.NDArray[np.int32]
    bid: npt.NDArray[np.float64]
    ask: npt.NDArray[np.float64]
    bid_size: npt.NDArray[np.float64]
    ask_size: npt.NDArray[np.float64]
    ts: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.sid)

    def take(self, sel: slice | npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> TickBatch:
        """The rows ``sel`` selects, as a new batch (views for a slice)."""
        return TickBatch(
            self.sid[sel], self.bid[sel], self.ask[sel], self.bid_size[sel], self.ask_size[sel], self.ts[sel]
        )

    def to_table(self, sids: npt.NDArray[np.int32]) -> TickBatch:
        """Map feed-local symbol indices to table ids: ``sids[i]`` is the table id of
        the feed's i-th symbol (``-1`` stays "unknown")."""
        mapped = np.where(self.sid >= 0, sids[np.maximum(self.sid, 0)], -1).astype(np.int32)
        return TickBatch(mapped, self.bid, self.ask, self.bid_size, self.ask_size, self.ts)

    def with_ts(self, ts: npt.NDArray[np.int64]) -> TickBatch:
        """The same ticks stamped with other times (a replay shifting or re-stamping)."""
        return TickBatch(self.sid, self.bid, self.ask, self.bid_size, self.ask_size, ts)

    def rows(self) -> Iterator[TickRow]:
        """The ticks as Python tuples (``tolist`` first: far cheaper than numpy scalars)."""
        return zip(
            self.sid.tolist(),
            self.bid.tolist(),
            self.ask.tolist(),
            self.bid_size.tolist(),
            self.ask_size.tolist(),
            self.ts.tolist(),
            strict=True,
        )

    @staticmethod
    def concat(parts: Sequence[TickBatch]) -> TickBatch:
        """The parts one after the other."""
        return TickBatch(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in _FIELDS))

    @staticmethod
    def empty() -> TickBatch:
        return TickBatch(
            np.empty(0, np.int32),
            np.empty(0),
            np.empty(0),
            np.empty(0),
            np.empty(0),
            np.empty(0, np.int64),
        )


_FIELDS = fields(TickBatch)
