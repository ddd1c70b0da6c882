"""The new tick-file variants through the real service and ``ticker check-config``:
a malformed line (also among the first lines used for inference) is counted in
``ticker_feed_parse_errors_total`` and logged with file:line, never rejecting the
config or the feed; clients get prices rounded to the instrument's decimals; and
when inference fails, the error names the file and the lines it read."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.feed_helpers import metric
from tests.support.helpers import client, config, running, wait_for
from ticker.cli import main

MT5_HEADER = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>"


def write(
    path: Path, lines: list[str], *, bom: bool = False, crlf: bool = False, last_nl: bool = True
) -> str:
    end = "\r\n" if crlf else "\n"
    path.write_bytes(
        (b"\xef\xbb\xbf" if bom else b"") + (end.join(lines) + (end if last_nl else "")).encode()
    )
    return str(path)


def variants(tmp: Path) -> list[tuple[dict[str, Any], str, str, tuple[float, float]]]:
    """(feed config, file, symbol, final (bid, ask) a client sees); each file's line 3 is malformed."""
    return [
        (
            {"name": "duka-local", "format": "dukascopy"},
            write(
                tmp / "USDCHF_Ticks_02.01.2024-02.01.2024.csv",
                [
                    "Local time,Ask,Bid,AskVolume,BidVolume",
                    "02.01.2024 11:00:00.123 GMT+0100,0.84012,0.84000,1,1",
                    "02.01.2024 11:00:00.500 GMT+01OO,0.84013,0.84001,1,1",
                    "02.01.2024 11:00:01.000 GMT+0100,0.84014,0.84002,1,1",
                ],
                crlf=True,
            ),
            "USDCHF",
            (0.84002, 0.84014),
        ),
        (
            {"name": "mt5", "format": "mt5", "utc_offset_h": 2.0},
            write(
                tmp / "AUDUSD_202401021200_202401021215.csv",
                [
                    MT5_HEADER,
                    "2024.01.02\t12:00:00.123\t0.65000\t0.65010\t\t\t6",
                    "2024.01.32\t12:00:00.200\t0.65001\t0.65011\t\t\t6",  # 32 January
                    "2024.01.02\t12:00:00.300\t\t0.65012\t\t\t4",
                    "2024.01.02\t12:00:00.400\t0.65003\t\t\t\t2",
                ],
                crlf=True,
            ),
            "AUDUSD",
            (0.65003, 0.65012),
        ),
        (
            {"name": "histdata-bom", "format": "histdata"},
            write(
                tmp / "DAT_ASCII_EURUSD_T_202401.csv",
                [
                    "20240102 050000123,1.10386,1.10400,0",
                    "20240102 050000500,1.10387,1.10401,0",
                    "20240102 05000x000,1.1,1.2,0",
                    "20240102 050001000,1.10388,1.10402,0",
                ],
                bom=True,
                last_nl=False,
            ),
            "EURUSD",
            (1.10388, 1.10402),
        ),
        (
            {"name": "truefx-crlf", "format": "truefx"},
            write(
                tmp / "EURGBP-2024-01.csv",
                [
                    "EUR/GBP,20240102 10:00:00.123,0.86500,0.86510",
                    "EUR/GBP,20240102 10:00:00.500,0.86501,0.86511",
                    "EUR/GBP,20240102 10:00:00.700,0.86502",
                    "EUR/GBP,20240102 10:00:01.000,0.86503,0.86513",
                ],
                crlf=True,
                bom=True,
            ),
            "EURGBP",
            (0.86503, 0.86513),
        ),
        (
            # Float noise in every price; an unknown pair, so decimals come from the data.
            {"name": "noisy", "format": "histdata"},
            write(
                tmp / "DAT_ASCII_XYZABC_T_202401.csv",
                [
                    "20240102 050000000,1.0850000000000002,1.0852000000000002,0",
                    "20240102 050001000,1.0849999999999997,1.0852,0",
                    "20240102 0500x2000,1.0851,1.0853,0",
                    "20240102 050003000,1.0850999999999997,1.0853000000000002,0",
                ],
            ),
            "XYZABC",
            (1.0851, 1.0853),
        ),
    ]


