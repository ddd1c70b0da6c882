"""Usage accounting: intervals, checkpoints, shutdown; and the report's minutes."""

from __future__ import annotations

import orjson
import pytest

from ticker.core.usage import CHECKPOINT, SHUTDOWN, ConnectionUsage, UsageLedger
from ticker.core.usage_report import Report, render_csv, render_table

MIN = 60_000_000
T0 = 1_800_000_000_000_000


class Counters:
    def __init__(self) -> None:
        self.published: dict[int, list[int]] = {}

    def __call__(self, hid: int) -> tuple[int, int]:
        n, b = self.published.get(hid, [0, 0])
        return n, b

    def publish(self, hid: int, nbytes: int) -> None:
        c = self.published.setdefault(hid, [0, 0])
        c[0] += 1
        c[1] += nbytes


def records(ledger: UsageLedger) -> list[dict]:
    return [orjson.loads(line) for line in ledger.take()]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def usage(ledger: UsageLedger, conn: str = "c1", identity: str = "key:a") -> ConnectionUsage:
    symbols = {1: ("EURUSD", 0), 2: ("XAUUSD", 900)}
    return ConnectionUsage(ledger, conn, "10.0.0.1", lambda: identity, symbols.__getitem__)


def test_an_interval_counts_what_was_published_while_it_was_open() -> None:
    counters, clock = Counters(), Clock()
    ledger = UsageLedger(counters, wall=clock)
    counters.publish(1, 100)  # before the subscription: not counted
    u = usage(ledger)
    u.subscribed(1, 150)
    counters.publish(1, 90)
    counters.publish(1, 95)
    clock.now += MIN
    u.subscribed(1, 150)  # a resubscribe: the same interval, one more snapshot
    clock.now += MIN
    u.unsubscribed(1)
    counters.publish(1, 99)
    (r,) = records(ledger)
    assert r == {
        "conn": "c1", "identity": "key:a", "ip": "10.0.0.1", "symbol": "EURUSD", "kind": "quotes", "delay_s": 0,
        "start": T0, "end": T0 + 2 * MIN, "updates": 2, "bytes": 90 + 95 + 300, "snapshots": 2,
        "reason": "unsubscribed",
    }  # fmt: skip


def test_checkpoints_write_open_intervals_and_go_on_so_the_minutes_add_up() -> None:
    counters, clock = Counters(), Clock()
    ledger = UsageLedger(counters, checkpoint_s=300, wall=clock)
    u = usage(ledger)
    u.subscribed(2, 150)
    assert ledger.checkpoint(T0) == 0 and records(ledger) == []  # the first call starts the period
    counters.publish(2, 50)
    assert ledger.checkpoint(T0 + 4 * MIN) == 0  # not due yet
    assert ledger.checkpoint(T0 + 5 * MIN) == 1
    counters.publish(2, 60)
    clock.now = T0 + 7 * MIN
    u.closed()
    first, last = records(ledger)
    assert (first["start"], first["end"], first["reason"], first["updates"]) == (T0, T0 + 5 * MIN, CHECKPOINT, 1)
    assert (last["start"], last["end"], last["reason"], last["updates"]) == (T0 + 5 * MIN, T0 + 7 * MIN, "closed", 1)
    assert first["snapshots"] == 1 and last["snapshots"] == 0 and last["delay_s"] == 900


def test_shutdown_closes_every_open_interval_once() -> None:
    clock = Clock()
    ledger = UsageLedger(Counters(), wall=clock)
    a, b = usage(ledger, "c1"), usage(ledger, "c2", "key:b")
    a.subscribed(1, 10)
    b.subscribed(1, 10)
    b.subscribed(2, 10)
    assert len(ledger) == 3
    assert ledger.close_all(T0 + MIN) == 3
    clock.now = T0 + 2 * MIN
    a.closed()  # the connection ends later: nothing more is written
    b.closed()
    rs = records(ledger)
    assert [r["reason"] for r in rs] == [SHUTDOWN] * 3 and all(r["end"] == T0 + MIN for r in rs)
    assert len(ledger) == 0


def test_a_connection_closed_while_shutting_down_ends_as_shutdown() -> None:
    clock = Clock()
    ledger = UsageLedger(Counters(), wall=clock)
    u = usage(ledger)
    u.subscribed(1, 10)
    ledger.shutting_down = True
    clock.now += MIN
    u.closed()
    (r,) = records(ledger)
    assert r["reason"] == SHUTDOWN and r["end"] == T0 + MIN


def test_records_beyond_max_pending_are_dropped_and_counted() -> None:
    ledger = UsageLedger(Counters(), max_pending=100)
    for i in range(103):
        ledger.snapshot("rest", "key:a", "ip", "EURUSD", 0, 10, T0 + i)
    assert len(ledger.pending) == 100 and ledger.recorded == 100 and ledger.dropped == 3


# ------------------------------------------------------------------ the report


def rec(identity: str, symbol: str, start_min: float, end_min: float, delay: int = 0, **kw: object) -> dict:
    return {
        "identity": identity, "symbol": symbol, "delay_s": delay,
        "start": T0 + int(start_min * MIN), "end": T0 + int(end_min * MIN),
        "updates": kw.get("updates", 0), "bytes": kw.get("bytes", 0), "snapshots": kw.get("snapshots", 0),
    }  # fmt: skip


