"""A gateway's copy of the publishers' tables: the sequencing rules, no I/O.

One :class:`FeedLink` per feed stream remembers where the gateway is: the
publisher's ``epoch``, the number ``n`` of the last entry applied and the
stream id to read on from. :meth:`Mirror.entry` enforces:

* an entry is applied only if it is the next one (same epoch, ``n`` + 1)
  or a full entry; any other entry means something was missed (the gateway
  was away longer than the stream keeps, Redis restarted, the publisher
  restarted) and the answer is :data:`EntryOutcome.RESYNC`: the I/O layer loads
  the state hash and calls :meth:`Mirror.resync`;
* rows go through :meth:`~ticker.table.SymbolTable.apply_mirrored`, which
  never lets ``seq`` go backwards, so a replay after a resync is harmless
  and clients never see an older ``seq``;
* the one exception: a complete state (full entry or resync) from a *new*
  publisher with a lower ``seq`` than ours means the sequence itself was
  lost (Redis's data and the publisher together); the gateway adopts it and
  sends subscribers a fresh ``snapshot``, which resets their baseline, rather
  than freeze until the new sequence overtakes the old one;
* every row belongs to its entry's *sequence epoch* (``s``); a symbol whose
  epoch changes is adopted the same way, with a fresh ``snapshot`` naming the
  new epoch, so gateways agree on ``(epoch, seq)`` and a client can resume on
  any of them;
* while the link is down or a feed is silent (no entry, not even the
  publisher's heartbeat, for ``silence_s``) its live symbols are shown
  ``stale``; the first sign of life restores the publisher's statuses.

:meth:`Mirror.prefill` serves the resume ring: a gateway that starts replays
the stream's recent entries through the same path before its first resync,
so its ring holds what a gateway that was running all along holds.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ticker.bus.bars import BarMirror
from ticker.bus.codec import BusFormatError, BusRow, FeedKeys, decode_entry, decode_state, unpack_row
from ticker.bus.stats import BusStats
from ticker.core.ingest import Ingest
from ticker.core.model import QuoteState, Status
from ticker.core.stats import FeedStats

_STATUSES = frozenset(int(s) for s in Status)
_NAN = float("nan")
#: The state of a symbol before its first tick.
_NEVER_TICKED = QuoteState(0, _NAN, _NAN, _NAN, _NAN, 0, int(Status.PENDING))


class EntryOutcome(enum.Enum):
    APPLIED = "applied"
    IGNORED = "ignored"
    RESYNC = "resync"


@dataclass(eq=False)
class FeedLink:
    """Where the gateway stands in one feed's stream."""

    keys: FeedKeys
    sids: list[int]
    stats: FeedStats
    epoch: str | None = None
    n: int = 0
    last_id: bytes = b"0-0"
    last_seen: float = 0.0
    silent: bool = True
    #: Why the next resync happens (for the resyncs counter).
    resync_reason: str = field(default="start")
    #: The stream's recent history has been replayed into the table (once, at the first sync).
    prefilled: bool = False


