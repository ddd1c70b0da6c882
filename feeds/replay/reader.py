"""Stream one tick file (plain or gzip) as parsed chunks, in bounded memory.

A file is read ``chunk_bytes`` at a time and cut at the last line break; the
tail is carried into the next read, so memory stays near two chunks whatever
the file's size. Gzip is recognised by its magic bytes, not by the name.
Symbols are turned into indexes of the feed's instrument list here, so the
merge and the pacing only see integers.

What a downloaded file may hold besides ticks, and what happens to it: a
UTF-8 byte-order mark is dropped; a UTF-16 file is refused (ValueError naming
it and the fix) because its bytes are not ASCII ticks; CRLF line ends and a
last line without a line break are read as usual (see
:mod:`feeds.replay.csvparse`); a line longer than 16 chunks and a gzip stream
that ends early (an interrupted download) are reported like a malformed line
and the rest of the file is read (or the file ends), never failing the feed.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from feeds.replay.csvparse import NO_QUOTE, BadLine, ChunkParser
from feeds.replay.layout import CsvLayout
from ticker.core.batch import TickBatch
from ticker.util.errors import FieldError

CHUNK_BYTES = 1 << 20
#: How much of a file's start is read to infer symbols and decimals.
HEAD_BYTES = 256 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: What a compressed stream that cannot be read to its end raises.
_BROKEN_STREAM = (EOFError, gzip.BadGzipFile, zlib.error)


@dataclass(frozen=True, slots=True)
class Malformed:
    """Bad lines found in one chunk: the count and a few described ones."""

    path: str
    count: int
    examples: tuple[BadLine, ...]


def open_binary(path: Path) -> io.BufferedIOBase:
    """Open plain or gzip by content; OSError naming the file when it cannot be read."""
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first whole lines of a file, up to about ``size`` bytes, without a
    byte-order mark; ValueError naming the file when it is UTF-16."""
    with open_binary(path) as f:
        raw, broken = _read(f, size)
    head = start_of_text(path, raw)
    if len(raw) == size or broken:  # the last line read may be cut
        head = head[: head.rfind(b"\n") + 1]
    return head


def start_of_text(path: Path, data: bytes) -> bytes:
    """The first bytes of a file with a UTF-8 byte-order mark removed."""
    if data.startswith(UTF16_BOMS):
        raise FieldError(
            "files", f"{path} is UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8 IN > OUT)"
        )
    return data[len(UTF8_BOM) :] if data.startswith(UTF8_BOM) else data


def _read(f: io.BufferedIOBase, size: int) -> tuple[bytes, bool]:
    """Up to ``size`` bytes and whether the stream broke (a truncated or corrupt
    gzip): what was decompressed before the break is kept."""
    parts: list[bytes] = []
    got = 0
    try:
        while got < size:
            part = f.read1(size - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
    except _BROKEN_STREAM:
        return b"".join(parts), True
    return b"".join(parts), False


class TickFileReader:
    """Iterates a file as :class:`~ticker.core.batch.TickBatch` chunks (``sid``: the
    feed's symbol index, -1: not served); bad lines go to ``on_malformed``."""

    def __init__(
        self,
        path: Path,
        layout: CsvLayout,
        symbol_index: dict[str, int],
        *,
        file_symbol: str | None = None,
        rename: dict[str, str] | None = None,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self.path = path
        self.layout = layout
        self.parser = ChunkParser(layout)
        self.symbol_index = symbol_index
        self.file_symbol = file_symbol
        self.rename = rename or {}
        self.chunk_bytes = chunk_bytes
        self.malformed: list[Malformed] = []

    def chunks(self) -> Iterator[TickBatch]:
        """Parsed chunks in file order; appends to :attr:`malformed` as it goes."""
        with open_binary(self.path) as f:
            yield from self._chunks(f)

    def _chunks(self, f: io.BufferedIOBase) -> Iterator[TickBatch]:
        line = 1  # number of the first line of `tail + data`
        skip = self.layout.header_lines
        tail = b""
        fixed_idx = -1
        if self.parser._si < 0:
            fixed_idx = self.symbol_index.get(self.file_symbol or "", -1)
        carry = NO_QUOTE
        first = True
        long_line = 16 * self.chunk_bytes
        skipping = False  # inside a line longer than long_line, dropping it
        done = False
        while not done:
            data, broken = _read(f, self.chunk_bytes)
            done = broken or len(data) < self.chunk_bytes
            if first:
                data, first = start_of_text(self.path, data), False
            if skipping:
                end = data.find(b"\n")
                if end < 0:
                    continue  # still inside the long line (or the file ends in it)
                data, skipping = data[end + 1 :], False
                line += 1
            text = tail + data
            if done and not broken:
                tail = b""  # the last line may lack a line break
            else:
                cut = text.rfind(b"\n") + 1
                if broken:
                    # The line the stream broke in is incomplete: drop it, never read a cut price.
                    self._bad(line + text.count(b"\n"), "the file ends early: truncated or corrupt gzip")
                    text, tail = text[:cut], b""
                elif cut == 0:
                    tail = text  # no line break yet: one very long line; keep reading
                    if len(tail) > long_line:
                        self._bad(line, f"line longer than {long_line} bytes, skipped")
                        tail, skipping = b"", True
                    continue
                else:
                    text, tail = text[:cut], text[cut:]
            while skip and text:
                end = text.find(b"\n") + 1 or len(text)
                text = text[end:]
                skip -= 1
                line += 1
            if not text:
                continue
            parsed = self.parser.parse(text, line, carry)
            carry = parsed.carry
            line += text.count(b"\n") + (0 if text.endswith(b"\n") else 1)
            if parsed.bad_count:
                self.malformed.append(Malformed(str(self.path), parsed.bad_count, parsed.bad))
            if not len(parsed):
                continue
            if parsed.symbol is not None:
                find, rename = self.symbol_index.get, self.rename
                lookup = np.array([find(rename.get(s, s), -1) for s in parsed.symbols], dtype=np.int32)
                idx = lookup[parsed.symbol]
            else:
                idx = np.full(len(parsed), fixed_idx, dtype=np.int32)
            yield TickBatch(idx, parsed.bid, parsed.ask, parsed.bid_size, parsed.ask_size, parsed.ts)

    def _bad(self, line: int, reason: str) -> None:
        self.malformed.append(Malformed(str(self.path), 1, (BadLine(line, reason),)))
