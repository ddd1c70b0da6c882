"""Trading calendars: market hours, trading days and bar boundaries, in UTC µs.

This is the one module of ticker that does date arithmetic (STYLE.md rule 16).
Everything else passes instants as ``int`` microseconds since the Unix epoch,
UTC, and asks a :class:`Calendar` what they mean.

The model
---------
A calendar is built from a frozen :class:`CalendarSpec` (what config builds):
a time zone, a daily *roll* (wall time in that zone), the weekdays that are
trading days, daily breaks, holidays and early closes.

* **Days tile time.** Every date ``D`` has a *day span* of one day between two
  rolls. When the roll is at or after 12:00 the span is ``[D-1 roll, D roll)``
  (it is named after the date it ends on, where most of it lies); before
  12:00 it is ``[D roll, D+1 roll)``. FX rolls at 17:00 New York, so the
  trading day ``Tuesday`` runs Monday 17:00 -> Tuesday 17:00 New York, and a
  tick at Monday 17:30 belongs to Tuesday: the FX "5 pm rule" (a deal done
  after 5 pm New York is dated the next day; the spot value date moves with
  it). Spans are computed from wall times with ``zoneinfo``, so they follow US
  daylight saving: 17:00 New York is 22:00 UTC in winter (EST, UTC-5) and
  21:00 UTC in summer (EDT, UTC-4). A span is 23 or 25 hours long only if a
  DST change falls inside it; for FX and metals the changes (Sunday 02:00)
  fall in the weekend, so every FX trading day lasts exactly 24 hours.
* **Trading days.** A span is a trading day when its date's weekday is in
  ``weekdays`` and it is not a holiday. "Sunday 17:00 -> Friday 17:00 New
  York" is exactly "trading days Monday..Friday with a 17:00 roll". A holiday
  closes the whole trading day named by its date (``12-25`` closes Dec 24
  17:00 -> Dec 25 17:00 for FX); it has no trading-day label, no daily bar and
  no daily statistics: the next trading day's previous close is the last
  price of the trading day before the holiday.
* **Sessions.** A trading day is open from its start to its end, minus the
  daily ``breaks`` (wall-time ``[start, end)`` ranges, applied on every local
  date the span touches: metals break 17:00-18:00 New York, so their trading
  day still starts at 17:00 but the market opens at 18:00), and cut short by
  an early close (a wall time on the day's date; the day then ends there).
  Ticks only happen in sessions: the bar builder and the daily statistics
  ignore ticks while the calendar says closed.
* **The day in force** (:meth:`Calendar.trading_day`, :meth:`~Calendar.day_start`,
  :meth:`~Calendar.day_end`, :meth:`~Calendar.next_day_start`): the latest
  trading day that has started at ``ts``. Inside a trading day it is that
  day; over a weekend, a holiday or after an early close it stays the last
  trading day until the next one starts, so a quote board shows Friday's day
  change all weekend and the daily statistics roll at Sunday 17:00 New York
  (when Monday's trading day starts), not at the Friday close. ``day_end`` is
  when that day's last session closed or will close (Friday 17:00; an early
  close moves it), which may be before ``ts``.

Defaults (:data:`FX`, :data:`METALS`, :data:`CRYPTO`)
-----------------------------------------------------
* ``fx``: America/New_York, roll 17:00, Monday..Friday: open Sunday 17:00 ->
  Friday 17:00 New York; closed on the trading days named Dec 25 and Jan 1.
* ``metals``: as ``fx`` plus the daily 17:00-18:00 New York break, so the
  week opens Sunday 18:00 and each day reopens at 18:00.
* ``crypto``: UTC, roll 00:00, every day, no holidays: always open; trading
  days are UTC dates (the convention of crypto venues' daily candles). Use
  it for an always-open demo market too.
Early closes are broker-specific, so none is built in: config lists them.

Bar boundaries (:class:`Interval`, :meth:`Calendar.bar_start`, :meth:`~Calendar.bar_end`)
-----------------------------------------------------------------------------------
* ``Ns``, ``Nm`` (N divides 60) and ``1h``: multiples of the interval since the
  Unix epoch in UTC (a 5m bar starts at :00, :05, ... of every UTC hour).
  The default rolls (17:00 New York, 00:00 UTC) fall on whole UTC hours in
  every season, so these grids agree with every trading-day boundary.
* ``Nh`` with N in 2, 3, 4, 6, 8, 12, and ``1d``: aligned to the start of the
  trading day (the roll), on the zone's wall clock: 4h bars start at 17, 21,
  01, 05, 09, 13 New York for FX and metals, 00, 04, ... UTC for crypto, and
  the daily bar is the trading day itself (17:00 -> 17:00 New York). This is
  OANDA's convention (granularities from H2 up are "start of day" aligned:
  ``dailyAlignment`` 17 in ``alignmentTimezone`` America/New_York; S5..H1
  are aligned to the top of the minute or hour) and that of brokers'
  GMT+2/+3 "New York close" charts; it makes five daily bars a week.
  On a 23- or 25-hour span the wall-clock grid makes the bar spanning the
  DST change 3 or 5 hours long (never for FX and metals: see above).
* Bars never straddle two day spans nor a trading day's end: a cell is cut at
  an early close or at a day boundary that is off the grid (a zone with a
  :30 offset, an early close at 13:15), so the last bar of the day ends when
  the day ends. Cells tile time without overlap: after an early close the
  grid goes on from the close (no bar forms there: the market is shut).

Cost on the hot path
--------------------
:meth:`Calendar.is_open` caches the constant-state interval around the last
instant it answered for and :class:`BarClock` the last bar cell, so a call
with ``ts`` still inside costs two comparisons; only leaving it recomputes
(a few µs of ``zoneinfo``). Day spans are memoised per date. The caches are
plain attributes: a calendar is used from one thread (the event loop).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US

#: How far next_open/next_close/day lookups search before answering "never".
HORIZON_DAYS = 732

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_NOON = time(12)
_FAR = 1 << 62  # "never" inside the caches, beyond any real µs timestamp
_MAX_DAYS_CACHED = 4096


class CalendarError(ValueError):
    """A calendar spec, interval or instant that cannot be used; the message names it."""


def to_us(dt: datetime) -> int:
    """An aware datetime as UTC µs since the epoch (exact, no float)."""
    if dt.tzinfo is None:
        raise CalendarError(f"naive datetime {dt.isoformat()}: a time zone is required")
    return (dt - _EPOCH) // _ONE_US


def from_us(ts: int, tz: ZoneInfo | None = None) -> datetime:
    """UTC µs as an aware datetime, in ``tz`` (UTC by default)."""
    dt = _EPOCH + timedelta(microseconds=ts)
    return dt if tz is None else dt.astimezone(tz)


def iso(ts: int) -> str:
    """UTC µs as ISO 8601 with a ``Z`` (``2024-03-11T21:00:00Z``; µs shown when not zero)."""
    return from_us(ts).isoformat().replace("+00:00", "Z")


_INT = re.compile(r"-?[0-9]+")


def parse_instant(text: str) -> int:
    """An instant given as integer UTC µs or as ISO 8601 with an offset or ``Z``
    (``2024-03-11T21:00:00Z``, ``2024-03-11T17:00:00-04:00``); a date alone
    means 00:00 UTC. A naive date-time is refused: it names no instant."""
    s = text.strip()
    if _INT.fullmatch(s):
        return int(s)
    try:
        if len(s) == 10:
            return to_us(datetime.combine(date.fromisoformat(s), time(), tzinfo=UTC))
        dt = datetime.fromisoformat(s.replace("z", "Z"))
    except ValueError:
        raise CalendarError(
            f"bad time {text!r}: expected µs since the epoch or ISO 8601 like 2024-03-11T21:00:00Z"
        ) from None
    if dt.tzinfo is None:
        raise CalendarError(f"bad time {text!r}: ISO 8601 needs an offset or Z")
    return to_us(dt)


# --------------------------------------------------------------------------- spec


def _check_date(month: int, day: int, year: int | None, what: str) -> None:
    try:
        date(2000 if year is None else year, month, day)  # 2000: leap, so 02-29 is allowed
    except (ValueError, TypeError) as e:
        raise CalendarError(f"{what}: no such date {year}-{month}-{day}: {e}") from None


@dataclass(frozen=True, slots=True)
class Holiday:
    """The trading day named ``month/day`` does not open: of ``year``, or every year when None."""

    month: int
    day: int
    year: int | None = None
    name: str = ""

    def __post_init__(self) -> None:
        _check_date(self.month, self.day, self.year, f"holiday {self.name or ''}".strip())

    @classmethod
    def on(cls, day: date, name: str = "") -> Holiday:
        return cls(day.month, day.day, day.year, name)

    def matches(self, d: date) -> bool:
        return d.month == self.month and d.day == self.day and self.year in (None, d.year)


@dataclass(frozen=True, slots=True)
class EarlyClose:
    """The trading day named ``month/day`` (of ``year``, or every year) closes at ``close``,
    a wall time in the calendar's zone within that trading day (13:00 = on the date itself)."""

    month: int
    day: int
    close: time
    year: int | None = None
    name: str = ""

    def __post_init__(self) -> None:
        _check_date(self.month, self.day, self.year, f"early close {self.name or ''}".strip())
        if self.close.tzinfo is not None:
            raise CalendarError(f"early close {self.month:02}-{self.day:02}: close must be a wall time")

    @classmethod
    def on(cls, day: date, close: time, name: str = "") -> EarlyClose:
        return cls(day.month, day.day, close, day.year, name)

    def matches(self, d: date) -> bool:
        return d.month == self.month and d.day == self.day and self.year in (None, d.year)


