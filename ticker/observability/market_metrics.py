"""Metric families of the trading day: market open or closed, rolls, crosses.

Read at scrape time from the service's :class:`~ticker.core.market.Market`
(docs/operations.md lists them with the others). ``ticker_market_open`` is
what the stale-feed alert uses to leave closed markets out
(config/prometheus/alerts.yml). On a bus gateway the market copies the feed
process's, so its computing counters (rolls, cross computations) stay zero
there; the feed process exports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ticker.core.market import LiveMarket
from ticker.core.model import Status
from ticker.observability.families import Family, Kind, Sample
from ticker.runtime.service import Service

C, G = Kind.COUNTER, Kind.GAUGE
_CLOSED = int(Status.CLOSED)


def _market_open(s: Service) -> Iterable[Sample]:
    status = s.table.status.tolist()
    return [([sym, s.feed_of[sym]], float(status[sid] != _CLOSED)) for sid, sym in enumerate(s.table.symbols)]


def _transitions(s: Service) -> Iterable[Sample]:
    m = s.market
    counts = m.transitions if isinstance(m, LiveMarket) else {}
    names = dict.fromkeys(c.name for c in m.calendars)
    return [([name, d], counts.get((name, d), 0)) for name in names for d in ("open", "close")]


def _cross(attr: str) -> Callable[[Service], Iterable[Sample]]:
    def read(s: Service) -> Iterable[Sample]:
        m = s.market
        counts: dict[int, int] = getattr(m, attr) if isinstance(m, LiveMarket) else {}
        return [([s.table.symbols[sid]], counts.get(sid, 0)) for sid in sorted(m.derived)]

    return read


def _ignored(s: Service) -> Iterable[Sample]:
    st = s.market.stats
    closed, old = (st.ignored_closed, st.ignored_old) if st is not None else (0, 0)
    return [(["closed"], closed), (["old"], old)]


#: The trading day's families, in exposition order.
MARKET_FAMILIES: tuple[Family[Service], ...] = (
    Family(G, "ticker_market_open",
           "1 while the symbol's market is open by its calendar, 0 while closed (status closed).",
           ("symbol", "feed"), _market_open),
    Family(C, "ticker_market_transitions",
           "Markets opened and closed by the calendar timer, by calendar and direction (feed side).",
           ("calendar", "direction"), _transitions),
    Family(C, "ticker_day_rolls", "Daily statistics rolled to a new trading day, all symbols (feed side).",
           (), lambda s: [((), s.market.stats.rolls if s.market.stats is not None else 0)]),
    Family(C, "ticker_day_messages", "day messages published to subscribers (one per symbol and roll).",
           (), lambda s: [((), s.market.day_messages)]),
    Family(C, "ticker_day_stats_ignored_ticks",
           "Applied ticks the daily statistics ignored: off-hours by the calendar, or older than the day.",
           ("reason",), _ignored),
    Family(C, "ticker_cross_computations", "Leg ticks that recomputed a derived cross, by cross (feed side).",
           ("symbol",), _cross("computations")),
    Family(C, "ticker_cross_ticks", "Ticks of a derived cross applied (price or status changed), by cross.",
           ("symbol",), _cross("cross_ticks")),
)  # fmt: skip
