"""Upstream frame parsers on recorded frames (tests/data/frames/*.jsonl): pure, no sockets."""

import math

import orjson
import pytest

from feeds.upstream.feed import WebSocketOptions
from feeds.upstream.mapping import FrameError, JsonMapping, MappingOptions, expand_subscribe, timestamp_us
from feeds.upstream.presets import BinanceBookTicker, CoinbaseTicker, TickerUpstream
from tests.support.paths import DATA
from ticker.core.model import Tick

FRAMES = DATA / "frames"

RECV = 1_700_000_000_000_000


def run(parser, name: str) -> tuple[list[Tick], list[tuple[int, str]]]:
    """Parse every recorded frame; (ticks, [(line, error)])."""
    ticks: list[Tick] = []
    errors: list[tuple[int, str]] = []
    for i, line in enumerate((FRAMES / name).read_text().splitlines(), 1):
        try:
            ticks += parser.parse(line, RECV)
        except FrameError as exc:
            errors.append((i, str(exc)))
    return ticks, errors


def test_binance_book_ticker_raw_combined_and_futures() -> None:
    ticks, errors = run(BinanceBookTicker(), "binance.jsonl")
    assert ticks == [
        Tick("BNBUSDT", 25.3519, 25.3652, RECV, 31.21, 40.66),  # spot: no time, arrival time used
        Tick("BTCUSDT", 67012.01, 67012.02, RECV, 1.52133, 0.00814),  # combined-stream envelope
        Tick("BNBUSDT", 25.3519, 25.3652, 1568014460891000, 31.21, 40.66),  # futures: T
    ]
    assert [line for line, _ in errors] == [5, 6, 7, 8]
    assert "b (bid) is not a number: 'abc'" in errors[0][1]
    assert "Invalid request" in errors[1][1]
    assert "not JSON" in errors[2][1]
    assert "not a bookTicker message" in errors[3][1]


def test_binance_subscribes_lowercase_book_ticker_streams() -> None:
    (msg,) = BinanceBookTicker().subscribe_messages(["BTCUSDT", "BNBUSDT"])
    assert orjson.loads(msg) == {
        "method": "SUBSCRIBE",
        "params": ["btcusdt@bookTicker", "bnbusdt@bookTicker"],
        "id": 1,
    }


def test_coinbase_ticker_channel() -> None:
    ticks, errors = run(CoinbaseTicker(), "coinbase.jsonl")
    assert ticks == [
        Tick("ETH-USD", 1285.04, 1285.27, 1666222102061769, 0.46688654, 1.5663704),
        Tick("BTC-USD", 19200.0, 19200.01, 1666222102500000, 0.1, 0.25),
    ]
    assert [line for line, _ in errors] == [5, 6, 7]
    assert "time is not ISO 8601" in errors[0][1]
    assert "XRP-EUR is not a valid product" in errors[1][1]
    (sub,) = CoinbaseTicker().subscribe_messages(["BTC-USD"])
    assert orjson.loads(sub) == {"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["ticker"]}


def test_ticker_preset_merges_partial_updates_and_skips_pending() -> None:
    ticks, errors = run(TickerUpstream(), "ticker.jsonl")
    assert ticks[:3] == [
        Tick("EURUSD", 1.16012, 1.16014, 1764000000000000, 1000000, 2000000),
        Tick("EURUSD", 1.16012, 1.16015, 1764000000100000, 1000000, 2000000),  # only ask changed
        Tick("EURUSD", 1.16013, 1.16015, 1764000000200000, 500000, 2000000),
    ]
    gold = ticks[3]  # its pending snapshot gave nothing; its first update is a full quote
    assert (gold.symbol, gold.bid, gold.ask, gold.ts) == ("XAUUSD", 4080.12, 4080.37, 1764000000300000)
    assert math.isnan(gold.bid_size) and len(ticks) == 4
    assert [line for line, _ in errors] == [7, 8]
    assert "unknown_symbol" in errors[0][1]


def test_generic_mapping_reads_ticker_frames_too() -> None:
    mapping = MappingOptions(
        match={"type": ("snapshot", "update")},
        bid_size="bid_size",
        ask_size="ask_size",
        time="ts",
        time_format="unix_us",
        partial=True,
    )
    ticks, _ = run(JsonMapping(mapping), "ticker.jsonl")
    assert [(t.symbol, t.bid, t.ask) for t in ticks] == [
        ("EURUSD", 1.16012, 1.16014),
        ("EURUSD", 1.16012, 1.16015),
        ("EURUSD", 1.16013, 1.16015),
        ("XAUUSD", 4080.12, 4080.37),
    ]


def test_generic_mapping_paths_strings_arrays_and_times() -> None:
    m = JsonMapping(
        MappingOptions(
            data="payload.quotes",
            match={"channel": ("quotes",)},
            symbol="instrument.name",
            bid="px.0",
            ask="px.1",
            time="t",
            time_format="iso8601",
        )
    )
    frame = {
        "channel": "quotes",
        "payload": {
            "quotes": [
                {"instrument": {"name": "EURUSD"}, "px": ["1.1", 1.2], "t": "2024-01-02T03:04:05.123+01:00"},
                {"instrument": {"name": "GBPUSD"}, "px": [1.3, "1.31"], "t": "2024-01-02T02:04:05Z"},
            ]
        },
    }
    ticks = m.parse(orjson.dumps(frame), RECV)
    assert [(t.symbol, t.bid, t.ask, t.ts) for t in ticks] == [
        ("EURUSD", 1.1, 1.2, 1704161045123000),
        ("GBPUSD", 1.3, 1.31, 1704161045000000),
    ]
    assert m.parse(orjson.dumps({"channel": "heartbeat"}), RECV) == []
    with pytest.raises(FrameError, match=r"no symbol at 'instrument\.name'"):
        m.parse(orjson.dumps({"channel": "quotes", "payload": {"quotes": [{"px": [1, 2]}]}}), RECV)


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (1704161045123, "unix_ms", 1704161045123000),
        ("1704161045.5", "unix_s", 1704161045500000),
        (1704161045123456789, "unix_ns", 1704161045123456),
        ("2022-10-19T23:28:22.061769123Z", "iso8601", 1666222102061769),
    ],
)
def test_time_formats(value: object, fmt: str, expected: int) -> None:
    assert abs(timestamp_us(value, fmt) - expected) <= 1  # type: ignore[arg-type]


def test_subscribe_templates() -> None:
    assert expand_subscribe(['{"op":"sub","symbols":$symbols}'], ["A", "B"]) == [
        '{"op":"sub","symbols":["A","B"]}'
    ]
    assert expand_subscribe(['{"sub":$symbol}', "hello"], ["A", "B"]) == [
        '{"sub":"A"}',
        '{"sub":"B"}',
        "hello",
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "http://x", "symbols": ("EURUSD",), "preset": "ticker"}, "url: must start with ws://"),
        ({"url": "ws://x", "preset": "ticker"}, "symbols: list the upstream symbols"),
        (
            {"url": "ws://x", "symbols": ("BTCUSDT",), "preset": "binance"},
            "instruments: BTCUSDT is not a known pair",
        ),
        ({"url": "ws://x", "symbols": ("EURUSD",)}, "mapping: preset 'generic' needs a mapping"),
        (
            {"url": "ws://x", "symbols": ("A",), "rename": {"B": "C"}, "preset": "ticker"},
            "rename: B not in symbols",
        ),
    ],
)
def test_websocket_options_errors_name_the_key(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WebSocketOptions(**options)
