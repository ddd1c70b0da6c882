"""Parse a chunk of tick-file lines into numpy columns, all lines at once.

Why vectorised: a per-line Python loop (split, float(), strptime) tops out
near 150,000 lines/s; this module finds line and field boundaries with numpy
over the chunk's bytes and converts whole columns, which is what lets replay
parse at the rates in docs/feeds.md.

Contract of :meth:`ChunkParser.parse`: the input is whole lines (each ending
in ``\\n``, or ``\\r\\n``, the last one possibly in neither); every non-blank
line either becomes one row of the output or one :class:`BadLine` naming its
line number and what is wrong with it. Blank lines are skipped silently. Rows
keep file order.

Partial layouts (MT5): an empty bid or ask is the previous row's. The fill is
a forward fill over the chunk's good rows, starting from the ``carry`` the
caller hands in (the previous chunk's :attr:`Parsed.carry`), so the parser
holds no state and chunk boundaries do not matter. A row still lacking a side
(before both are known) is a :class:`BadLine`; a row with neither side (a
trade-only row) is dropped and not counted: it carries no quote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from feeds.replay.layout import CsvLayout
from feeds.replay.timefmt import TimeLayout, parse_matrix, parse_unix

#: Longest field accepted; longer ones make the line malformed.
MAX_FIELD = 40
#: At most this many bad lines are described per chunk (all are counted).
MAX_DESCRIBED = 8
#: Neither bid nor ask known yet (the carry before a file's first row).
NO_QUOTE = (math.nan, math.nan)


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Parsed:
    """Rows of one chunk. ``symbol`` holds indexes into ``symbols`` (None when the
    layout has no symbol column)."""

    ts: npt.NDArray[np.int64]
    bid: npt.NDArray[np.float64]
    ask: npt.NDArray[np.float64]
    bid_size: npt.NDArray[np.float64]
    ask_size: npt.NDArray[np.float64]
    symbol: npt.NDArray[np.intp] | None
    symbols: tuple[str, ...]
    bad_count: int
    bad: tuple[BadLine, ...]
    #: (bid, ask) known after the chunk, for partial layouts (NaN: not yet).
    carry: tuple[float, float] = (math.nan, math.nan)

    def __len__(self) -> int:
        return len(self.ts)


class ChunkParser:
    """A compiled layout; :meth:`parse` turns bytes into :class:`Parsed`."""

    def __init__(self, layout: CsvLayout) -> None:
        self.layout = layout
        self.k = len(layout.columns)
        self.delim = ord(layout.delimiter)
        self.time_layouts: tuple[TimeLayout, ...] = layout.times
        self._time_width = max((t.max_width for t in self.time_layouts), default=0)
        self.utc_offset_us = round(layout.utc_offset_h * 3600 * 1_000_000)
        self._ti = layout.index("time")
        self._di = layout.index("date")
        self._si = layout.index("symbol")
        self._strip = layout.symbol_strip.encode()
        self._partial = layout.partial

    def parse(self, chunk: bytes, first_line: int, carry: tuple[float, float] = NO_QUOTE) -> Parsed:
        """Parse whole lines; ``first_line`` is the 1-based number of the first.

        ``carry`` is the (bid, ask) known before the chunk, for partial layouts
        (the previous chunk's :attr:`Parsed.carry`); NaN: not known yet."""
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r", b"")
        if chunk and not chunk.endswith(b"\n"):
            chunk += b"\n"
        buf = np.frombuffer(chunk, dtype=np.uint8)
        nl = np.flatnonzero(buf == 10)
        n = len(nl)
        starts = np.empty(n, dtype=np.int64)
        if n:
            starts[0] = 0
            starts[1:] = nl[:-1] + 1
        delims = np.flatnonzero(buf == self.delim)
        before = np.searchsorted(delims, nl)  # delimiters before each line's end
        per_line = np.diff(before, prepend=0)
        blank = nl == starts
        good = (per_line == self.k - 1) & ~blank
        bad_idx: list[npt.NDArray[np.intp]] = []
        reasons: list[str] = []
        wrong = np.flatnonzero(~good & ~blank)
        if len(wrong):
            bad_idx.append(wrong)
            reasons.append("fields")

        rows = np.flatnonzero(good)
        k = self.k
        if k > 1:
            first_delim = (before - per_line)[rows]
            dpos = delims[first_delim[:, None] + np.arange(k - 1)]
            fstart = np.concatenate((starts[rows, None], dpos + 1), axis=1)
            fend = np.concatenate((dpos, nl[rows, None]), axis=1)
        else:
            fstart = starts[rows, None]
            fend = nl[rows, None]
        flen = fend - fstart
        ok = (flen <= MAX_FIELD).all(axis=1)
        too_long = ~ok
        # Fast path: every line of the chunk has the same layout (fixed decimals, as
        # vendors write them): the chunk is an (n, line) byte matrix and each field a
        # column slice of it, with no gathering at all.
        grid: npt.NDArray[np.uint8] | None = None
        if len(rows) == n and n:
            line = int(nl[0]) + 1
            offsets = fstart[0] - fstart[0, 0]
            if (
                len(buf) == n * line
                and (fstart[:, 0] == np.arange(n) * line).all()
                and (fstart - fstart[:, :1] == offsets).all()
                and (flen == flen[0]).all()
            ):
                grid = buf.reshape(n, line)

        def span(j0: int, j1: int, width: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
            """Columns j0..j1 (with the delimiters between them) as one field."""
            length = fend[:, j1] - fstart[:, j0]
            if grid is not None:
                off = int(fstart[0, j0])
                return grid[:, off : off + int(length[0])], length
            return _matrix(buf, fstart[:, j0], np.minimum(length, width), width), length

        def field(j: int, width: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
            return span(j, j, width)

        cols: dict[str, npt.NDArray[np.float64]] = {}
        empty: dict[str, npt.NDArray[np.bool_]] = {}
        for role in ("bid", "ask", "bid_size", "ask_size"):
            j = self.layout.index(role)
            if j < 0:
                continue
            width = int(min(flen[:, j].max(initial=1), MAX_FIELD)) or 1
            mat, length = field(j, width)
            vals, vok = _numbers(mat, length, ok, allow_empty=self._partial)
            cols[role] = vals
            empty[role] = length == 0
            ok &= vok
        j = self._ti
        if self.time_layouts:
            mat, length = span(self._di if self._di >= 0 else j, j, self._time_width)
            ts, tok = self._times(mat, length)
        else:
            width = int(min(flen[:, j].max(initial=1), MAX_FIELD)) or 1
            mat, length = field(j, width)
            raw, nok = _numbers(mat, length, ok)
            ts, tok = parse_unix(raw, self.layout.time_format)
            tok &= nok
            ts -= self.utc_offset_us
        bad_time = ok & ~tok
        ok &= tok

        symbol: npt.NDArray[np.intp] | None = None
        symbols: tuple[str, ...] = ()
        if self._si >= 0:
            j = self._si
            mat, _ = field(j, int(min(flen[:, j].max(initial=1), MAX_FIELD)) or 1)
            names = np.ascontiguousarray(mat).view(f"S{mat.shape[1]}").ravel()
            if len(names) and (names == names[0]).all():  # one symbol per file, as vendors ship them
                uniq, symbol = names[:1], np.zeros(len(names), dtype=np.intp)
            else:
                uniq, symbol = np.unique(names, return_inverse=True)
            decoded = [self._symbol(u) for u in uniq.tolist()]
            unnamed = np.array([not s for s in decoded], dtype=bool)
            bad_sym = ok & unnamed[symbol]
            ok &= ~unnamed[symbol]
            symbols = tuple(decoded)
        else:
            bad_sym = np.zeros(len(rows), dtype=bool)
        bad_numbers = ~ok & ~too_long & ~bad_time & ~bad_sym

        no_quote = np.zeros(len(rows), dtype=bool)
        if self._partial:
            carry, no_quote = self._carry(cols, empty, ok, carry)
            ok &= ~no_quote

        for mask, reason in (
            (too_long, "long"),
            (bad_time, "time"),
            (bad_sym, "symbol"),
            (bad_numbers, "number"),
            (no_quote, "quote"),
        ):
            if mask.any():
                bad_idx.append(rows[mask])
                reasons.append(reason)
        bad_count = sum(len(b) for b in bad_idx)
        described = self._describe(chunk, starts, nl, per_line, bad_idx, reasons, first_line)

        nan = np.full(int(ok.sum()), np.nan)
        return Parsed(
            ts=ts[ok],
            bid=cols["bid"][ok],
            ask=cols["ask"][ok],
            bid_size=cols["bid_size"][ok] if "bid_size" in cols else nan,
            ask_size=cols["ask_size"][ok] if "ask_size" in cols else nan.copy(),
            symbol=symbol[ok] if symbol is not None else None,
            symbols=symbols,
            bad_count=bad_count,
            bad=described,
            carry=carry,
        )

    def _times(
        self, mat: npt.NDArray[np.uint8], length: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Times by the main format; rows it does not match are tried with the others."""
        first, *others = self.time_layouts
        ts, tok = parse_matrix(mat, length, first, self.utc_offset_us)
        for alt in others:
            miss = np.flatnonzero(~tok)
            if not len(miss):
                break
            if len(miss) == len(tok):  # a whole chunk in the other format (Dukascopy local time)
                ts, tok = parse_matrix(mat, length, alt, self.utc_offset_us)
                continue
            ats, aok = parse_matrix(mat[miss], length[miss], alt, self.utc_offset_us)
            ts[miss] = ats
            tok[miss] = aok
        return ts, tok

    def _carry(
        self,
        cols: dict[str, npt.NDArray[np.float64]],
        empty: dict[str, npt.NDArray[np.bool_]],
        ok: npt.NDArray[np.bool_],
        carry: tuple[float, float],
    ) -> tuple[tuple[float, float], npt.NDArray[np.bool_]]:
        """Fill empty bids and asks of good rows with the last value before them
        (in place); returns the carry after the chunk and the rows still lacking a
        side (before both are known). Rows with neither side (MT5 trades: LAST and
        VOLUME only) are dropped from ``ok`` without being counted as bad."""
        sel = np.flatnonzero(ok)
        no_quote = np.zeros(len(ok), dtype=bool)
        if not len(sel):
            return carry, no_quote
        bid_e, ask_e = empty["bid"][sel], empty["ask"][sel]
        bid = carry_forward(cols["bid"][sel], ~bid_e, carry[0])
        ask = carry_forward(cols["ask"][sel], ~ask_e, carry[1])
        cols["bid"][sel] = bid
        cols["ask"][sel] = ask
        nothing = bid_e & ask_e
        ok[sel[nothing]] = False
        no_quote[sel[~nothing & (np.isnan(bid) | np.isnan(ask))]] = True
        return (float(bid[-1]), float(ask[-1])), no_quote

    def _symbol(self, raw: bytes) -> str:
        if self._strip:
            raw = raw.translate(None, self._strip)
        text = raw.decode("ascii", "replace").strip()
        return text if text.isprintable() and " " not in text else ""

    def _describe(
        self,
        chunk: bytes,
        starts: npt.NDArray[np.int64],
        nl: npt.NDArray[np.intp],
        per_line: npt.NDArray[np.int64],
        bad_idx: list[npt.NDArray[np.intp]],
        reasons: list[str],
        first_line: int,
    ) -> tuple[BadLine, ...]:
        if not bad_idx:
            return ()
        pairs = sorted(
            (int(i), r) for idx, r in zip(bad_idx, reasons, strict=True) for i in idx[:MAX_DESCRIBED]
        )
        out = []
        for i, reason in pairs[:MAX_DESCRIBED]:
            text = chunk[starts[i] : nl[i]][:60].decode("utf-8", "replace")
            if reason == "fields":
                why = f"expected {self.k} fields, found {per_line[i] + 1}"
            elif reason == "long":
                why = f"a field is longer than {MAX_FIELD} characters"
            elif reason == "time":
                why = f"time does not match {self.layout.describe_time()}"
            elif reason == "symbol":
                why = "empty or unprintable symbol"
            elif reason == "quote":
                why = "empty bid or ask with no earlier value to carry (skipped until both are known)"
            else:
                why = "a price or size is not a number"
            out.append(BadLine(first_line + i, f"{why}: {text!r}"))
        return tuple(out)


def carry_forward(
    values: npt.NDArray[np.float64], given: npt.NDArray[np.bool_], last: float
) -> npt.NDArray[np.float64]:
    """``values`` where ``given``, else the last given value before (``last`` before the first)."""
    n = len(values)
    if not n or given.all():
        return values
    idx = np.where(given, np.arange(n), -1)
    np.maximum.accumulate(idx, out=idx)
    return np.where(idx >= 0, values[np.maximum(idx, 0)], last)


def _matrix(
    buf: npt.NDArray[np.uint8], start: npt.NDArray[np.int64], length: npt.NDArray[np.int64], width: int
) -> npt.NDArray[np.uint8]:
    """Fields as rows of a zero-padded (n, width) byte matrix."""
    pos = np.arange(width)
    idx = start[:, None] + pos
    inside = pos < length[:, None]
    np.minimum(idx, len(buf) - 1, out=idx)
    return np.where(inside, buf[idx], 0).astype(np.uint8)


def _numbers(
    mat: npt.NDArray[np.uint8],
    length: npt.NDArray[np.int64],
    ok: npt.NDArray[np.bool_],
    allow_empty: bool = False,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Decimal fields (a zero-padded byte matrix) to float64 with the same rounding
    as ``float()``; rows that are not numbers (or not ``ok`` already) get NaN and False.
    With ``allow_empty`` an empty field is NaN and fine (a partial layout's unchanged side)."""
    if allow_empty:
        blank = length == 0
        if blank.any():
            values = np.full(len(length), np.nan)
            good = ok.copy()
            filled = np.flatnonzero(~blank)
            if len(filled):
                width = int(length[filled].max())
                values[filled], good[filled] = _numbers(mat[filled, :width], length[filled], ok[filled])
            return values, good
    n, width = mat.shape
    fixed = _fixed_point(mat) if n and (length == width).all() else None
    if fixed is not None:
        return fixed, ok.copy()
    strings = np.ascontiguousarray(mat).view(f"S{width}").ravel() if width else np.zeros(n, "S1")
    try:
        values = strings.astype(np.float64)
        good = (length > 0) & ok
    except ValueError:  # some row is not a number: find which, slowly (malformed chunks only)
        values = np.full(len(strings), np.nan)
        good = np.zeros(len(strings), dtype=bool)
        for i, s in enumerate(strings.tolist()):
            if not ok[i]:
                continue
            try:
                values[i] = float(s)
                good[i] = True
            except ValueError:
                pass
    return values, good


def _fixed_point(mat: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64] | None:
    """Rows that are all ``ddd.ddddd`` with the dot in the same column (how vendors
    write prices): the integer of the digits divided by a power of ten. Both are
    exact in float64 (at most 15 digits), so the quotient is the correctly rounded
    value, as ``float(text)`` gives. None when the rows are not uniform."""
    width = mat.shape[1]
    dots = np.flatnonzero(mat[0] == 46)
    if len(dots) > 1 or width - len(dots) > 15 or width == 0:
        return None
    dot = int(dots[0]) if len(dots) else -1
    digit_cols = [c for c in range(width) if c != dot]
    if not digit_cols:
        return None
    if dot >= 0 and not (mat[:, dot] == 46).all():
        return None
    if not ((mat[:, digit_cols] - np.uint8(48)) < 10).all():
        return None
    total = mat[:, digit_cols[0]].astype(np.int64) - 48
    for c in digit_cols[1:]:
        total = total * 10 + (mat[:, c].astype(np.int64) - 48)
    decimals = width - 1 - dot if dot >= 0 else 0
    return total / 10.0**decimals