class Mirror:
    def __init__(
        self,
        ingest: Ingest,
        links: Sequence[FeedLink],
        stats: BusStats,
        *,
        wall_us: Callable[[], int],
    ) -> None:
        self.ingest = ingest
        self.table = ingest.table
        self.links = list(links)
        self.stats = stats
        self._wall_us = wall_us
        #: The status each publisher last reported per symbol (what "live again" restores).
        self.pub_status = np.full(len(self.table), Status.PENDING, dtype=np.int8)
        #: Bars mirrored from the publisher (None: bars are off).
        self.bars: BarMirror | None = None

    # ------------------------------------------------------------ stream entries

    def entry(self, link: FeedLink, entry_id: bytes, fields: dict[bytes, bytes], now: float) -> EntryOutcome:
        """Apply one stream entry read after ``link.last_id``."""
        stats = self.stats
        link.last_id = entry_id
        try:
            entry = decode_entry(fields)
        except BusFormatError:
            stats.bad_entries += 1
            link.resync_reason = "bad_entry"
            return EntryOutcome.RESYNC
        stats.entries_consumed += 1
        stats.latency.observe(max(self._wall_us() - entry.wall_us, 0) / 1e6)
        link.last_seen = now
        if not entry.full:
            if link.epoch is None:
                return EntryOutcome.IGNORED  # waiting for the publisher's full entry
            if entry.epoch != link.epoch:
                link.resync_reason = "new_publisher"
                return EntryOutcome.RESYNC
            if entry.n <= link.n:
                return EntryOutcome.IGNORED
            if entry.n != link.n + 1:
                link.resync_reason = "gap"
                return EntryOutcome.RESYNC
        new_publisher = entry.epoch != link.epoch
        link.epoch = entry.epoch
        link.n = entry.n
        if link.silent:
            self._wake(link, now)
        self._apply(link, entry.rows, now, entry.sequence, reset=new_publisher and entry.full)
        if entry.bars and self.bars is not None:
            self.bars.apply(entry.bars, now)
        return EntryOutcome.APPLIED

    def prefill(
        self, link: FeedLink, entries: Sequence[tuple[bytes, dict[bytes, bytes]]], now: float
    ) -> None:
        """Replay recent stream entries (oldest first) into a table that has not
        synced yet, each at the monotonic time it was written, so the resume ring
        fills as it would have live. Nothing here is a client's concern yet:
        feed counters and latencies are not touched; the resync that follows
        brings the current state and statuses."""
        link.prefilled = True
        scratch = FeedStats(link.stats.name)
        wall = self._wall_us()
        for _, fields in entries:
            try:
                entry = decode_entry(fields)
            except BusFormatError:
                self.stats.bad_entries += 1
                continue
            at = now - max(wall - entry.wall_us, 0) / 1e6
            self._apply(link, entry.rows, at, entry.sequence, feed=scratch)

    def resync(
        self,
        link: FeedLink,
        epoch: str | None,
        n: int,
        last_id: bytes,
        states: Sequence[bytes],
        now: float,
        seq_epoch: str | None = None,
        bars: Sequence[object] | None = None,
    ) -> None:
        """Adopt a consistent view of the feed: its state hash, and the meta
        and last stream id written in the same transaction (``seq_epoch``: the
        sequence the hash's rows belong to; the publisher's ``epoch`` if unknown;
        with ``bars``, every bar of the feed's symbols, read in it too: they replace ours)."""
        rows: list[BusRow] = []
        for raw in states:
            try:
                rows.append(decode_state(raw))
            except BusFormatError:
                self.stats.bad_rows += 1
        self.stats.resyncs[link.resync_reason] += 1
        link.resync_reason = "gap"
        new_publisher = epoch != link.epoch
        link.epoch = epoch
        link.n = n
        link.last_id = last_id
        link.last_seen = now
        if epoch is None:
            # Nothing published yet (or Redis restarted empty): stay as we are
            # until the publisher's full entry arrives.
            return
        ids = self.table.ids
        for row in rows:  # statuses first, so "live" comes before the catch-up updates
            sid = ids.get(row[0], -1) if row and type(row[0]) is str else -1
            if sid >= 0 and len(row) == 8 and row[7] in _STATUSES:
                self.pub_status[sid] = row[7]
        if link.silent:
            self._wake(link, now)
        self._apply(link, rows, now, seq_epoch if seq_epoch is not None else epoch, reset=new_publisher)
        if bars is not None and self.bars is not None:
            self.bars.replace(link.sids, bars, now)

    def _apply(
        self,
        link: FeedLink,
        rows: list[BusRow],
        now: float,
        sequence: str,
        reset: bool = False,
        feed: FeedStats | None = None,
    ) -> None:
        """Apply rows of sequence epoch ``sequence`` in order. A symbol that was
        in another epoch is adopted with a fresh snapshot. With ``reset`` (a
        complete state from a publisher other than the one we followed), a row
        with a lower seq than ours means that publisher started its sequence
        over: adopted the same way."""
        ids = self.table.ids
        apply = self.ingest.apply_mirrored
        reset_mirrored = self.ingest.reset_mirrored
        seqs = self.table.seq
        epochs = self.table.epoch
        pub_status = self.pub_status
        seen: set[int] = set()
        feed = feed or link.stats
        bad = 0
        for row in rows:
            try:
                symbol, state = unpack_row(row)
            except (TypeError, ValueError):
                bad += 1
                continue
            sid = ids.get(symbol, -1)
            if sid < 0:
                self.stats.unknown_symbols.add(symbol)
                continue
            pub_status[sid] = state.status
            seen.add(sid)
            if epochs[sid] != sequence or (reset and state.seq < seqs[sid]):
                if seqs[sid] > 0:
                    self.stats.resets += 1
                reset_mirrored(sid, state, now, sequence)
                continue
            apply(feed, sid, state, now)
        self.stats.rows_consumed += len(rows)
        self.stats.bad_rows += bad
        if reset:  # the state was complete: what it lacks, the new publisher never had
            for sid in link.sids:
                if sid in seen:
                    continue
                if seqs[sid] > 0:
                    self.stats.resets += 1
                    pub_status[sid] = Status.PENDING
                    reset_mirrored(sid, _NEVER_TICKED, now, sequence)
                elif epochs[sid] != sequence:  # never ticked: only the name changes
                    reset_mirrored(sid, _NEVER_TICKED, now, sequence)

    # ------------------------------------------------------------ liveness

    def link_down(self, now: float) -> None:
        """Redis is unreachable: every feed's live symbols turn stale."""
        for link in self.links:
            self._silence(link, now)

    def check_silence(self, now: float, silence_s: float) -> None:
        """Feeds with no entry (not even a heartbeat) for ``silence_s`` turn stale."""
        for link in self.links:
            if not link.silent and now - link.last_seen > silence_s:
                self._silence(link, now)

    def _silence(self, link: FeedLink, now: float) -> None:
        link.silent = True
        status = self.table.status
        set_status = self.ingest.set_status
        for sid in link.sids:
            if status[sid] == Status.LIVE:
                set_status(sid, Status.STALE, now)

    def _wake(self, link: FeedLink, now: float) -> None:
        link.silent = False
        status = self.table.status
        pub = self.pub_status
        set_status = self.ingest.set_status
        for sid in link.sids:
            if status[sid] != pub[sid]:
                set_status(sid, Status(int(pub[sid])), now)

    @property
    def in_sync(self) -> bool:
        return all(not link.silent for link in self.links)
