"""Stream one tick file (plain or gzip) as parsed chunks, in bounded memory.

A file is read ``chunk_bytes`` at a time and cut at the last line break; the
tail is carried into the next read, so memory stays near two chunks whatever
the file's size. Gzip is recognised by its magic bytes, not by the name.
Symbols are turned into indexes of the feed's instrument list here, so the
merge and the pacing only see integers.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from feeds.replay.csvparse import BadLine, ChunkParser
from feeds.replay.layout import CsvLayout
from ticker.core.batch import TickBatch

CHUNK_BYTES = 1 << 20
#: How much of a file's start is read to infer symbols and decimals.
HEAD_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Malformed:
    """Bad lines found in one chunk: the count and a few described ones."""

    path: str
    count: int
    examples: tuple[BadLine, ...]


def open_binary(path: Path) -> BinaryIO:
    """Open plain or gzip by content; OSError naming the file when it cannot be read."""
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first whole lines of a file, up to about ``size`` bytes."""
    with open_binary(path) as f:
        head = f.read(size)
    if len(head) == size:
        head = head[: head.rfind(b"\n") + 1]
    return head


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

    def _chunks(self, f: BinaryIO | io.BufferedReader) -> Iterator[TickBatch]:
        line = 1
        skip = self.layout.header_lines
        tail = b""
        fixed_idx = -1
        if self.parser._si < 0:
            fixed_idx = self.symbol_index.get(self.file_symbol or "", -1)
        while True:
            data = f.read(self.chunk_bytes)
            if not data:
                text, tail = tail, b""
                if not text:
                    return
            else:
                text = tail + data
                cut = text.rfind(b"\n") + 1
                if cut == 0:
                    tail = text  # no line break yet: one very long line; keep reading
                    if len(tail) > 16 * self.chunk_bytes:
                        raise ValueError(
                            f"{self.path}:{line}: line longer than {16 * self.chunk_bytes} bytes"
                        )
                    continue
                text, tail = text[:cut], text[cut:]
            while skip and text:
                end = text.find(b"\n") + 1 or len(text)
                text = text[end:]
                skip -= 1
                line += 1
            if not text:
                continue
            parsed = self.parser.parse(text, line)
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
            if not data:
                return
