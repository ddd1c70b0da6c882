"""The client's side of resuming, without a socket: positions out, outcomes in, what watch shows."""

from rich.console import Console

from ticker.client import Client, Message
from ticker.client.book import QuoteBook
from ticker.client.resume import Recovery, outcomes, since
from ticker.client.state import ConnState
from ticker.client.watch import WatchState, render

SNAP = {"type": "snapshot", "seq": 10, "bid": 1.1, "ask": 1.2, "ts": 5, "status": "live", "epoch": "E"}


def test_since_names_the_last_seq_and_epoch_of_each_symbol_the_book_holds() -> None:
    book = QuoteBook()
    book.apply({**SNAP, "symbol": "EURUSD"})
    book.apply({"type": "update", "symbol": "EURUSD", "seq": 12, "bid": 1.11, "ts": 6})
    book.apply({**SNAP, "symbol": "GBPUSD", "epoch": None})  # an older server: nothing to resume from
    assert book["EURUSD"].epoch == "E"  # updates keep the snapshot's epoch
    assert since(book, ["EURUSD", "GBPUSD", "XAUUSD"]) == {"EURUSD": {"seq": 12, "epoch": "E"}}


def test_outcomes_read_the_resume_object_and_ignore_junk() -> None:
    ack = {
        "type": "subscribed",
        "symbols": ["EURUSD", "GBPUSD", "USDJPY"],
        "resume": {
            "EURUSD": {"recovered": True, "replayed": 3},
            "GBPUSD": {"recovered": False, "reason": "too_old"},
            "USDJPY": "?",
        },
    }
    assert outcomes(ack) == {"EURUSD": Recovery(True, 3), "GBPUSD": Recovery(False, 0, "too_old")}
    assert outcomes({"type": "subscribed", "symbols": ["EURUSD"]}) == {}


def test_a_snapshot_that_skips_seqs_of_the_same_epoch_counts_them_as_a_gap() -> None:
    book = QuoteBook()
    book.apply({**SNAP, "symbol": "EURUSD"})
    assert book.apply({**SNAP, "symbol": "EURUSD", "seq": 25}).gap == 15  # type: ignore[union-attr]
    assert book.apply({**SNAP, "symbol": "EURUSD", "seq": 3, "epoch": "F"}).gap == 0  # type: ignore[union-attr]
    assert book.gaps["EURUSD"] == 15


def test_watch_shows_reconnecting_and_how_the_resume_went() -> None:
    client = Client("ws://127.0.0.1:1/ws")
    client.lifecycle.to(ConnState.CONNECTING, "test")
    client.lifecycle.to(ConnState.OPEN, "test")
    client.lifecycle.to(ConnState.WAITING, "test")  # it was connected once: now it reconnects
    state = WatchState(["EURUSD", "GBPUSD"], {})
    console = Console(record=True, width=160, color_system=None)
    console.print(render(client, state, now=1.0))
    assert "reconnecting" in console.export_text()
    state.on_message(Message("connected", {"type": "connected", "attempt": 2}, 0, local=True), 2.0)
    assert state.notice == "reconnected; resuming…"
    ack = {
        "type": "subscribed",
        "symbols": ["EURUSD", "GBPUSD"],
        "resume": {
            "EURUSD": {"recovered": True, "replayed": 4},
            "GBPUSD": {"recovered": False, "reason": "epoch_changed"},
        },
    }
    state.on_message(Message("subscribed", ack, 0), 2.1)
    assert state.notice == (
        "resumed 1 of 2 symbol(s) without a gap (4 missed updates replayed); "
        "fresh snapshot for GBPUSD (epoch_changed)"
    )
