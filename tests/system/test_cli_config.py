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
