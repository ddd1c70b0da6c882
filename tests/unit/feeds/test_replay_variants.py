"""Tick files as people download them: Dukascopy local-time exports, MetaTrader 5
exports, byte-order marks, CRLF, a missing last line break, float noise, broken
files. Every file is written here (tmp_path) and read by the real feed and reader."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from feeds.instruments import decimals_of
from feeds.replay.csvparse import ChunkParser
from feeds.replay.feed import ReplayFeed
from feeds.replay.layout import DUKASCOPY, MT5, CsvLayout
from feeds.replay.options import ReplayOptions
from feeds.replay.reader import Malformed, TickFileReader
from tests.data import make_samples
from tests.support.paths import DATA
from ticker.core.batch import TickBatch


def us(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1_000_000)


def write(
    path: Path, lines: list[str], *, bom: bool = False, crlf: bool = False, last_nl: bool = True
) -> Path:
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + (end if last_nl else "")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def play(**options: Any) -> tuple[TickBatch, list[Malformed], ReplayFeed]:
    """Every tick of a replay feed, in order, as the feed streams them (no pacing)."""
    feed = ReplayFeed("r", ReplayOptions(**options))
    readers = feed.readers()
    batches = list(feed.stream(readers))
    ticks = TickBatch.concat(batches) if batches else TickBatch.empty()
    return ticks, [m for r in readers for m in r.malformed], feed


def bad_lines(malformed: list[Malformed]) -> list[int]:
    return sorted(b.line for m in malformed for b in m.examples)


# ---------------------------------------------------------------- Dukascopy local time


def test_dukascopy_local_time_uses_each_rows_offset_across_both_dst_changes(tmp_path: Path) -> None:
    write(
        tmp_path / "EURUSD_Ticks_31.03.2024-27.10.2024.csv",
        [
            "Local time,Ask,Bid,AskVolume,BidVolume",
            "31.03.2024 01:59:59.900 GMT+0100,1.08010,1.08000,1.5,2.25",  # 00:59:59.9 UTC
            "31.03.2024 03:00:00.100 GMT+0200,1.08011,1.08001,1,1",  # 01:00:00.1 UTC: clocks sprang forward
            "27.10.2024 02:59:59.000 GMT+0200,1.08012,1.08002,1,1",  # 00:59:59 UTC
            "27.10.2024 02:00:00.500 GMT+0100,1.08013,1.08003,1,1",  # 01:00:00.5 UTC: local time went back
        ],
        crlf=True,
    )
    ticks, bad, _ = play(files=(str(tmp_path / "EURUSD_*"),), format="dukascopy", timestamps="original")
    assert bad == []
    assert ticks.ts.tolist() == [
        us(2024, 3, 31, 0, 59, 59) + 900_000,
        us(2024, 3, 31, 1, 0, 0) + 100_000,
        us(2024, 10, 27, 0, 59, 59),
        us(2024, 10, 27, 1, 0, 0) + 500_000,
    ]
    assert ticks.bid.tolist() == [1.08, 1.08001, 1.08002, 1.08003]
    assert (ticks.bid_size[0], ticks.ask_size[0]) == (2.25, 1.5)


def test_gmt_and_local_time_exports_of_the_same_ticks_replay_alike(tmp_path: Path) -> None:
    rows = [(us(2024, 1, 2, 22, 0, 0) + 334_000 + i * 137_000, 1.10386 + i * 1e-5) for i in range(50)]

    def line(t: int, bid: float, offset_h: int | None) -> str:
        ms = t // 1000 % 1000
        when = datetime.fromtimestamp(t // 1_000_000 + (offset_h or 0) * 3600, UTC)
        zone = "" if offset_h is None else f" GMT{offset_h:+03d}00"
        return f"{when:%d.%m.%Y %H:%M:%S}.{ms:03d}{zone},{bid + 0.00014:.5f},{bid:.5f},1.00,1.00"

    (tmp_path / "gmt").mkdir()
    (tmp_path / "local").mkdir()
    write(
        tmp_path / "gmt/EURUSD_Ticks_x.csv",
        ["Gmt time,Ask,Bid,AskVolume,BidVolume"] + [line(t, b, None) for t, b in rows],
    )
    write(
        tmp_path / "local/EURUSD_Ticks_x.csv",
        ["Local time,Ask,Bid,AskVolume,BidVolume"] + [line(t, b, -5) for t, b in rows],
    )
    gmt, _, _ = play(files=(str(tmp_path / "gmt/*"),), format="dukascopy")
    local, _, _ = play(files=(str(tmp_path / "local/*"),), format="dukascopy")
    assert gmt.ts.tolist() == local.ts.tolist() == [t for t, _ in rows]
    assert gmt.bid.tolist() == local.bid.tolist()


def test_dukascopy_zone_suffix_variants_and_malformed_ones() -> None:
    p = ChunkParser(DUKASCOPY)
    data = (
        b"02.01.2024 23:00:00.869 GMT+0100,1.1,1.0,1,1\n"  # 2
        b"02.01.2024 17:00:00.8 GMT-0500,1.1,1.0,1,1\n"  # 3: one fraction digit, a negative offset
        b"02.01.2024 22:00:00.5 GMT+0000,1.1,1.0,1,1\n"  # 4
        b"02.01.2024 23:00:00.869 GMT+01,1.1,1.0,1,1\n"  # 5: offset without minutes
        b"02.01.2024 23:00:00.869 GMT*0100,1.1,1.0,1,1\n"  # 6: no sign
        b"02.01.2024 23:00:00.869 GMT+2500,1.1,1.0,1,1\n"  # 7: no such offset
        b"02.01.2024 23:00:00.869 UTC+0100,1.1,1.0,1,1\n"  # 8: not Dukascopy's spelling
        b"02.01.2024 23:00:00.869 GMT+0160,1.1,1.0,1,1\n"  # 9: minute 60
    )
    parsed = p.parse(data, 2)
    assert parsed.ts.tolist() == [
        us(2024, 1, 2, 22, 0, 0) + 869_000,
        us(2024, 1, 2, 22, 0, 0) + 800_000,
        us(2024, 1, 2, 22, 0, 0) + 500_000,
    ]
    assert [b.line for b in parsed.bad] == [5, 6, 7, 8, 9]
    assert all("time does not match" in b.reason and "GMT%z" in b.reason for b in parsed.bad)


def test_a_configured_offset_applies_only_to_rows_without_their_own() -> None:
    layout = replace(DUKASCOPY, utc_offset_h=3.0)
    parsed = ChunkParser(layout).parse(
        b"03.01.2024 01:00:00.000,1.1,1.0,1,1\n03.01.2024 00:00:00.000 GMT+0200,1.1,1.0,1,1\n", 2
    )
    assert parsed.ts.tolist() == [us(2024, 1, 2, 22, 0, 0)] * 2


# ---------------------------------------------------------------- MetaTrader 5

MT5_HEADER = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>"


def mt5_row(t: datetime, bid: str, ask: str, flags: int, last: str = "", volume: str = "") -> str:
    return f"{t:%Y.%m.%d\t%H:%M:%S}.{t.microsecond // 1000:03d}\t{bid}\t{ask}\t{last}\t{volume}\t{flags}"


def test_mt5_export_carries_the_empty_side_and_skips_rows_before_both_are_known(tmp_path: Path) -> None:
    t = datetime(2024, 1, 2, 2, 0, 0, 123000)  # server time, GMT+2
    path = write(
        tmp_path / "EURUSD_202401020000_202401022359.csv",
        [
            MT5_HEADER,
            mt5_row(t, "", "1.10400", 4),  # 2: no bid known yet: skipped, counted
            mt5_row(t.replace(second=1), "1.10386", "", 2),  # 3: ask carried from line 2
            mt5_row(t.replace(second=2), "", "1.10402", 4),  # 4: bid carried
            mt5_row(t.replace(second=3), "", "", 8, "1.10390", "5"),  # 5: a trade only: dropped silently
            mt5_row(t.replace(second=4), "1.10388", "1.10401", 6),  # 6
        ],
        crlf=True,
    )
    ticks, bad, feed = play(files=(str(path),), format="mt5", utc_offset_h=2.0, timestamps="original")
    assert [i.symbol for i in feed.instruments()] == ["EURUSD"]
    base = us(2024, 1, 2, 0, 0, 0) + 123_000
    assert ticks.ts.tolist() == [base + 1_000_000, base + 2_000_000, base + 4_000_000]
    assert ticks.bid.tolist() == [1.10386, 1.10386, 1.10388]
    assert ticks.ask.tolist() == [1.104, 1.10402, 1.10401]
    assert np.isnan(ticks.bid_size).all()  # MT5's VOLUME is trade volume, not a quote size
    assert bad_lines(bad) == [2] and sum(m.count for m in bad) == 1
    assert "no earlier value to carry" in bad[0].examples[0].reason


def test_mt5_carry_crosses_chunk_boundaries_exactly_like_a_line_by_line_reading(tmp_path: Path) -> None:
    """4000 rows with random empty sides, read in 4 KB chunks: the vectorised carry
    equals the rule applied one line at a time."""
    rng = np.random.default_rng(11)
    lines = [MT5_HEADER]
    expected: list[tuple[float, float]] = []
    bid = ask = None
    t0 = datetime(2024, 1, 2, 2, 0, 0)
    for i in range(4000):
        b, a = 1.1 + rng.integers(0, 50) * 1e-5, 1.1006 + rng.integers(0, 50) * 1e-5
        side = rng.choice(["both", "bid", "ask", "none"], p=[0.4, 0.25, 0.25, 0.1]) if i > 3 else "ask"
        when = t0.replace(minute=i // 600, second=i // 10 % 60, microsecond=i % 10 * 100_000)
        wb = f"{b:.5f}" if side in ("both", "bid") else ""
        wa = f"{a:.5f}" if side in ("both", "ask") else ""
        lines.append(mt5_row(when, wb, wa, 6))
        bid = float(wb) if wb else bid
        ask = float(wa) if wa else ask
        if (wb or wa) and bid is not None and ask is not None:
            expected.append((bid, ask))
    path = write(tmp_path / "GBPUSD_202401020000_202401022359.csv", lines, crlf=True)
    layout = replace(MT5, utc_offset_h=2.0)
    reader = TickFileReader(path, layout, {"GBPUSD": 0}, file_symbol="GBPUSD", chunk_bytes=4096)
    chunks = list(reader.chunks())
    assert len(chunks) > 20  # the carry really crossed many chunk boundaries
    got = TickBatch.concat(chunks)
    assert list(zip(got.bid.tolist(), got.ask.tolist(), strict=True)) == expected
    assert sum(m.count for m in reader.malformed) == 4  # the four ask-only rows before the first bid


def test_mt5_needs_the_server_offset_and_reads_it(tmp_path: Path) -> None:
    path = write(
        tmp_path / "XAUUSD_202401020000_202401022359.csv",
        [MT5_HEADER, mt5_row(datetime(2024, 1, 2, 3, 0, 0), "2063.92", "2064.25", 6)],
    )
    with pytest.raises(ValueError, match=r"utc_offset_h: mt5 files are in the broker's server time"):
        ReplayOptions(files=(str(path),), format="mt5")
    ticks, _, feed = play(files=(str(path),), format="mt5", utc_offset_h=3.0, timestamps="original")
    assert ticks.ts.tolist() == [us(2024, 1, 2, 0, 0, 0)]
    assert [(i.symbol, i.decimals) for i in feed.instruments()] == [("XAUUSD", 2)]


def test_mt5_malformed_rows_are_counted_with_their_lines(tmp_path: Path) -> None:
    t = datetime(2024, 1, 2, 2, 0, 0)
    path = write(
        tmp_path / "EURUSD_202401020000_202401022359.csv",
        [
            MT5_HEADER,
            mt5_row(t, "1.10386", "1.10400", 6),
            "2024.01.02 02:00:01.000\t1.10387\t1.10401\t\t\t6",  # 3: a space, not a tab: 6 fields
            mt5_row(t, "1.1O387", "1.10401", 6),  # 4: a letter in the bid
            "2024.13.02\t02:00:01.000\t1.10387\t1.10401\t\t\t6",  # 5: month 13
            "2024.01.02\t02:00\t1.10387\t1.10401\t\t\t6",  # 6: time without seconds
            mt5_row(t.replace(second=2), "", "1.10405", 4),  # 7: fine, bid carried from line 2
        ],
    )
    ticks, bad, _ = play(files=(str(path),), format="mt5", utc_offset_h=2.0)
    assert (ticks.bid.tolist(), ticks.ask.tolist()) == ([1.10386, 1.10386], [1.104, 1.10405])
    assert bad_lines(bad) == [3, 4, 5, 6]
    reasons = {b.line: b.reason for m in bad for b in m.examples}
    assert "expected 7 fields, found 6" in reasons[3]
    assert "not a number" in reasons[4]
    assert "time does not match '%Y.%m.%d\\t%H:%M:%S.%f'" in reasons[5]


def test_generic_csv_with_date_and_time_columns_and_partial_quotes(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ticks.csv",
        [
            "date,time,bid,ask",
            "2024-01-02,10:00:00,1.1,1.2",
            "2024-01-02,10:00:01,,1.3",
            "2024-01-02,10:00:02,1.15,",
        ],
    )
    ticks, bad, _ = play(
        files=(str(path),),
        format="csv",
        symbol="EURUSD",
        columns=("date", "time", "bid", "ask"),
        time_format="%Y-%m-%d,%H:%M:%S",
        header_lines=1,
        partial=True,
        timestamps="original",
    )
    assert bad == []
    assert ticks.ts.tolist() == [us(2024, 1, 2, 10, 0, s) for s in range(3)]
    assert (ticks.bid.tolist(), ticks.ask.tolist()) == ([1.1, 1.1, 1.15], [1.2, 1.3, 1.3])
    # Without partial, an empty price is a malformed line.
    ticks, bad, _ = play(
        files=(str(path),),
        format="csv",
        symbol="EURUSD",
        columns=("date", "time", "bid", "ask"),
        time_format="%Y-%m-%d,%H:%M:%S",
        header_lines=1,
    )
    assert len(ticks) == 1 and bad_lines(bad) == [3, 4]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"columns": ("time", "date", "bid", "ask"), "time_format": "%Y%m%d,%H%M%S"},
            "'date' must come right before 'time'",
        ),
        (
            {"columns": ("date", "time", "bid", "ask"), "time_format": "%Y%m%d %H%M%S"},
            "with a 'date' column the format covers the date, the delimiter ','",
        ),
        ({"columns": ("date", "time", "bid", "ask"), "time_format": "unix_ms"}, "unix_ms cannot be combined"),
        ({"format": "mt5", "utc_offset_h": 2.0, "partial": True}, "partial: only for format 'csv'"),
    ],
)
def test_layout_errors_for_the_new_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReplayOptions(**{"files": ("x",), "format": "csv", **options})


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("USDCHF_Ticks_02.01.2024-02.01.2024.csv", {"format": "dukascopy"}),
        ("AUDUSD_202401021200_202401021215.csv", {"format": "mt5", "utc_offset_h": 2.0}),
    ],
)
def test_the_new_sample_files_replay_from_10_utc_with_their_planted_bad_lines(
    name: str, options: dict[str, Any]
) -> None:
    ticks, bad, feed = play(files=(str(DATA / name),), timestamps="original", **options)
    symbol = make_samples.FILES[name][0]
    assert [i.symbol for i in feed.instruments()] == [symbol]
    assert bad_lines(bad) == list(make_samples.BAD_LINES[name])
    raw = (DATA / name).read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF, as the vendors write
    rows = [ln.split("\t" if "\t" in ln else ",") for ln in raw.decode().splitlines()[1:] if ln]
    assert len(ticks) == len(rows) - len(make_samples.BAD_LINES[name])
    assert 0 <= ticks.ts[0] - us(2024, 1, 2, 10, 0, 0) < 5_000_000  # whatever the file's clock
    assert np.all(np.diff(ticks.ts) >= 0) and np.all(ticks.ask >= ticks.bid)
    if options["format"] == "mt5":
        # The last quote, by hand: each side's last non-empty value in the file.
        bid = next(float(r[2]) for r in reversed(rows) if len(r) == 7 and r[2])
        ask = next(float(r[3]) for r in reversed(rows) if len(r) == 7 and r[3])
        assert sum(1 for r in rows if len(r) == 7 and not (r[2] and r[3])) > 1000  # many partial rows
    else:
        ask, bid = float(rows[-1][1]), float(rows[-1][2])
    assert (ticks.bid[-1], ticks.ask[-1]) == (bid, ask)


# ---------------------------------------------------------------- BOM, CRLF, last line


def _histdata(bad: str) -> list[str]:
    return [
        "20240102 050000123,1.10386,1.10400,0",
        "20240102 050001000,1.10387,1.10401,0",
        bad,
        "20240102 050002500,1.10388,1.10402,0",
    ]


FORMATS: dict[str, tuple[str, dict[str, Any], Callable[[str], list[str]]]] = {
    "histdata": ("DAT_ASCII_EURUSD_T_202401.csv", {"format": "histdata"}, _histdata),
    "dukascopy": (
        "EURUSD_Ticks_02.01.2024-02.01.2024.csv",
        {"format": "dukascopy"},
        lambda bad: [
            "Gmt time,Ask,Bid,AskVolume,BidVolume",
            "02.01.2024 10:00:00.123,1.10400,1.10386,1.5,2.25",
            bad,
            "02.01.2024 10:00:01.000,1.10401,1.10387,1,1",
            "02.01.2024 10:00:02.500,1.10402,1.10388,1,1",
        ],
    ),
    "dukascopy local": (
        "EURUSD_Ticks_02.01.2024-02.01.2024.csv",
        {"format": "dukascopy"},
        lambda bad: [
            "Local time,Ask,Bid,AskVolume,BidVolume",
            "02.01.2024 11:00:00.123 GMT+0100,1.10400,1.10386,1.5,2.25",
            bad,
            "02.01.2024 11:00:01.000 GMT+0100,1.10401,1.10387,1,1",
            "02.01.2024 11:00:02.500 GMT+0100,1.10402,1.10388,1,1",
        ],
    ),
    "truefx": (
        "EURUSD-2024-01.csv",
        {"format": "truefx"},
        lambda bad: [
            "EUR/USD,20240102 10:00:00.123,1.10386,1.10400",
            "EUR/USD,20240102 10:00:01.000,1.10387,1.10401",
            bad,
            "EUR/USD,20240102 10:00:02.500,1.10388,1.10402",
        ],
    ),
    "mt5": (
        "EURUSD_202401020000_202401022359.csv",
        {"format": "mt5", "utc_offset_h": 2.0},
        lambda bad: [
            MT5_HEADER,
            "2024.01.02\t12:00:00.123\t1.10386\t1.10400\t\t\t6",
            bad,
            "2024.01.02\t12:00:01.000\t1.10387\t\t\t\t2",
            "2024.01.02\t12:00:02.500\t\t1.10402\t\t\t4",
        ],
    ),
    "csv": (
        "eurusd.csv",
        {
            "format": "csv",
            "symbol": "EURUSD",
            "columns": ("time", "bid", "ask"),
            "time_format": "%Y-%m-%d %H:%M:%S.%f",
            "delimiter": ";",
            "header_lines": 1,
        },
        lambda bad: [
            "time;bid;ask",
            "2024-01-02 10:00:00.123;1.10386;1.10400",
            bad,
            "2024-01-02 10:00:01.0;1.10387;1.10401",
            "2024-01-02 10:00:02.5;1.10388;1.10402",
        ],
    ),
    "csv unix_ms": (
        "eurusd.csv",
        {"format": "csv", "symbol": "EURUSD", "columns": ("time", "bid", "ask"), "time_format": "unix_ms"},
        lambda bad: [
            "1704189600123,1.10386,1.10400",
            bad,
            "1704189601000,1.10387,1.10401",
            "1704189602500,1.10388,1.10402",
        ],
    ),
}
#: Quotes of a format whose sample lines differ from the others (MT5 carries empty sides).
EXPECTED = {"mt5": ([1.10386, 1.10387, 1.10387], [1.104, 1.104, 1.10402])}
VARIANTS = {
    "BOM": {"bom": True},
    "CRLF": {"crlf": True},
    "no last line break": {"last_nl": False},
    "all three": {"bom": True, "crlf": True, "last_nl": False},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_bom_crlf_and_a_missing_last_line_break_read_like_the_plain_file(
    tmp_path: Path, fmt: str, variant: str
) -> None:
    name, options, lines = FORMATS[fmt]
    bad = "this line is garbage"
    (tmp_path / "plain").mkdir()
    (tmp_path / "odd").mkdir()
    plain_lines = lines(bad)
    write(tmp_path / "plain" / name, plain_lines)
    write(tmp_path / "odd" / name, plain_lines, **VARIANTS[variant])
    plain, plain_bad, plain_feed = play(
        files=(str(tmp_path / "plain" / name),), timestamps="original", **options
    )
    odd, odd_bad, odd_feed = play(files=(str(tmp_path / "odd" / name),), timestamps="original", **options)
    assert odd_feed.instruments() == plain_feed.instruments()
    assert [i.symbol for i in odd_feed.instruments()] == ["EURUSD"]  # not "\ufeffEURUSD"
    assert odd.ts.tolist() == plain.ts.tolist()
    bids, asks = EXPECTED.get(fmt, ([1.10386, 1.10387, 1.10388], [1.104, 1.10401, 1.10402]))
    assert odd.bid.tolist() == plain.bid.tolist() == bids
    assert odd.ask.tolist() == plain.ask.tolist() == asks
    assert (
        odd.ts[0] == us(2024, 1, 2, 10, 0, 0) + 123_000 and odd.ts[-1] == us(2024, 1, 2, 10, 0, 2) + 500_000
    )
    bad_line = plain_lines.index(bad) + 1
    assert bad_lines(odd_bad) == bad_lines(plain_bad) == [bad_line]  # a BOM does not shift line numbers


def test_a_utf16_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "DAT_ASCII_EURUSD_T_202401.csv"
    path.write_bytes("20240102 050000123,1.10386,1.10400,0\n".encode("utf-16"))
    with pytest.raises(
        ValueError, match=r"files: .*DAT_ASCII_EURUSD_T_202401\.csv is UTF-16 text; convert it to UTF-8"
    ):
        ReplayFeed("r", ReplayOptions(files=(str(path),), format="histdata"))


# ---------------------------------------------------------------- float noise


@pytest.mark.parametrize(
    ("prices", "decimals"),
    [
        ([1.0850000000000002, 1.0849999999999997, 1.08507], 5),
        ([1.0850000000000002], 3),
        ([0.1 + 0.2, 1.1 * 3], 1),
        ([2063.9250000000002, 2064.1], 3),
        ([42000.12345678, 42000.5], 8),  # satoshi-precision crypto keeps its decimals
        ([0.0000089123], 10),
        ([1e-13], 10),  # capped: an instrument has at most 10
        ([3976.0, 3976.5], 1),
        ([float("nan"), 1.5], 1),
        # float32 exports: 1.1038600206375122 for 1.10386, 2063.929931640625 for 2063.93
        ([float(np.float32(x)) for x in (1.085, 1.10386, 1.10401)], 5),
        ([float(np.float32(x)) for x in (2063.93, 2064.1)], 2),
        ([float(np.float32(42000.12))], 8),  # 42000.12109375 exactly: more than written, never fewer
    ],
)
def test_decimals_ignore_binary_float_noise(prices: list[float], decimals: int) -> None:
    assert decimals_of(prices) == decimals


def test_noisy_prices_infer_the_written_decimals_and_parse_as_written(tmp_path: Path) -> None:
    path = write(
        tmp_path / "DAT_ASCII_XYZABC_T_202401.csv",
        [
            "20240102 050000000,1.0850000000000002,1.0852000000000002,0",
            "20240102 050001000,1.0849999999999997,1.085,0",
            "20240102 050002000,1.0851,1.0853000000000002,0",
        ],
    )
    ticks, bad, feed = play(files=(str(path),), format="histdata")
    ((inst),) = feed.instruments()
    assert (inst.symbol, inst.decimals) == ("XYZABC", 4)  # an unknown pair: decimals from the data
    assert bad == []
    assert ticks.bid.tolist() == [1.0850000000000002, 1.0849999999999997, 1.0851]  # rounded by the table


# ---------------------------------------------------------------- broken files


def test_a_line_longer_than_any_tick_is_skipped_and_counted(tmp_path: Path) -> None:
    good = "20240102 050000123,1.10386,1.10400,0\n"
    path = tmp_path / "DAT_ASCII_EURUSD_T_202401.csv"
    path.write_bytes((good * 3 + "x" * 80_000 + "\n" + good + "garbage\n" + good).encode())
    reader = TickFileReader(
        path,
        CsvLayout("csv", ("time", "bid", "ask", ""), "%Y%m%d %H%M%S%f"),
        {"EURUSD": 0},
        file_symbol="EURUSD",
        chunk_bytes=4096,
    )
    ticks = TickBatch.concat(list(reader.chunks()))
    assert len(ticks) == 5
    assert bad_lines(reader.malformed) == [4, 6]  # lines after it keep their numbers
    assert "line longer than 65536 bytes" in reader.malformed[0].examples[0].reason


def test_a_truncated_gzip_plays_up_to_the_break_and_never_a_cut_line(tmp_path: Path) -> None:
    lines = [
        f"20240102 05{i // 60 % 60:02d}{i % 60:02d}000,1.{10000 + i:05d},1.{10020 + i:05d},0"
        for i in range(20_000)
    ]
    whole = ("\n".join(lines) + "\n").encode()
    packed = gzip.compress(whole, mtime=0)
    path = tmp_path / "DAT_ASCII_EURUSD_T_202401.csv.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])  # an interrupted download
    ticks, bad, _ = play(files=(str(path),), format="histdata", read_bytes=64 * 1024)
    n = len(ticks)
    assert 0 < n < len(lines)
    expected_bid = [float(ln.split(",")[1]) for ln in lines[:n]]
    assert ticks.bid.tolist() == expected_bid  # a prefix of the file, no cut price at the end
    ((m,),) = [bad]
    assert m.count == 1 and m.examples[0].line == n + 1
    assert "the file ends early: truncated or corrupt gzip" in m.examples[0].reason