_MON_FRI = frozenset(range(5))
_EVERY_DAY = frozenset(range(7))


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """What config says about one instrument class's market hours.

    ``weekdays`` are the weekdays (``date.weekday()``, Monday = 0) of the
    *trading-day labels*: Monday..Friday with a 17:00 roll is open Sunday 17:00
    to Friday 17:00. ``breaks`` are daily closed wall-time ranges ``[start, end)``
    with ``start < end`` (no range across midnight).
    """

    name: str
    tz: str = "America/New_York"
    roll: time = time(17)
    weekdays: frozenset[int] = _MON_FRI
    breaks: tuple[tuple[time, time], ...] = ()
    holidays: tuple[Holiday, ...] = ()
    early_closes: tuple[EarlyClose, ...] = ()

    def __post_init__(self) -> None:
        where = f"calendar {self.name!r}"
        if not self.name:
            raise CalendarError("calendar: name must not be empty")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(
                f"{where}: tz: unknown time zone {self.tz!r} (is the tz database installed?)"
            ) from None
        if self.roll.tzinfo is not None:
            raise CalendarError(f"{where}: roll: must be a wall time without a zone")
        if not self.weekdays or not self.weekdays <= _EVERY_DAY:
            raise CalendarError(f"{where}: weekdays: must be a non-empty subset of 0..6 (Monday = 0)")
        for i, (start, end) in enumerate(self.breaks):
            if not start < end:
                raise CalendarError(
                    f"{where}: breaks[{i}]: start {start.isoformat()} must be before end {end.isoformat()}"
                )
        for i, e in enumerate(self.early_closes):
            key = (e.year, e.month, e.day)
            if any((o.year, o.month, o.day) == key for o in self.early_closes[:i]):
                raise CalendarError(f"{where}: early_closes[{i}]: a second early close for the same day")


