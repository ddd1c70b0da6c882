"""Config an operator can fix in one pass: every error of the file and the environment at
once, each naming its key, and the environment variable when one set the value."""

from pathlib import Path

import pytest

from ticker.config import ConfigError, ConfigErrors
from ticker.runtime.configure import check, from_dict, load

BROKEN = """
[server]
prot = 8080
ws_path = "ws"

[limits]
max_symbols_per_connection = 0

[log]
level = "loud"

[[feeds]]
type = "synthetic"
rate = -1

[[feeds]]
type = "nope"
"""


def lines(exc: ConfigErrors) -> list[str]:
    return [str(e) for e in exc.errors]


def test_every_error_in_the_file_and_the_environment_at_once(tmp_path: Path) -> None:
    f = tmp_path / "broken.toml"
    f.write_text(BROKEN)
    env = {"TICKER_SERVER__PORT": "abc", "TICKER_FEEDS__5__RATE": "1", "TICKER_LOG__FROMAT": "json"}
    with pytest.raises(ConfigErrors) as info:
        load(f, env=env)
    got = lines(info.value)
    assert got == [
        "TICKER_FEEDS__5__RATE: there is no feeds[5]",
        "server.prot: unknown key (did you mean 'port'?)",
        "TICKER_SERVER__PORT: server.port: must be an integer, got 'abc'",
        "server.ws_path: must start with '/'",  # the same table, checked all the same
        "limits.max_symbols_per_connection: must be >= 1, got 0",
        "TICKER_LOG__FROMAT: log.fromat: unknown key (did you mean 'format'?)",
        "log.level: must be one of 'debug', 'info', 'warning', 'error', got 'loud'",
        "feeds[0].rate: must be 0..10000000 ticks/s, got -1.0",
        "feeds[1].type: unknown feed type 'nope'; one of replay, synthetic, websocket",
    ]
    text = str(info.value)
    assert text.startswith("9 errors:\n") and all(f"  {line}" in text for line in got)


def test_errors_are_listed_in_order_and_each_names_its_key() -> None:
    with pytest.raises(ConfigErrors) as info:
        from_dict({"server": {"port": "x", "host": 5}, "fanout": {"compression": "yes"}})
    assert [e.key for e in info.value.errors] == ["server.host", "server.port", "fanout.compression"]
    assert isinstance(info.value, ConfigError)  # callers catching ConfigError see them all


def test_an_environment_variable_is_named_for_errors_in_values_it_set() -> None:
    with pytest.raises(ConfigError) as info:
        load(None, env={"TICKER_SERVER__PROT": "9000"})
    assert str(info.value) == "TICKER_SERVER__PROT: server.prot: unknown key (did you mean 'port'?)"
    assert info.value.env == "TICKER_SERVER__PROT" and info.value.key == "server.prot"
    with pytest.raises(ConfigError) as info:
        load(None, env={"TICKER_FEEDS__0__SYMBOLS": '["EURUSD", 5]'})
    assert str(info.value) == "TICKER_FEEDS__0__SYMBOLS: feeds[0].symbols[1]: must be a string, got an integer"
    with pytest.raises(ConfigError) as info:
        load(None, env={"TICKER_AUTH__ENABLED": "true"})
    assert str(info.value).startswith("TICKER_AUTH__ENABLED: auth.enabled: auth is on but there are no keys")


def test_a_value_from_the_file_is_not_blamed_on_the_environment(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[server]\nport = 70000\n")
    with pytest.raises(ConfigError) as info:
        load(f, env={"TICKER_SERVER__HOST": "0.0.0.0"})
    assert str(info.value) == "server.port: must be <= 65535, got 70000"


def test_one_error_alone_reads_as_it_always_did() -> None:
    with pytest.raises(ConfigError) as info:
        from_dict({"server": {"prot": 1}})
    assert not isinstance(info.value, ConfigErrors)
    assert str(info.value) == "server.prot: unknown key (did you mean 'port'?)"


def test_a_table_with_a_wrong_value_reports_no_echoes_of_it() -> None:
    # cert_file is not a string: the tls table is not built, so "set both" never shows up.
    with pytest.raises(ConfigError) as info:
        from_dict({"tls": {"cert_file": 5, "key_file": "/k.pem"}})
    assert str(info.value) == "tls.cert_file: must be a string, got an integer"
    # A feed with a bad value is not checked as a backup target either.
    with pytest.raises(ConfigError) as info:
        from_dict(
            {
                "feeds": [
                    {"type": "synthetic", "name": "a", "rate": -5},
                    {"type": "synthetic", "name": "b", "backup_for": "a"},
                ]
            }
        )
    assert str(info.value).startswith("feeds[0].rate: must be")


def test_check_returns_the_errors_with_the_config_that_could_be_built() -> None:
    config, errors = check(None, env={"TICKER_SERVER__PORT": "abc", "TICKER_LIMITS__MESSAGES_PER_S": "9"})
    assert [str(e) for e in errors] == ["TICKER_SERVER__PORT: server.port: must be an integer, got 'abc'"]
    assert config.server.port == 8080  # the bad section keeps its defaults...
    assert config.limits.messages_per_s == 9.0  # ...the good ones their values
    assert config.feeds and config.feeds[0].type == "synthetic"
