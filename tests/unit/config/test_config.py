from pathlib import Path

import pytest

from tests.support.paths import ROOT
from ticker.config import ConfigError
from ticker.config.render import to_toml
from ticker.runtime.configure import defaults, from_dict, load


def test_default_toml_equals_built_in_defaults() -> None:
    assert load(ROOT / "config" / "default.toml", env={}) == defaults()


def test_printed_config_loads_back_identically(tmp_path: Path) -> None:
    cfg = load(None, env={"TICKER_FEEDS__0__RATE": "250", "TICKER_SERVER__PORT": "9100"})
    f = tmp_path / "c.toml"
    f.write_text(to_toml(cfg))
    assert load(f, env={}) == cfg


def test_env_overrides_typed_values() -> None:
    cfg = load(
        ROOT / "config" / "default.toml",
        env={
            "TICKER_SERVER__PORT": "9000",
            "TICKER_LOG__FORMAT": "json",
            "TICKER_FANOUT__COMPRESSION": "true",
            "TICKER_FEEDS__0__SYMBOLS": '["EURUSD", "XAUUSD"]',
            "TICKER_CONFIG": "ignored-not-an-override",
            "OTHER__X": "1",
        },
    )
    assert cfg.server.port == 9000
    assert cfg.log.format == "json"
    assert cfg.fanout.compression is True
    assert cfg.feeds[0].options.symbols == ("EURUSD", "XAUUSD")


@pytest.mark.parametrize(
    ("raw", "env", "message"),
    [
        ({"server": {"prot": 1}}, {}, "server.prot: unknown key (did you mean 'port'?)"),
        ({"server": {"port": "x"}}, {}, "server.port: must be an integer, got 'x'"),
        ({"server": {"port": 70000}}, {}, "server.port: must be <= 65535"),
        ({"server": {"ws_path": "ws"}}, {}, "server.ws_path: must start with '/'"),
        (
            {"limits": {"max_symbols_per_connection": 0}},
            {},
            "limits.max_symbols_per_connection: must be >= 1",
        ),
        ({"log": {"level": "loud"}}, {}, "log.level: must be one of"),
        ({"fanout": {"compression": "yes"}}, {}, "fanout.compression: must be true or false"),
        ({"server": []}, {}, "server: must be a table"),
        ({"feeds": []}, {}, "feeds: at least one feed is required"),
        ({"feeds": [{"rate": 1}]}, {}, "feeds[0].type: missing"),
        ({"feeds": [{"type": "nope"}]}, {}, "feeds[0].type: unknown feed type 'nope'"),
        ({"feeds": [{"type": "synthetic", "rate": -1}]}, {}, "feeds[0].rate: must be 0..10000000"),
        (
            {"feeds": [{"type": "synthetic", "symbol": ["X"]}]},
            {},
            "feeds[0].symbol: unknown key (did you mean 'symbols'?)",
        ),
        (
            {"feeds": [{"type": "synthetic", "symbols": ["EURUSD", "EURXXX"]}]},
            {},
            "feeds[0].symbols: [1] unknown synthetic symbol 'EURXXX'",
        ),
        (
            {"feeds": [{"type": "synthetic"}, {"type": "synthetic", "name": "synthetic"}]},
            {},
            "feeds[1].name: feed name 'synthetic' is used twice",
        ),
    ],
)
def test_errors_name_the_key(raw: dict, env: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_dict(raw)
    assert message in str(info.value)


def test_env_errors_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="TICKER_FEEDS__5__RATE: there is no feeds\\[5\\]"):
        load(None, env={"TICKER_FEEDS__5__RATE": "1"})
    with pytest.raises(ConfigError, match=r"server\.port: must be an integer, got .abc."):
        load(None, env={"TICKER_SERVER__PORT": "abc"})


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('[server]\nport = 80\nhost = "x\n')
    with pytest.raises(ConfigError, match=r"bad.toml: not valid TOML: .*line 3"):
        load(f, env={})






