"""``[market]``: trading calendars, which calendar each symbol follows, daily
statistics and derived cross rates.

Pure and standard library only, like the rest of :mod:`ticker.config`: this
module checks the *shape* of every value (a time is ``HH:MM``, a zone is one
the zone database knows, a holiday is a date) and names the key that is
wrong; :mod:`ticker.runtime.markets` turns the result into the core's
:class:`~ticker.core.calendar.CalendarSpec` and
:class:`~ticker.core.crosses.CrossDef` values and checks what needs the
symbol table (a cross's legs exist).

Built-in calendars (docs/market-data.md): ``fx``, ``metals``, ``crypto`` and
``always`` (around the clock with the FX day roll: the synthetic demo
market). A ``[market.calendars.NAME]`` table changes only the keys it gives:
``[market.calendars.fx] early_closes = ["12-24 13:00"]`` keeps the rest of
``fx``; a new name starts from ``fx``'s settings.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ticker.util.errors import FieldError

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")
_MONTH_DAY = re.compile(r"(?:([0-9]{4})-)?([0-9]{2})-([0-9]{2})")
#: ``feeds[i].calendar`` values that are not calendar names.
AUTO = "auto"


def parse_time(text: str) -> time:
    """``"17:00"`` or ``"17:00:30"`` as a wall time; ValueError saying the shape."""
    m = _TIME.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a wall time like '17:00'")
    return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def parse_day(text: str) -> tuple[int | None, int, int]:
    """``"12-25"`` (every year) or ``"2026-11-26"`` as (year or None, month, day)."""
    m = _MONTH_DAY.fullmatch(text)
    if m is None:
        raise ValueError(f"{text!r} is not a date like '12-25' (every year) or '2026-11-26'")
    year = int(m.group(1)) if m.group(1) else None
    month, day = int(m.group(2)), int(m.group(3))
    try:
        date(2000 if year is None else year, month, day)  # 2000: leap, so 02-29 passes
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    return year, month, day


@dataclass(frozen=True, slots=True)
class Holiday:
    """A parsed ``holidays`` entry: ``"12-25 Christmas Day"``."""

    year: int | None
    month: int
    day: int
    name: str


@dataclass(frozen=True, slots=True)
class EarlyClose:
    """A parsed ``early_closes`` entry: ``"12-24 13:00 Christmas Eve"``."""

    year: int | None
    month: int
    day: int
    close: time
    name: str


def parse_holiday(text: str) -> Holiday:
    day, _, name = text.strip().partition(" ")
    year, month, d = parse_day(day)
    return Holiday(year, month, d, name.strip())


def parse_early_close(text: str) -> EarlyClose:
    parts = text.strip().split(" ", 2)
    if len(parts) < 2:
        raise ValueError(f"{text!r} is not a date and a time like '12-24 13:00' (a name may follow)")
    year, month, d = parse_day(parts[0])
    return EarlyClose(year, month, d, parse_time(parts[1]), parts[2].strip() if len(parts) > 2 else "")


def parse_break(text: str) -> tuple[time, time]:
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a range like '17:00-18:00'")
    a, b = parse_time(start), parse_time(end)
    if not a < b:
        raise ValueError(f"{text!r}: the start must be before the end (no range across midnight)")
    return a, b


@dataclass(frozen=True, slots=True)
class CalendarConfig:
    """``[market.calendars.NAME]``: one trading calendar (docs/market-data.md).
    A key left out (None) keeps the built-in calendar's value."""

    #: IANA zone the wall times below are in.
    tz: str | None = None
    #: Wall time at which one trading day ends and the next begins.
    roll: str | None = None
    #: The trading days, by the weekday of the date each is named after: with a roll
    #: at or after noon that is the date it ends on, so Mon..Fri with a 17:00 roll is
    #: open Sunday 17:00 -> Friday 17:00.
    trading_days: tuple[str, ...] | None = None
    #: Daily closed ranges in wall time, ``"17:00-18:00"``.
    breaks: tuple[str, ...] | None = None
    #: Trading days that do not open: ``"12-25"`` every year or ``"2026-11-26"``, a name may follow.
    holidays: tuple[str, ...] | None = None
    #: Trading days that close early: ``"12-24 13:00"`` (date, wall time, optional name).
    early_closes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.tz is not None:
            try:
                ZoneInfo(self.tz)
            except (ZoneInfoNotFoundError, ValueError):
                raise FieldError(
                    "tz", f"unknown time zone {self.tz!r} (is the tz database installed?)"
                ) from None
        if self.roll is not None:
            _field("roll", parse_time, self.roll)
        if self.trading_days is not None:
            if not self.trading_days:
                raise FieldError("trading_days", 'at least one day, e.g. ["Mon", "Tue", "Wed", "Thu", "Fri"]')
            for i, d in enumerate(self.trading_days):
                if d not in WEEKDAYS:
                    raise FieldError("trading_days", f"[{i}] {d!r} is not one of {', '.join(WEEKDAYS)}")
            if len(set(self.trading_days)) != len(self.trading_days):
                raise FieldError("trading_days", "lists a day twice")
        for key, parse in (
            ("breaks", parse_break),
            ("holidays", parse_holiday),
            ("early_closes", parse_early_close),
        ):
            values = getattr(self, key)
            for i, text in enumerate(values or ()):
                _field(key, parse, text, i)
        seen: set[tuple[int | None, int, int]] = set()
        for i, text in enumerate(self.early_closes or ()):
            e = parse_early_close(text)
            if (e.year, e.month, e.day) in seen:
                raise FieldError("early_closes", f"[{i}] {text!r}: a second early close for the same day")
            seen.add((e.year, e.month, e.day))

    def over(self, base: CalendarConfig) -> CalendarConfig:
        """This calendar's keys on top of ``base``'s."""
        given = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }
        return dataclasses.replace(base, **given)

    # Accessors for the runtime (every key is set once merged over a built-in).

    def weekdays(self) -> frozenset[int]:
        return frozenset(WEEKDAYS.index(d) for d in self.trading_days or ())

    def break_ranges(self) -> tuple[tuple[time, time], ...]:
        return tuple(parse_break(b) for b in self.breaks or ())

    def holiday_list(self) -> tuple[Holiday, ...]:
        return tuple(parse_holiday(h) for h in self.holidays or ())

    def early_close_list(self) -> tuple[EarlyClose, ...]:
        return tuple(parse_early_close(e) for e in self.early_closes or ())

    def roll_time(self) -> time:
        return parse_time(self.roll or "17:00")


