"""Which feed serves each symbol, and when a symbol turns stale.

Rules, all held here (pure code: times are passed in, nothing is awaited):

* Every symbol has a primary feed and at most one backup feed. The *active*
  feed's ticks are applied; the other feed's are dropped while it stands by.
* The primary is *down* for a symbol when it has sent no tick for it for
  its ``stale_after_s`` (counted from start-up before its first tick) or when
  its connection is known to be lost.
* A backup tick arriving while the primary is down makes the backup active
  (a failover); the next primary tick makes the primary active again (a
  failback). Both are counted. The table's ``seq`` just keeps increasing.
* A symbol whose active feed sent nothing for that feed's ``stale_after_s``
  turns stale, unless its backup is fresh, in which case the backup takes
  over instead. ``stale_after_s = 0`` means never stale.
* When a feed reports its connection lost, the symbols it actively serves
  turn stale at once (or fail over to a fresh backup).
* Only ``live`` symbols go stale: a symbol whose market is closed
  (:mod:`ticker.core.market`) is not expected to tick. When its market
  opens (:meth:`Sources.reopened`) its silence is counted from the open, not
  from its last tick before the weekend, so it has ``stale_after_s`` to send
  its first tick.
* A symbol with no feed (:data:`NO_FEED`: a derived cross, whose status
  follows its legs) is never stale here.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ticker.core.model import Status

NO_FEED = -1


class Direction(enum.Enum):
    TO_BACKUP = "to_backup"
    TO_PRIMARY = "to_primary"


@dataclass(frozen=True, slots=True)
class Switch:
    sid: int
    from_feed: int
    to_feed: int
    direction: Direction


class Sources:
    def __init__(
        self,
        primary: Sequence[int],
        backup: Sequence[int],
        stale_after_s: Sequence[float],
        now: float,
    ) -> None:
        """``primary``/``backup``: feed index per symbol id (-1 for none: a backup,
        or a derived symbol's feed); ``stale_after_s``: per feed index (0 = never stale)."""
        n = len(primary)
        self.primary = np.asarray(primary, dtype=np.int64)
        self.backup = np.asarray(backup, dtype=np.int64)
        self.stale_after = [s if s > 0 else math.inf for s in stale_after_s]
        self.active = self.primary.copy()
        #: Last tick time per symbol from its primary and from its backup (start-up time at first).
        self.primary_seen = np.full(n, now)
        self.backup_seen = np.full(n, -math.inf)
        self.connected = [True] * len(stale_after_s)
        #: Per primary feed index and direction.
        self.switches: Counter[tuple[int, Direction]] = Counter()
        #: Symbols that have a backup.
        self.has_backup = self.backup >= 0
        #: When each symbol's market last opened (silence is counted from then at most).
        self.opened_at = np.full(n, -math.inf)
        limits = [self.stale_after[f] if f >= 0 else math.inf for f in self.primary.tolist()]
        self._limit = np.array(limits) if n else np.zeros(0)

    def stale_limit(self) -> npt.NDArray[np.float64]:
        """Seconds without a tick after which each symbol is stale (its active feed's)."""
        return self._limit

    def admit(self, feed: int, sid: int, now: float) -> Switch | bool:
        """Record a tick of ``feed`` for ``sid`` (a symbol with a backup); returns
        False to drop it, True to apply it, or the :class:`Switch` it caused (apply)."""
        self.connected[feed] = True
        if feed == self.primary[sid]:
            self.primary_seen[sid] = now
            if self.active[sid] != feed:
                return self._switch(sid, feed, Direction.TO_PRIMARY)
            return True
        self.backup_seen[sid] = now
        if self.active[sid] == feed:
            return True
        if self._primary_down(sid, now):
            return self._switch(sid, feed, Direction.TO_BACKUP)
        return False

    def _primary_down(self, sid: int, now: float) -> bool:
        p = int(self.primary[sid])
        return not self.connected[p] or now - self.primary_seen[sid] > self.stale_after[p]

    def _backup_fresh(self, sid: int, now: float) -> bool:
        b = int(self.backup[sid])
        return b >= 0 and self.connected[b] and now - self.backup_seen[sid] <= self.stale_after[b]

    def _switch(self, sid: int, to: int, direction: Direction) -> Switch:
        frm = int(self.active[sid])
        self.active[sid] = to
        self._limit[sid] = self.stale_after[to]
        self.switches[(int(self.primary[sid]), direction)] += 1
        return Switch(sid, frm, to, direction)

    def sweep(
        self, now: float, status: npt.NDArray[np.int8], applied_at: npt.NDArray[np.float64]
    ) -> tuple[list[int], list[Switch]]:
        """Symbols to mark stale now, and failovers made instead of marking stale."""
        since = np.maximum(applied_at, self.opened_at)
        late = np.flatnonzero((status == Status.LIVE) & (now - since > self._limit))
        return self._expire(late.tolist(), now)

    def reopened(self, sids: Sequence[int], now: float) -> None:
        """These symbols' market opened at ``now``: count their silence from here (and
        their primary's, for failover), not from before the close."""
        idx = np.asarray(sids, dtype=np.int64)
        self.opened_at[idx] = now
        self.primary_seen[idx] = np.maximum(self.primary_seen[idx], now)

    def feed_connected(self, sid: int) -> bool:
        """Whether the feed now serving ``sid`` has its source (False: it reported it lost)."""
        f = int(self.active[sid])
        return f < 0 or self.connected[f]

    def connection_lost(
        self, feed: int, now: float, status: npt.NDArray[np.int8]
    ) -> tuple[list[int], list[Switch]]:
        """``feed`` lost its source: symbols it actively serves go stale or fail over."""
        self.connected[feed] = False
        mine = np.flatnonzero((self.active == feed) & (status == Status.LIVE))
        return self._expire(mine.tolist(), now)

    def _expire(self, sids: list[int], now: float) -> tuple[list[int], list[Switch]]:
        stale: list[int] = []
        switches: list[Switch] = []
        for sid in sids:
            if self.active[sid] == self.primary[sid] and self._backup_fresh(sid, now):
                switches.append(self._switch(sid, int(self.backup[sid]), Direction.TO_BACKUP))
            else:
                stale.append(sid)
        return stale, switches