async def test_every_variant_plays_counts_and_logs_its_malformed_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cases = variants(tmp_path)
    feeds = [{"type": "replay", "files": [path], "speed": 0, **cfg} for cfg, path, _, _ in cases]
    with caplog.at_level(logging.WARNING, logger="ticker.feeds"):
        async with (
            running(config(feeds=feeds)) as srv,
            client(srv.ws_url) as c,
            aiohttp.ClientSession() as http,
        ):
            names = [cfg["name"] for cfg, _, _, _ in cases]
            await wait_for(
                lambda: all(srv.service.runner.states[n].value == "finished" for n in names), timeout=10
            )
            async with http.get(srv.base + "/metrics") as r:
                text = await r.text()
            async with http.get(srv.base + "/api/symbols") as r:
                decimals = {s["symbol"]: s["decimals"] for s in (await r.json())["symbols"]}
            await c.send({"op": "subscribe", "symbols": [sym for _, _, sym, _ in cases]})
            snaps = {}
            while len(snaps) < len(cases):
                m = await c.next()
                if m.get("type") == "snapshot":
                    snaps[m["symbol"]] = (m["bid"], m["ask"])
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for cfg, path, symbol, final in cases:
        assert metric(text, "ticker_feed_parse_errors_total", feed=cfg["name"]) == 1, cfg["name"]
        assert f"{path}:3" in logged, cfg["name"]
        assert srv.service.runner.restarts[cfg["name"]] == 0
        assert snaps[symbol] == final, symbol
    assert decimals["XYZABC"] == 4  # not 10 because of the noise; prices served rounded to it


def test_check_config_passes_with_malformed_lines_among_the_first_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = ""
    for cfg, path, _, _ in variants(tmp_path):
        body += f'[[feeds]]\ntype = "replay"\nfiles = ["{path}"]\n' + "".join(
            f"{k} = {v!r}\n".replace("'", '"') for k, v in cfg.items()
        )
    toml = tmp_path / "c.toml"
    toml.write_text(body)
    assert main(["check-config", str(toml)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(
    ("lines", "options", "expected"),
    [
        (
            [
                "Local time,Ask,Bid,AskVolume,BidVolume",
                "02.01.2024 11:00:00.123 CET,1.1,1.0,1,1",
                "garbage",
                "02.01.2024 11:00:01 GMT+0100,1.1,1.0,1,1",
            ],
            'format = "dukascopy"',
            r"EURUSD_Ticks_x\.csv does not look like dukascopy data \(read lines 2-4; line 2: time does not match",
        ),
        (
            [
                MT5_HEADER,
                "2024.01.02\t12:00:00.123\t\t1.10400\t\t\t4",
                "2024.01.02\t12:00:00.200\t\t1.10401\t\t\t4",
            ],
            'format = "mt5"\nutc_offset_h = 2.0',
            r"EURUSD_Ticks_x\.csv does not look like mt5 data \(read lines 2-3; line 2: empty bid or ask with no earlier value",
        ),
        (
            [MT5_HEADER, "2024.01.02\t12:00:00.123\t1.10386\t1.10400\t\t\t6"],
            'format = "histdata"\nsymbol = "EURUSD"',
            r"does not look like histdata data \(read lines 1-2; line 1: expected 4 fields, found 1: .*\); it looks like format = 'mt5'",
        ),
        (
            ["20240102 050000123,1.1,1.2,0"],
            'format = "histdata"\nsymbol = "EURUSD"\nsymbols = ["EURUSD", "QQQZZZ"]',
            r"instruments: QQQZZZ is not a known pair; .*\(QQQZZZ has no ticks in the lines read: .*EURUSD_Ticks_x\.csv line 1\)",
        ),
    ],
)
def test_check_config_names_the_file_and_lines_when_inference_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], options: str, expected: str
) -> None:
    path = write(tmp_path / "EURUSD_Ticks_x.csv", lines)
    toml = tmp_path / "c.toml"
    toml.write_text(f'[[feeds]]\ntype = "replay"\nfiles = ["{path}"]\n{options}\n')
    assert main(["check-config", str(toml)]) == 2
    err = capsys.readouterr().err
    assert "config error: feeds[0]" in err
    assert re.search(expected, err), err
