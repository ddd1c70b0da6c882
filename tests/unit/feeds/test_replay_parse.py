"""Tick-file parsing: layouts, time formats, malformed lines (no files, no I/O)."""

from datetime import UTC, datetime

import numpy as np
import pytest

from feeds.replay.csvparse import ChunkParser
from feeds.replay.layout import DUKASCOPY, HISTDATA, TRUEFX, CsvLayout
from feeds.replay.timefmt import compile_format


def us(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * 1_000_000


def test_histdata_est_without_dst_becomes_utc() -> None:
    # Winter and summer alike: HistData's clock is UTC-5 all year.
    p = ChunkParser(HISTDATA).parse(
        b"20240102 170000123,1.10386,1.10400,0\n20240702 170000000,1.1,1.2,0\n", 1
    )
    assert p.ts.tolist() == [us(2024, 1, 2, 22, 0, 0) + 123_000, us(2024, 7, 2, 22, 0, 0)]
    assert p.bid.tolist() == [1.10386, 1.1] and p.ask.tolist() == [1.104, 1.2]
    assert np.isnan(p.bid_size).all()  # HistData's volume column is always 0: not a size
    assert p.symbol is None and p.bad_count == 0


def test_dukascopy_ask_comes_before_bid_and_sizes_are_read() -> None:
    p = ChunkParser(DUKASCOPY).parse(b"02.01.2024 22:00:00.334,1.10400,1.10386,1.5,2.25\n", 2)
    assert p.ts.tolist() == [us(2024, 1, 2, 22, 0, 0) + 334_000]
    assert (p.bid[0], p.ask[0], p.bid_size[0], p.ask_size[0]) == (1.10386, 1.104, 2.25, 1.5)


def test_truefx_symbols_per_line_with_slash_removed() -> None:
    data = b"EUR/USD,20240102 00:00:00.067,1.10386,1.10400\nUSD/JPY,20240102 00:00:00.100,141.1,141.2\n"
    p = ChunkParser(TRUEFX).parse(data, 1)
    assert [p.symbols[i] for i in p.symbol.tolist()] == ["EURUSD", "USDJPY"]
    assert p.ts[0] == us(2024, 1, 2, 0, 0, 0) + 67_000


def test_floats_equal_pythons_float() -> None:
    prices = ["1.10386", "0.9", "141.123", "2063.925", "0.000123", "12345.6789"]
    data = "".join(f"20240102 000000000,{p},{p},0\n" for p in prices).encode()
    p = ChunkParser(HISTDATA).parse(data, 1)
    assert p.bid.tolist() == [float(x) for x in prices]


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("%Y-%m-%d %H:%M:%S.%f", "2024-02-29 23:59:59.5", us(2024, 2, 29, 23, 59, 59) + 500_000),
        ("%Y-%m-%dT%H:%M:%S.%f", "2024-01-02T03:04:05.123456", us(2024, 1, 2, 3, 4, 5) + 123_456),
        ("%Y-%m-%dT%H:%M:%S.%f", "2024-01-02T03:04:05.123456789", us(2024, 1, 2, 3, 4, 5) + 123_456),
        ("%d/%m/%Y %H:%M:%S", "31/12/1999 23:59:59", us(1999, 12, 31, 23, 59, 59)),
        ("unix_ms", "1704164400123", us(2024, 1, 2, 3, 0, 0) + 123_000),
        ("unix_s", "1704164400.5", us(2024, 1, 2, 3, 0, 0) + 500_000),
        ("unix_us", "1704164400000001", us(2024, 1, 2, 3, 0, 0) + 1),
    ],
)
def test_generic_time_formats(fmt: str, text: str, expected: int) -> None:
    layout = CsvLayout("csv", ("time", "bid", "ask"), fmt)
    p = ChunkParser(layout).parse(f"{text},1.1,1.2\n".encode(), 1)
    assert p.bad_count == 0, p.bad
    assert p.ts.tolist() == [expected]


def test_utc_offset_and_other_delimiter() -> None:
    layout = CsvLayout(
        "csv", ("symbol", "", "time", "ask", "bid"), "%Y%m%d%H%M%S", utc_offset_h=2.0, delimiter=";"
    )
    p = ChunkParser(layout).parse(b"XAUUSD;ignored;20240102120000;2001.5;2001.0\n", 1)
    assert p.ts.tolist() == [us(2024, 1, 2, 10, 0, 0)]
    assert (p.bid[0], p.ask[0], p.symbols) == (2001.0, 2001.5, ("XAUUSD",))


def test_malformed_lines_are_counted_and_named_by_line_number() -> None:
    data = (
        b"20240102 170000123,1.10386,1.10400,0\n"  # 7
        b"20240102 17000012x,1.1,1.2,0\n"  # 8: letter in time
        b"\n"  # 9: blank, skipped silently
        b"20240102 170000123,1.1,abc,0\n"  # 10: not a number
        b"garbage\n"  # 11: one field
        b"20240230 170000123,1.1,1.2,0\n"  # 12: 30 February
        b"20241302 170000123,1.1,1.2,0\n"  # 13: month 13
        b"20240102 170000123,1.1,1.2,0,5\n"  # 14: a field too many
        b"20240102 170000123,1.10386,1.10400,0\r\n"  # 15: CRLF is fine
    )
    p = ChunkParser(HISTDATA).parse(data, 7)
    assert len(p) == 2
    assert p.bad_count == 6
    assert [b.line for b in p.bad] == [8, 10, 11, 12, 13, 14]
    reasons = {b.line: b.reason for b in p.bad}
    assert "time does not match" in reasons[8] and "17000012x" in reasons[8]
    assert "not a number" in reasons[10]
    assert "expected 4 fields, found 1" in reasons[11]
    assert "expected 4 fields, found 5" in reasons[14]


def test_a_chunk_of_nothing_but_garbage() -> None:
    p = ChunkParser(DUKASCOPY).parse(b"\x00\xff\xfe,,,,\n;;;;\n" + b"x" * 5000 + b"\n", 1)
    assert len(p) == 0 and p.bad_count == 3


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("%Y-%m", "lacks %d"),
        ("%Y%m%d %f%H", "'%f' must come last"),
        ("%Y%m%d %j", "unsupported directive %j"),
    ],
)
def test_bad_time_formats_are_explained(fmt: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_format(fmt)


def test_layout_errors_name_the_option() -> None:
    with pytest.raises(ValueError, match="columns: a 'ask' column is required"):
        CsvLayout("csv", ("time", "bid"), "unix_ms")
    with pytest.raises(ValueError, match=r"columns: \[1\] unknown column 'price'"):
        CsvLayout("csv", ("time", "price", "bid", "ask"), "unix_ms")
    with pytest.raises(ValueError, match="time_format: "):
        CsvLayout("csv", ("time", "bid", "ask"), "%Q")
