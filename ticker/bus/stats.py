"""Bus counters, plain numbers on the hot path (exposed by :mod:`ticker.bus.metrics`)."""

from __future__ import annotations

from collections import Counter

from ticker.core.stats import LATENCY_BUCKETS, Histogram


class BusStats:
    """What a feed process (publisher) or a gateway (consumer) counts about the bus."""

    def __init__(self, role: str) -> None:
        self.role = role
        #: 1 while the Redis connection works (and, for a gateway, it is in sync).
        self.connected = 0
        self.reconnects = 0
        self.errors: Counter[str] = Counter()
        # publisher
        self.entries_published = 0
        self.rows_published = 0
        self.rows_dropped = 0
        #: Round trip of one publishing pipeline (MULTI ... EXEC).
        self.write_seconds = Histogram(LATENCY_BUCKETS)
        # gateway
        self.entries_consumed = 0
        self.rows_consumed = 0
        self.bad_entries = 0
        self.bad_rows = 0
        self.unknown_symbols: set[str] = set()
        self.resyncs: Counter[str] = Counter()
        #: Symbols re-based on a publisher's restarted sequence (fresh snapshot sent).
        self.resets = 0
        #: Publisher's write to this gateway's read, from the entry's wall-clock stamp.
        self.latency = Histogram(LATENCY_BUCKETS)