def _field(key: str, parse: object, text: str, index: int | None = None) -> None:
    try:
        parse(text)  # type: ignore[operator]
    except ValueError as exc:
        where = "" if index is None else f"[{index}] "
        raise FieldError(key, f"{where}{exc}") from None


_FX_WEEK = ("Mon", "Tue", "Wed", "Thu", "Fri")
_HOLIDAYS = ("12-25 Christmas Day", "01-01 New Year's Day")
_EVERY_DAY = WEEKDAYS

#: The built-in calendars, every key spelled out (config/default.toml shows the same).
BUILTIN_CALENDARS: dict[str, CalendarConfig] = {
    "fx": CalendarConfig("America/New_York", "17:00", _FX_WEEK, (), _HOLIDAYS, ()),
    "metals": CalendarConfig("America/New_York", "17:00", _FX_WEEK, ("17:00-18:00",), _HOLIDAYS, ()),
    "crypto": CalendarConfig("UTC", "00:00", _EVERY_DAY, (), (), ()),
    "always": CalendarConfig("America/New_York", "17:00", _EVERY_DAY, (), (), ()),
}


def _builtin() -> dict[str, CalendarConfig]:
    return dict(BUILTIN_CALENDARS)


_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


@dataclass(frozen=True, slots=True)
class MarketConfig:
    """``[market]``: the trading day (docs/market-data.md)."""

    #: Trading calendars by name; tables given here change or add to the built-ins.
    calendars: dict[str, CalendarConfig] = field(default_factory=_builtin)
    #: Calendar per symbol, over its feed's ``calendar`` and its class: ``{ XAUUSD = "fx" }``.
    symbols: dict[str, str] = field(default_factory=dict)
    #: Daily statistics per symbol (open, high, low, previous close, change, ticks).
    day_stats: bool = True
    #: Derived cross rates, ``"EURJPY = EURUSD * USDJPY"`` or ``"EURGBP = EURUSD / GBPUSD"``.
    crosses: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        merged = dict(BUILTIN_CALENDARS)
        for name, cal in self.calendars.items():
            if not _NAME.fullmatch(name):
                raise FieldError(
                    "calendars", f"{name!r}: a calendar name is lowercase letters, digits, '-', '_'"
                )
            if name == AUTO:
                raise FieldError(
                    "calendars", f'{AUTO!r} is reserved (a feed\'s calendar = "auto" means by class)'
                )
            merged[name] = cal.over(BUILTIN_CALENDARS.get(name, BUILTIN_CALENDARS["fx"]))
        object.__setattr__(self, "calendars", merged)  # frozen: set once, here
        for symbol, name in self.symbols.items():
            if name not in merged:
                raise FieldError(
                    "symbols", f"{symbol} = {name!r}: no such calendar; one of {', '.join(merged)}"
                )
        for i, text in enumerate(self.crosses):
            if text.count("=") != 1:
                raise FieldError(
                    "crosses", f"[{i}] {text!r}: expected 'SYMBOL = LEG * LEG' or 'SYMBOL = LEG / LEG'"
                )

    def calendar_names(self) -> tuple[str, ...]:
        return tuple(self.calendars)
