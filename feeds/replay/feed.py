"""``type = "replay"``: play recorded tick files as a live feed.

Configuration picks a format (a :mod:`feeds.replay.layout` preset or a
generic CSV layout), files (globs allowed) and pacing. Instruments are
resolved at construction by reading each file's first lines, so the symbol
table is complete before anything starts. At run time files are streamed in
chunks, merged in time order and emitted on a schedule: ``speed`` 1 is real
time, 10 ten times faster, 0 as fast as the service takes them. With
``timestamps = "original"`` the replay has its own clock (the file's time,
:class:`~ticker.core.markettime.ReplayTime`): market status and daily
statistics follow the file's dates; stamped ``"now"`` it is a demo of live
data, always open unless its config names a calendar.

The only ``await`` here is pacing; parsing, merging and scheduling are
synchronous and live in their own modules.
"""

from __future__ import annotations

import asyncio
import glob
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from feeds.base import Feed, TickSink
from feeds.instruments import decimals_of, resolve
from feeds.replay.csvparse import ChunkParser
from feeds.replay.merge import merge
from feeds.replay.options import ReplayOptions
from feeds.replay.reader import TickFileReader, read_head
from ticker.core.batch import TickBatch
from ticker.core.markettime import ReplayTime
from ticker.core.model import Instrument
from ticker.util.clock import wall_us
from ticker.util.errors import FieldError

#: Most ticks handed to the service in one go, so one batch never holds the loop long.
MAX_BATCH = 4096
MIN_SLEEP_S = 0.001


@dataclass(frozen=True, slots=True)
class TickFile:
    path: Path
    #: The file's one symbol (formats without a symbol column), after renaming.
    symbol: str | None


def expand(patterns: Sequence[str]) -> list[Path]:
    """Files named or matched, in the given order (each glob sorted); ValueError when one matches nothing."""
    out: list[Path] = []
    for i, pattern in enumerate(patterns):
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise FieldError("files", f"[{i}] {pattern!r} matches no file")
        for m in matches:
            p = Path(m)
            if not p.is_file():
                raise FieldError("files", f"[{i}] {m!r} is not a readable file")
            if p not in out:
                out.append(p)
    return out


def schedule(ts: npt.NDArray[np.int64], begin_us: int, speed: float) -> npt.NDArray[np.float64]:
    """Seconds after the start of a pass at which each tick is due (speed > 0)."""
    return (ts - begin_us) / (1e6 * speed)


