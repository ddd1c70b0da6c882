"""The market from config: calendars, each symbol's calendar, derived crosses.

What :class:`~ticker.runtime.service.Service` (and ``ticker check-config``)
use to turn ``[market]`` and the feeds into the core's objects
(:mod:`ticker.core.market`). Every refusal is a
:class:`~ticker.config.ConfigError` naming the key.

**Which calendar a symbol follows**, first match wins:

1. ``market.symbols.SYMBOL``;
2. its feed's ``calendar`` key, when it names a calendar;
3. ``calendar = "auto"``, or ``""`` on a feed type whose default is auto
   (websocket feeds, replays with original timestamps): the symbol's class,
   ``metals`` for XAU/XAG/XPT/XPD, ``crypto`` for names with a crypto code,
   else ``fx`` (:func:`feeds.catalog.instrument_class`);
4. ``""`` otherwise: the feed type's own default (``always`` for the
   synthetic demo market and replays stamped now).

A derived cross follows ``market.symbols`` or its own class, for its daily
statistics; its status comes from its legs.

**Crosses**: each ``market.crosses`` entry is parsed
(:func:`ticker.core.crosses.parse_cross`); its legs must be symbols of the
feeds, the cross must not be one. Its decimals and pip come from the catalog,
else from its legs (a product is quoted like its right leg, a quotient like
its left: EURUSD × USDJPY in yen, EURUSD ÷ GBPUSD in pounds). On the Redis
bus the cross travels on its left leg's feed stream and is computed by the
feed process that has both legs: ``ticker feed --feeds`` must not split them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from feeds.base import Feed
from feeds.catalog import instrument_class, spec
from feeds.instruments import default_pip
from ticker.config import ConfigError
from ticker.config.market import AUTO, CalendarConfig
from ticker.config.schema import Config, FeedCommon
from ticker.core.calendar import Calendar, CalendarError, CalendarSpec, EarlyClose, Holiday
from ticker.core.crosses import CrossDef, CrossEngine, CrossError, Op, parse_cross
from ticker.core.daystats import DailyStats
from ticker.core.market import Derived, LiveMarket, MirroredMarket, OnOpen, Opener
from ticker.core.markettime import MarketTime, WallTime
from ticker.core.model import Instrument
from ticker.core.table import SymbolTable
from ticker.runtime.assemble import backups, collect_instruments


def calendar_spec(name: str, cfg: CalendarConfig) -> CalendarSpec:
    """The core's spec of one configured calendar (the config checked every value)."""
    try:
        return CalendarSpec(
            name,
            tz=cfg.tz or "UTC",
            roll=cfg.roll_time(),
            weekdays=cfg.weekdays(),
            breaks=cfg.break_ranges(),
            holidays=tuple(Holiday(h.month, h.day, h.year, h.name) for h in cfg.holiday_list()),
            early_closes=tuple(
                EarlyClose(e.month, e.day, e.close, e.year, e.name) for e in cfg.early_close_list()
            ),
        )
    except CalendarError as exc:
        raise ConfigError(str(exc), key=f"market.calendars.{name}") from None


def calendars(config: Config) -> dict[str, Calendar]:
    return {name: Calendar(calendar_spec(name, c)) for name, c in config.market.calendars.items()}


@dataclass(frozen=True, slots=True)
class CrossPlan:
    """One configured cross: its definition, its table instrument and the feed whose
    stream carries it on the bus (its left leg's)."""

    definition: CrossDef
    instrument: Instrument
    feed: str


def plan_crosses(
    config: Config, instruments: Sequence[Instrument], feed_of: Mapping[str, str], *, partial: bool = False
) -> list[CrossPlan]:
    """The crosses to add to the table. ``partial``: these feeds are a subset of the
    config's (``ticker feed --feeds``): a cross whose legs are all elsewhere is not
    this process's; one with a leg here and a leg elsewhere is an error."""
    known = {i.symbol: i for i in instruments}
    defs: list[CrossDef] = []
    for i, text in enumerate(config.market.crosses):
        try:
            defs.append(parse_cross(text))
        except CrossError as exc:
            raise ConfigError(str(exc), key=f"market.crosses[{i}]") from None
    targets = [d.symbol for d in defs]
    out: list[CrossPlan] = []
    for i, d in enumerate(defs):
        key = f"market.crosses[{i}]"
        if d.symbol in targets[:i]:
            raise ConfigError(f"cross {d.symbol} is defined twice", key=key)
        if d.symbol in known:
            raise ConfigError(
                f"{d.symbol} is provided by feed {feed_of[d.symbol]!r}; a symbol is either fed or derived",
                key=key,
            )
        nested = [leg for leg in (d.left, d.right) if leg in targets]
        if nested:
            raise ConfigError(
                f"{d}: leg {nested[0]} is itself a cross (crosses of crosses are not supported)", key=key
            )
        present = [leg for leg in (d.left, d.right) if leg in known]
        if partial and not present:
            continue
        missing = [leg for leg in (d.left, d.right) if leg not in known]
        if missing:
            where = (
                "in this feed process (run the feeds of both legs in one `ticker feed`)"
                if partial
                else "of any feed"
            )
            raise ConfigError(f"{d}: leg {', '.join(missing)} is not a symbol {where}", key=key)
        out.append(CrossPlan(d, _cross_instrument(d, known[d.left], known[d.right]), feed_of[d.left]))
    return out


