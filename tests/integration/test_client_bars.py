"""The Python client follows bars over a real socket and keeps them across a reconnect."""

from __future__ import annotations

import asyncio

from tests.support.helpers import running
from ticker.client import connect


async def test_subscribe_bars_yields_typed_bars_and_keeps_the_series() -> None:
    async with running() as srv, connect(srv.ws_url) as c:
        await asyncio.sleep(1.2)
        assert await c.subscribe_bars("EURUSD", "1s", history=5) is not None
        closed = 0
        snapshot = None
        async with asyncio.timeout(10):
            async for m in c:
                if m.type == "bars":
                    snapshot = m.bars
                elif m.type == "bar":
                    assert m.bar is not None and m.bar.symbol == "EURUSD" and m.bar.interval == "1s"
                    closed += m.bar.closed
                    if closed == 2:
                        break
        assert snapshot and snapshot[-1].closed is False
        series = c.bars.series("EURUSD", "1s")
        starts = [b.start for b in series]
        assert starts == sorted(set(starts)) and all(b.closed for b in series[:-1]) and len(series) >= 3
        # The server restarts: the client resubscribes and a fresh snapshot replaces the series.
        await srv.stop()
        async with running(port=int(srv.base.rsplit(":", 1)[1])) as again:
            async with asyncio.timeout(15):
                async for m in c:
                    if m.type == "bars":
                        break
            assert again.service.charts is not None and again.service.charts.fanout.subscription_count == 1
