"""``[market]``: calendars over the built-ins, which calendar each symbol follows,
cross definitions, and errors that name the key."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from feeds.catalog import instrument_class
from feeds.registry import build_feed
from tests.support.feed_helpers import ScriptedFeed
from ticker.config import ConfigError
from ticker.core.calendar import FX, METALS, Calendar
from ticker.core.model import Instrument
from ticker.core.table import SymbolTable
from ticker.runtime.configure import defaults, from_dict
from ticker.runtime.markets import calendar_spec, plan_crosses, symbol_calendars


def test_the_built_in_calendars_are_the_cores() -> None:
    cals = defaults().market.calendars
    assert list(cals) == ["fx", "metals", "crypto", "always"]
    assert calendar_spec("fx", cals["fx"]) == FX
    assert calendar_spec("metals", cals["metals"]) == METALS
    crypto = Calendar(calendar_spec("crypto", cals["crypto"]))
    always = Calendar(calendar_spec("always", cals["always"]))
    assert crypto.always_open and always.always_open
    assert always.spec.roll == time(17) and always.spec.tz == "America/New_York"


def test_a_calendar_table_changes_only_the_keys_it_gives_and_a_new_one_starts_from_fx() -> None:
    cfg = from_dict({"market": {"calendars": {
        "fx": {"early_closes": ["12-24 13:00 Christmas Eve", "2026-12-31 13:00"]},
        "lse": {"tz": "Europe/London", "roll": "16:30", "holidays": ["2026-12-28 Boxing Day (substitute)"]},
    }}})  # fmt: skip
    fx = calendar_spec("fx", cfg.market.calendars["fx"])
    assert (fx.tz, fx.roll, fx.holidays) == (FX.tz, FX.roll, FX.holidays)
    assert [(e.month, e.day, e.close, e.year, e.name) for e in fx.early_closes] == [
        (12, 24, time(13), None, "Christmas Eve"), (12, 31, time(13), 2026, ""),
    ]  # fmt: skip
    lse = calendar_spec("lse", cfg.market.calendars["lse"])
    assert (lse.tz, lse.roll, lse.weekdays) == ("Europe/London", time(16, 30), FX.weekdays)
    assert [(h.year, h.month, h.day, h.name) for h in lse.holidays] == [(2026, 12, 28, "Boxing Day (substitute)")]
    assert "metals" in cfg.market.calendars  # the other built-ins stay


@pytest.mark.parametrize(
    ("market", "key", "reason"),
    [
        ({"calendars": {"fx": {"tz": "Mars/Olympus"}}}, "market.calendars.fx.tz", "unknown time zone 'Mars/Olympus'"),
        ({"calendars": {"fx": {"roll": "5pm"}}}, "market.calendars.fx.roll", "not a wall time like '17:00'"),
        ({"calendars": {"fx": {"trading_days": ["Mon", "Fri", "Fry"]}}}, "market.calendars.fx.trading_days",
         "[2] 'Fry' is not one of Mon, Tue"),
        ({"calendars": {"fx": {"trading_days": []}}}, "market.calendars.fx.trading_days", "at least one day"),
        ({"calendars": {"fx": {"breaks": ["18:00-17:00"]}}}, "market.calendars.fx.breaks",
         "[0] '18:00-17:00': the start must be before the end"),
        ({"calendars": {"fx": {"holidays": ["12-25", "02-30"]}}}, "market.calendars.fx.holidays", "[1] '02-30'"),
        ({"calendars": {"fx": {"holidays": ["Dec 25"]}}}, "market.calendars.fx.holidays", "not a date like '12-25'"),
        ({"calendars": {"fx": {"early_closes": ["12-24"]}}}, "market.calendars.fx.early_closes",
         "not a date and a time like '12-24 13:00'"),
        ({"calendars": {"fx": {"early_closes": ["12-24 13:00", "12-24 12:00"]}}}, "market.calendars.fx.early_closes",
         "a second early close for the same day"),
        ({"calendars": {"fx": {"timezone": "UTC"}}}, "market.calendars.fx.timezone", "unknown key"),
        ({"calendars": {"Big Board": {}}}, "market.calendars", "a calendar name is lowercase"),
        ({"calendars": {"auto": {}}}, "market.calendars", "'auto' is reserved"),
        ({"symbols": {"XAUUSD": "gold"}}, "market.symbols", "XAUUSD = 'gold': no such calendar; one of fx, metals"),
        ({"crosses": ["EURJPY EURUSD * USDJPY"]}, "market.crosses", "[0] 'EURJPY EURUSD * USDJPY': expected"),
        ({"day_stats": "yes"}, "market.day_stats", "must be true or false"),
    ],
)  # fmt: skip
def test_bad_market_config_names_the_key(market: dict[str, Any], key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as exc:
        from_dict({"market": market})
    assert exc.value.key == key
    assert reason in exc.value.reason


EUR = Instrument("EURUSD", 5, 0.0001)
JPY = Instrument("USDJPY", 3, 0.01)
GBP = Instrument("GBPUSD", 5, 0.0001)
GOLD = Instrument("XAUUSD", 2, 0.1)
BTC = Instrument("BTCUSD", 2, 0.01)


def plan(crosses: list[str], instruments: list[Instrument] = [EUR, JPY, GBP, GOLD], **kw: Any) -> list[Any]:  # noqa: B006
    cfg = from_dict({"market": {"crosses": crosses}})
    return plan_crosses(cfg, instruments, {i.symbol: "lp" for i in instruments}, **kw)


def test_crosses_take_the_catalogs_decimals_or_their_legs() -> None:
    p = plan(["EURJPY = EURUSD * USDJPY", "XAUEUR = XAUUSD / EURUSD", "XAUJPY = XAUUSD * USDJPY"])
    assert [(c.instrument.symbol, c.instrument.decimals, c.instrument.pip_size, c.feed) for c in p] == [
        ("EURJPY", 3, 0.01, "lp"), ("XAUEUR", 2, 0.01, "lp"), ("XAUJPY", 3, 0.01, "lp"),
    ]  # fmt: skip
    assert p[1].instrument.description == "XAUUSD / EURUSD"


@pytest.mark.parametrize(
    ("crosses", "reason"),
    [
        (["EURJPY = EURUSD / USDJPY"], "EURUSD / USDJPY does not chain through a common currency"),
        (["EURGBP = GBPUSD / EURUSD"], "is a price of GBPEUR, not EURGBP"),
        (["EURJPY = EURUSD * USDJPY", "EURJPY = EURUSD * USDJPY"], "cross EURJPY is defined twice"),
        (["EURUSD = EURGBP * GBPUSD"], "EURUSD is provided by feed 'lp'; a symbol is either fed or derived"),
        (["EURCHF = EURUSD / CHFUSD"], "leg CHFUSD is not a symbol of any feed"),
        (["EURJPY = EURUSD * USDJPY", "EURXAU = EURJPY / XAUJPY"], "leg EURJPY is itself a cross"),
    ],
)
def test_bad_crosses_name_their_entry(crosses: list[str], reason: str) -> None:
    with pytest.raises(ConfigError) as exc:
        plan(crosses)
    assert exc.value.key.startswith("market.crosses[")
    assert reason in exc.value.reason


def test_a_feed_process_with_some_feeds_computes_the_crosses_it_has_both_legs_of() -> None:
    assert plan(["EURJPY = EURUSD * USDJPY"], [GOLD], partial=True) == []  # another process's
    with pytest.raises(ConfigError, match="in this feed process"):
        plan(["EURJPY = EURUSD * USDJPY"], [EUR, GOLD], partial=True)


def test_instrument_classes_from_the_symbol() -> None:
    assert [instrument_class(s) for s in ("EURUSD", "XAUUSD", "XPDUSD", "BTCUSD", "ETH-USD", "SOLUSDT")] == [
        "fx", "metals", "metals", "crypto", "crypto", "crypto",
    ]  # fmt: skip
    # Stablecoin codes inside forex pairs are not crypto (USDC-HF, USDT-RY), nor is a peso.
    assert [instrument_class(s) for s in ("USDCHF", "USDTRY", "USDCAD", "USDCOP", "GOLD")] == ["fx"] * 5


def test_which_calendar_each_symbol_follows() -> None:
    cfg = from_dict({
        "market": {"symbols": {"XAGUSD": "fx"}, "crosses": ["EURJPY = EURUSD * USDJPY"]},
        "feeds": [
            {"type": "synthetic", "name": "demo", "symbols": ["EURUSD", "USDJPY"]},  # its default: always
            {"type": "synthetic", "name": "desk", "symbols": ["XAUUSD", "XAGUSD"], "calendar": "auto"},
            {"type": "synthetic", "name": "other", "symbols": ["GBPUSD"], "calendar": "crypto"},
        ],
    })  # fmt: skip
    feeds = [build_feed(f.name, f.type, f.options) for f in cfg.feeds]
    feeds.append(ScriptedFeed("venue", [BTC, Instrument("AUDUSD", 5, 0.0001)]))  # not in config: its default
    feeds[-1].default_calendar = "auto"
    instruments = [i for f in feeds for i in f.instruments()]
    feed_of = {i.symbol: f.name for f in feeds for i in f.instruments()}
    crosses = plan_crosses(cfg, instruments, feed_of)
    table = SymbolTable([*instruments, *(p.instrument for p in crosses)])
    names = dict(zip(table.symbols, symbol_calendars(cfg, feeds, table, feed_of, crosses), strict=True))
    assert names == {
        "EURUSD": "always", "USDJPY": "always", "XAUUSD": "metals", "XAGUSD": "fx", "GBPUSD": "crypto",
        "BTCUSD": "crypto", "AUDUSD": "fx", "EURJPY": "fx",
    }  # fmt: skip


def test_a_feed_naming_an_unknown_calendar_is_refused_with_its_key() -> None:
    cfg = from_dict({"feeds": [{"type": "synthetic", "calendar": "lse"}]})
    feeds = [build_feed(f.name, f.type, f.options) for f in cfg.feeds]
    instruments = list(feeds[0].instruments())
    table = SymbolTable(instruments)
    with pytest.raises(ConfigError) as exc:
        symbol_calendars(cfg, feeds, table, {i.symbol: "synthetic" for i in instruments})
    assert exc.value.key == "feeds[0].calendar"
    assert "no calendar 'lse'; one of auto, fx, metals, crypto, always" in exc.value.reason


def test_calendar_overrides_must_name_configured_symbols() -> None:
    from feeds.registry import build_feed as build
    from ticker.runtime.markets import check

    cfg = from_dict({"market": {"symbols": {"EURUSD": "fx", "XXXYYY": "fx"}}})
    with pytest.raises(ConfigError) as exc:
        check(cfg, [build(f.name, f.type, f.options) for f in cfg.feeds])
    assert (exc.value.key, exc.value.reason) == ("market.symbols.XXXYYY", "XXXYYY is not a symbol of any feed or cross")
