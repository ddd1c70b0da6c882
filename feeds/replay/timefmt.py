"""Vectorised timestamp parsing for tick files: a byte matrix in, µs since the epoch out.

A time format is compiled once into fixed-offset digit fields and literal
separators (``%Y%m%d %H%M%S%f``), then applied to a whole chunk of rows at
once with numpy; no per-line Python runs on the happy path. ``%f`` takes
every digit up to what follows it (1 to 9: milli-, micro- or nanoseconds);
after ``%f`` only literal characters and ``%z`` may come, and they are
located from the end of the field (Dukascopy's ``%d.%m.%Y %H:%M:%S.%f GMT%z``).
``%z`` is a UTC offset written ``+hhmm`` or ``-hhmm``, read per row, so one
file may change offset at a daylight-saving change. ``unix_s``/``unix_ms``/
``unix_us``/``unix_ns`` read epoch numbers (``unix_s`` may carry a fraction).

Invariant: a row whose bytes do not match the format exactly (a non-digit,
a wrong separator, a wrong length, month 13, 31 February, offset +2500) gets
``ok=False``; it is never silently read as some other time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_WIDTH = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "z": 5}
_RANGE = {"Y": (1970, 2200), "m": (1, 12), "d": (1, 31), "H": (0, 23), "M": (0, 59), "S": (0, 60)}
UNIX_FORMATS = {"unix_s": 1_000_000, "unix_ms": 1_000, "unix_us": 1, "unix_ns": 0}
_DAYS_IN_MONTH = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_PLUS, _MINUS = ord("+"), ord("-")


@dataclass(frozen=True, slots=True)
class TimeLayout:
    """A compiled ``strftime``-style format: directive offsets and literal bytes.

    ``fields``/``literals`` are offsets from the start of the field; ``tail_fields``/
    ``tail_literals`` (what follows ``%f``) are offsets from the start of the tail,
    which ends the field."""

    fields: tuple[tuple[str, int, int], ...]  # (directive, offset, width)
    literals: tuple[tuple[int, int], ...]  # (offset, byte)
    fixed_width: int  # bytes before %f (or the whole width without %f)
    fraction: bool  # has %f
    tail_fields: tuple[tuple[str, int, int], ...] = ()
    tail_literals: tuple[tuple[int, int], ...] = ()
    tail_width: int = 0

    @property
    def max_width(self) -> int:
        return self.fixed_width + (9 if self.fraction else 0) + self.tail_width

    @property
    def zoned(self) -> bool:
        """The rows carry their own UTC offset (``%z``)."""
        return any(f[0] == "z" for f in (*self.fields, *self.tail_fields))


def compile_format(fmt: str) -> TimeLayout:
    """Compile a format; ValueError naming the problem for what cannot be parsed by offset."""
    head: tuple[list[tuple[str, int, int]], list[tuple[int, int]]] = ([], [])
    tail: tuple[list[tuple[str, int, int]], list[tuple[int, int]]] = ([], [])
    fields, literals = head
    pos = 0
    fixed_width = 0
    i = 0
    fraction = False
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            if i + 1 >= len(fmt):
                raise ValueError(f"time format {fmt!r} ends with a lone '%'")
            d = fmt[i + 1]
            if fraction and d not in "z%":
                raise ValueError(
                    f"'%f' must come last in time format {fmt!r} "
                    "(only literal characters and %z may follow it)"
                )
            if d == "f":
                fraction = True
                fixed_width, pos = pos, 0
                fields, literals = tail
            elif d in _WIDTH:
                fields.append((d, pos, _WIDTH[d]))
                pos += _WIDTH[d]
            elif d == "%":
                literals.append((pos, ord("%")))
                pos += 1
            else:
                raise ValueError(
                    f"time format {fmt!r}: unsupported directive %{d}; use %Y %m %d %H %M %S %f %z, "
                    "or unix_s, unix_ms, unix_us, unix_ns"
                )
            i += 2
            continue
        if ord(ch) > 127:
            raise ValueError(f"time format {fmt!r}: only ASCII literals are supported")
        literals.append((pos, ord(ch)))
        pos += 1
        i += 1
    names = [f[0] for f in (*head[0], *tail[0])]
    for need in ("Y", "m", "d"):
        if need not in names:
            raise ValueError(f"time format {fmt!r} lacks %{need}")
    if len(set(names)) != len(names):
        raise ValueError(f"time format {fmt!r} repeats a directive")
    if not fraction:
        return TimeLayout(tuple(head[0]), tuple(head[1]), pos, False)
    return TimeLayout(tuple(head[0]), tuple(head[1]), fixed_width, True, tuple(tail[0]), tuple(tail[1]), pos)


def days_from_civil(
    y: npt.NDArray[np.int64], m: npt.NDArray[np.int64], d: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_matrix(
    rows: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int64], layout: TimeLayout, utc_offset_us: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Parse time fields given as a zero-padded byte matrix (one row per field) and
    their lengths; returns (µs since the epoch in UTC, row ok). ``utc_offset_us`` is
    the clock's offset for formats without ``%z``; with ``%z`` each row's own counts.

    Works column by column on the bytes (a handful of passes over ``n`` values)
    rather than on an (n, width) integer matrix: measured 3x faster on HistData.
    Rows of the wrong length are rejected before any digit is read, so trying a
    format that matches none of the rows (the other alternative of a preset)
    costs one comparison per row.
    """
    n, width = rows.shape
    if width < layout.max_width:
        rows = np.pad(rows, ((0, 0), (0, layout.max_width - width)))
        width = layout.max_width
    zero = np.zeros(n, dtype=np.int64)
    fixed, tail_width = layout.fixed_width, layout.tail_width
    if layout.fraction:
        nfrac = lengths - fixed - tail_width
        ok = (nfrac >= 1) & (nfrac <= 9)
    else:
        nfrac = zero
        ok = lengths == fixed
    if not ok.any():
        return zero, ok
    tail_cols: npt.NDArray[np.int64] | int = 0
    if layout.tail_width:
        # Where the tail starts: one column for a chunk of equal widths (the usual
        # case), else a per-row gather.
        first = int(lengths[0])
        if (lengths == first).all():
            tail_cols = first - tail_width
        else:
            tail_cols = np.clip(lengths - tail_width, 0, width - tail_width)
    rowix = np.arange(n)

    def col(off: int, in_tail: bool) -> npt.NDArray[np.uint8]:
        if not in_tail:
            return rows[:, off]
        if isinstance(tail_cols, int):
            return rows[:, tail_cols + off]
        return rows[rowix, tail_cols + off]

    for lits, in_tail in ((layout.literals, False), (layout.tail_literals, True)):
        for off, byte in lits:
            ok &= col(off, in_tail) == byte
    values: dict[str, npt.NDArray[np.int64]] = {}
    for fields, in_tail in ((layout.fields, False), (layout.tail_fields, True)):
        for name, off, w in fields:
            if name == "z":
                sign = col(off, in_tail)
                ok &= (sign == _PLUS) | (sign == _MINUS)
                hh, hok = _digits(col, off + 1, 2, in_tail)
                mm, mok = _digits(col, off + 3, 2, in_tail)
                ok &= hok & mok & (hh <= 23) & (mm <= 59)
                values["z"] = np.where(sign == _MINUS, -1, 1) * (hh * 3600 + mm * 60) * 1_000_000
                continue
            v, vok = _digits(col, off, w, in_tail)
            lo, hi = _RANGE[name]
            ok &= vok & (v >= lo) & (v <= hi)
            values[name] = v
    y, m, d = values["Y"], values["m"], values["d"]
    m_safe = np.clip(m, 1, 12)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    ok &= d <= _DAYS_IN_MONTH[m_safe] - ((m_safe == 2) & ~leap)
    seconds = (
        days_from_civil(y, m_safe, d) * 86400
        + values.get("H", zero) * 3600
        + values.get("M", zero) * 60
        + values.get("S", zero)
    )
    us = seconds * 1_000_000
    if layout.fraction:
        frac = np.zeros(n, dtype=np.int64)
        for k in range(9):  # digit k is worth 10^(5-k) µs; digits past µs are truncated
            inside = nfrac > k
            if not inside.any():
                break
            digit = rows[:, fixed + k]
            ok &= ~inside | ((digit - np.uint8(48)) < 10)
            if k < 6:
                frac += np.where(inside, digit.astype(np.int64) - 48, 0) * 10 ** (5 - k)
        us += frac
    return us - values.get("z", utc_offset_us), ok


def _digits(
    col: Callable[[int, bool], npt.NDArray[np.uint8]], off: int, width: int, in_tail: bool
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The decimal number in ``width`` columns from ``off``, and whether all were digits."""
    c = col(off, in_tail)
    ok = (c - np.uint8(48)) < 10  # uint8 wraps: below '0' is large
    v = c.astype(np.int64) - 48
    for i in range(1, width):
        c = col(off + i, in_tail)
        ok &= (c - np.uint8(48)) < 10
        v = v * 10 + (c.astype(np.int64) - 48)
    return v, ok


def parse_unix(
    values: npt.NDArray[np.float64], unit: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Epoch numbers in ``unit`` (see :data:`UNIX_FORMATS`) to µs; NaN/negative rows fail."""
    scale = UNIX_FORMATS[unit]
    ok = np.isfinite(values) & (values >= 0)
    clean = np.where(ok, values, 0.0)
    us = np.round(clean / 1000.0) if scale == 0 else np.round(clean * scale)
    return us.astype(np.int64), ok
