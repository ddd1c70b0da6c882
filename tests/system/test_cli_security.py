"""The security commands and examples as a user runs them: check-config on the production example, new-api-key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.paths import ROOT
from ticker.runtime.configure import load
from ticker.security.tokens import Authenticator

PRODUCTION = ROOT / "config" / "examples" / "production.toml"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ticker", *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
    )  # fmt: skip


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
