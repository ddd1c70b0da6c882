"""Make the sample tick files under tests/data/ (run: python -m tests.data.make_samples).

The files are the project's own: ticks come from the seeded synthetic market
(feeds/synthetic.py), written in each vendor's layout, with a few malformed
lines planted at known line numbers (:data:`BAD_LINES`) and one blank line.
Running this again rewrites byte-identical files (gzip without a timestamp),
which tests/test_replay_samples.py checks.
"""

from __future__ import annotations

import gzip
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeds.catalog import spec
from feeds.synthetic.market import SyntheticMarket

HERE = Path(__file__).resolve().parent
START = datetime(2024, 1, 2, 10, 0, 0, tzinfo=UTC)
EST = timedelta(hours=-5)  # HistData: EST without daylight saving
CET = timedelta(hours=1)  # the Dukascopy "Local time" sample's zone in January
SERVER = timedelta(hours=2)  # the MT5 sample's broker server clock (GMT+2)
LINES = 3000

#: file name -> (symbol, seed)
FILES = {
    "DAT_ASCII_EURUSD_T_202401.csv": ("EURUSD", 1),
    "DAT_ASCII_USDJPY_T_202401.csv.gz": ("USDJPY", 2),
    "GBPUSD_Ticks_02.01.2024-02.01.2024.csv": ("GBPUSD", 3),
    "EURGBP-2024-01.csv": ("EURGBP", 4),
    "xauusd_ticks.csv.gz": ("XAUUSD", 5),
    "USDCHF_Ticks_02.01.2024-02.01.2024.csv": ("USDCHF", 6),
    "AUDUSD_202401021200_202401021215.csv": ("AUDUSD", 7),
}
#: Files written with Windows line ends, as their vendors write them.
CRLF = {"USDCHF_Ticks_02.01.2024-02.01.2024.csv", "AUDUSD_202401021200_202401021215.csv"}

#: Data line numbers (1-based, counting any header) that are malformed on purpose.
BAD_LINES = {name: (101, 1001, 2501) for name in FILES}
#: A blank line, which readers skip without complaint.
BLANK_LINE = 1500