def _cross_instrument(d: CrossDef, left: Instrument, right: Instrument) -> Instrument:
    try:
        known = spec(d.symbol).instrument
        return Instrument(d.symbol, known.decimals, known.pip_size, f"{d.left} {d.op.value} {d.right}")
    except KeyError:
        decimals = right.decimals if d.op is Op.MUL else left.decimals
        return Instrument(d.symbol, decimals, default_pip(decimals), f"{d.left} {d.op.value} {d.right}")


def symbol_calendars(
    config: Config,
    feeds: Sequence[Feed],
    table: SymbolTable,
    feed_of: Mapping[str, str],
    crosses: Sequence[CrossPlan] = (),
) -> list[str]:
    """The calendar name of every table symbol (module docstring)."""
    names = config.market.calendars
    index = {f.name: i for i, f in enumerate(config.feeds)}
    setting: dict[str, str] = {}
    for feed in feeds:
        i = index.get(feed.name)
        common = config.feeds[i].common if i is not None else FeedCommon()
        value = common.calendar or feed.default_calendar
        if value != AUTO and value not in names:
            key = f"feeds[{i}].calendar" if i is not None else f"feed {feed.name}"
            raise ConfigError(f"no calendar {value!r}; one of auto, {', '.join(names)}", key=key)
        setting[feed.name] = value
    derived = {p.definition.symbol for p in crosses}
    out: list[str] = []
    for symbol in table.symbols:
        chosen = config.market.symbols.get(symbol)
        if chosen is None:
            value = AUTO if symbol in derived else setting[feed_of[symbol]]
            chosen = instrument_class(symbol) if value == AUTO else value
        out.append(chosen)
    return out


def check_symbols(config: Config, symbols: Sequence[str]) -> None:
    """``market.symbols`` may name only symbols that exist (the whole config's)."""
    known = set(symbols)
    for symbol in config.market.symbols:
        if symbol not in known:
            raise ConfigError(
                f"{symbol} is not a symbol of any feed or cross", key=f"market.symbols.{symbol}"
            )


def time_bases(feeds: Sequence[Feed], table: SymbolTable, feed_of: Mapping[str, str]) -> list[MarketTime]:
    """Each symbol's time base: its feed's (a replay's own clock), else the wall clock."""
    wall = WallTime()
    of_feed = {f.name: f.time_base or wall for f in feeds}
    return [of_feed.get(feed_of[s], wall) for s in table.symbols]


class Timing(NamedTuple):
    """Each symbol's calendar and time base, by table id: what the trading day and
    the bars (:class:`~ticker.runtime.charts.Charts`) both follow."""

    calendars: list[Calendar]
    times: list[MarketTime]


def timing(
    config: Config,
    feeds: Sequence[Feed],
    table: SymbolTable,
    feed_of: Mapping[str, str],
    crosses: Sequence[CrossPlan],
) -> Timing:
    cals = calendars(config)
    per_symbol = [cals[n] for n in symbol_calendars(config, feeds, table, feed_of, crosses)]
    return Timing(per_symbol, time_bases(feeds, table, _carriers(feed_of, crosses)))


def build_live(
    config: Config,
    feeds: Sequence[Feed],
    table: SymbolTable,
    feed_of: Mapping[str, str],
    crosses: Sequence[CrossPlan],
    *,
    opened: Opener | None = None,
    on_open: OnOpen | None = None,
    timed: Timing | None = None,
) -> LiveMarket:
    """The computing market of a standalone service or a feed process."""
    per_symbol, times = timed or timing(config, feeds, table, feed_of, crosses)
    stats = DailyStats(per_symbol, table.decimals) if config.market.day_stats else None
    engine = CrossEngine([p.definition for p in crosses], table.ids, table.decimals) if crosses else None
    market = LiveMarket(table, per_symbol, times, stats, engine, opened=opened, on_open=on_open)
    for feed in feeds:
        feed.use_calendars(
            [per_symbol[table.ids[i.symbol]] for i in feed.instruments() if i.symbol in table.ids]
        )
        if stats is not None:
            for symbol, price in feed.previous_closes().items():
                if feed_of.get(symbol) == feed.name:
                    stats.set_prev_close(table.ids[symbol], price)
    return market


def build_mirrored(
    config: Config,
    feeds: Sequence[Feed],
    table: SymbolTable,
    feed_of: Mapping[str, str],
    crosses: Sequence[CrossPlan],
    timed: Timing | None = None,
) -> MirroredMarket:
    """A bus gateway's market: the same calendars, statistics copied from the bus."""
    per_symbol = (timed or timing(config, feeds, table, feed_of, crosses)).calendars
    stats = DailyStats(per_symbol, table.decimals) if config.market.day_stats else None
    ids = table.ids
    derived = [
        Derived(ids[p.definition.symbol], p.definition, (ids[p.definition.left], ids[p.definition.right]))
        for p in crosses
    ]
    return MirroredMarket(table, per_symbol, stats, derived)


def check(config: Config, feeds: Sequence[Feed]) -> None:
    """Everything about ``[market]`` that needs the feeds (``ticker check-config``):
    crosses and their legs, ``market.symbols``, every symbol's calendar."""
    instruments, feed_of = collect_instruments(list(feeds), backups(config))
    crosses = plan_crosses(config, instruments, feed_of)
    every = [*instruments, *(p.instrument for p in crosses)]
    check_symbols(config, [i.symbol for i in every])
    symbol_calendars(config, feeds, SymbolTable(every), _carriers(feed_of, crosses), crosses)
    calendars(config)


def _carriers(feed_of: Mapping[str, str], crosses: Sequence[CrossPlan]) -> dict[str, str]:
    """feed_of, where a cross runs on its left leg's feed's time base."""
    out = dict(feed_of)
    for p in crosses:
        out[p.definition.symbol] = feed_of[p.definition.left]
    return out