class ReplayFeed(Feed):
    def __init__(
        self,
        name: str,
        options: ReplayOptions,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_us: Callable[[], int] = wall_us,
    ) -> None:
        super().__init__(name)
        self.options = options
        self.layout = options.layout()
        self._clock = clock
        self._wall_us = wall_us
        self.files, self._instruments = self._inspect(expand(options.files))
        self.symbols = [i.symbol for i in self._instruments]
        self._index = {s: i for i, s in enumerate(self.symbols)}
        if options.timestamps == "original":
            # The file's own dates: market hours, day rolls and the market timer run on
            # the replay's clock (ticker.core.markettime), each symbol on its class's
            # calendar, so a replayed Friday closes at 17:00 New York.
            self.time_base = ReplayTime(clock)
            self.default_calendar = "auto"

    # ------------------------------------------------------------ set-up

    def _inspect(self, paths: list[Path]) -> tuple[list[TickFile], list[Instrument]]:
        """Each file's first lines: its symbols and the decimals its prices use.

        A malformed line among them is skipped (the reader counts it when the file
        plays); only a file none of whose first lines reads, or a symbol without
        any tick there that nothing else describes, is an error, and the error says
        which file and which lines were read."""
        o = self.options
        parser = ChunkParser(self.layout)
        found: dict[str, list[float]] = {}
        files: list[TickFile] = []
        read: list[str] = []  # "a.csv lines 2-5011", for errors
        for path in paths:
            head = read_head(path)
            lines = head.split(b"\n", self.layout.header_lines)
            body = lines[-1] if self.layout.header_lines < len(lines) else b""
            first = self.layout.header_lines + 1
            last = first + body.count(b"\n") - (1 if body.endswith(b"\n") else 0)
            span = f"lines {first}-{last}" if last > first else f"line {first}"
            read.append(f"{path} {span}" if body.strip() else f"{path} (no data lines)")
            parsed = parser.parse(body, first)
            if not len(parsed) and body.strip():
                example = parsed.bad[0] if parsed.bad else None
                why = f"; line {example.line}: {example.reason}" if example else ""
                name = self.layout.name
                hint = _guess_format(head)
                hint = f"; it looks like format = {hint!r}" if hint and hint != o.format else ""
                raise FieldError("files", f"{path} does not look like {name} data (read {span}{why}){hint}")
            prices = np.concatenate((parsed.bid[:2000], parsed.ask[:2000])).tolist()
            file_symbol = None
            if parsed.symbol is None:
                raw = o.symbol or self.layout.symbol_from_name(path.name)
                if not raw:
                    raise FieldError(
                        "symbol", f"cannot tell the symbol of {path.name} from its name; set symbol"
                    )
                file_symbol = o.rename.get(raw, raw)
                found.setdefault(file_symbol, []).extend(prices)
            else:
                for i, raw in enumerate(parsed.symbols):
                    sel = parsed.symbol[:4000] == i
                    both = np.concatenate((parsed.bid[:4000][sel], parsed.ask[:4000][sel])).tolist()
                    found.setdefault(o.rename.get(raw, raw), []).extend(both)
            files.append(TickFile(path, file_symbol))
        names = list(o.symbols) if o.symbols else list(found)
        if not names:
            raise FieldError("files", f"no ticks found in the first lines read ({_listing(read)})")
        instruments = []
        for s in names:
            inferred = decimals_of(found[s]) if found.get(s) else None
            try:
                instruments.append(resolve(s, o.instruments.get(s), inferred))
            except ValueError as exc:
                raise ValueError(f"{exc} ({s} has no ticks in the lines read: {_listing(read)})") from None
        unknown = set(o.instruments) - set(names)
        if unknown:
            raise FieldError("instruments", f"{', '.join(sorted(unknown))} not among the played symbols")
        return files, instruments

    def instruments(self) -> Sequence[Instrument]:
        return self._instruments

    def readers(self) -> list[TickFileReader]:
        return [
            TickFileReader(
                f.path,
                self.layout,
                self._index,
                file_symbol=f.symbol,
                rename=self.options.rename,
                chunk_bytes=self.options.read_bytes,
            )
            for f in self.files
        ]

    def stream(self, readers: list[TickFileReader]) -> Iterator[TickBatch]:
        """The files' ticks merged in time order (one pass, no pacing)."""
        only_configured = bool(self.options.symbols)
        for batch in merge(r.chunks() for r in readers):
            if only_configured:
                batch = batch.take(batch.sid >= 0)
            if len(batch):
                yield batch

    # ------------------------------------------------------------ playing

    async def run(self, sink: TickSink) -> None:
        o = self.options
        sids = np.append(sink.symbol_ids(self.symbols), np.int32(-1)).astype(np.int32)  # idx -1 -> -1
        shift = 0
        while True:
            readers = self.readers()
            first = last = None
            begin = 0
            start = 0.0
            start_us = 0
            for batch in self.stream(readers):
                _report(readers, sink)
                if first is None:
                    first = int(batch.ts[0])
                    begin = first + round(o.start_offset_s * 1e6)
                    start, start_us = self._clock(), self._wall_us()
                    if isinstance(self.time_base, ReplayTime):
                        self.time_base.start(begin + shift, o.speed)
                last = int(batch.ts[-1])
                if batch.ts[0] < begin:
                    batch = batch.take(batch.ts >= begin)
                if len(batch):
                    await self._play(batch, sink, sids, begin, start, start_us, shift)
            _report(readers, sink)
            if not o.loop or first is None or last is None:
                return
            shift += last - first + 1_000_000

    async def _play(
        self,
        batch: TickBatch,
        sink: TickSink,
        sids: npt.NDArray[np.int32],
        begin: int,
        start: float,
        start_us: int,
        shift: int,
    ) -> None:
        speed = self.options.speed
        stamp_now = self.options.timestamps == "now"
        due = schedule(batch.ts, begin, speed) if speed > 0 else None
        cursor, n = 0, len(batch)
        while cursor < n:
            if due is None:
                end = min(cursor + MAX_BATCH, n)
            else:
                now = self._clock() - start
                end = min(int(np.searchsorted(due, now, side="right")), cursor + MAX_BATCH)
                if end <= cursor:
                    await asyncio.sleep(max(float(due[cursor]) - now, MIN_SLEEP_S))
                    continue
            sl = slice(cursor, end)
            if not stamp_now:
                ts = batch.ts[sl] + shift
                if isinstance(self.time_base, ReplayTime):
                    self.time_base.reach(int(ts[0]))  # closes, opens and rolls up to here first
            elif due is None:
                ts = np.full(end - cursor, self._wall_us(), dtype=np.int64)
            else:
                ts = start_us + (due[sl] * 1e6).astype(np.int64)
            sink.publish(batch.take(sl).to_table(sids).with_ts(ts))
            cursor = end
            await asyncio.sleep(0)  # let clients and other feeds run between batches


#: First bytes of vendor exports, to suggest the format when a file does not parse.
_SIGNATURES = (
    (b"<DATE>\t<TIME>\t<BID>\t<ASK>", "mt5"),
    (b"Gmt time,Ask,Bid", "dukascopy"),
    (b"Local time,Ask,Bid", "dukascopy"),
)


def _guess_format(head: bytes) -> str | None:
    return next((fmt for sig, fmt in _SIGNATURES if head.startswith(sig)), None)


def _listing(items: list[str], most: int = 3) -> str:
    more = f" and {len(items) - most} more file(s)" if len(items) > most else ""
    return "; ".join(items[:most]) + more


def _report(readers: list[TickFileReader], sink: TickSink) -> None:
    for r in readers:
        for m in r.malformed:
            first = m.examples[0] if m.examples else None
            where = f"{m.path}:{first.line}" if first else m.path
            sink.parse_error(where, first.reason if first else "malformed line", m.count)
        r.malformed.clear()