FX = CalendarSpec(
    "fx",
    holidays=(Holiday(12, 25, name="Christmas Day"), Holiday(1, 1, name="New Year's Day")),
)
METALS = CalendarSpec(
    "metals",
    breaks=((time(17), time(18)),),
    holidays=(Holiday(12, 25, name="Christmas Day"), Holiday(1, 1, name="New Year's Day")),
)
CRYPTO = CalendarSpec("crypto", tz="UTC", roll=time(0), weekdays=_EVERY_DAY)
DEFAULTS: dict[str, CalendarSpec] = {s.name: s for s in (FX, METALS, CRYPTO)}


# ----------------------------------------------------------------------- intervals

_INTERVAL = re.compile(r"([1-9][0-9]*)([smhd])")
_DIVISORS_60 = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
_HOURS = (1, 2, 3, 4, 6, 8, 12)


@dataclass(frozen=True, slots=True)
class Interval:
    """A bar length. ``daily`` intervals (over 1h) align to the trading day's start."""

    label: str
    us: int

    @property
    def daily(self) -> bool:
        return self.us > HOUR_US

    def __str__(self) -> str:
        return self.label


def parse_interval(text: str) -> Interval:
    """``"1s"``, ``"5m"``, ``"4h"``, ``"1d"``...: seconds and minutes that divide 60,
    hours that divide 24 (below 24), and ``1d``. Anything else is a CalendarError
    saying what is allowed."""
    m = _INTERVAL.fullmatch(text.strip())
    if m is None:
        raise CalendarError(
            f"bad interval {text!r}: expected a count and a unit s, m, h or d (1s, 1m, 5m, 15m, 1h, 4h, 1d)"
        )
    n, unit = int(m.group(1)), m.group(2)
    if unit in "sm":
        if n not in _DIVISORS_60:
            name = "seconds" if unit == "s" else "minutes"
            hint = " (use 1m)" if unit == "s" and n == 60 else " (use 1h)" if n == 60 else ""
            allowed = ", ".join(map(str, _DIVISORS_60))
            raise CalendarError(f"bad interval {text!r}: {name} must divide 60: one of {allowed}{hint}")
        return Interval(f"{n}{unit}", n * (SECOND_US if unit == "s" else MINUTE_US))
    if unit == "h":
        if n not in _HOURS:
            hint = " (use 1d)" if n == 24 else ""
            raise CalendarError(
                f"bad interval {text!r}: hours must divide 24: one of {', '.join(map(str, _HOURS))}{hint}"
            )
        return Interval(f"{n}h", n * HOUR_US)
    if n != 1:
        raise CalendarError(f"bad interval {text!r}: days: only 1d")
    return Interval("1d", DAY_US)


