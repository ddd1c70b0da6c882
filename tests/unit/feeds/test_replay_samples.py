"""The project's sample tick files, read by the real readers: every format,
gzip, planted malformed lines, merging, bounded memory."""

import gzip
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from feeds.replay.feed import ReplayFeed, ReplayOptions
from feeds.replay.layout import DUKASCOPY, HISTDATA, TRUEFX, CsvLayout
from feeds.replay.merge import merge
from feeds.replay.reader import TickFileReader
from tests.data import make_samples
from tests.support.paths import DATA
from ticker.core.batch import TickBatch

GENERIC = CsvLayout(
    "csv",
    ("time", "symbol", "bid", "ask", "bid_size", "ask_size"),
    "%Y-%m-%d %H:%M:%S.%f",
    delimiter=";",
    header_lines=1,
)
CASES = [
    ("DAT_ASCII_EURUSD_T_202401.csv", HISTDATA, "EURUSD"),
    ("DAT_ASCII_USDJPY_T_202401.csv.gz", HISTDATA, "USDJPY"),
    ("GBPUSD_Ticks_02.01.2024-02.01.2024.csv", DUKASCOPY, "GBPUSD"),
    ("EURGBP-2024-01.csv", TRUEFX, "EURGBP"),
    ("xauusd_ticks.csv.gz", GENERIC, "XAUUSD"),
]


def read_all(reader: TickFileReader) -> TickBatch:
    return TickBatch.concat(list(reader.chunks()))


@pytest.mark.parametrize(("name", "layout", "symbol"), CASES)
def test_each_sample_reads_every_good_line_and_names_the_bad_ones(
    name: str, layout: CsvLayout, symbol: str
) -> None:
    reader = TickFileReader(DATA / name, layout, {symbol: 0}, file_symbol=symbol, chunk_bytes=16 * 1024)
    ticks = read_all(reader)
    lines = _lines(DATA / name)
    data_lines = [ln for ln in lines[layout.header_lines :] if ln]
    bad = make_samples.BAD_LINES[name]
    assert len(ticks) == len(data_lines) - len(bad)
    assert sorted(b.line for m in reader.malformed for b in m.examples) == list(bad)
    assert sum(m.count for m in reader.malformed) == len(bad)
    assert set(ticks.sid.tolist()) == {0}
    # Meaning: times start on 2024-01-02 10:00 UTC whatever the file's clock, prices are sane.
    assert 0 <= ticks.ts[0] - 1704189600_000000 < 5_000_000
    assert np.all(np.diff(ticks.ts) >= 0)
    assert np.all(ticks.ask >= ticks.bid) and np.all(ticks.bid > 0)
    # The last tick equals the file's last line, read by hand.
    last = lines[-1].split(layout.delimiter)
    bid_col, ask_col = layout.columns.index("bid"), layout.columns.index("ask")
    assert (ticks.bid[-1], ticks.ask[-1]) == (float(last[bid_col]), float(last[ask_col]))


def _lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode().rstrip("\n").split("\n")


def test_samples_are_reproducible(tmp_path: Path) -> None:
    make_samples.main(tmp_path)
    for name in make_samples.FILES:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_merge_interleaves_files_in_time_order() -> None:
    index = {"EURUSD": 0, "USDJPY": 1}
    readers = [
        TickFileReader(
            DATA / "DAT_ASCII_EURUSD_T_202401.csv", HISTDATA, index, file_symbol="EURUSD", chunk_bytes=8192
        ),
        TickFileReader(
            DATA / "DAT_ASCII_USDJPY_T_202401.csv.gz", HISTDATA, index, file_symbol="USDJPY", chunk_bytes=4096
        ),
    ]
    merged = TickBatch.concat(list(merge(r.chunks() for r in readers)))
    assert np.all(np.diff(merged.ts) >= 0)
    assert np.bincount(merged.sid).tolist() == [2997, 2997]
    # Interleaved, not one file after the other.
    assert np.count_nonzero(np.diff(merged.sid)) > 1000


def test_merge_of_unequal_streams() -> None:
    def stream(ts: list[list[int]], idx: int):
        for chunk in ts:
            n = len(chunk)
            yield TickBatch(
                np.full(n, idx, np.int32), np.ones(n), np.ones(n), np.ones(n), np.ones(n), np.array(chunk, np.int64)
            )

    out = TickBatch.concat(
        list(merge([stream([[1, 5, 9], [10, 20]], 0), stream([[2], [], [3, 4, 30]], 1), stream([], 2)]))
    )
    assert out.ts.tolist() == [1, 2, 3, 4, 5, 9, 10, 20, 30]
    assert out.sid.tolist() == [0, 1, 1, 1, 0, 0, 0, 0, 1]


def test_a_big_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    """~15 MB of ticks read in 128 KB chunks: peak memory stays near a few chunks."""
    line = b"20240102 170000123,1.10386,1.10400,0\n"
    big = tmp_path / "DAT_ASCII_EURUSD_T_big.csv"
    with big.open("wb") as f:
        block = line * 100_000
        for _ in range(4):
            f.write(block)
    reader = TickFileReader(big, HISTDATA, {"EURUSD": 0}, file_symbol="EURUSD", chunk_bytes=128 * 1024)
    tracemalloc.start()
    try:
        n = sum(len(c) for c in reader.chunks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 400_000
    assert peak < 4 * 1024 * 1024, peak  # the file is 15 MB; loading it whole would peak far higher


def test_replay_feed_infers_instruments_from_files_and_catalog() -> None:
    feed = ReplayFeed(
        "r",
        ReplayOptions(
            files=(str(DATA / "xauusd_ticks.csv.gz"),),
            format="csv",
            columns=("time", "symbol", "bid", "ask", "bid_size", "ask_size"),
            time_format="%Y-%m-%d %H:%M:%S.%f",
            delimiter=";",
            header_lines=1,
        ),
    )
    (inst,) = feed.instruments()
    # The catalog says 2 decimals for gold; the file has 3, so 3 are kept. Pip from the catalog.
    assert (inst.symbol, inst.decimals, inst.pip_size) == ("XAUUSD", 3, 0.1)
    feed = ReplayFeed("r", ReplayOptions(files=(str(DATA / "DAT_ASCII_*"),), format="histdata"))
    assert [(i.symbol, i.decimals, i.pip_size) for i in feed.instruments()] == [
        ("EURUSD", 5, 0.0001),
        ("USDJPY", 3, 0.01),
    ]


def test_replay_feed_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"files: \[0\] '.*nothing\*' matches no file"):
        ReplayFeed("r", ReplayOptions(files=(str(tmp_path / "nothing*"),), format="histdata"))
    odd = tmp_path / "ticks.csv"
    odd.write_text("20240102 170000123,1.1,1.2,0\n")
    with pytest.raises(ValueError, match=r"symbol: cannot tell the symbol of ticks\.csv"):
        ReplayFeed("r", ReplayOptions(files=(str(odd),), format="histdata"))
    with pytest.raises(ValueError, match="does not look like dukascopy data"):
        ReplayFeed(
            "r", ReplayOptions(files=(str(DATA / "EURGBP-2024-01.csv"),), format="dukascopy", symbol="EURGBP")
        )
    crypto = tmp_path / "DAT_ASCII_BTCUSD_T_1.csv"
    crypto.write_text("20240102 170000123,42000.5,42001.25,0\n")
    (inst,) = ReplayFeed("r", ReplayOptions(files=(str(crypto),), format="histdata")).instruments()
    assert (inst.symbol, inst.decimals, inst.pip_size) == ("BTCUSD", 2, 0.01)  # from the data
