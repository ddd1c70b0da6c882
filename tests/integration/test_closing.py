"""Closing cleanly, and saying so: every server-side close reaches the client as a close
frame with its code, then a clean TCP close, also while the client keeps sending; and the
log line and the metric name the code that was sent. Raw sockets, so nothing hides it."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from tests.support import rawws
from tests.support.helpers import RawClient, client, config, running, wait_for

pytestmark = pytest.mark.integration

CLOSE_LOG = "ticker.connection"


def disconnects(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == CLOSE_LOG and r.msg.startswith("client disconnected")]


async def keep_sending(writer: asyncio.StreamWriter, stop: asyncio.Event, *, frames: bool = True) -> None:
    """A client that does not stop talking: a JSON ping, a ping and a pong frame every 20 ms."""
    while not stop.is_set():
        writer.write(rawws.frame(rawws.TEXT, b'{"op":"ping"}'))
        if frames:
            writer.write(rawws.frame(rawws.PING, b"are you there") + rawws.frame(0xA, b"here"))
        await asyncio.sleep(0.02)


async def test_a_stalled_client_that_keeps_pinging_gets_its_warning_and_1013(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, CLOSE_LOG)
    cfg = config(
        feeds=[{"type": "synthetic", "rate": 3000.0, "seed": 3}],
        fanout={"slow_consumer_max_lag_s": 0.3, "slow_consumer_grace_s": 1.0, "socket_send_buffer": 8192},
    )
    async with running(cfg) as srv:
        raw = await RawClient.connect(srv.ws_url)
        await raw.send({"op": "subscribe", "symbols": list(srv.service.table.symbols)})
        raw.stop_reading()
        stop = asyncio.Event()
        talker = asyncio.create_task(keep_sending(raw.writer, stop))
        stats = srv.service.fanout_stats
        await wait_for(lambda: stats.slow_consumer_closes == 1, timeout=15)
        await asyncio.sleep(0.5)  # it goes on pinging while the server closes
        raw.resume_reading()
        seen = await rawws.ending(raw.reader, raw.writer)
        stop.set()
        await talker
        await wait_for(lambda: stats.closed["slow_consumer"] == 1)
    assert seen.close_code == 1013, seen
    assert "slow consumer" in seen.close_reason
    assert any(m.get("code") == "slow_consumer" for m in seen.messages), seen
    assert seen.then == "eof", seen  # a clean close, not a reset that destroys the frames
    (record,) = disconnects(caplog)
    assert record.code == 1013 and record.reason == "slow_consumer"


@pytest.mark.parametrize("frames", [True, False])
async def test_shutdown_reaches_a_client_that_keeps_sending_as_1001(
    caplog: pytest.LogCaptureFixture, frames: bool
) -> None:
    caplog.set_level(logging.INFO, CLOSE_LOG)
    async with running() as srv:
        reader, writer = await rawws.upgrade(int(srv.base.rsplit(":", 1)[1]))
        stop = asyncio.Event()
        talker = asyncio.create_task(keep_sending(writer, stop, frames=frames))
        await asyncio.sleep(0.2)
        stopping = asyncio.create_task(srv.stop())
        seen = await rawws.ending(reader, writer)
        stop.set()
        await talker
        await stopping
    assert seen.close_code == 1001 and seen.close_reason == "server shutting down", seen
    assert seen.then == "eof", seen
    (record,) = disconnects(caplog)
    assert record.code == 1001 and record.reason == "server_shutdown"


async def test_a_flood_gets_its_errors_then_1008_and_a_clean_close(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, CLOSE_LOG)
    cfg = config(limits={"messages_per_s": 5.0, "message_burst": 5, "rate_limit_close_after": 10})
    async with running(cfg) as srv:
        reader, writer = await rawws.upgrade(int(srv.base.rsplit(":", 1)[1]))
        writer.write(b"".join(rawws.frame(rawws.TEXT, b'{"op":"ping"}') for _ in range(40)))
        stop = asyncio.Event()
        talker = asyncio.create_task(keep_sending(writer, stop))
        seen = await rawws.ending(reader, writer)
        stop.set()
        await talker
        await wait_for(lambda: srv.service.fanout_stats.closed["rate_limited"] == 1)
    assert seen.close_code == 1008 and seen.close_reason.startswith("rate limit"), seen
    assert [m["code"] for m in seen.messages if m["type"] == "error"] == ["rate_limited"] * 10
    assert seen.then == "eof", seen
    (record,) = disconnects(caplog)
    assert record.code == 1008 and record.reason == "rate_limited"


async def test_an_unmasked_client_frame_closes_1002(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, CLOSE_LOG)
    async with running() as srv:
        reader, writer = await rawws.upgrade(int(srv.base.rsplit(":", 1)[1]))
        writer.write(rawws.frame(rawws.TEXT, b'{"op":"ping","id":1}', masked=False))
        writer.write(rawws.frame(rawws.TEXT, b'{"op":"ping","id":2}'))  # nothing after it is answered
        seen = await rawws.ending(reader, writer)
        await wait_for(lambda: srv.service.fanout_stats.closed["protocol_error"] == 1)
    assert seen.close_code == 1002 and "must be masked" in seen.close_reason, seen
    assert seen.messages == []
    assert seen.then == "eof", seen
    (record,) = disconnects(caplog)
    assert record.code == 1002 and record.reason == "protocol_error"


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (rawws.frame(0x3, b"reserved opcode"), "reserved opcode"),
        (rawws.frame(rawws.PING, b"x" * 200), "control frame of 200 bytes"),
        (rawws.frame(rawws.TEXT, b"{}", rsv=0b010), "reserved bits"),
        (rawws.frame(0x0, b"continuation of nothing"), "continuation frame"),
    ],
)
async def test_broken_framing_closes_1002_with_the_reason_even_mid_stream(bad: bytes, why: str) -> None:
    async with running() as srv:
        reader, writer = await rawws.upgrade(int(srv.base.rsplit(":", 1)[1]))
        stop = asyncio.Event()
        writer.write(bad)
        talker = asyncio.create_task(keep_sending(writer, stop))
        seen = await rawws.ending(reader, writer)
        stop.set()
        await talker
    assert seen.close_code == 1002 and why in seen.close_reason, seen
    assert seen.then == "eof", seen


async def test_a_client_close_is_echoed_and_logged_with_both_codes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, CLOSE_LOG)
    async with running() as srv:
        async with client(srv.ws_url) as c:
            await c.ws.close(code=4000, message=b"done")
        await wait_for(lambda: srv.service.fanout_stats.closed["client"] == 1)
    (record,) = disconnects(caplog)
    assert record.code == 1000 and record.client_code == 4000 and record.reason == "client"


async def test_a_server_close_answered_late_is_cut_off_at_the_deadline() -> None:
    cfg = config(server={"shutdown_timeout_s": 0.5}, limits={"max_message_bytes": 256})
    async with running(cfg) as srv:
        reader, writer = await rawws.upgrade(int(srv.base.rsplit(":", 1)[1]))
        writer.write(rawws.frame(rawws.TEXT, b"x" * 300))
        started = time.monotonic()
        seen = await rawws.ending(reader, writer, answer=False)  # reads, but never answers the close
        waited = time.monotonic() - started
    assert seen.close_code == 1009 and seen.then == "eof"
    assert 0.3 < waited < 3.0


async def test_a_close_aiohttp_refuses_is_logged_with_the_code_it_sent(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, CLOSE_LOG)
    async with running() as srv:
        reader, writer = await rawws.upgrade(int(srv.base.rsplit(":", 1)[1]))
        writer.write(rawws.frame(rawws.CLOSE, (999).to_bytes(2, "big")))  # not a valid close code
        assert await rawws.outcome(reader) == "close:1002"
        await wait_for(lambda: srv.service.fanout_stats.closed["protocol_error"] == 1)
    (record,) = disconnects(caplog)
    assert record.code == 1002 and record.reason == "protocol_error"


async def test_a_client_that_just_goes_away_is_counted_as_the_client_with_1006(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, CLOSE_LOG)
    async with running() as srv:
        reader, writer = await rawws.upgrade(int(srv.base.rsplit(":", 1)[1]))
        writer.write(rawws.frame(rawws.TEXT, b'{"op":"ping"}'))
        assert await rawws.outcome(reader) == "reply:pong"
        writer.transport.abort()  # no close frame: a reset
        await wait_for(lambda: srv.service.fanout_stats.closed["client"] == 1)
    (record,) = disconnects(caplog)
    assert record.code == 1006 and record.reason == "client"
    assert srv.service.fanout_stats.closed["protocol_error"] == 0
