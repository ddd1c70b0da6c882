"""Prometheus families for the Redis bus, read from :class:`~ticker.bus.stats.BusStats`."""

from __future__ import annotations

from ticker.bus.stats import BusStats
from ticker.observability.families import Family, Kind, counter, gauge, histogram

_COMMON: tuple[Family[BusStats], ...] = (
    gauge("ticker_bus_connected", "1 while the Redis bus connection works.", lambda s: s.connected),
    counter("ticker_bus_reconnects", "Reconnections to Redis after losing it.", lambda s: s.reconnects),
    Family(Kind.COUNTER, "ticker_bus_errors", "Redis errors that broke the link.", ("error",),
           lambda s: [([name], n) for name, n in sorted(s.errors.items())]),
)  # fmt: skip

_FEED: tuple[Family[BusStats], ...] = (
    counter("ticker_bus_entries_published", "Stream entries written.", lambda s: s.entries_published),
    counter("ticker_bus_ticks_published", "Symbol states (ticks) written.", lambda s: s.rows_published),
    counter("ticker_bus_ticks_dropped", "Ticks not published while Redis was away (a full entry followed).",
            lambda s: s.rows_dropped),
    histogram("ticker_bus_write_seconds", "Round trip of one publishing transaction.",
              lambda s: s.write_seconds),
)  # fmt: skip

_GATEWAY: tuple[Family[BusStats], ...] = (
    counter("ticker_bus_entries_consumed", "Stream entries read.", lambda s: s.entries_consumed),
    counter("ticker_bus_ticks_consumed", "Symbol states (ticks) read.", lambda s: s.rows_consumed),
    counter("ticker_bus_seq_resets",
            "Symbols whose sequence a new publisher restarted lower (subscribers got a snapshot).",
            lambda s: s.resets),
    counter("ticker_bus_bad_entries", "Entries that could not be decoded.", lambda s: s.bad_entries),
    counter("ticker_bus_bad_ticks", "Rows that could not be decoded.", lambda s: s.bad_rows),
    gauge("ticker_bus_unknown_symbols", "Symbols on the bus that this gateway's config does not list.",
          lambda s: len(s.unknown_symbols)),
    Family(Kind.COUNTER, "ticker_bus_resyncs", "Feed state reloaded from Redis, by reason.", ("reason",),
           lambda s: [([reason], n) for reason, n in sorted(s.resyncs.items())]),
    histogram("ticker_bus_latency_seconds", "Publisher's write to this gateway's read of an entry.",
              lambda s: s.latency),
)  # fmt: skip


def bus_families(role: str) -> tuple[Family[BusStats], ...]:
    """The families of a feed process (publisher) or of a gateway."""
    return _COMMON + (_FEED if role == "feed" else _GATEWAY)
