"""Writing usage records out: a rotating JSON lines file, and the Redis bus.

:class:`UsageWriter` takes what the :class:`~ticker.core.usage.UsageLedger`
has recorded every ``usage.flush_s`` and appends it to each sink: the file
(written and fsync'd in a worker thread, so a slow disk never stalls the
event loop) and, with a Redis bus, the usage stream. A sink that fails keeps
its records and tries again at the next flush, up to ``usage.max_pending``
records; beyond that the oldest are dropped and counted
(``ticker_usage_records_dropped_total``), and the failure is logged at a
limited rate. :meth:`UsageWriter.stop` writes everything left, so a SIGTERM
loses nothing; a crash loses at most the last ``flush_s`` of records (and,
of an open subscription, at most ``checkpoint_s``: see :mod:`ticker.core.usage`).

With ``ticker serve --workers N`` each worker writes its own file
(:func:`worker_path`); the report reads them all (:func:`usage_files`).

Rotation (:class:`RotatingFile`): before a write would take the file past
``max_bytes`` it is renamed ``path.1`` (``path.1`` to ``path.2``, and so on;
the oldest beyond ``files`` is deleted). A record is never split across
files. The file is opened for each write, so moving it away (logrotate's
``create`` mode) is safe too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from ticker.core.usage import UsageLedger
from ticker.util.log_limit import LogLimiter

log = logging.getLogger("ticker.usage")


class RotatingFile:
    """Appends JSON lines to ``path``, rotating at ``max_bytes`` and keeping ``files``."""

    def __init__(self, path: str | os.PathLike[str], max_bytes: int, files: int) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.files = files

    def rotated(self) -> list[Path]:
        """The file and its rotated copies that exist, oldest first."""
        paths = [self.path.with_name(f"{self.path.name}.{i}") for i in range(self.files, 0, -1)]
        return [p for p in [*paths, self.path] if p.exists()]

    def _rotate(self) -> None:
        name = self.path.name
        for i in range(self.files - 1, 0, -1):
            src = self.path.with_name(f"{name}.{i}")
            if src.exists():
                os.replace(src, self.path.with_name(f"{name}.{i + 1}"))
        os.replace(self.path, self.path.with_name(f"{name}.1"))

    def write(self, lines: Sequence[bytes]) -> None:
        """Append ``lines`` (each ending in a newline), rotating between lines as
        needed, then fsync. Blocking: run it in a thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            size = 0
        chunk: list[bytes] = []
        chunk_size = 0
        for line in lines:
            if size + chunk_size + len(line) > self.max_bytes and size + chunk_size > 0:
                self._append(chunk)
                self._rotate()
                size, chunk, chunk_size = 0, [], 0
            chunk.append(line)
            chunk_size += len(line)
        self._append(chunk)

    def _append(self, chunk: list[bytes]) -> None:
        if not chunk:
            return
        with self.path.open("ab") as f:
            f.write(b"".join(chunk))
            f.flush()
            os.fsync(f.fileno())


def worker_path(path: str, worker: int) -> str:
    """The usage file of worker ``worker`` of ``ticker serve --workers N``: each process
    rotates its own (``usage.jsonl`` -> ``usage-w2.jsonl``)."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}-w{worker}{p.suffix}"))


def usage_files(path: str, files: int) -> list[Path]:
    """Every usage file of ``path``: its rotated copies and those of any workers."""
    p = Path(path)
    out = RotatingFile(p, 0, files).rotated()
    for worker in sorted(p.parent.glob(f"{p.stem}-w*{p.suffix}")):
        out += RotatingFile(worker, 0, files).rotated()
    return out


class Stream(Protocol):
    async def append(self, lines: Sequence[bytes]) -> None: ...

    async def close(self) -> None: ...


class _Backlog:
    """One sink's records not yet written (bounded; the oldest go first)."""

    __slots__ = ("lines", "limit", "dropped")

    def __init__(self, limit: int) -> None:
        self.lines: deque[bytes] = deque()
        self.limit = limit
        self.dropped = 0

    def add(self, lines: Sequence[bytes]) -> None:
        self.lines.extend(lines)
        over = len(self.lines) - self.limit
        for _ in range(max(over, 0)):
            self.lines.popleft()
            self.dropped += 1

    def take(self) -> list[bytes]:
        out = list(self.lines)
        self.lines.clear()
        return out


class UsageWriter:
    """Flushes the ledger to the file and the stream every ``flush_s``."""

    def __init__(
        self,
        ledger: UsageLedger,
        *,
        file: RotatingFile | None,
        stream: Stream | None,
        flush_s: float,
    ) -> None:
        self.ledger = ledger
        self.file = file
        self.stream = stream
        self.flush_s = flush_s
        self._file_backlog = _Backlog(ledger.max_pending)
        self._stream_backlog = _Backlog(ledger.max_pending)
        #: Records written to each sink.
        self.written_file = 0
        self.written_stream = 0
        self.errors = 0
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._log = LogLimiter(burst=2, interval_s=60.0)

    @property
    def dropped(self) -> int:
        """Records lost: the ledger's overflow and the sinks'."""
        return self.ledger.dropped + self._file_backlog.dropped + self._stream_backlog.dropped

    @property
    def written(self) -> int:
        """Records written to the main sink (the file, or the stream without one)."""
        return self.written_file if self.file is not None else self.written_stream

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="usage-writer")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_s)
            try:
                # Shielded: stopping mid-write must not lose the batch in hand; stop()
                # waits for it (the lock) and then writes the rest.
                await asyncio.shield(self.flush())
            except Exception:  # our bug: log it (not every second), keep the records, go on
                self._log.log(log, logging.ERROR, "bug", "usage flush failed", exc_info=True)

    async def flush(self) -> None:
        """Write everything recorded so far to every sink."""
        async with self._lock:
            lines = self.ledger.take()
            if self.file is not None:
                self._file_backlog.add(lines)
                batch = self._file_backlog.take()
                if batch:
                    try:
                        await asyncio.to_thread(self.file.write, batch)
                        self.written_file += len(batch)
                    except OSError as exc:
                        self._failed(self._file_backlog, batch, f"usage file {self.file.path}: {exc}")
            if self.stream is not None:
                self._stream_backlog.add(lines)
                batch = self._stream_backlog.take()
                if batch:
                    try:
                        await self.stream.append(batch)
                        self.written_stream += len(batch)
                    except Exception as exc:  # Redis away (redis' errors, OSError, timeouts)
                        self._failed(
                            self._stream_backlog, batch, f"usage stream: {type(exc).__name__}: {exc}"
                        )

    def _failed(self, backlog: _Backlog, batch: list[bytes], why: str) -> None:
        self.errors += 1
        backlog.lines.extendleft(reversed(batch))
        backlog.add(())
        self._log.log(
            log, logging.WARNING, why.partition(":")[0],
            "%s; %d record(s) kept for the next try", why, len(backlog.lines),
        )  # fmt: skip

    async def stop(self, timeout_s: float) -> None:
        """Stop the periodic flush and write what is left (bounded by ``timeout_s``)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            async with asyncio.timeout(timeout_s):
                await self.flush()
        except TimeoutError:
            log.error("usage records not written within %g s at shutdown", timeout_s)
        if self.stream is not None:
            with contextlib.suppress(Exception):
                await self.stream.close()
        left = len(self._file_backlog.lines) + len(self._stream_backlog.lines)
        if left:
            log.error("%d usage record(s) could not be written at shutdown", left)
