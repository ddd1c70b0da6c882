"""Every example config passes ``ticker check-config`` (whoever added it), and
the feed-level keys give clear errors."""

from pathlib import Path

import pytest

from tests.support.paths import ROOT
from ticker.cli import main
from ticker.config import ConfigError
from ticker.runtime.assemble import backups, build_feeds, collect_instruments
from ticker.runtime.configure import from_dict, load

EXAMPLES = sorted((ROOT / "config" / "examples").glob("*.toml"))


def test_there_are_examples_for_each_feed_type() -> None:
    from feeds.registry import FEED_TYPES

    types = {f.type for path in EXAMPLES for f in load(path, env={}).feeds}
    assert set(FEED_TYPES) <= types


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_passes_check_config(path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)  # example paths are relative to the repository root
    assert main(["check-config", str(path.relative_to(ROOT))]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "[[feeds]]" in out


def check(raw: dict) -> None:
    cfg = from_dict(raw)
    collect_instruments(build_feeds(cfg), backups(cfg))


@pytest.mark.parametrize(
    ("feeds", "message"),
    [
        ([{"type": "synthetic", "backup_for": "nope"}], "feeds[0].backup_for: no feed named 'nope'"),
        ([{"type": "synthetic", "name": "a", "backup_for": "a"}], "feeds[0].backup_for: a feed cannot back itself up"),
        (
            [{"type": "synthetic", "name": "a", "stale_after_s": 0}, {"type": "synthetic", "name": "b", "backup_for": "a"}],
            "primary 'a' has stale_after_s = 0",
        ),
        (
            [
                {"type": "synthetic", "name": "a"},
                {"type": "synthetic", "name": "b", "backup_for": "a"},
                {"type": "synthetic", "name": "c", "backup_for": "b"},
            ],
            "feeds[2].backup_for: 'b' is itself a backup",
        ),
        (
            [
                {"type": "synthetic", "name": "a", "symbols": ["EURUSD"]},
                {"type": "synthetic", "name": "b", "symbols": ["EURUSD"]},
            ],
            "set backup_for = 'a' on it",
        ),
        (
            [
                {"type": "synthetic", "name": "a", "symbols": ["EURUSD"]},
                {"type": "synthetic", "name": "b", "symbols": ["GBPUSD"], "backup_for": "a"},
            ],
            "feed 'b' is backup_for 'a' but the two share no symbol",
        ),
        ([{"type": "synthetic", "stale_after_s": -1}], "feeds[0].stale_after_s: must be >= 0"),
        ([{"type": "synthetic", "outliers": {"confirm_ticks": 0}}], "feeds[0].outliers.confirm_ticks: must be >= 1"),
        ([{"type": "synthetic", "outliers": {"sigma": 3}}], "feeds[0].outliers.sigma: unknown key"),
        ([{"type": "replay", "format": "histdata", "files": ["/nonexistent/x.csv"]}], "feeds[0] (replay): files: [0]"),
        (
            [{"type": "websocket", "url": "ws://127.0.0.1:1/ws", "preset": "binance", "symbols": ["BTCUSDT"]}],
            "feeds[0].instruments: BTCUSDT is not a known pair",
        ),
    ],
)
def test_feed_config_errors_name_the_key(feeds: list, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        check({"feeds": feeds})
    assert message in str(info.value)


def test_backup_config_builds() -> None:
    check(
        {
            "feeds": [
                {"type": "synthetic", "name": "a", "symbols": ["EURUSD", "GBPUSD"]},
                {"type": "synthetic", "name": "b", "symbols": ["EURUSD", "XAUUSD"], "backup_for": "a"},
            ]
        }
    )
