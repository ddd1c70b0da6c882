"""Declarative descriptions of tick-file formats.

A :class:`CsvLayout` says what each delimited column holds, how the time is
written and in which time zone, and how many header lines to skip. The
vendor formats are presets of it; a generic CSV is the same thing built from
config. Nothing here reads a file (see :mod:`feeds.replay.reader`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from feeds.replay.timefmt import UNIX_FORMATS, TimeLayout, compile_format
from ticker.util.errors import FieldError

#: What a column may hold. "" (or "-") ignores the column.
ROLES = ("time", "bid", "ask", "bid_size", "ask_size", "symbol", "")
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
        if self.time_format not in UNIX_FORMATS:
            try:
                compile_format(self.time_format)
            except ValueError as exc:
                raise FieldError("time_format", f"{exc}") from None
        if not -24 <= self.utc_offset_h <= 24:
            raise FieldError("utc_offset_h", "must be -24..24")
        re.compile(self.file_symbol)

    def index(self, role: str) -> int:
        """Column index of ``role``, or -1."""
        return self.columns.index(role) if role in self.columns else -1

    @property
    def time(self) -> TimeLayout | None:
        """The compiled time format (None for unix_* epoch formats)."""
        return None if self.time_format in UNIX_FORMATS else compile_format(self.time_format)

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
#: ``EURUSD_Ticks_02.01.2024-02.01.2024.csv``.
DUKASCOPY = CsvLayout(
    "dukascopy",
    ("time", "ask", "bid", "ask_size", "bid_size"),
    "%d.%m.%Y %H:%M:%S.%f",
    header_lines=1,
    file_symbol=r"^([A-Za-z0-9]+?)_Ticks",
)

#: TrueFX monthly files: ``EUR/USD,20240102 00:00:00.067,1.10386,1.10400`` in UTC.
TRUEFX = CsvLayout(
    "truefx",
    ("symbol", "time", "bid", "ask"),
    "%Y%m%d %H:%M:%S.%f",
    symbol_strip="/",
)

PRESETS: dict[str, CsvLayout] = {p.name: p for p in (HISTDATA, DUKASCOPY, TRUEFX)}
