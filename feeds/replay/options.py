"""Options of a ``type = "replay"`` feed (validated by the config loader)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from feeds.instruments import InstrumentOptions
from feeds.replay.layout import PRESETS, CsvLayout
from feeds.replay.reader import CHUNK_BYTES
from ticker.util.errors import FieldError

FORMATS = ("histdata", "dukascopy", "truefx", "csv", "mt5")
assert set(FORMATS) == {*PRESETS, "csv"}


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """Options of a ``type = "replay"`` feed."""

    #: Files or glob patterns (relative paths are relative to the working directory).
    files: tuple[str, ...] = ()
    #: histdata | dukascopy | truefx | mt5 | csv (columns and time_format below).
    format: str = ""
    #: The symbol of every file, for formats without a symbol column; default: from the file name.
    symbol: str = ""
    #: Play only these symbols (after renaming); default: every symbol found.
    symbols: tuple[str, ...] = ()
    #: Symbol renaming, file name -> served name (e.g. {"EUR/USD" = "EURUSD"}).
    rename: dict[str, str] = field(default_factory=dict)
    instruments: dict[str, InstrumentOptions] = field(default_factory=dict)
    #: 1 = real time, 10 = ten times faster, 0 = as fast as possible.
    speed: float = field(default=1.0, metadata={"min": 0, "max": 1_000_000})
    loop: bool = False
    #: Start this many seconds into the data (every pass, when looping).
    start_offset_s: float = field(default=0.0, metadata={"min": 0})
    #: "now": ticks are stamped with the time they are played; "original": the file's time.
    timestamps: Literal["now", "original"] = "now"
    # Generic CSV (format = "csv"); the presets fix these.
    columns: tuple[str, ...] = ()
    time_format: str = ""
    #: Hours the file's clock is ahead of UTC; default: the preset's (HistData -5), else 0.
    #: Required for mt5 (the broker's server time). Rows with their own offset (%z) use theirs.
    utc_offset_h: float | None = None
    delimiter: str = ","
    header_lines: int = field(default=0, metadata={"min": 0, "max": 1000})
    #: An empty bid or ask repeats the previous row's (files that write only what changed).
    partial: bool = False
    read_bytes: int = field(default=CHUNK_BYTES, metadata={"min": 4096, "max": 64 * 1024 * 1024})

    def __post_init__(self) -> None:
        if not self.files:
            raise FieldError("files", "give at least one file or glob pattern")
        if self.format not in FORMATS:
            raise FieldError("format", f"must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.format == "csv":
            if not self.columns:
                raise FieldError("columns", 'format \'csv\' needs the columns, e.g. ["time", "bid", "ask"]')
            if not self.time_format:
                raise FieldError(
                    "time_format", "format 'csv' needs a time format, e.g. '%Y-%m-%d %H:%M:%S.%f'"
                )
        elif self.columns or self.time_format:
            raise FieldError("columns", f"only for format 'csv'; {self.format!r} fixes its own columns")
        elif self.partial:
            raise FieldError("partial", f"only for format 'csv'; {self.format!r} fixes its own")
        elif PRESETS[self.format].offset_required and self.utc_offset_h is None:
            raise FieldError(
                "utc_offset_h", f"{self.format} files are in the broker's server time; give the hours "
                "it is ahead of UTC (2.0 for a GMT+2 server, 0.0 for UTC)"
            )
        self.layout()  # raises "columns: ...", "time_format: ..." naming the key

    def layout(self) -> CsvLayout:
        if self.format == "csv":
            return CsvLayout(
                "csv",
                self.columns,
                self.time_format,
                utc_offset_h=self.utc_offset_h or 0.0,
                delimiter=self.delimiter,
                header_lines=self.header_lines,
                partial=self.partial,
            )
        preset = PRESETS[self.format]
        if self.utc_offset_h is None:
            return preset
        return dataclasses.replace(preset, utc_offset_h=self.utc_offset_h)
