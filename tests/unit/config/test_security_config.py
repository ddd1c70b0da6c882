"""Security settings: validation naming the key, the production example, API key tooling."""


import pytest

from tests.support.paths import ROOT
from ticker.config import ConfigError
from ticker.runtime.configure import defaults, from_dict, load

HASH = "a" * 64




def test_defaults_leave_auth_and_tls_off_so_make_run_works_unauthenticated() -> None:
    cfg = load(ROOT / "config" / "default.toml", env={})
    assert not cfg.auth.enabled and not cfg.tls.enabled
    assert cfg.server.allowed_origins == () and cfg.limits.max_connections_per_ip == 0
    assert cfg == defaults()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"auth": {"enabled": True}}, "auth.enabled: auth is on but there are no keys and no jwt.algorithm"),
        ({"auth": {"keys": [{"name": "a", "sha256": "xyz", "symbols": ["*"]}]}}, "auth.keys[0].sha256: must be 64"),
        ({"auth": {"keys": [{"sha256": HASH, "symbols": ["*"]}]}}, "auth.keys[0].name: required"),
        ({"auth": {"keys": [{"name": "a", "sha256": HASH}]}}, "auth.keys[0].symbols: at least one"),
        (
            {"auth": {"keys": [{"name": "a", "sha256": HASH, "symbols": ["*"]}] * 2}},
            "auth.keys: [1] name 'a' is used twice",
        ),
        ({"auth": {"keys": [{"name": "a", "sha256": HASH, "symbol": ["*"]}]}}, "did you mean 'symbols'"),
        ({"auth": {"jwt": {"algorithm": "HS256"}}}, "auth.jwt.key_file: required for algorithm HS256"),
        ({"auth": {"jwt": {"algorithm": "none"}}}, "auth.jwt.algorithm: must be one of"),
        ({"tls": {"cert_file": "c.pem"}}, "tls.cert_file: set both cert_file and key_file"),
        ({"tls": {"min_version": "1.1"}}, "tls.min_version: must be one of '1.2', '1.3'"),
        ({"server": {"allowed_origins": ["dash.example.com"]}}, "server.allowed_origins: [0] 'dash.example.com'"),
        ({"server": {"allowed_origins": ["https://a.com/path"]}}, "is not an origin"),
        ({"server": {"trusted_proxies": ["10.0.0.0/33"]}}, "server.trusted_proxies: [0] '10.0.0.0/33'"),
        ({"limits": {"messages_per_s": -1}}, "limits.messages_per_s: must be >= 0"),
        ({"limits": {"max_connections": 0}}, "limits.max_connections: must be >= 1"),
    ],
)
def test_errors_name_the_key(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_dict(raw)
    assert message in str(info.value)










@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"auth": {"keys": [{"name": "a", "sha256": HASH, "delayed": [{"symbols": ["XAU*"], "delay_s": 0}]}]}},
            "auth.keys[0].delayed[0].delay_s: must be >= 1",
        ),
        (
            {"auth": {"keys": [{"name": "a", "sha256": HASH, "delayed": [{"delay_s": 900}]}]}},
            "auth.keys[0].delayed[0].symbols: at least one symbol or pattern is required",
        ),
        (
            {"auth": {"keys": [{"name": "a", "sha256": HASH, "delayed": [{"symbols": "XAU*"}]}]}},
            "auth.keys[0].delayed[0].symbols: must be an array",
        ),
        ({"delay": {"delays_s": [0]}}, "delay.delays_s: [0] must be 1 to 86400 seconds"),
        ({"delay": {"interval_ms": 0}}, "delay.interval_ms: must be >= 10"),
        ({"groups": {"majors": []}}, "groups.majors: a group needs at least one"),
        ({"groups": {"maj ors": ["EURUSD"]}}, "groups: group name 'maj ors' must be"),
        ({"groups": {"all": ["@majors"]}}, "groups.all: [0] '@majors' must be a symbol or pattern"),
        ({"usage": {"enabled": True}}, "usage.enabled: needs usage.path"),
        ({"usage": {"files": 0}}, "usage.files: must be >= 1"),
    ],
)
def test_licensing_errors_name_the_key(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        from_dict(raw)
    assert message in str(info.value)


def test_a_key_may_grant_delayed_symbols_only() -> None:
    cfg = from_dict({"auth": {"keys": [{"name": "a", "sha256": HASH, "delayed": [{"symbols": ["*"]}]}]}})
    (key,) = cfg.auth.keys
    assert key.symbols == () and key.delayed[0].delay_s == 900