def report(records: list[dict], lo: float = 0, hi: float = 60) -> Report:
    r = Report(T0 + int(lo * MIN), T0 + int(hi * MIN))
    for record in records:
        r.add_line(orjson.dumps(record))
    return r


def test_minutes_are_clipped_to_the_window_and_overlaps_count_once() -> None:
    r = report(
        [
            rec("key:a", "EURUSD", -10, 10, updates=200, bytes=2000),  # half of it inside
            rec("key:a", "EURUSD", 5, 20),  # a second connection, overlapping
            rec("key:a", "EURUSD", 50, 70),  # 10 of its 20 minutes inside
            rec("key:a", "XAUUSD", 0, 30, delay=900),
            rec("key:b", "EURUSD", 61, 70),  # after the window
            rec("key:b", "GBPUSD", 0, 0, snapshots=1, bytes=150),  # a REST snapshot
        ]
    )
    rows = {(x.identity, x.symbol, x.delay_s): x for x in r.rows()}
    eur = rows["key:a", "EURUSD", 0]
    assert eur.minutes == pytest.approx(20 + 10)  # [0, 20) ∪ [50, 60)
    assert eur.subscription_minutes == pytest.approx(10 + 15 + 10)
    assert eur.intervals == 3 and eur.updates == pytest.approx(100) and eur.bytes == pytest.approx(1000)
    assert rows["key:a", "XAUUSD", 900].minutes == pytest.approx(30)
    gbp = rows["key:b", "GBPUSD", 0]
    assert gbp.minutes == 0 and gbp.snapshots == 1 and gbp.bytes == 150
    assert ("key:b", "EURUSD", 0) not in rows


def test_by_identity_and_by_symbol_sum_the_rows_and_keep_delays_apart() -> None:
    records = [
        rec("key:a", "EURUSD", 0, 10),
        rec("key:a", "XAUUSD", 0, 20),
        rec("key:a", "XAUUSD", 0, 5, delay=900),
        rec("key:b", "EURUSD", 30, 45),
    ]
    by_identity = [(x.identity, x.delay_s, x.minutes) for x in report(records).rows("identity")]
    assert by_identity == [("key:a", 0, 30.0), ("key:a", 900, 5.0), ("key:b", 0, 15.0)]
    by_symbol = [(x.symbol, x.delay_s, x.minutes) for x in report(records).rows("symbol")]
    assert by_symbol == [("EURUSD", 0, 25.0), ("XAUUSD", 0, 20.0), ("XAUUSD", 900, 5.0)]


def test_lines_that_are_not_records_are_counted_not_fatal() -> None:
    r = report([rec("key:a", "EURUSD", 0, 1)])
    for line in (b"not json", b'{"identity":"x"}', b"[1,2]", b'{"identity":"x","symbol":"y","delay_s":0,'
                 b'"start":5,"end":1}', b"\n"):  # fmt: skip
        r.add_line(line)
    assert r.bad == 4 and len(r.rows()) == 1


def test_table_and_csv() -> None:
    rows = report([rec("key:a", "EURUSD", 0, 90.5, updates=7, bytes=700)], hi=120).rows()
    table = render_table(rows)
    assert table.splitlines()[0].split() == [
        "identity", "symbol", "kind", "delay_s", "minutes", "subscription_minutes", "intervals", "updates",
        "bytes", "snapshots",
    ]  # fmt: skip
    assert table.splitlines()[1].split() == ["key:a", "EURUSD", "quotes", "0", "90.50", "90.50", "1", "7", "700", "0"]
    assert render_csv(rows, "identity").splitlines() == [
        "identity,kind,delay_s,minutes,subscription_minutes,intervals,updates,bytes,snapshots",
        "key:a,quotes,0,90.50,90.50,1,7,700,0",
    ]
    with pytest.raises(ValueError, match="after its start"):
        Report(T0, T0)


def test_bar_series_are_intervals_of_their_own_kind() -> None:
    clock = Clock()
    ledger = UsageLedger(Counters(), wall=clock)
    u = usage(ledger)
    u.bars_subscribed(240, "EURUSD", "1m")
    u.bars_subscribed(240, "EURUSD", "1m")  # already held: one interval
    u.subscribed(1, 100)
    clock.now += 2 * MIN
    u.unsubscribed(240)
    clock.now += MIN
    u.closed()
    bars, quotes = records(ledger)
    assert (bars["kind"], bars["symbol"], bars["delay_s"], bars["end"] - bars["start"]) == ("bars:1m", "EURUSD", 0, 2 * MIN)
    assert bars["updates"] == 0 and bars["snapshots"] == 0 and quotes["kind"] == "quotes"
    r = Report(T0, T0 + 60 * MIN)
    for rec_ in (bars, quotes):
        r.add(rec_)
    assert [(x.symbol, x.kind, x.minutes) for x in r.rows()] == [("EURUSD", "bars:1m", 2.0), ("EURUSD", "quotes", 3.0)]
