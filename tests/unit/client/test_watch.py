"""`ticker watch`: price formatting, rate meter, the rendered table, and the real command."""


import pytest
from rich.console import Console

from ticker.client import Client, Message
from ticker.client.meter import Meter
from ticker.client.prices import split_price, spread_pips
from ticker.client.watch import WatchState, render
from ticker.core.model import Instrument


@pytest.mark.parametrize(
    ("price", "decimals", "pip", "parts"),
    [
        (1.08412, 5, 0.0001, ("1.08", "41", "2")),
        (151.234, 3, 0.01, ("151.", "23", "4")),
        (4080.25, 2, 0.1, ("4080.", "25", "")),  # a metal: its two decimals, not "0.2" across the point
        (50.812, 3, 0.01, ("50.", "81", "2")),
        (1.1, 5, 0.0001, ("1.10", "00", "0")),
        (97.5, 1, 1, ("", "97.", "5")),
        (0.7321, 4, 0.0001, ("0.73", "21", "")),
    ],
)
def test_split_price_matches_the_board(price: float, decimals: int, pip: float, parts: tuple) -> None:
    assert split_price(price, decimals, pip) == parts
    assert "".join(parts) == f"{price:.{decimals}f}"


def test_spread_in_pips() -> None:
    assert spread_pips(1.08412, 1.08415, 0.0001) == 0.3
    assert spread_pips(151.231, 151.245, 0.01) == 1.4


def test_meter_rate_and_latency_over_a_sliding_window() -> None:
    m = Meter(window_s=5.0)
    assert m.rate(0.0) == 0.0 and m.latency_quantile(0.99, 0.0) is None
    for i in range(20):  # 10 updates/s for 2 s, latency 1..20 ms
        m.record(100.0 + i * 0.1, (i + 1) / 1000)
    assert m.rate(102.0) == pytest.approx(10.0, rel=0.01)
    assert m.latency_quantile(0.5, 102.0) == pytest.approx(0.010)
    assert m.latency_quantile(0.99, 102.0) == pytest.approx(0.020)
    assert m.last_latency_s == pytest.approx(0.020) and m.count == 20
    assert m.rate(106.85) == pytest.approx(1 / 5)  # only the last update is still in the window
    assert m.rate(110.0) == 0.0


def test_rendered_table_shows_quotes_spreads_rates_and_status() -> None:
    client = Client("ws://127.0.0.1:1/ws")  # never connected: render only reads its state
    state = WatchState(
        ["EURUSD", "USDJPY", "XAUUSD"],
        {"EURUSD": Instrument("EURUSD", 5, 0.0001), "USDJPY": Instrument("USDJPY", 3, 0.01)},
    )
    snap = {"type": "snapshot", "seq": 1, "ts": 1_000_000, "status": "live"}
    client.book.apply({**snap, "symbol": "EURUSD", "bid": 1.08412, "ask": 1.08415})
    client.book.apply({**snap, "symbol": "USDJPY", "bid": 151.234, "ask": 151.248})
    client.book.apply({"type": "status", "symbol": "USDJPY", "status": "stale", "ts": 2})
    for i in range(10):
        data = {"type": "update", "symbol": "EURUSD", "seq": 2 + i, "bid": 1.08413 + i / 1e5, "ts": 1_000_000}
        state.on_message(Message("update", data, 1_000_000 + 2_000), now=50.0 + i * 0.1)
    state.on_message(Message("disconnected", {"type": "disconnected", "code": 1001, "reason": "bye",
                                               "retry_in_s": 0.4}, 0, local=True), now=51.0)  # fmt: skip
    console = Console(record=True, width=140, color_system=None)
    console.print(render(client, state, now=51.0))
    text = console.export_text()
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip()}
    assert "idle" in text and "ws://127.0.0.1:1/ws" in text
    eur = lines["EURUSD"].split()
    assert eur[1:4] == ["1.08412", "1.08415", "0.3"]  # book price (updates here only fed the meter)
    assert float(eur[4]) == pytest.approx(10.0, rel=0.05) and eur[5:7] == ["2.00", "ms"]
    jpy = lines["USDJPY"].split()
    assert jpy[1:4] == ["151.234", "151.248", "1.4"] and jpy[-1] == "stale"
    assert lines["XAUUSD"].split()[1] == "—" and lines["XAUUSD"].split()[-1] == "pending"
    assert "disconnected (1001): bye; retrying in 0.4 s" in text
    assert state.moves[("EURUSD", "bid")] == 1








