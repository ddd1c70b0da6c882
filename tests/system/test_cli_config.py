"""`ticker check-config` as a real command: effective config out, bad keys named, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ticker", *args], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def test_check_config_prints_effective_config() -> None:
    r = run_cli("check-config", "config/default.toml")
    assert r.returncode == 0, r.stderr
    assert "[server]" in r.stdout and 'type = "synthetic"' in r.stdout


def test_check_config_fails_with_the_bad_key(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[limits]\nmax_symbols_per_connection = -3\n")
    r = run_cli("check-config", str(f))
    assert r.returncode == 2
    assert "limits.max_symbols_per_connection: must be >= 1, got -3" in r.stderr
    r = run_cli("check-config", str(tmp_path / "missing.toml"))
    assert r.returncode == 2 and "cannot read" in r.stderr


def test_check_config_and_serve_report_every_error_at_once(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    f = tmp_path / "c.toml"
    f.write_text(
        f"""
[server]
prot = 8080

[limits]
max_message_bytes = 10

[tls]
cert_file = "{junk}"
key_file = "{junk}"

[[feeds]]
type = "replay"
format = "histdata"
files = ["{tmp_path / "missing.csv"}"]
"""
    )
    env = {"TICKER_LIMITS__MESSAGES_PER_S": "fast", "PATH": "/usr/bin:/bin"}
    for command in (["check-config", str(f)], ["serve", "--config", str(f)]):
        r = subprocess.run(
            [sys.executable, "-m", "ticker", *command],
            capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
        )  # fmt: skip
        assert r.returncode == 2, r.stderr
        errors = [line for line in r.stderr.splitlines() if line.startswith("ticker: config error: ")]
        assert len(errors) == 5, r.stderr
        text = "\n".join(errors)
        assert "server.prot: unknown key (did you mean 'port'?)" in text
        assert "limits.max_message_bytes: must be >= 256, got 10" in text
        assert "TICKER_LIMITS__MESSAGES_PER_S: limits.messages_per_s: must be a number, got 'fast'" in text
        assert "feeds[0] (replay): files: [0]" in text and "missing.csv" in text
        assert f"tls.cert_file: cannot use {junk}" in text
        assert r.stderr.rstrip().endswith("ticker: 5 config errors")
        assert "Traceback" not in r.stderr
