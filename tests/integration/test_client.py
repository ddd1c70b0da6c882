"""ticker.client against the real server over loopback: quotes, reconnects, errors."""

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from tests.support.helpers import running
from tests.support.paths import ROOT
from ticker.client import AuthError, Client, ConnState, Message, connect, fetch_symbols
from ticker.client.connection import api_url
from ticker.util.backoff import backoff


def fast_backoff() -> object:
    return backoff(initial=0.05, maximum=0.2)


async def until(c: Client, pred: Callable[[Message], bool], timeout: float = 10.0) -> Message:
    """Iterate the client until a message satisfies ``pred`` (bounded in time)."""
    async with asyncio.timeout(timeout):
        async for m in c:
            if pred(m):
                return m
    raise AssertionError("stream ended")


async def collect(c: Client, seconds: float) -> list[Message]:
    out: list[Message] = []
    deadline = time.monotonic() + seconds
    try:
        async with asyncio.timeout_at(asyncio.get_running_loop().time() + seconds):
            async for m in c:
                out.append(m)
    except TimeoutError:
        pass
    assert time.monotonic() >= deadline - 0.1
    return out


async def test_book_follows_the_server_and_updates_carry_latency() -> None:
    async with running() as srv, connect(srv.ws_url) as c:
        assert c.connected
        await c.subscribe(["EURUSD", "USDJPY", "GBPUSD"])
        first = await until(c, lambda m: not m.local)
        assert first.type == "subscribed" and first.data["symbols"] == ["EURUSD", "USDJPY", "GBPUSD"]
        msgs = await collect(c, 1.5)
        updates = [m for m in msgs if m.type == "update"]
        assert len(updates) > 20
        assert {m.symbol for m in msgs if m.type == "snapshot"} == {"EURUSD", "USDJPY", "GBPUSD"}
        for m in updates:
            assert m.quote is not None and m.quote.seq == m.data["seq"] and m.gap == 0
            assert m.latency_s is not None and -1.0 < m.latency_s < 5.0
        # Snapshot + deltas reproduce the server's own table.
        table = srv.service.table
        for q in c.book:
            sid = table.ids[q.symbol]
            assert q.seq <= table.seq[sid]
            if q.seq == table.seq[sid]:
                assert (q.bid, q.ask) == (table.bid[sid], table.ask[sid])


async def test_reconnects_with_backoff_and_resubscribes_after_a_server_restart() -> None:
    async with running() as first:
        port = int(first.base.rsplit(":", 1)[1])
        c = connect(first.ws_url, backoff_factory=fast_backoff)
        await c.__aenter__()
        try:
            await c.subscribe(["EURUSD", "XAUUSD"])
            await until(c, lambda m: m.type == "update")
            await first.stop()
            down = await until(c, lambda m: m.type == "disconnected")
            assert down.local and down.data["code"] == 1001  # the server said: going away
            assert {q.status for q in c.book} == {"stale"}
            assert c.state is ConnState.WAITING
            # A few refused attempts while nothing listens: each one reported, none raised.
            retry = await until(c, lambda m: m.type == "disconnected")
            assert "cannot connect" in retry.data["reason"] and 0 < retry.data["retry_in_s"] <= 0.2
            async with running(port=port) as second:
                up = await until(c, lambda m: m.type == "connected")
                assert up.data["attempt"] == 2 and c.reconnects == 1
                snaps = set()
                while snaps != {"EURUSD", "XAUUSD"}:
                    m = await until(c, lambda m: m.type == "snapshot")
                    snaps.add(m.symbol)
                await until(c, lambda m: m.type == "update" and m.symbol == "EURUSD")
                assert c.book["EURUSD"].status == "live"
                assert second.service.hub.has_subscribers(second.service.table.ids["XAUUSD"])
        finally:
            await c.close()
        assert c.state is ConnState.CLOSED
        assert [m async for m in c] == []


async def test_unsubscribe_stops_that_symbols_updates() -> None:
    async with running() as srv, connect(srv.ws_url) as c:
        await c.subscribe(["EURUSD", "USDJPY"])
        await until(c, lambda m: m.type == "update" and m.symbol == "USDJPY")
        await c.unsubscribe(["USDJPY"])
        assert "USDJPY" not in c.book
        await until(c, lambda m: m.type == "unsubscribed")
        after = await collect(c, 1.0)
        assert {m.symbol for m in after if m.type == "update"} == {"EURUSD"}


async def test_unknown_symbols_are_reported_and_not_resubscribed() -> None:
    async with running() as srv, connect(srv.ws_url) as c:
        await c.subscribe(["EURUSD", "NOPE"])
        err = await until(c, lambda m: m.type == "error")
        assert err.data["code"] == "unknown_symbol" and err.data["symbols"] == ["NOPE"]
        assert c.subscriptions.symbols == ["EURUSD"]


async def test_without_reconnect_a_refused_connection_raises() -> None:
    async with running() as srv:
        url = srv.ws_url
    with pytest.raises(ConnectionError, match="cannot connect"):
        async with connect(url, reconnect=False):
            pass


@asynccontextmanager
async def refusing_server(status: int, seen: list[str]) -> AsyncIterator[str]:
    """A server that answers every handshake with ``status``, noting the Authorization header."""

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.Response(status=status, text="no")

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"ws://127.0.0.1:{runner.addresses[0][1]}/ws"
    finally:
        await runner.cleanup()


async def test_a_refused_token_raises_auth_error_and_is_not_retried() -> None:
    seen: list[str] = []
    async with refusing_server(401, seen) as url:
        with pytest.raises(AuthError, match="401"):
            async with connect(url, token="s3cret", backoff_factory=fast_backoff):
                pass
    assert seen == ["Bearer s3cret"]


async def test_other_handshake_failures_are_retried() -> None:
    seen: list[str] = []
    async with refusing_server(503, seen) as url, connect(url, backoff_factory=fast_backoff) as c:
        first = await until(c, lambda m: m.type == "disconnected")
        await until(c, lambda m: m.type == "disconnected")
        assert "503" in first.data["reason"] and len(seen) >= 2 and c.state is not ConnState.CLOSED


async def test_fetch_symbols_and_api_url() -> None:
    assert api_url("wss://example.test/ticker/ws", "api/symbols") == "https://example.test/ticker/api/symbols"
    assert api_url("ws://127.0.0.1:8080/ws?x=1", "api/symbols") == "http://127.0.0.1:8080/api/symbols"
    async with running() as srv:
        symbols = await fetch_symbols(srv.ws_url)
    assert symbols["USDJPY"].decimals == 3 and symbols["EURUSD"].pip_size == 0.0001


EXAMPLE = ROOT / "examples" / "quotes.py"


async def test_the_documented_example_runs() -> None:
    async with running() as srv:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, EXAMPLE, "EURUSD", "XAUUSD", "--url", srv.ws_url, "--seconds", "1.5",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert any(line.startswith("EURUSD  1.") and "latency" in line for line in lines)
    tail = lines[lines.index("last quotes:") + 1 :]
    assert sorted(t.split()[0] for t in tail) == ["EURUSD", "XAUUSD"]
