"""The listener: handshake deadlines against raw sockets, and wss:// from config."""

import asyncio
import ssl
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme

from tests.support.helpers import client, config, running
from ticker.config import ConfigError, TlsConfig
from ticker.server.tls import server_context

REQUEST = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
)


def port_of(srv: Any) -> int:
    return int(srv.base.rsplit(":", 1)[1])


async def seconds_until_dropped(reader: asyncio.StreamReader, limit: float = 10.0) -> float:
    """How long until the server closes the socket (EOF or reset)."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(limit):
            while await reader.read(1024):
                pass
    except ConnectionResetError:
        pass
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("what", "sent"),
    [("nothing", b""), ("half a request", REQUEST[:40]), ("all but the last CRLF", REQUEST[:-2])],
)
async def test_incomplete_handshakes_are_dropped_at_the_deadline(what: str, sent: bytes) -> None:
    async with running(config(server={"handshake_timeout_s": 0.5})) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(srv))
        writer.write(sent)
        took = await seconds_until_dropped(reader)
        writer.close()
        assert 0.3 < took < 4, f"{what}: dropped after {took:.2f} s"
        assert srv.service.fanout_stats.opened == 0


async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> int:
    """Send one byte every 50 ms (slowloris) until the server hangs up; bytes sent by then."""
    started = time.monotonic()
    for sent in range(len(data)):
        if reader.at_eof() or time.monotonic() - started > 10:
            return sent
        try:
            writer.write(data[sent : sent + 1])
            await writer.drain()
        except ConnectionError:
            return sent
        await asyncio.sleep(0.05)
    return len(data)


async def test_a_client_dripping_its_request_is_dropped_too() -> None:
    async with running(config(server={"handshake_timeout_s": 0.5})) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(srv))
        started = time.monotonic()
        sent = await drip(reader, writer, REQUEST)
        writer.close()
        assert sent < len(REQUEST) and time.monotonic() - started < 4


async def test_the_deadline_does_not_touch_established_websockets() -> None:
    async with running(config(server={"handshake_timeout_s": 0.3})) as srv, client(srv.ws_url) as c:
        await c.send({"op": "subscribe", "symbols": ["EURUSD"]})
        got = await c.collect(1.5)  # five handshake deadlines later
        assert sum(m["type"] == "update" for m in got) > 5
        await c.send({"op": "ping", "id": 1})
        assert (await c.until(lambda m: m["type"] == "pong"))["id"] == 1


# ---------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_files(ca: trustme.CA, tmp_path: Path) -> dict[str, str]:
    cert = ca.issue_cert("localhost", "127.0.0.1")
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    chain.write_bytes(b"".join(p.bytes() for p in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(key))
    return {"cert_file": str(chain), "key_file": str(key)}


def trusting(ca: trustme.CA, max_version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


async def test_wss_and_https_with_a_verified_certificate(ca: trustme.CA, tmp_path: Path) -> None:
    cfg = config(tls=tls_files(ca, tmp_path))
    async with running(cfg) as srv:
        assert srv.ws_url.startswith("wss://")
        async with client(srv.ws_url, ssl=trusting(ca)) as c:
            await c.send({"op": "subscribe", "symbols": ["EURUSD"], "id": 1})
            assert (await c.next())["type"] == "subscribed"
            assert (await c.next())["type"] == "snapshot"
            tls = c.ws.get_extra_info("ssl_object")
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
        async with aiohttp.ClientSession() as s, s.get(srv.base + "/healthz", ssl=trusting(ca)) as r:
            assert r.status == 200
        # A client that does not trust our CA refuses the certificate.
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with client(srv.ws_url):
                pass
        # Plain ws:// to a TLS port does not get through.
        with pytest.raises(aiohttp.ClientError):
            async with client(srv.ws_url.replace("wss://", "ws://")):
                pass


async def test_min_version_is_enforced(ca: trustme.CA, tmp_path: Path) -> None:
    files = tls_files(ca, tmp_path)
    tls12_client = trusting(ca, max_version=ssl.TLSVersion.TLSv1_2)
    async with running(config(tls=files)) as srv, client(srv.ws_url, ssl=tls12_client) as c:
        assert c.ws.get_extra_info("ssl_object").version() == "TLSv1.2"  # the default floor admits it
    async with running(config(tls={**files, "min_version": "1.3"})) as srv:
        with pytest.raises(aiohttp.ClientConnectorError):
            async with client(srv.ws_url, ssl=tls12_client):
                pass
        async with client(srv.ws_url, ssl=trusting(ca)) as c:
            assert c.ws.get_extra_info("ssl_object").version() == "TLSv1.3"


def test_default_floor_is_tls_1_2(ca: trustme.CA, tmp_path: Path) -> None:
    ctx = server_context(TlsConfig(**tls_files(ca, tmp_path)))
    assert ctx is not None and ctx.minimum_version is ssl.TLSVersion.TLSv1_2
    assert server_context(TlsConfig()) is None


async def test_a_stalled_tls_handshake_is_dropped(ca: trustme.CA, tmp_path: Path) -> None:
    cfg = config(tls=tls_files(ca, tmp_path), server={"handshake_timeout_s": 0.5})
    async with running(cfg) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(srv))
        writer.write(b"\x16\x03\x01")  # the first bytes of a ClientHello, then nothing
        took = await seconds_until_dropped(reader)
        writer.close()
        assert 0.3 < took < 4


def test_unusable_tls_files_name_the_key(ca: trustme.CA, tmp_path: Path) -> None:
    files = tls_files(ca, tmp_path)
    with pytest.raises(ConfigError, match=r"tls.cert_file: cannot read .*nope.pem"):
        server_context(TlsConfig(cert_file=str(tmp_path / "nope.pem"), key_file=files["key_file"]))
    other = ca.issue_cert("other.example").private_key_pem
    wrong_key = tmp_path / "wrong.pem"
    other.write_to_path(str(wrong_key))
    with pytest.raises(ConfigError, match="the key does not match"):
        server_context(TlsConfig(cert_file=files["cert_file"], key_file=str(wrong_key)))


async def test_server_closes_over_tls_complete_the_closing_handshake(ca: trustme.CA, tmp_path: Path) -> None:
    """The frame guard sits in front of aiohttp on a TLS transport as on a plain one."""
    cfg = config(tls=tls_files(ca, tmp_path), limits={"max_message_bytes": 1024})
    async with running(cfg) as srv:
        async with client(srv.ws_url, ssl=trusting(ca)) as c:
            await c.send({"op": "ping", "pad": "x" * 990})  # 1014 bytes: under the limit
            assert (await c.next())["type"] == "pong"
            await c.ws.send_str("x" * 1025)
            msg = await c.ws.receive(timeout=5)
            assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1009
        async with client(srv.ws_url, ssl=trusting(ca)) as c:
            stopping = asyncio.create_task(srv.stop())
            msg = await c.ws.receive(timeout=5)
            assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001
            await stopping
        closed = srv.service.fanout_stats.closed
        assert closed["message_too_big"] == 1 and closed["server_shutdown"] == 1
