"""Limits exactly as docs/security.md states them, at their edges, over real sockets."""

from __future__ import annotations

import logging

import aiohttp
import orjson
import pytest

from tests.support import rawws
from tests.support.helpers import client, config, running, wait_for

pytestmark = pytest.mark.integration

LIMIT = 1024


def ping_of(size: int, id: str = "edge") -> bytes:
    """A JSON ping of exactly ``size`` bytes."""
    head = b'{"op":"ping","id":"' + id.encode() + b'","pad":"'
    msg = head + b"x" * (size - len(head) - 2) + b'"}'
    assert len(msg) == size
    return msg


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


async def test_a_message_of_exactly_max_message_bytes_is_served_one_byte_more_closes_1009(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "ticker.connection")
    async with running(config(limits={"max_message_bytes": LIMIT})) as srv:
        reader, writer = await rawws.upgrade(port_of(srv.base))
        writer.write(rawws.frame(rawws.TEXT, ping_of(LIMIT)))
        assert await rawws.outcome(reader) == "reply:pong"
        writer.write(rawws.frame(rawws.TEXT, ping_of(LIMIT + 1)))
        writer.write(rawws.frame(rawws.TEXT, ping_of(100)))  # still talking: not answered
        seen = await rawws.ending(reader, writer)
        await wait_for(lambda: srv.service.fanout_stats.closed["message_too_big"] == 1)
    assert seen.close_code == 1009, seen
    assert f"{LIMIT + 1} bytes, the limit is {LIMIT}" in seen.close_reason
    assert seen.messages == [] and seen.then == "eof"
    (record,) = [r for r in caplog.records if r.msg.startswith("client disconnected")]
    assert record.code == 1009 and record.reason == "message_too_big"


async def test_the_limit_counts_a_fragmented_message_whole() -> None:
    async with running(config(limits={"max_message_bytes": LIMIT})) as srv:
        reader, writer = await rawws.upgrade(port_of(srv.base))
        msg = ping_of(LIMIT)
        writer.write(rawws.frame(rawws.TEXT, msg[:600], fin=False) + rawws.frame(0x0, msg[600:]))
        assert await rawws.outcome(reader) == "reply:pong"
        msg = ping_of(LIMIT + 1)
        writer.write(rawws.frame(rawws.TEXT, msg[:600], fin=False) + rawws.frame(0x0, msg[600:]))
        seen = await rawws.ending(reader, writer)
    assert seen.close_code == 1009 and seen.then == "eof", seen


async def test_with_permessage_deflate_the_limit_holds_for_the_inflated_message() -> None:
    cfg = config(limits={"max_message_bytes": LIMIT}, fanout={"compression": True})
    async with running(cfg) as srv:
        async with client(srv.ws_url, compress=15) as c:
            assert c.ws.compress  # negotiated: these frames travel deflated, far under 1 KiB
            await c.ws.send_str(ping_of(LIMIT).decode())
            assert (await c.next())["type"] == "pong"
            await c.ws.send_str(ping_of(LIMIT + 1).decode())
            msg = await c.ws.receive(timeout=5)
            assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1009
        await wait_for(lambda: srv.service.fanout_stats.closed["message_too_big"] == 1)


async def test_a_subscribe_naming_too_many_symbols_is_refused_by_count_and_not_echoed() -> None:
    cfg = config(limits={"max_symbols_per_connection": 5})
    async with running(cfg) as srv, client(srv.ws_url) as c:
        names = [f"SYM{i}" for i in range(2000)]  # no such symbols: a lookup would say unknown
        await c.send({"op": "subscribe", "symbols": names, "id": 1})
        err = await c.next()
        assert err["code"] == "too_many_symbols" and "names 2000 symbols; the limit is 5" in err["message"]
        assert "symbols" not in err
        await c.send({"op": "subscribe", "symbols": names[:5], "id": 2})
        err = await c.next()
        assert err["code"] == "unknown_symbol" and len(err["symbols"]) == 5


async def test_errors_never_echo_an_unbounded_list() -> None:
    async with running() as srv, client(srv.ws_url) as c, aiohttp.ClientSession() as http:
        names = [f"NO{i:04d}" for i in range(3000)]
        await c.send({"op": "unsubscribe", "symbols": names, "id": 1})
        err = await c.next()
        assert err["symbols"] == names[:20] and "(and 2980 more)" in err["message"]
        assert len(orjson.dumps(err)) < 1000
        query = ",".join(names[:1000])  # what fits in a request line (8190 bytes)
        async with http.get(srv.base + "/api/snapshot", params={"symbols": query}) as r:
            assert r.status == 404
            body = (await r.json())["error"]
        assert body["symbols"] == names[:20] and "(and 980 more)" in body["message"]


def _somaxconn() -> int:
    """The kernel's cap on any listen backlog."""
    from pathlib import Path

    return int(Path("/proc/sys/net/core/somaxconn").read_text())


async def test_the_listen_backlog_is_the_configured_one() -> None:
    """Thousands of dashboards reconnecting at once queue in the kernel, not get reset:
    the listening socket's backlog (Send-Q of a listener in ``ss``) is ``server.backlog``."""
    import asyncio
    import shutil

    ss = shutil.which("ss")
    assert ss is not None, "ss (iproute2) is needed to read a listener's backlog"
    somaxconn = _somaxconn()
    for backlog in (77, 2048):
        async with running(config(server={"backlog": backlog})) as srv:
            port = srv.base.rsplit(":", 1)[1]
            proc = await asyncio.create_subprocess_exec(
                ss, "-ltnH", f"sport = :{port}", stdout=asyncio.subprocess.PIPE
            )
            out, _ = await asyncio.wait_for(proc.communicate(), 10)
            fields = out.decode().split()
            assert int(fields[2]) == min(backlog, somaxconn), out
