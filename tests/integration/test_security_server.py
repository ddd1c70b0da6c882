"""Authentication, entitlements, origins and limits against the real server over loopback."""

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.helpers import client, config, messages, running, wait_for
from ticker.security.tokens import hash_key

DESK_KEY = "tk_desk-key-for-tests"
ALL_KEY = "tk_all-symbols-key"
SECRET = b"0123456789abcdef0123456789abcdef"


def secure_config(tmp_path: Path, **sections: Any) -> Any:
    secret = tmp_path / "jwt.secret"
    secret.write_bytes(SECRET)
    auth = {
        "enabled": True,
        "timeout_s": 1.0,
        "expiry_warning_s": 1.0,
        "keys": [
            {"name": "desk", "sha256": hash_key(DESK_KEY), "symbols": ["EUR*", "XAUUSD"], "max_connections": 2},
            {"name": "all", "sha256": hash_key(ALL_KEY), "symbols": ["*"]},
        ],
        "jwt": {"algorithm": "HS256", "key_file": str(secret), "leeway_s": 0},
    }
    auth.update(sections.pop("auth", {}))
    return config(auth=auth, **sections)


def token(sub: str = "alice", ttl: float = 60, symbols: Any = ("GBP*",)) -> str:
    return jwt.encode({"sub": sub, "exp": time.time() + ttl, "symbols": list(symbols)}, SECRET, algorithm="HS256")


async def refused(url: str, **kwargs: Any) -> int:
    """The HTTP status of a refused WebSocket handshake (fails if it was accepted)."""
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            async with s.ws_connect(url, **kwargs):
                pass
    return info.value.status


async def handshake_body(srv: Any, headers: dict[str, str], query: str = "") -> tuple[int, dict, Any]:
    """A plain HTTP upgrade request: status, JSON body and headers of the refusal."""
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        **headers,
    }
    async with aiohttp.ClientSession() as s, s.get(srv.base + "/ws" + query, headers=upgrade) as r:
        return r.status, await r.json(), r.headers


