"""Writing usage records: rotation, a failing sink keeps its records, stop writes the rest."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson

from ticker.core.usage import UsageLedger
from ticker.runtime.usage_writer import RotatingFile, UsageWriter


def line(i: int) -> bytes:
    return orjson.dumps({"n": i, "pad": "x" * 30}, option=orjson.OPT_APPEND_NEWLINE)


def test_rotation_keeps_files_whole_lines_and_the_newest(tmp_path: Path) -> None:
    f = RotatingFile(tmp_path / "u.jsonl", max_bytes=200, files=2)
    for i in range(0, 40, 4):
        f.write([line(j) for j in range(i, i + 4)])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["u.jsonl", "u.jsonl.1", "u.jsonl.2"]
    assert [p.name for p in f.rotated()] == ["u.jsonl.2", "u.jsonl.1", "u.jsonl"]
    kept = [orjson.loads(x)["n"] for p in f.rotated() for x in p.read_bytes().splitlines()]
    assert kept == list(range(40 - len(kept), 40))  # the newest, in order, none split
    assert all(p.stat().st_size <= 200 for p in f.rotated())


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.got: list[bytes] = []
        self.closed = False

    async def append(self, lines: Sequence[bytes]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("Redis is away")
        self.got += lines

    async def close(self) -> None:
        self.closed = True


async def test_a_failing_sink_keeps_its_records_and_stop_writes_everything(tmp_path: Path) -> None:
    ledger = UsageLedger(lambda hid: (0, 0), wall=lambda: 5)
    stream = Flaky(failures=2)
    writer = UsageWriter(ledger, file=RotatingFile(tmp_path / "u.jsonl", 1 << 20, 2), stream=stream, flush_s=60)
    for i in range(3):
        ledger.snapshot("c", "key:a", "ip", f"S{i}", 0, 10, i)
        await writer.flush()
    assert writer.errors == 2 and writer.written_file == 3 and stream.got[0].startswith(b'{"conn"')
    assert [orjson.loads(x)["symbol"] for x in stream.got] == ["S0", "S1", "S2"]  # in order, once
    ledger.snapshot("c", "key:a", "ip", "S3", 0, 10, 3)
    await writer.stop(timeout_s=5)
    assert len(stream.got) == 4 and stream.closed
    assert len((tmp_path / "u.jsonl").read_bytes().splitlines()) == 4
    assert writer.dropped == 0


async def test_a_backlog_beyond_max_pending_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    ledger = UsageLedger(lambda hid: (0, 0), max_pending=100, wall=lambda: 5)
    stream = Flaky(failures=1000)
    writer = UsageWriter(ledger, file=None, stream=stream, flush_s=60)
    for i in range(150):
        ledger.snapshot("c", "key:a", "ip", f"S{i}", 0, 10, i)
        if i % 10 == 9:
            await writer.flush()
    assert writer.dropped == 50
    stream.failures = 0
    await writer.flush()
    assert [orjson.loads(x)["symbol"] for x in stream.got] == [f"S{i}" for i in range(50, 150)]
    assert writer.written == 100


def test_the_report_finds_every_worker_s_files(tmp_path: Path) -> None:
    from ticker.runtime.usage_writer import usage_files, worker_path

    base = str(tmp_path / "usage.jsonl")
    assert worker_path(base, 2) == str(tmp_path / "usage-w2.jsonl")
    for path in (base, worker_path(base, 0), worker_path(base, 1)):
        f = RotatingFile(path, max_bytes=60, files=3)
        f.write([line(0)])
        f.write([line(1)])
    assert [p.name for p in usage_files(base, 3)] == [
        "usage.jsonl.1", "usage.jsonl", "usage-w0.jsonl.1", "usage-w0.jsonl", "usage-w1.jsonl.1", "usage-w1.jsonl",
    ]  # fmt: skip
