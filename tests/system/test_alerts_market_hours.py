"""A real Prometheus evaluates the shipped stale-feed alerts over a closed market.

Two feeds go silent after one tick each. One serves a market its calendar
says is closed now (a calendar injected through config whose only trading day
is days away); the other an always-open market. The service's monotonic clock
is injected and moved two minutes ahead, so both symbols' last ticks are
older than the rules' thresholds at once. Prometheus scrapes the service and
evaluates the shipped TickerFeedStale and TickerFeedDown expressions
(verbatim from config/prometheus/alerts.yml; only their ``for`` is shortened,
since a test cannot wait minutes): they fire for the open market's feed and
stay quiet for the closed one, whose symbol is ``closed``, not ``stale``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import yaml

from tests.support.feed_helpers import ScriptedFeed
from tests.support.helpers import config, running, wait_for
from tests.support.prom import ALERTS, prometheus
from ticker.config.market import WEEKDAYS
from ticker.core.calendar import FX, Calendar
from ticker.core.model import Instrument
from ticker.util.clock import wall_us

RULES = ("TickerFeedStale", "TickerFeedDown")


def shipped_rules_without_waiting(out: Path) -> Path:
    """The shipped rules named in RULES, expressions untouched, ``for`` set to 0s."""
    doc = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    rules = [r for g in doc["groups"] for r in g["rules"] if r.get("alert") in RULES]
    assert {r["alert"] for r in rules} == set(RULES)
    for r in rules:
        r["for"] = "0s"
    path = out / "market-hours.yml"
    path.write_text(orjson.dumps({"groups": [{"name": "market-hours", "rules": rules}]}).decode())
    return path


def closed_now_calendar() -> dict[str, Any]:
    """A New York 17:00-roll calendar whose only trading day is three days away."""
    label = Calendar(FX).trading_day(wall_us())
    return {"trading_days": [WEEKDAYS[(label.weekday() + 3) % 7]], "holidays": []}


async def firing(prom: Any) -> dict[str, set[str]]:
    result = await prom.query('ALERTS{alertstate="firing"}')
    out: dict[str, set[str]] = {}
    for r in result:
        out.setdefault(r["metric"]["alertname"], set()).add(r["metric"]["feed"])
    return out


async def test_stale_alerts_stay_quiet_over_a_closed_market_and_fire_for_a_silent_open_one() -> None:
    offset = [0.0]

    def clock() -> float:
        return time.monotonic() + offset[0]

    fx = ScriptedFeed("fx", [Instrument("EURUSD", 5, 0.0001)])
    crypto = ScriptedFeed("crypto", [Instrument("BTCUSD", 2, 0.01)])
    cfg = config(
        market={"calendars": {"shut": closed_now_calendar()}},
        feeds=[
            {"type": "synthetic", "name": "fx", "calendar": "shut"},
            {"type": "synthetic", "name": "crypto", "calendar": "always"},
        ],
    )
    async with running(cfg, feeds=[fx, crypto], clock=clock) as srv, aiohttp.ClientSession() as http:
        fx.tick("EURUSD", 1.16, 1.1601)  # a late quote: applied, but the market stays closed
        crypto.tick("BTCUSD", 90000.0, 90001.0)
        await wait_for(lambda: all(srv.service.feed_stats[f].ingested == 1 for f in ("fx", "crypto")))
        offset[0] = 120.0  # both last ticks are now two minutes old
        await wait_for(lambda: srv.service.table.status[srv.service.table.ids["BTCUSD"]] == 2, timeout=5)

        async with http.get(srv.base + "/api/symbols") as r:
            symbols = {s["symbol"]: s for s in (await r.json())["symbols"]}
        assert (symbols["EURUSD"]["status"], symbols["EURUSD"]["market_open"]) == ("closed", False)
        assert symbols["EURUSD"]["next_open"] > wall_us()
        assert (symbols["BTCUSD"]["status"], symbols["BTCUSD"]["market_open"]) == ("stale", True)

        with tempfile.TemporaryDirectory() as tmp:
            rules = shipped_rules_without_waiting(Path(tmp))
            async with prometheus([srv.base.removeprefix("http://")], [rules]) as prom:
                await prom.until('ticker_market_open{feed="fx"} == 0', lambda r: len(r) == 1)
                await prom.until(
                    'ticker_symbol_last_tick_age_seconds{feed="fx"} > 60', lambda r: len(r) == 1
                )
                fired = await prom.until(
                    'ALERTS{alertstate="firing", alertname="TickerFeedStale"}',
                    lambda r: len(r) >= 1,
                    timeout=30,
                )
                assert {r["metric"]["feed"] for r in fired} == {"crypto"}
                await prom.until(
                    'ALERTS{alertstate="firing", alertname="TickerFeedDown"}', lambda r: len(r) >= 1, timeout=30
                )
                # Several evaluations later: still only the open market's feed.
                for _ in range(5):
                    now = await firing(prom)
                    assert now.get("TickerFeedStale") == {"crypto"}, now
                    assert now.get("TickerFeedDown") == {"crypto"}, now
                    await asyncio.sleep(1.0)
