"""What the feed process has applied but not yet published: a pure buffer.

:class:`Outbound` is the :class:`~ticker.ingest.Tap` of the feed process.
Every applied tick (and status change) appends its symbol's full state row
to its feed's pending list, copied at that moment, so every ``seq`` is
published, not only the latest. The publisher takes everything pending in
one go per Redis round trip, which batches naturally: one row per write
when ticks are sparse, thousands when they are dense.

While Redis is unreachable the buffer is paused and drops rows (bounded
memory); on reconnecting the publisher writes a full entry with every
symbol's state, which covers whatever was dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ticker.bus.codec import BusRow, state_row
from ticker.core.model import Status
from ticker.core.table import SymbolTable


class Outbound:
    __slots__ = ("_table", "_feed_of", "_sids", "pending", "paused", "notify", "dropped")

    def __init__(
        self,
        table: SymbolTable,
        feed_of_sid: Sequence[int],
        n_feeds: int,
        notify: Callable[[], None] | None = None,
    ) -> None:
        self._table = table
        self._feed_of = list(feed_of_sid)
        self._sids: list[list[int]] = [[] for _ in range(n_feeds)]
        for sid, f in enumerate(self._feed_of):
            self._sids[f].append(sid)
        self.pending: list[list[BusRow]] = [[] for _ in range(n_feeds)]
        self.paused = True
        #: Called when rows start pending (wakes the publisher).
        self.notify = notify
        #: Rows not published because Redis was unreachable.
        self.dropped = 0

    def applied(self, sid: int) -> None:
        if self.paused:
            self.dropped += 1
            return
        rows = self.pending[self._feed_of[sid]]
        rows.append(state_row(self._table, sid))
        if len(rows) == 1 and self.notify is not None:
            self.notify()

    status_changed = applied

    def take(self) -> list[list[BusRow]]:
        """Everything pending, per feed index; the buffer starts empty again."""
        out = self.pending
        self.pending = [[] for _ in out]
        return out

    def has_pending(self) -> bool:
        return any(self.pending)

    def pause(self) -> None:
        """Stop buffering (Redis is away); drop what is pending."""
        self.paused = True
        self.dropped += sum(len(p) for p in self.pending)
        self.pending = [[] for _ in self.pending]

    def resume(self) -> None:
        self.paused = False

    def feed_sids(self, feed: int) -> list[int]:
        """The symbol ids of feed index ``feed``."""
        return self._sids[feed]

    def full_rows(self, feed: int) -> list[BusRow]:
        """Every symbol of the feed that has a state worth publishing."""
        t = self._table
        return [
            state_row(t, sid) for sid in self._sids[feed] if t.seq[sid] > 0 or t.status[sid] != Status.PENDING
        ]
