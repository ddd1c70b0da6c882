"""Prometheus families for bars, read from :class:`~ticker.runtime.charts.Charts` at scrape time.

Registered only when ``[bars]`` is on. Labels are bounded: the configured
intervals, and fixed kinds and reasons (exported as zero before they happen).
"""

from __future__ import annotations

from collections.abc import Iterable

from ticker.observability.families import Family, Kind, Sample, counter, gauge
from ticker.runtime.charts import Charts

MESSAGE_KINDS = ("forming", "closed", "corrected", "snapshot")


def _dropped(c: Charts) -> Iterable[Sample]:
    bars = [b for b in c.book.symbols if b is not None]
    return [
        (["closed_market"], sum(b.dropped_closed for b in bars)),
        (["too_old"], sum(b.dropped_old for b in bars)),
    ]


BAR_FAMILIES: tuple[Family[Charts], ...] = (
    Family(Kind.COUNTER, "ticker_bars_closed",
           "Bars closed (final at their interval end), by interval; a gateway counts those it mirrored.",
           ("interval",), lambda c: [([i], c.fanout.stats.closed.get(i, 0)) for i in c.labels]),
    counter("ticker_bar_corrections", "Closed bars changed by a late tick (sent again as corrected).",
            lambda c: c.fanout.stats.corrected),
    Family(Kind.COUNTER, "ticker_bar_ticks_dropped",
           "Applied ticks no bar took: the symbol's market was closed, or the bar fell off the history.",
           ("reason",), _dropped),
    Family(Kind.COUNTER, "ticker_bar_messages_sent",
           "Bar messages handed to connections, by kind (forming update, closed, corrected, snapshot).",
           ("kind",), lambda c: [([k], c.fanout.stats.messages.get(k, 0)) for k in MESSAGE_KINDS]),
    counter("ticker_bars_adopted",
            "Bars taken from the Redis bus that changed a series (a gateway; a feed process restoring).",
            lambda c: c.fanout.stats.adopted),
    gauge("ticker_bar_subscriptions", "Bar series subscriptions held by all connections.",
          lambda c: c.fanout.subscription_count),
    gauge("ticker_bar_history_bytes", "Memory held by closed bars of every series (77 bytes a bar).",
          lambda c: c.book.nbytes),
)  # fmt: skip
