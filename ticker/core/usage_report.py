"""Summing usage records (:mod:`ticker.core.usage`) over a time window: ``ticker usage-report``.

Every record is clipped to the window ``[start, end)`` first. Then, per row
(identity × symbol × kind × delay by default, ``kind`` being ``quotes`` or a bar
series ``bars:1m``; ``by="identity"`` or ``by="symbol"``
sums those rows further):

* ``minutes``: how long the identity could see the symbol: the *union* of its
  intervals, so two connections watching the same symbol at once count once
  (what a per-user licence bills);
* ``subscription_minutes``: the *sum* of the intervals (connections × time:
  what a per-device licence bills);
* ``updates`` and ``bytes``: the records' counts, an interval cut by the
  window edge counting in proportion to its minutes inside (records are at
  most one checkpoint long, so the error is small); ``snapshots`` (whole);
* ``intervals``: records that overlap the window.

With ``by="identity"`` the minutes are symbol-minutes (the sum over the
identity's symbols); with ``by="symbol"``, identity-minutes. Real time
(``delay_s`` 0), each delay and each kind stay separate rows: they are licensed
apart.

Pure: records in, rows out; :func:`render_table` and :func:`render_csv` format them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

By = Literal["identity_symbol", "identity", "symbol"]
MINUTE_US = 60_000_000
_FIELDS = ("identity", "symbol", "delay_s", "start", "end")


@dataclass(slots=True)
class _Acc:
    spans: list[tuple[int, int]] = field(default_factory=list)
    intervals: int = 0
    updates: float = 0.0
    bytes: float = 0.0
    snapshots: int = 0


@dataclass(frozen=True, slots=True)
class Row:
    identity: str
    symbol: str
    kind: str
    delay_s: int
    minutes: float
    subscription_minutes: float
    intervals: int
    updates: float
    bytes: float
    snapshots: int


def _union(spans: list[tuple[int, int]]) -> int:
    total = 0
    end = None
    start = 0
    for s, e in sorted(spans):
        if end is None or s > end:
            if end is not None:
                total += end - start
            start, end = s, e
        elif e > end:
            end = e
    if end is not None:
        total += end - start
    return total


class Report:
    """Accumulates records clipped to ``[start_us, end_us)``."""

    def __init__(self, start_us: int, end_us: int) -> None:
        if end_us <= start_us:
            raise ValueError("the window's end must be after its start")
        self.start_us = start_us
        self.end_us = end_us
        self._acc: dict[tuple[str, str, str, int], _Acc] = {}
        #: Lines that were not usage records (counted, not fatal).
        self.bad = 0

    def add_line(self, line: bytes | str) -> None:
        if not line.strip():
            return
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            self.bad += 1
            return
        self.add(record)

    def add(self, r: Any) -> None:
        if not isinstance(r, dict) or not all(k in r for k in _FIELDS):
            self.bad += 1
            return
        start, end = r["start"], r["end"]
        if not (isinstance(start, int) and isinstance(end, int)) or end < start:
            self.bad += 1
            return
        lo, hi = max(start, self.start_us), min(end, self.end_us)
        length = end - start
        if length == 0:  # a snapshot outside a subscription
            if not self.start_us <= start < self.end_us:
                return
            share = 1.0
        elif hi <= lo:
            return
        else:
            share = (hi - lo) / length
        key = (str(r["identity"]), str(r["symbol"]), str(r.get("kind", "quotes")), int(r["delay_s"]))
        acc = self._acc.get(key)
        if acc is None:
            acc = self._acc[key] = _Acc()
        if hi > lo:
            acc.spans.append((lo, hi))
        acc.intervals += 1
        acc.updates += share * float(r.get("updates", 0))
        acc.bytes += share * float(r.get("bytes", 0))
        acc.snapshots += int(r.get("snapshots", 0)) if length == 0 or start >= self.start_us else 0

    def rows(self, by: By = "identity_symbol") -> list[Row]:
        """Rows sorted by their key."""
        out: dict[tuple[str, str, str, int], list[Any]] = {}
        for (identity, symbol, kind, delay), acc in self._acc.items():
            key = (
                identity if by != "symbol" else "",
                symbol if by != "identity" else "",
                kind,
                delay,
            )
            row = out.setdefault(key, [0, 0, 0, 0.0, 0.0, 0])
            row[0] += _union(acc.spans)
            row[1] += sum(e - s for s, e in acc.spans)
            row[2] += acc.intervals
            row[3] += acc.updates
            row[4] += acc.bytes
            row[5] += acc.snapshots
        return [
            Row(k[0], k[1], k[2], k[3], v[0] / MINUTE_US, v[1] / MINUTE_US, v[2], v[3], v[4], v[5])
            for k, v in sorted(out.items())
        ]


def _columns(by: By) -> list[str]:
    keys = {"identity_symbol": ["identity", "symbol"], "identity": ["identity"], "symbol": ["symbol"]}[by]
    return [*keys, "kind", "delay_s", "minutes", "subscription_minutes", "intervals", "updates", "bytes",
            "snapshots"]  # fmt: skip


def _cells(row: Row, by: By) -> list[str]:
    keys = {"identity_symbol": [row.identity, row.symbol], "identity": [row.identity], "symbol": [row.symbol]}
    return [
        *keys[by],
        row.kind,
        str(row.delay_s),
        f"{row.minutes:.2f}",
        f"{row.subscription_minutes:.2f}",
        str(row.intervals),
        f"{row.updates:.0f}",
        f"{row.bytes:.0f}",
        str(row.snapshots),
    ]


def render_csv(rows: Iterable[Row], by: By = "identity_symbol") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(_columns(by))
    for row in rows:
        writer.writerow(_cells(row, by))
    return buf.getvalue()


def render_table(rows: Iterable[Row], by: By = "identity_symbol") -> str:
    header = _columns(by)
    body = [_cells(r, by) for r in rows]
    widths = [max(len(c) for c in col) for col in zip(header, *body, strict=True)]
    numeric = len(header) - 7  # the key columns and the kind are text, the rest numbers

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i < numeric else c.rjust(w) for i, (c, w) in pairs).rstrip()

    return "\n".join([line(header), *(line(r) for r in body)]) + "\n"
