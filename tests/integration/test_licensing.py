"""Licensed data over real sockets: delayed clients, patterns and groups, usage records."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from tests.support.helpers import Client, ScriptedFeed, client, config, messages, running, wait_for
from ticker.cli import main
from ticker.core.calendar import iso
from ticker.security.tokens import hash_key

DELAY = 2
S = 1_000_000
RETAIL = "tk_retail-for-tests"
DESK = "tk_desk-for-tests"
GROUPS = {"majors": ["EURUSD", "GBPUSD", "USDJPY"], "metals": ["XAU*", "XAG*"]}


def licensed(**sections: Any) -> Any:
    """Auth on: ``retail`` sees EUR* live and metals and GBP* ``DELAY`` s late; ``desk`` all live."""
    auth = {
        "enabled": True,
        "keys": [
            {"name": "retail", "sha256": hash_key(RETAIL), "symbols": ["EUR*"],
             "delayed": [{"symbols": ["XAU*", "XAG*", "GBP*"], "delay_s": DELAY}]},
            {"name": "desk", "sha256": hash_key(DESK), "symbols": ["*"]},
        ],
    }  # fmt: skip
    auth.update(sections.pop("auth", {}))
    return config(auth=auth, groups=GROUPS, **sections)


async def stamped(c: Client, seconds: float) -> list[tuple[int, dict[str, Any]]]:
    """Every message received for ``seconds``, with the wall time (µs) its frame arrived."""
    out: list[tuple[int, dict[str, Any]]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            msg = await c.ws.receive(timeout=left)
        except TimeoutError:
            break
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        now = time.time_ns() // 1000
        out += [(now, m) for m in messages(msg.data)]
    return out


def priced(got: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    return [(t, m) for t, m in got if m.get("bid") is not None or m.get("ask") is not None]


async def test_a_delayed_client_only_ever_gets_prices_older_than_its_delay() -> None:
    async with (
        running(licensed()) as srv,
        client(srv.ws_url + f"?token={RETAIL}") as retail,
        client(srv.ws_url + f"?token={DESK}") as desk,
    ):
        await retail.send({"op": "subscribe", "symbols": ["@metals", "GBPUSD", "EURUSD"], "id": 1})
        await desk.send({"op": "subscribe", "symbols": ["XAUUSD", "GBPUSD"], "id": 1})
        started = time.monotonic()
        reading = asyncio.create_task(stamped(desk, DELAY + 5))  # read all along: arrival times
        got = await stamped(retail, DELAY + 3)  # the first release comes 2-3 intervals after the start
        # Subscribing again once the lines hold data: a snapshot as of DELAY ago.
        await retail.send({"op": "subscribe", "symbols": ["XAUUSD"], "id": 2})
        # Errors carry no price: a symbol not entitled, a pattern matching nothing visible.
        await retail.send({"op": "subscribe", "symbols": ["USDJPY", "AUD*"], "id": 3})
        got += await stamped(retail, 2.0)
        elapsed = time.monotonic() - started
        live = await reading

    ack = next(m for _, m in got if m["type"] == "subscribed")
    assert ack["symbols"] == ["XAUUSD", "XAGUSD", "GBPUSD", "EURUSD"]
    assert ack["delayed"] == {"XAUUSD": DELAY, "XAGUSD": DELAY, "GBPUSD": DELAY}
    delayed = [(t, m) for t, m in got if m.get("symbol") in ("XAUUSD", "XAGUSD", "GBPUSD")]
    assert all(m.get("delayed") == DELAY for _, m in delayed if m["type"] != "subscribed")
    first = [m for _, m in delayed if m["type"] == "snapshot"][:3]
    assert all(m["status"] == "pending" and m["bid"] is None for m in first)  # nothing as of then yet
    prices = priced(delayed)
    assert len([m for _, m in prices if m["type"] == "update"]) >= 6
    assert [m for _, m in prices if m["type"] == "snapshot"], "the second subscribe's snapshot has prices"
    for arrived, m in prices + [(t, m) for t, m in delayed if m["type"] == "status"]:
        assert arrived - m["ts"] >= DELAY * S, m  # never younger than the delay, whatever the path
    xau = [m for _, m in prices if m["symbol"] == "XAUUSD" and m["type"] == "update"]
    assert [m["seq"] for m in xau] == sorted({m["seq"] for m in xau})
    assert len(xau) <= elapsed - DELAY + 1  # conflated to one per second
    errors = [m for _, m in got if m["type"] == "error"]
    assert {e["code"] for e in errors} == {"not_entitled", "unknown_symbol"}
    assert not any(k in e for e in errors for k in ("bid", "ask", "ts", "seq"))
    # The real-time client on the same server: live, every seq, nothing delayed.
    live_updates = [(t, m) for t, m in live if m["type"] == "update"]
    assert live_updates and all(t - m["ts"] < 1 * S and "delayed" not in m for t, m in live_updates)
    for sym in ("XAUUSD", "GBPUSD"):
        seqs = [m["seq"] for _, m in live_updates if m["symbol"] == sym]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), sym
    # Real EURUSD for retail is live too.
    eur = [(t, m) for t, m in got if m.get("symbol") == "EURUSD" and m["type"] == "update"]
    assert eur and all("delayed" not in m for _, m in eur)


async def test_rest_serves_the_delayed_stream_to_a_delayed_token() -> None:
    async with running(licensed()) as srv, aiohttp.ClientSession() as http:
        await asyncio.sleep(DELAY + 1.5)

        async def get(path: str, token: str) -> tuple[int, Any]:
            async with http.get(srv.base + path, headers={"Authorization": f"Bearer {token}"}) as r:
                return r.status, await r.json()

        status, body = await get("/api/snapshot?symbols=XAU*,EURUSD", RETAIL)
        now = time.time_ns() // 1000
        assert status == 200
        xau, eur = body["snapshots"]
        assert xau["symbol"] == "XAUUSD" and xau["delayed"] == DELAY and now - xau["ts"] >= DELAY * S
        assert eur["symbol"] == "EURUSD" and "delayed" not in eur
        status, body = await get("/api/snapshot", RETAIL)  # everything the token sees
        assert {s["symbol"] for s in body["snapshots"] if "delayed" in s} >= {"XAUUSD", "XAGUSD", "GBPUSD"}
        assert all(now - s["ts"] >= DELAY * S for s in body["snapshots"] if "delayed" in s)
        _, mine = await get("/api/symbols", RETAIL)
        _, desks = await get("/api/symbols", DESK)
        mine_by = {s["symbol"]: s for s in mine["symbols"]}
        live_by = {s["symbol"]: s for s in desks["symbols"]}
        assert "USDJPY" not in mine_by and mine_by["XAUUSD"]["delayed"] == DELAY
        assert mine_by["XAUUSD"]["seq"] < live_by["XAUUSD"]["seq"]  # the delayed stream's seq
        status, body = await get("/api/symbols?group=majors", RETAIL)
        assert status == 200 and body["group"] == "majors"
        assert [(s["symbol"], s.get("delayed")) for s in body["symbols"]] == [("EURUSD", None), ("GBPUSD", DELAY)]
        status, body = await get("/api/symbols?group=nope", RETAIL)
        assert status == 404 and body["error"]["code"] == "unknown_group"
        assert "majors, metals" in body["error"]["message"]
        status, body = await get("/api/snapshot?symbols=USDJPY", RETAIL)
        assert status == 403 and set(body["error"]) == {"code", "message", "symbols"}
        status, body = await get("/api/snapshot?symbols=AUD*", RETAIL)
        assert status == 404 and body["error"]["symbols"] == ["AUD*"]


async def test_a_pattern_subscription_gets_a_symbol_its_feed_starts_quoting_later() -> None:
    feed = ScriptedFeed(["XAUUSD", "XAUEUR", "EURUSD"])
    cfg = config(
        auth={"enabled": True, "keys": [
            {"name": "retail", "sha256": hash_key(RETAIL), "symbols": ["XAUUSD"],
             "delayed": [{"symbols": ["XAU*"], "delay_s": 1}]},
            {"name": "desk", "sha256": hash_key(DESK), "symbols": ["*"]},
        ]},
    )  # fmt: skip
    async with running(cfg, feeds=[feed]) as srv:
        await asyncio.wait_for(feed.started.wait(), 5)
        feed.tick("XAUUSD", 2000.0, 2000.5)
        async with client(srv.ws_url + f"?token={DESK}") as desk, client(srv.ws_url + f"?token={RETAIL}") as retail:
            await desk.send({"op": "subscribe", "symbols": ["XAU*"], "id": 1})
            await retail.send({"op": "subscribe", "symbols": ["XAU*"], "id": 1})
            ack = await desk.until(lambda m: m["type"] == "subscribed")
            assert ack["symbols"] == ["XAUUSD", "XAUEUR"]
            pending = await desk.until(lambda m: m["type"] == "snapshot" and m["symbol"] == "XAUEUR")
            assert pending["status"] == "pending"
            ack = await retail.until(lambda m: m["type"] == "subscribed")
            assert ack["symbols"] == ["XAUUSD", "XAUEUR"] and ack["delayed"] == {"XAUEUR": 1}
            feed.tick("XAUEUR", 1850.0, 1850.4)  # the feed adds the instrument
            status = await desk.until(lambda m: m["type"] == "status" and m["symbol"] == "XAUEUR")
            update = await desk.until(lambda m: m["type"] == "update" and m["symbol"] == "XAUEUR")
            assert status["status"] == "live" and update["bid"] == 1850.0
            sent = time.time_ns() // 1000
            late = await retail.until(lambda m: m["type"] == "update" and m["symbol"] == "XAUEUR", timeout=5)
            assert late["bid"] == 1850.0 and late["delayed"] == 1
            assert time.time_ns() // 1000 - sent >= 1 * S


class FakeWall:
    """The usage clock, moved by the test (the server runs on real time otherwise)."""

    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def minutes(self, m: float) -> None:
        self.now += int(m * 60 * S)


async def ack(c: Client, request: dict[str, Any]) -> dict[str, Any]:
    await c.send(request)
    want = "unsubscribed" if request["op"] == "unsubscribe" else "subscribed"
    return await c.until(lambda m: m["type"] == want)


def report(capsys: pytest.CaptureFixture[str], *args: str) -> list[list[str]]:
    capsys.readouterr()
    assert main(["usage-report", *args, "--csv"]) == 0
    return [line.split(",") for line in capsys.readouterr().out.splitlines()]


async def test_a_usage_report_equals_the_hand_computed_minutes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t0 = 1_767_225_600 * S  # 2026-01-01T00:00:00Z
    wall = FakeWall(t0)
    path = tmp_path / "usage.jsonl"
    cfg = licensed(usage={"enabled": True, "path": str(path), "flush_s": 0.05})
    srv_cm = running(cfg, wall=wall)
    srv = await srv_cm.__aenter__()
    try:
        async with aiohttp.ClientSession() as http:
            a = Client(await http.ws_connect(srv.ws_url + f"?token={RETAIL}"))
            b = Client(await http.ws_connect(srv.ws_url + f"?token={DESK}"))
            await ack(a, {"op": "subscribe", "symbols": ["EURUSD", "XAUUSD"]})  # 00:00
            wall.minutes(1)
            await ack(b, {"op": "subscribe", "symbols": ["@majors"]})  # 00:01
            await ack(b, {"op": "subscribe", "symbols": ["EURUSD"], "bars": ["1m"]})  # a chart, also 00:01
            wall.minutes(9)
            await ack(a, {"op": "unsubscribe", "symbols": ["XAU*"]})  # 00:10
            wall.minutes(5)
            b.ws._response.connection.transport.abort()  # type: ignore[union-attr]  # 00:15: killed
            await wait_for(lambda: srv.service.fanout_stats.connections == 1)
            wall.minutes(15)
            await srv.stop()  # 00:30: the server shuts down as on SIGTERM
            await a.ws.close()
    finally:
        await srv_cm.__aexit__(None, None, None)

    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    reasons = {(r["identity"], r["symbol"], r["kind"]): r["reason"] for r in lines}
    assert reasons == {
        ("key:retail", "EURUSD", "quotes"): "shutdown", ("key:retail", "XAUUSD", "quotes"): "unsubscribed",
        ("key:desk", "EURUSD", "quotes"): "closed", ("key:desk", "GBPUSD", "quotes"): "closed",
        ("key:desk", "USDJPY", "quotes"): "closed", ("key:desk", "EURUSD", "bars:1m"): "closed",
    }  # fmt: skip
    window = ["--from", iso(t0 - 3600 * S), "--to", iso(t0 + 3600 * S), "--file", str(path)]
    rows = report(capsys, *window)
    assert rows[0][:6] == ["identity", "symbol", "kind", "delay_s", "minutes", "subscription_minutes"]
    assert [r[:5] for r in rows[1:]] == [
        ["key:desk", "EURUSD", "bars:1m", "0", "14.00"],
        ["key:desk", "EURUSD", "quotes", "0", "14.00"],
        ["key:desk", "GBPUSD", "quotes", "0", "14.00"],
        ["key:desk", "USDJPY", "quotes", "0", "14.00"],
        ["key:retail", "EURUSD", "quotes", "0", "30.00"],
        ["key:retail", "XAUUSD", "quotes", str(DELAY), "10.00"],
    ]
    by_identity = report(capsys, *window[:4], "--file", str(path), "--by", "identity")
    assert [r[:4] for r in by_identity[1:]] == [
        ["key:desk", "bars:1m", "0", "14.00"], ["key:desk", "quotes", "0", "42.00"],
        ["key:retail", "quotes", "0", "30.00"], ["key:retail", "quotes", str(DELAY), "10.00"],
    ]  # fmt: skip
    # A window that cuts the intervals: 00:05 to 00:12.
    cut = report(capsys, "--from", iso(t0 + 5 * 60 * S), "--to", iso(t0 + 12 * 60 * S), "--file", str(path))
    assert [r[4] for r in cut[1:]] == ["7.00", "7.00", "7.00", "7.00", "7.00", "5.00"]


async def test_one_timer_per_service_releases_the_lines_and_stops_with_it() -> None:
    async with running(licensed()) as srv:
        lic = srv.service.licensing
        assert lic.clock is not None and lic.delayed is not None
        assert lic.clock.armed
        fired = lic.clock.fired
        async with client(srv.ws_url + f"?token={RETAIL}") as a, client(srv.ws_url + f"?token={RETAIL}") as b:
            await a.send({"op": "subscribe", "symbols": ["XAUUSD"]})
            await b.send({"op": "subscribe", "symbols": ["XAUUSD"]})
            await asyncio.sleep(2.5)
            assert 2 <= lic.clock.fired - fired <= 4  # once per interval, not per client
            assert lic.stats()["delayed_subscriptions"] == 2
        await srv.stop()
        assert not lic.clock.armed


async def test_bars_are_real_time_only_a_delayed_grant_gets_none_on_any_path() -> None:
    async with (
        running(licensed()) as srv,
        client(srv.ws_url + f"?token={RETAIL}") as retail,
        aiohttp.ClientSession() as http,
    ):
        await retail.send({"op": "subscribe", "symbols": ["EURUSD", "XAUUSD", "@metals"], "bars": ["1s"], "id": 1})
        got = await retail.collect(2.5)
        headers = {"Authorization": f"Bearer {RETAIL}"}
        async with http.get(srv.base + "/api/bars?symbol=XAUUSD&interval=1s", headers=headers) as r:
            refused = r.status, await r.json()
        async with http.get(srv.base + "/api/bars?symbol=EURUSD&interval=1s", headers=headers) as r:
            served = r.status, await r.json()
    ack = next(m for m in got if m["type"] == "subscribed")
    assert ack["symbols"] == ["EURUSD"] and ack["bars"] == ["1s"]
    (err,) = [m for m in got if m["type"] == "error"]
    assert err["code"] == "not_entitled" and err["symbols"] == ["XAUUSD", "XAGUSD"]
    assert "bars are real time only" in err["message"]
    assert {m["symbol"] for m in got if m["type"] in ("bar", "bars")} == {"EURUSD"}
    assert refused[0] == 403 and "bars are served in real time only" in refused[1]["error"]["message"]
    assert served[0] == 200 and served[1]["symbol"] == "EURUSD"


async def test_delayed_quotes_and_bar_series_on_one_connection_keep_their_own_ids() -> None:
    """Throttled, both are encoded by the outbox when released: each by its own encoder."""
    async with running(licensed()) as srv, client(srv.ws_url + f"?token={RETAIL}") as c:
        await c.send({"op": "subscribe", "symbols": ["XAUUSD", "GBPUSD"], "throttle_ms": 300, "id": 1})
        # GBPUSD's delayed stream would have the id of EURUSD's 5m bars were they not kept apart.
        await c.send({"op": "subscribe", "symbols": ["EURUSD", "EURJPY"], "bars": ["1s", "5m"], "throttle_ms": 300})
        got = await stamped(c, DELAY + 4)
    delayed = [m for _, m in got if m["type"] == "update"]
    bars = [m for _, m in got if m["type"] == "bar"]
    assert all(m["delayed"] == DELAY for m in delayed)
    assert {m["symbol"] for m in delayed} == {"XAUUSD", "GBPUSD"}  # every stream got through
    assert all("delayed" not in m and set(m) >= {"open", "high", "low", "close", "interval"} for m in bars)
    assert {(m["symbol"], m["interval"]) for m in bars} == {
        ("EURUSD", "1s"), ("EURUSD", "5m"), ("EURJPY", "1s"), ("EURJPY", "5m"),
    }  # fmt: skip
    for sym in ("XAUUSD", "GBPUSD"):  # each delayed stream in order, whatever the bars did
        seqs = [m["seq"] for m in delayed if m["symbol"] == sym]
        assert seqs == sorted(set(seqs)), sym
    for arrived, m in got:
        if m.get("delayed") and m["type"] == "update":
            assert arrived - m["ts"] >= DELAY * S


async def test_a_delayed_stream_is_never_resumed_from_the_live_ring() -> None:
    """A delayed client sending since (even the live seq and epoch) gets the delayed
    snapshot and "reason":"delayed"; its real-time symbols resume as usual."""
    async with running(licensed()) as srv:
        async with client(srv.ws_url + f"?token={DESK}") as desk:
            await desk.send({"op": "subscribe", "symbols": ["XAUUSD", "EURUSD"], "id": 1})
            snaps = {}
            while len(snaps) < 2:
                m = await desk.until(lambda m: m["type"] == "snapshot")
                snaps[m["symbol"]] = m
            await asyncio.sleep(1.0)  # the live streams move on; the ring keeps the updates
        since = {s: {"seq": m["seq"], "epoch": m["epoch"]} for s, m in snaps.items()}
        async with client(srv.ws_url + f"?token={RETAIL}") as retail:
            await retail.send({"op": "subscribe", "symbols": ["XAUUSD", "EURUSD"], "since": since, "id": 2})
            got = await stamped(retail, 1.5)
    ack = next(m for _, m in got if m["type"] == "subscribed")
    assert ack["delayed"] == {"XAUUSD": DELAY}
    assert ack["resume"]["XAUUSD"] == {"recovered": False, "reason": "delayed"}
    assert ack["resume"]["EURUSD"]["recovered"] is True and ack["resume"]["EURUSD"]["replayed"] > 0
    xau = [(t, m) for t, m in got if m.get("symbol") == "XAUUSD"]
    assert xau[0][1]["type"] == "snapshot" and xau[0][1]["delayed"] == DELAY
    assert all(m.get("delayed") == DELAY for _, m in xau)  # nothing from the live ring
    assert all(t - m["ts"] >= DELAY * S for t, m in xau if m.get("ts"))
    assert not any(m["type"] == "snapshot" for _, m in got if m.get("symbol") == "EURUSD")  # resumed