_DURATION = re.compile(r"([1-9][0-9]*)([smhdwy])")
_DURATION_US = {"s": SECOND_US, "m": MINUTE_US, "h": HOUR_US, "d": DAY_US, "w": 7 * DAY_US,
                "y": 365 * DAY_US}  # fmt: skip


def parse_duration(text: str) -> int:
    """A length of time as µs: a count and a unit ``s``, ``m``, ``h``, ``d``, ``w`` or
    ``y`` (365 days): ``"90s"``, ``"7d"``, ``"2y"``. A CalendarError says what is allowed."""
    m = _DURATION.fullmatch(text.strip())
    if m is None:
        raise CalendarError(
            f"bad duration {text!r}: expected a count and a unit s, m, h, d, w or y (90s, 7d, 2y)"
        )
    return int(m.group(1)) * _DURATION_US[m.group(2)]


DEFAULT_INTERVALS: tuple[Interval, ...] = tuple(
    parse_interval(s) for s in ("1s", "1m", "5m", "15m", "1h", "4h", "1d")
)


# ------------------------------------------------------------------------ calendar


@dataclass(frozen=True, slots=True)
class TradingDay:
    """One trading day: its label, ``[start, end)`` (end = its last session's close)
    and when the next trading day starts (None: none within the horizon)."""

    label: date
    start: int
    end: int
    next_start: int | None


