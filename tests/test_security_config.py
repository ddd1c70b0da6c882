"""Security settings: validation naming the key, the production example, API key tooling."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ticker.auth import Authenticator
from ticker.config import Config, ConfigError, from_dict, load

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ROOT / "config" / "examples" / "production.toml"
HASH = "a" * 64


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ticker", *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
    )  # fmt: skip


def test_defaults_leave_auth_and_tls_off_so_make_run_works_unauthenticated() -> None:
    cfg = load(ROOT / "config" / "default.toml", env={})
    assert not cfg.auth.enabled and not cfg.tls.enabled
    assert cfg.server.allowed_origins == () and cfg.limits.max_connections_per_ip == 0
    assert cfg == Config()


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


def test_production_example_checks_and_warns_about_files_missing_here() -> None:
    r = run_cli("check-config", str(PRODUCTION))
    assert r.returncode == 0, r.stderr
    assert "tls.cert_file: /etc/ticker/tls/fullchain.pem does not exist on this machine" in r.stderr
    cfg = load(PRODUCTION, env={})
    assert cfg.auth.enabled and cfg.tls.enabled and cfg.auth.jwt.algorithm == "RS256"
    assert cfg.server.allowed_origins and cfg.limits.max_connections_per_ip == 50


def test_production_example_with_its_files_in_place(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("ticker.example.com")
    chain, key, pub = tmp_path / "chain.pem", tmp_path / "key.pem", tmp_path / "idp.pem"
    chain.write_bytes(b"".join(p.bytes() for p in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(key))
    pub.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    env = {
        "TICKER_TLS__CERT_FILE": str(chain),
        "TICKER_TLS__KEY_FILE": str(key),
        "TICKER_AUTH__JWT__KEY_FILE": str(pub),
    }
    r = run_cli("check-config", str(PRODUCTION), env={**_base_env(), **env})
    assert r.returncode == 0 and r.stderr == "", r.stderr
    # A file that exists but is not usable is an error, naming the key.
    r = run_cli("check-config", str(PRODUCTION), env={**_base_env(), **env, "TICKER_TLS__KEY_FILE": str(pub)})
    assert r.returncode == 2 and "tls.cert_file: cannot use" in r.stderr


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("TICKER_")}


def test_new_api_key_prints_a_key_and_an_entry_that_accepts_it(tmp_path: Path) -> None:
    r = run_cli("new-api-key", "--name", "desk 7", "--symbols", "EUR*", "XAUUSD", "--max-connections", "3")
    assert r.returncode == 0, r.stderr
    key = r.stderr.strip().splitlines()[-1]
    assert key.startswith("tk_") and key not in r.stdout
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text("[auth]\nenabled = true\n\n" + r.stdout)
    cfg = load(cfg_file, env={})
    ident = Authenticator.from_config(cfg.auth).verify(key, 0)
    assert ident.name == "key:desk 7" and ident.max_connections == 3
    assert ident.entitlements.allows("EURJPY") and not ident.entitlements.allows("GBPUSD")
    bad = run_cli("new-api-key", "--name", "")
    assert bad.returncode == 2 and "name: required" in bad.stderr