def ticks(symbol: str, seed: int) -> list[tuple[datetime, float, float, float, float]]:
    """About LINES ticks of ``symbol`` from START: (utc time, bid, ask, bid size, ask size)."""
    sp = spec(symbol)
    market = SyntheticMarket([sp], total_rate=5.0, seed=seed)
    g = market.generate(0.0, LINES / 5.0 * 1.5)
    out = []
    for i in range(min(LINES, len(g))):
        t = START + timedelta(microseconds=int(g.ts[i]) // 1000 * 1000)
        out.append((t, float(g.bid[i]), float(g.ask[i]), float(g.bid_size[i]), float(g.ask_size[i])))
    return out


def _ms(t: datetime) -> str:
    return f"{t.microsecond // 1000:03d}"


def histdata(symbol: str, seed: int) -> list[str]:
    d = spec(symbol).instrument.decimals
    return [
        f"{(t + EST):%Y%m%d %H%M%S}{_ms(t)},{b:.{d}f},{a:.{d}f},0" for t, b, a, _, _ in ticks(symbol, seed)
    ]


def dukascopy(symbol: str, seed: int) -> list[str]:
    d = spec(symbol).instrument.decimals
    rows = [
        f"{t:%d.%m.%Y %H:%M:%S}.{_ms(t)},{a:.{d}f},{b:.{d}f},{asz / 1e6:.2f},{bsz / 1e6:.2f}"
        for t, b, a, bsz, asz in ticks(symbol, seed)
    ]
    return ["Gmt time,Ask,Bid,AskVolume,BidVolume", *rows]


def truefx(symbol: str, seed: int) -> list[str]:
    d = spec(symbol).instrument.decimals
    pair = f"{symbol[:3]}/{symbol[3:]}"
    return [
        f"{pair},{t:%Y%m%d %H:%M:%S}.{_ms(t)},{b:.{d}f},{a:.{d}f}" for t, b, a, _, _ in ticks(symbol, seed)
    ]


def generic(symbol: str, seed: int) -> list[str]:
    """A made-up export: semicolons, ISO-like times with µs, a symbol column, sizes."""
    d = spec(symbol).instrument.decimals + 1  # one more decimal than the catalog knows
    step = 10.0**-d
    rows = [
        f"{t:%Y-%m-%d %H:%M:%S.%f};{symbol};{b + i % 7 * step:.{d}f};{a + i % 7 * step:.{d}f};{bsz:.0f};{asz:.0f}"
        for i, (t, b, a, bsz, asz) in enumerate(ticks(symbol, seed))
    ]
    return ["time;symbol;bid;ask;bid_size;ask_size", *rows]


def dukascopy_local(symbol: str, seed: int) -> list[str]:
    """Dukascopy's "Local time" export: each time carries its zone (here CET)."""
    d = spec(symbol).instrument.decimals
    rows = [
        f"{t + CET:%d.%m.%Y %H:%M:%S}.{_ms(t)} GMT+0100,{a:.{d}f},{b:.{d}f},{asz / 1e6:.2f},{bsz / 1e6:.2f}"
        for t, b, a, bsz, asz in ticks(symbol, seed)
    ]
    return ["Local time,Ask,Bid,AskVolume,BidVolume", *rows]


def mt5(symbol: str, seed: int) -> list[str]:
    """MetaTrader 5's tick export in the server's time: tab-separated, and a row
    leaves empty the side that did not change (here every 4th row keeps its ask,
    every 4th its bid), with FLAGS saying which changed (2 bid, 4 ask)."""
    d = spec(symbol).instrument.decimals
    rows = []
    prev_b = prev_a = 0.0
    for i, (t, b, a, _, _) in enumerate(ticks(symbol, seed)):
        stamp = f"{t + SERVER:%Y.%m.%d\t%H:%M:%S}.{_ms(t)}"
        if i and i % 4 == 1 and b < prev_a:
            a = prev_a
            rows.append(f"{stamp}\t{b:.{d}f}\t\t\t\t2")
        elif i and i % 4 == 3 and a > prev_b:
            b = prev_b
            rows.append(f"{stamp}\t\t{a:.{d}f}\t\t\t4")
        else:
            rows.append(f"{stamp}\t{b:.{d}f}\t{a:.{d}f}\t\t\t6")
        prev_b, prev_a = b, a
    return ["<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>", *rows]


def spoil(lines: list[str], bad: tuple[int, ...]) -> list[str]:
    """Plant malformed lines at 1-based ``bad`` numbers and a blank line."""
    out = list(lines)
    out.insert(BLANK_LINE - 1, "")
    kinds = (
        lambda s: s.replace("0", "O", 1),  # a letter in the time
        _break_number,  # a price that is not a number
        lambda s: s.split(",")[0].split(";")[0].split("\t")[0],  # fields missing
    )
    for n, kind in zip(bad, kinds, strict=True):
        out[n - 1] = kind(out[n - 1])
    return out


def _break_number(line: str) -> str:
    sep = ";" if ";" in line else "\t" if "\t" in line else ","
    parts = line.split(sep)
    parts[2] = "1.2.3"
    return sep.join(parts)


WRITERS = {
    "DAT_ASCII_EURUSD_T_202401.csv": histdata,
    "DAT_ASCII_USDJPY_T_202401.csv.gz": histdata,
    "GBPUSD_Ticks_02.01.2024-02.01.2024.csv": dukascopy,
    "EURGBP-2024-01.csv": truefx,
    "xauusd_ticks.csv.gz": generic,
    "USDCHF_Ticks_02.01.2024-02.01.2024.csv": dukascopy_local,
    "AUDUSD_202401021200_202401021215.csv": mt5,
}


def render(name: str) -> bytes:
    symbol, seed = FILES[name]
    lines = spoil(WRITERS[name](symbol, seed), BAD_LINES[name])
    end = "\r\n" if name in CRLF else "\n"
    text = (end.join(lines) + end).encode()
    if name.endswith(".gz"):
        return gzip.compress(text, mtime=0)
    return text


def main(out: Path = HERE) -> None:
    for name in FILES:
        (out / name).write_bytes(render(name))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