async def closed_with(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5) -> tuple[int | None, str]:
    """Read until the server closes; the close code and reason."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = await ws.receive(timeout=deadline - time.monotonic())
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return ws.close_code, msg.extra or ""
    raise TimeoutError("server did not close")


async def test_bad_or_missing_credentials_are_refused_before_the_upgrade(tmp_path: Path) -> None:
    async with running(secure_config(tmp_path)) as srv:
        status, body, headers = await handshake_body(srv, {"Authorization": "Bearer nope"})
        assert status == 401 and body["error"]["code"] == "unauthenticated"
        assert headers["WWW-Authenticate"].startswith("Bearer")
        assert await refused(srv.ws_url + "?token=nope") == 401
        assert await refused(srv.ws_url, headers={"Authorization": "Bearer " + token(ttl=-5)}) == 401
        assert await refused(srv.ws_url, headers={"Authorization": "Basic eDp5"}) == 401
        status, body, _ = await handshake_body(srv, {"Authorization": "Bearer " + token(symbols=[])})
        assert status == 403 and body["error"]["code"] == "not_entitled"
        assert srv.service.fanout_stats.connections == 0
        assert srv.service.fanout_stats.refused == {"unauthenticated": 4, "not_entitled": 1}
        async with aiohttp.ClientSession() as http, http.get(srv.base + "/metrics") as r:
            families = {f.name: f for f in text_string_to_metric_families(await r.text())}
        refusals = {s.labels["reason"]: s.value for s in families["ticker_handshakes_refused"].samples}
        assert {r: n for r, n in refusals.items() if n} == {"unauthenticated": 4.0, "not_entitled": 1.0}
        assert refusals["origin_not_allowed"] == 0  # every reason exported from the start


async def test_token_in_header_query_or_first_message_and_entitlements_apply(tmp_path: Path) -> None:
    async with running(secure_config(tmp_path)) as srv:
        async with client(srv.ws_url, headers={"Authorization": f"Bearer {DESK_KEY}"}) as c:
            await c.send({"op": "subscribe", "symbols": ["EURUSD", "GBPUSD", "XAUUSD"], "id": 1})
            assert (await c.next())["symbols"] == ["EURUSD", "XAUUSD"]
            err = await c.until(lambda m: m["type"] == "error")
            assert err["code"] == "not_entitled" and err["symbols"] == ["GBPUSD"] and err["id"] == 1
            got = await c.collect(1.0)
            assert {m["symbol"] for m in got if m["type"] == "update"} <= {"EURUSD", "XAUUSD"}
        async with client(srv.ws_url + "?token=" + token()) as c:
            await c.send({"op": "subscribe", "symbols": ["GBPUSD", "EURUSD"], "id": 2})
            assert (await c.next())["symbols"] == ["GBPUSD"]
        async with client(srv.ws_url) as c:  # no token yet: only auth and ping
            await c.send({"op": "subscribe", "symbols": ["EURUSD"], "id": 3})
            assert (await c.next())["code"] == "unauthenticated"
            await c.send({"op": "auth", "token": DESK_KEY, "id": 4})
            assert await c.next() == {"type": "authenticated", "id": 4, "identity": "key:desk", "expires_at": None}
            await c.send({"op": "subscribe", "symbols": ["EURUSD"], "id": 5})
            assert (await c.next())["type"] == "subscribed"


async def test_no_auth_message_in_time_closes_1008(tmp_path: Path) -> None:
    async with running(secure_config(tmp_path)) as srv, client(srv.ws_url) as c:
        started = time.monotonic()
        code, reason = await closed_with(c.ws)
        assert code == 1008 and "no auth message within 1 s" in reason
        assert 0.8 < time.monotonic() - started < 4
        await wait_for(lambda: srv.service.fanout_stats.closed["auth_timeout"] == 1)


async def test_bad_auth_message_closes_1008(tmp_path: Path) -> None:
    async with running(secure_config(tmp_path)) as srv, client(srv.ws_url) as c:
        await c.send({"op": "auth", "token": "wrong", "id": 1})
        err = await c.next()
        assert err["code"] == "auth_failed" and err["id"] == 1
        code, reason = await closed_with(c.ws)
        assert code == 1008 and reason.startswith("authentication failed")


async def test_expiring_token_is_warned_then_closed_1008_unless_refreshed(tmp_path: Path) -> None:
    async with running(secure_config(tmp_path)) as srv:
        async with client(srv.ws_url, headers={"Authorization": "Bearer " + token(ttl=2.0)}) as c:
            await c.send({"op": "subscribe", "symbols": ["GBPUSD"]})
            warning = await c.until(lambda m: m["type"] == "warning", timeout=5)
            assert warning["code"] == "token_expiring"
            code, reason = await closed_with(c.ws)
            assert code == 1008 and reason == "token expired"
        async with client(srv.ws_url, headers={"Authorization": "Bearer " + token(ttl=2.0)}) as c:
            await c.until(lambda m: m["type"] == "warning", timeout=5)
            await c.send({"op": "auth", "token": token(ttl=60), "id": "refresh"})
            auth = await c.until(lambda m: m["type"] == "authenticated")
            assert auth["id"] == "refresh" and auth["expires_at"] > (time.time() + 50) * 1e6
            await c.send({"op": "ping", "id": "late"})
            await asyncio.sleep(2.0)  # past the first token's expiry
            assert (await c.until(lambda m: m["type"] == "pong"))["id"] == "late"
            assert not c.ws.closed
        assert srv.service.fanout_stats.closed["token_expired"] == 1


async def test_rest_obeys_the_same_rules(tmp_path: Path) -> None:
    async with running(secure_config(tmp_path)) as srv, aiohttp.ClientSession() as http:
        await wait_for(lambda: srv.service.ready)
        async with http.get(srv.base + "/api/symbols") as r:
            assert r.status == 401 and (await r.json())["error"]["code"] == "unauthenticated"
        desk = {"Authorization": f"Bearer {DESK_KEY}"}
        async with http.get(srv.base + "/api/symbols", headers=desk) as r:
            names = {s["symbol"] for s in (await r.json())["symbols"]}
        assert "XAUUSD" in names and "GBPUSD" not in names and all(n.startswith("EUR") or n == "XAUUSD" for n in names)
        async with http.get(srv.base + "/api/snapshot", headers=desk) as r:
            assert {s["symbol"] for s in (await r.json())["snapshots"]} == names
        async with http.get(srv.base + "/api/snapshot?symbols=EURUSD,GBPUSD", headers=desk) as r:
            assert r.status == 403
            assert (await r.json())["error"] == {
                "code": "not_entitled", "message": "not entitled to: GBPUSD", "symbols": ["GBPUSD"]
            }  # fmt: skip
        async with http.get(srv.base + f"/api/snapshot?symbols=GBPUSD&token={token()}") as r:
            assert r.status == 200 and (await r.json())["snapshots"][0]["symbol"] == "GBPUSD"
        async with http.get(srv.base + "/healthz") as r:
            assert r.status == 200


async def test_connection_limits_per_identity_per_ip_and_total(tmp_path: Path) -> None:
    cfg = secure_config(
        tmp_path,
        limits={"max_connections": 5, "max_connections_per_ip": 2},
        server={"trusted_proxies": ["127.0.0.1"]},  # the tests play a reverse proxy's role
    )

    def via(ip: str, key: str = ALL_KEY) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}", "X-Forwarded-For": ip}

    async with running(cfg) as srv, contextlib.AsyncExitStack() as stack:
        for headers in (via("198.51.100.1", DESK_KEY), via("198.51.100.2", DESK_KEY)):
            await stack.enter_async_context(client(srv.ws_url, headers=headers))
        status, body, headers = await handshake_body(srv, via("198.51.100.3", DESK_KEY))
        assert status == 429 and body["error"]["code"] == "too_many_connections_per_identity"
        assert headers["Retry-After"] == "5"
        for _ in range(2):
            await stack.enter_async_context(client(srv.ws_url, headers=via("198.51.100.7")))
        status, body, _ = await handshake_body(srv, via("198.51.100.7"))
        assert status == 429 and body["error"]["code"] == "too_many_connections_per_ip"
        assert "198.51.100.7" in body["error"]["message"]
        await stack.enter_async_context(client(srv.ws_url, headers=via("198.51.100.8")))
        status, body, headers = await handshake_body(srv, via("198.51.100.9"))
        assert status == 503 and body["error"]["code"] == "server_full" and headers["Retry-After"]
        assert srv.service.admission.limits.total == 5
    await wait_for(lambda: srv.service.admission.limits.total == 0)
    assert srv.service.fanout_stats.refused == {
        "too_many_connections_per_identity": 1, "too_many_connections_per_ip": 1, "server_full": 1
    }  # fmt: skip


async def test_origin_allow_list(tmp_path: Path) -> None:
    cfg = config(server={"allowed_origins": ["https://dash.example.com"]})
    async with running(cfg) as srv:
        status, body, _ = await handshake_body(srv, {"Origin": "https://evil.example"})
        assert status == 403 and body["error"]["code"] == "origin_not_allowed"
        assert "evil.example" in body["error"]["message"]
        async with client(srv.ws_url, origin="https://dash.example.com") as c:
            await c.send({"op": "ping", "id": 1})
            assert (await c.next())["type"] == "pong"
        async with client(srv.ws_url) as c:  # no Origin: not a browser
            await c.send({"op": "ping", "id": 2})
            assert (await c.next())["type"] == "pong"


async def test_flood_gets_rate_limited_then_closed_and_others_are_unaffected() -> None:
    cfg = config(limits={"messages_per_s": 20, "message_burst": 10, "rate_limit_close_after": 30})
    async with running(cfg) as srv, client(srv.ws_url) as good, client(srv.ws_url) as flood:
        await good.send({"op": "subscribe", "symbols": ["EURUSD"]})
        await good.until(lambda m: m["type"] == "update")
        for i in range(200):
            await flood.send({"op": "ping", "id": i})
        flat: list[dict] = []
        code = None
        while code is None:
            msg = await flood.ws.receive(timeout=5)
            if msg.type is aiohttp.WSMsgType.TEXT:
                flat += messages(msg.data)
            else:
                code = flood.ws.close_code
        pongs = [m for m in flat if m["type"] == "pong"]
        limited = [m for m in flat if m.get("code") == "rate_limited"]
        assert 10 <= len(pongs) < 30 and pongs[0]["id"] == 0
        assert 1 <= len(limited) <= 30
        assert code == 1008
        await wait_for(lambda: srv.service.fanout_stats.closed["rate_limited"] == 1)
        await good.send({"op": "ping", "id": "ok"})
        assert (await good.until(lambda m: m["type"] == "pong"))["id"] == "ok"


async def test_silent_client_is_dropped_by_heartbeat_and_counted() -> None:
    cfg = config(server={"heartbeat_s": 0.5})
    async with (
        running(cfg) as srv,
        client(srv.ws_url) as alive,
        aiohttp.ClientSession() as s,
        s.ws_connect(srv.ws_url, autoping=False) as mute,
    ):
        await alive.send({"op": "subscribe", "symbols": ["EURUSD"]})

        async def ignore_pings() -> float:
            started = time.monotonic()
            pings = 0
            while not mute.closed and time.monotonic() - started < 10:
                msg = await mute.receive(timeout=10)
                pings += msg.type is aiohttp.WSMsgType.PING  # seen, deliberately not answered
            assert pings >= 1
            return time.monotonic() - started

        # The client that reads (and so answers pings: aiohttp's autoping) keeps being served.
        took, got = await asyncio.gather(ignore_pings(), alive.collect(3.0))
        assert mute.closed and took < 5
        updates = [m["seq"] for m in got if m["type"] == "update"]
        assert len(updates) > 5 and not alive.ws.closed
        await wait_for(lambda: srv.service.fanout_stats.closed["heartbeat_timeout"] == 1)
        async with s.get(srv.base + "/metrics") as r:
            text = await r.text()
    samples = [x for f in text_string_to_metric_families(text) for x in f.samples]
    assert any(
        x.name == "ticker_connections_closed_total" and x.labels == {"reason": "heartbeat_timeout"} and x.value == 1
        for x in samples
    )