@dataclass(frozen=True, slots=True)
class _Span:
    """The day span of one date (trading or not) with its sessions, all in µs."""

    label: date
    start: int
    end: int
    trading: bool
    sessions: tuple[tuple[int, int], ...]
    #: When the trading day stops (last session's end); ``start`` when it never opens.
    close: int
    #: Constant-state pieces covering [start, end): (lo, hi, open).
    pieces: tuple[tuple[int, int, bool], ...]


class Calendar:
    """Answers market-hours questions for one :class:`CalendarSpec`. See the module docstring."""

    __slots__ = (
        "spec",
        "tz",
        "always_open",
        "_roll",
        "_roll_td",
        "_after_noon",
        "_spans",
        "_last_span",
        "_grids",
        "_clocks",
        "_open_lo",
        "_open_hi",
        "_open_state",
        "_force_lo",
        "_force_hi",
        "_force",
    )

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.tz = ZoneInfo(spec.tz)
        self._roll = spec.roll
        r = spec.roll
        self._roll_td = timedelta(
            hours=r.hour, minutes=r.minute, seconds=r.second, microseconds=r.microsecond
        )
        self._after_noon = spec.roll >= _NOON
        #: Open around the clock: every weekday, no break, holiday or early close.
        self.always_open = (
            spec.weekdays == _EVERY_DAY and not spec.breaks and not spec.holidays and not spec.early_closes
        )
        self._spans: dict[int, _Span] = {}
        self._last_span: _Span | None = None
        self._grids: dict[tuple[int, int], tuple[int, ...]] = {}
        self._clocks: dict[Interval, BarClock] = {}
        if self.always_open:
            self._open_lo, self._open_hi, self._open_state = -_FAR, _FAR, True
        else:
            self._open_lo, self._open_hi, self._open_state = 1, 0, False  # empty: first call misses
        self._force_lo, self._force_hi = 1, 0
        self._force: TradingDay | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    # -- spans ------------------------------------------------------------

    def _local_us(self, d: date, t: time) -> int:
        """The instant of wall time ``t`` on date ``d`` in the calendar's zone (fold 0:
        an ambiguous time is its first occurrence, a skipped one maps past the gap)."""
        return to_us(datetime.combine(d, t, tzinfo=self.tz))

    def _span_start(self, label: date) -> int:
        return self._local_us(label - _ONE_DAY if self._after_noon else label, self._roll)

    def _span(self, label: date) -> _Span:
        key = label.toordinal()
        span = self._spans.get(key)
        if span is None:
            if len(self._spans) >= _MAX_DAYS_CACHED:
                self._spans.clear()
                self._grids.clear()
                self._last_span = None
            span = self._spans[key] = self._build_span(label)
        return span

    def _build_span(self, label: date) -> _Span:
        spec = self.spec
        start = self._span_start(label)
        end = self._span_start(label + _ONE_DAY)
        trading = label.weekday() in spec.weekdays and not any(h.matches(label) for h in spec.holidays)
        sessions: list[tuple[int, int]] = []
        if trading:
            close = end
            for early in spec.early_closes:
                if early.matches(label):
                    close = self._early_close(label, early.close, start, end)
            sessions = [(start, close)] if close > start else []
            first_local = (label - _ONE_DAY) if self._after_noon else label
            for offset in (0, 1):
                d = first_local + timedelta(days=offset)
                for b0, b1 in spec.breaks:
                    sessions = _subtract(sessions, self._local_us(d, b0), self._local_us(d, b1))
            trading = bool(sessions)
        pieces: list[tuple[int, int, bool]] = []
        t = start
        for s, e in sessions:
            if s > t:
                pieces.append((t, s, False))
            pieces.append((s, e, True))
            t = e
        if t < end:
            pieces.append((t, end, False))
        close_at = sessions[-1][1] if sessions else start
        return _Span(label, start, end, trading, tuple(sessions), close_at, tuple(pieces))

    def _early_close(self, label: date, t: time, start: int, end: int) -> int:
        for d in (label, label - _ONE_DAY, label + _ONE_DAY):
            at = self._local_us(d, t)
            if start < at <= end:
                return at
        return end  # unreachable for a 24h span: every wall time occurs in it

    def _label_of(self, ts: int) -> date:
        local = from_us(ts, self.tz).replace(tzinfo=None)
        label = (local - self._roll_td).date()
        if self._after_noon:
            label += _ONE_DAY
        # Wall-clock arithmetic can be off by one next to a DST change: check the span.
        span = self._span(label)
        if ts < span.start:
            label -= _ONE_DAY
        elif ts >= span.end:
            label += _ONE_DAY
        return label

    def _span_of(self, ts: int) -> _Span:
        # One entry of cache: a new bar cell mostly lies in the day of the last one,
        # and the lookup below costs a zoneinfo conversion (~3 µs).
        span = self._last_span
        if span is None or not span.start <= ts < span.end:
            span = self._last_span = self._span(self._label_of(ts))
        return span

    def _days_from(self, label: date) -> Iterator[_Span]:
        for i in range(HORIZON_DAYS):
            yield self._span(label + timedelta(days=i))

    # -- open / closed ------------------------------------------------------

    def is_open(self, ts: int) -> bool:
        """Whether the market is open at ``ts`` (O(1) while ``ts`` stays in the cached piece)."""
        if self._open_lo <= ts < self._open_hi:
            return self._open_state
        span = self._span_of(ts)
        for lo, hi, state in span.pieces:
            if lo <= ts < hi:
                self._open_lo, self._open_hi, self._open_state = lo, hi, state
                return state
        raise AssertionError(f"{self.name}: pieces of {span.label} do not cover {ts}")  # pieces tile the span

    def _sessions_from(self, ts: int) -> Iterator[tuple[int, int]]:
        # From the day before: its last session may run into ts's day.
        for span in self._days_from(self._label_of(ts) - _ONE_DAY):
            yield from span.sessions

    def next_open(self, ts: int) -> int | None:
        """The first instant after ``ts`` at which a closed market opens; None when that
        does not happen within the horizon (a 24/7 calendar never closes, so never opens)."""
        if self.always_open:
            return None
        prev_end = None
        for s, e in self._sessions_from(ts):
            if s > ts and s != prev_end:
                return s
            prev_end = e
        return None

    def next_close(self, ts: int) -> int | None:
        """The first instant after ``ts`` at which an open market closes (the end of the
        current session when open, of the next one when closed); None when never."""
        if self.always_open:
            return None
        close = None
        for s, e in self._sessions_from(ts):
            if close is not None:
                if s != close:
                    return close
                close = e  # sessions touching end to end are one open period
            elif e > ts:
                close = e
        return None

    def next_change(self, ts: int) -> int | None:
        """When ``is_open`` next changes value (for a timer); None when never."""
        return self.next_close(ts) if self.is_open(ts) else self.next_open(ts)

    # -- the day in force --------------------------------------------------

    def day(self, ts: int) -> TradingDay:
        """The trading day in force at ``ts`` (see the module docstring), cached: O(1)
        while ``ts`` stays between its start and the next trading day's start."""
        if self._force_lo <= ts < self._force_hi:
            assert self._force is not None
            return self._force
        span = self._span_of(ts)
        for _ in range(HORIZON_DAYS):
            if span.trading:
                break
            span = self._span(span.label - _ONE_DAY)
        else:
            raise CalendarError(
                f"calendar {self.name!r}: no trading day in the {HORIZON_DAYS} days before {iso(ts)}"
            )
        nxt = next((s for s in self._days_from(span.label + _ONE_DAY) if s.trading), None)
        next_start = None if nxt is None else nxt.start
        day = TradingDay(span.label, span.start, span.close, next_start)
        self._force_lo, self._force_hi = span.start, _FAR if next_start is None else next_start
        self._force = day
        return day

    def trading_day(self, ts: int) -> date:
        """The label of the trading day in force at ``ts`` (Monday 17:30 New York -> Tuesday)."""
        return self.day(ts).label

    def day_start(self, ts: int) -> int:
        """When the trading day in force at ``ts`` started (17:00 New York the evening before)."""
        return self.day(ts).start

    def day_end(self, ts: int) -> int:
        """When the trading day in force at ``ts`` stops trading: its roll, or its early close.
        Over a weekend or holiday this is the last close, before ``ts``."""
        return self.day(ts).end

    def next_day_start(self, ts: int) -> int | None:
        """When the next trading day starts after ``ts``: the daily statistics roll."""
        return self.day(ts).next_start

    def trading_days(self, first: date, last: date) -> list[TradingDay]:
        """The trading days labelled ``first..last`` inclusive, in order (for tests and
        for tools that lay out a week); holidays and weekends are skipped."""
        out: list[TradingDay] = []
        d = first
        while d <= last:
            span = self._span(d)
            if span.trading:
                nxt = next((s for s in self._days_from(d + _ONE_DAY) if s.trading), None)
                out.append(TradingDay(d, span.start, span.close, None if nxt is None else nxt.start))
            d += _ONE_DAY
        return out

    # -- bars ---------------------------------------------------------------

    def clock(self, interval: Interval) -> BarClock:
        """The (cached) bar clock of ``interval`` on this calendar."""
        c = self._clocks.get(interval)
        if c is None:
            c = self._clocks[interval] = BarClock(self, interval)
        return c

    def bar_start(self, interval: Interval, ts: int) -> int:
        """Start of the ``interval`` bar containing ``ts`` (see the module docstring)."""
        return self.clock(interval).cell(ts)[0]

    def bar_end(self, interval: Interval, ts: int) -> int:
        """End (exclusive) of the ``interval`` bar containing ``ts``."""
        return self.clock(interval).cell(ts)[1]

    def _grid(self, span: _Span, us: int) -> tuple[int, ...]:
        """Wall-clock multiples of ``us`` from the span's roll, as instants, ending with its end."""
        key = (span.label.toordinal(), us)
        grid = self._grids.get(key)
        if grid is None:
            first = datetime.combine(span.label - _ONE_DAY if self._after_noon else span.label, self._roll)
            points = [span.start]
            step = timedelta(microseconds=us)
            k = 1
            while True:
                at = to_us((first + k * step).replace(tzinfo=self.tz))
                if at >= span.end:
                    break
                if at > points[-1]:
                    points.append(at)
                k += 1
            points.append(span.end)
            grid = self._grids[key] = tuple(points)
        return grid

    def _cell(self, interval: Interval, ts: int) -> tuple[int, int]:
        span = self._span_of(ts)
        us = interval.us
        if interval.daily:
            grid = self._grid(span, us)
            i = bisect.bisect_right(grid, ts) - 1
            lo, hi = grid[i], grid[i + 1]
        else:
            lo = ts - ts % us
            hi = lo + us
            lo = max(lo, span.start)
            hi = min(hi, span.end)
        if ts < span.close:
            hi = min(hi, span.close)
        else:
            lo = max(lo, span.close)
        return lo, hi


def _subtract(sessions: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sessions:
        if b <= s or a >= e:
            out.append((s, e))
            continue
        if s < a:
            out.append((s, a))
        if b < e:
            out.append((b, e))
    return out


class BarClock:
    """Bar boundaries of one interval on one calendar, caching the last cell so the
    per-tick question "still in this bar?" is two comparisons."""

    __slots__ = ("calendar", "interval", "_lo", "_hi")

    def __init__(self, calendar: Calendar, interval: Interval) -> None:
        self.calendar = calendar
        self.interval = interval
        self._lo, self._hi = 1, 0

    def cell(self, ts: int) -> tuple[int, int]:
        """``(start, end)`` of the bar containing ``ts``."""
        if not self._lo <= ts < self._hi:
            self._lo, self._hi = self.calendar._cell(self.interval, ts)
        return self._lo, self._hi

    def start(self, ts: int) -> int:
        return self.cell(ts)[0]

    def end(self, ts: int) -> int:
        return self.cell(ts)[1]
