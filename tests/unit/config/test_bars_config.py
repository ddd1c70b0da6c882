"""[bars]: defaults equal the core's documented retention, errors name the key path."""

from __future__ import annotations

import pytest

from ticker.config import ConfigError
from ticker.config.schema import DEFAULT_BAR_RETENTION
from ticker.core.bars import DEFAULT_RETENTION_US, SeriesSpec
from ticker.core.calendar import parse_duration, parse_interval
from ticker.runtime.charts import FALLBACK_RETENTION, market_of, series_specs
from ticker.runtime.configure import defaults, from_dict


def test_default_retention_is_the_documented_one() -> None:
    assert {k: parse_duration(v) for k, v in DEFAULT_BAR_RETENTION.items()} == DEFAULT_RETENTION_US
    cfg = defaults().bars
    assert cfg.enabled and cfg.source == "bid"
    assert series_specs(cfg) == [SeriesSpec.default(parse_interval(i)) for i in cfg.intervals]


def test_retention_and_source_from_config() -> None:
    cfg = from_dict({"bars": {"intervals": ["5s", "2m"], "source": "mid", "retention": {"5s": "10m"}}}).bars
    five, two = series_specs(cfg)
    assert (five.retention, five.source.label) == (120, "mid")
    assert two.retention == FALLBACK_RETENTION


@pytest.mark.parametrize(
    ("bars", "message"),
    [
        ({"intervals": ["1m", "7m"]}, "bars.intervals: [1] bad interval '7m': minutes must divide 60"),
        ({"intervals": ["1m", "1m"]}, "bars.intervals: [1] '1m' is listed twice"),
        ({"intervals": []}, "bars.intervals: list at least one interval"),
        ({"source": "last"}, "bars.source: must be one of 'bid', 'ask', 'mid'"),
        ({"retention": {"3x": "1d"}}, "bars.retention.3x: bad interval '3x'"),
        ({"retention": {"1m": "a week"}}, "bars.retention.1m: bad duration 'a week'"),
        ({"close_delay_ms": -1}, "bars.close_delay_ms: must be >= 0"),
        ({"max_history": 0}, "bars.max_history: must be >= 1"),
        ({"enabled": "no"}, "bars.enabled: must be true or false"),
    ],
)
def test_bad_bars_config_names_the_key(bars: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_dict({"bars": bars})
    assert str(info.value).startswith(message), str(info.value)


def test_bars_can_be_switched_off_without_intervals() -> None:
    assert not from_dict({"bars": {"enabled": False, "intervals": []}}).bars.enabled


def test_which_market_hours_a_symbol_follows() -> None:
    assert [market_of(s) for s in ("EURUSD", "USDJPY", "XAUUSD", "XAGEUR", "BTCUSD", "ETH-USD")] == [
        "fx", "fx", "metals", "metals", "crypto", "crypto",
    ]  # fmt: skip
