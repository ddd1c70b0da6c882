"""Declarative descriptions of tick-file formats.

A :class:`CsvLayout` says what each delimited column holds, how the time is
written and in which time zone, and how many header lines to skip. The
vendor formats are presets of it; a generic CSV is the same thing built from
config. Nothing here reads a file (see :mod:`feeds.replay.reader`).

A date and a time in two columns (MetaTrader 5) are a ``date`` column right
before the ``time`` column; the time format then describes both with the
delimiter between them (``%Y.%m.%d\t%H:%M:%S.%f``), so they parse as one
field. A ``partial`` layout reads an empty bid or ask as "unchanged" (the
previous row's value is carried, see :mod:`feeds.replay.csvparse`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from feeds.replay.timefmt import UNIX_FORMATS, TimeLayout, compile_format
from ticker.util.errors import FieldError

#: What a column may hold. "" (or "-") ignores the column.
ROLES = ("time", "date", "bid", "ask", "bid_size", "ask_size", "symbol", "")
NUMERIC_ROLES = ("bid", "ask", "bid_size", "ask_size")


@dataclass(frozen=True, slots=True)
class CsvLayout:
    name: str
    columns: tuple[str, ...]
    time_format: str
    #: Hours the file's clock is ahead of UTC (HistData's EST without DST: -5).
    utc_offset_h: float = 0.0
    delimiter: str = ","
    header_lines: int = 0
    #: Characters removed from symbol names read from a column ("EUR/USD" -> "EURUSD").
    symbol_strip: str = ""
    #: Regex whose first group is the symbol, matched against a file's name.
    file_symbol: str = r"(?<![A-Za-z])([A-Za-z]{6})(?![A-Za-z])"
    #: Formats tried, in order, for rows the main one does not match (same column).
    alt_time_formats: tuple[str, ...] = ()
    #: An empty bid or ask means "unchanged since the previous row" (MT5 writes only what changed).
    partial: bool = False
    #: The file's clock cannot be guessed (MT5: the broker's server time): utc_offset_h must be given.
    offset_required: bool = False

    def __post_init__(self) -> None:
        for i, role in enumerate(self.columns):
            if role not in ROLES:
                raise FieldError(
                    "columns", f"[{i}] unknown column {role!r}; one of {', '.join(ROLES[:-1])} or ''"
                )
        named = [r for r in self.columns if r]
        if len(set(named)) != len(named):
            raise FieldError("columns", "names a column twice")
        for need in ("time", "bid", "ask"):
            if need not in self.columns:
                raise FieldError("columns", f"a {need!r} column is required")
        if len(self.delimiter) != 1 or self.delimiter in "\r\n" or ord(self.delimiter) > 127:
            raise FieldError("delimiter", "must be one ASCII character other than a line break")
        for fmt in self.time_formats:
            if fmt in UNIX_FORMATS:
                if len(self.time_formats) > 1 or "date" in self.columns:
                    raise FieldError(
                        "time_format", f"{fmt} cannot be combined with other formats or a date column"
                    )
                continue
            try:
                compile_format(fmt)
            except ValueError as exc:
                raise FieldError("time_format", f"{exc}") from None
            if "date" in self.columns and self.delimiter not in fmt:
                raise FieldError(
                    "time_format", f"with a 'date' column the format covers the date, the delimiter "
                    f"{self.delimiter!r} and the time, e.g. {'%Y.%m.%d' + self.delimiter + '%H:%M:%S.%f'!r}"
                )
        if "date" in self.columns and self.index("date") + 1 != self.index("time"):
            raise FieldError("columns", "'date' must come right before 'time'")
        if not -24 <= self.utc_offset_h <= 24:
            raise FieldError("utc_offset_h", "must be -24..24")
        re.compile(self.file_symbol)

    def index(self, role: str) -> int:
        """Column index of ``role``, or -1."""
        return self.columns.index(role) if role in self.columns else -1

    @property
    def time_formats(self) -> tuple[str, ...]:
        return (self.time_format, *self.alt_time_formats)

    @property
    def times(self) -> tuple[TimeLayout, ...]:
        """Every compiled time format, the main one first (empty for unix_* epoch formats)."""
        if self.time_format in UNIX_FORMATS:
            return ()
        return tuple(compile_format(f) for f in self.time_formats)

    def describe_time(self) -> str:
        return " or ".join(repr(f) for f in self.time_formats)

    def symbol_from_name(self, filename: str) -> str | None:
        m = re.search(self.file_symbol, filename)
        return m.group(1).upper() if m else None


#: HistData.com "ASCII tick" files: ``20240102 170000123,1.10386,1.10400,0``
#: (bid, ask, volume always 0), in EST without daylight saving (UTC-5), no header;
#: named ``DAT_ASCII_EURUSD_T_202401.csv``.
HISTDATA = CsvLayout(
    "histdata",
    ("time", "bid", "ask", ""),
    "%Y%m%d %H%M%S%f",
    utc_offset_h=-5.0,
    file_symbol=r"DAT_ASCII_([A-Za-z0-9]+)_T",
)

#: Dukascopy CSV exports: header ``Gmt time,Ask,Bid,AskVolume,BidVolume``, then
#: ``02.01.2024 22:00:00.334,1.10400,1.10386,1.5,2.25`` in UTC; named
#: ``EURUSD_Ticks_02.01.2024-02.01.2024.csv``. The "Local time" exports (header
#: ``Local time,Ask,...``) suffix each time with its offset,
#: ``02.01.2024 23:00:00.334 GMT+0100``, which changes at daylight-saving changes
#: within a file; each row's own offset is used.
DUKASCOPY = CsvLayout(
    "dukascopy",
    ("time", "ask", "bid", "ask_size", "bid_size"),
    "%d.%m.%Y %H:%M:%S.%f",
    header_lines=1,
    file_symbol=r"^([A-Za-z0-9]+?)_Ticks",
    alt_time_formats=("%d.%m.%Y %H:%M:%S.%f GMT%z",),
)

#: TrueFX monthly files: ``EUR/USD,20240102 00:00:00.067,1.10386,1.10400`` in UTC.
TRUEFX = CsvLayout(
    "truefx",
    ("symbol", "time", "bid", "ask"),
    "%Y%m%d %H:%M:%S.%f",
    symbol_strip="/",
)

#: MetaTrader 5 tick exports (Symbols > Ticks > Export): tab-separated, header
#: ``<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>``, rows
#: ``2024.01.02\t00:00:00.123\t1.10386\t1.10400\t\t\t6`` with only the side that
#: changed written (the other left empty), CRLF line ends, in the broker's server
#: time (so the offset must be configured); named ``EURUSD_202401020000_202401022359.csv``.
#: LAST, VOLUME and FLAGS are not used.
MT5 = CsvLayout(
    "mt5",
    ("date", "time", "bid", "ask", "", "", ""),
    "%Y.%m.%d\t%H:%M:%S.%f",
    delimiter="\t",
    header_lines=1,
    file_symbol=r"^([A-Za-z0-9.#_-]+?)_\d{8,12}_\d{8,12}",
    partial=True,
    offset_required=True,
)

PRESETS: dict[str, CsvLayout] = {p.name: p for p in (HISTDATA, DUKASCOPY, TRUEFX, MT5)}
