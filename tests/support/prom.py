"""Real Prometheus parts for tests: promtool, a Prometheus server on loopback,
and the PromQL shipped in the Grafana dashboard and the alert rules.

Both binaries come from Debian's ``prometheus`` package, which ``.ci/run``
installs. Where it is missing a test skips, except under CI (``CI`` set),
where it fails: a green CI run must have run against the real thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.paths import ROOT

DASHBOARD = ROOT / "config" / "grafana" / "ticker.json"
ALERTS = ROOT / "config" / "prometheus" / "alerts.yml"
ALERT_TESTS = ROOT / "config" / "prometheus" / "alerts_test.yml"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"

#: Grafana's built-in variables and what stands in for them when the
#: dashboard's queries are checked outside Grafana.
GRAFANA_BUILTINS = {"__rate_interval": "1m", "__interval": "1m", "__range": "1h"}


def require(binary: str) -> str:
    path = shutil.which(binary)
    if path is not None:
        return path
    msg = f"{binary} is not installed (Debian package 'prometheus'; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def promtool(
    *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require("promtool"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


def free_port() -> int:
    """A port that was free a moment ago (for programs that cannot report the
    port they bound; callers retry if it was taken in between)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- PromQL from the shipped files


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def dashboard_panels() -> list[dict[str, Any]]:
    """Every panel, with panels nested in collapsed rows."""
    out: list[dict[str, Any]] = []
    for panel in dashboard()["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) for every query target in the dashboard."""
    return [
        (p["title"], t["expr"]) for p in dashboard_panels() for t in p.get("targets", []) if t.get("expr")
    ]


_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def variables(expr: str) -> set[str]:
    return {a or b for a, b in _VAR.findall(expr)}


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replace Grafana variables (``$x``, ``${x}``) by ``values`` or the built-ins' stand-ins."""
    table = {**GRAFANA_BUILTINS, **values}

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name not in table:
            raise KeyError(f"no value for Grafana variable ${name} in {expr!r}")
        return table[name]

    return _VAR.sub(repl, expr)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_IDENT = re.compile(r"(?<![\w:])((?:ticker|process|python)_[a-zA-Z0-9_:]*)")


def metric_names(expr: str) -> set[str]:
    """Names of the ticker/process/python series a PromQL expression reads
    (label values in quotes are not names)."""
    return set(_IDENT.findall(_STRING.sub('""', expr)))


# ---------------------------------------------------------------- exposition


async def scrape(base: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(base + "/metrics") as r:
        assert r.status == 200
        return await r.text()


def sample_names(text: str) -> set[str]:
    """Every series name in an exposition (``x_total``, ``x_bucket``, ``x_count`` ...)."""
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def family_names(text: str) -> dict[str, str]:
    """Family name as written in PromQL (counters with ``_total``) -> type."""
    out: dict[str, str] = {}
    for f in text_string_to_metric_families(text):
        name = f.name + "_total" if f.type == "counter" else f.name
        out[name] = f.type
    return out


# ---------------------------------------------------------------- a Prometheus server


class Prometheus:
    """A running Prometheus and the parts of its HTTP API the tests use."""

    def __init__(self, base: str, http: aiohttp.ClientSession, log: Path) -> None:
        self.base = base
        self.http = http
        self.log = log

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    async def api(self, path: str, **params: str) -> Any:
        async with self.http.get(self.base + path, params=params) as r:
            body = await r.json(content_type=None)
        assert body.get("status") == "success", f"{path} {params}: {body}"
        return body["data"]

    async def query(self, expr: str) -> list[dict[str, Any]]:
        data = await self.api("/api/v1/query", query=expr)
        assert data["resultType"] in ("vector", "matrix", "scalar"), data
        return data["result"] if data["resultType"] != "scalar" else [{"value": data["result"]}]

    async def until(self, expr: str, pred: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll ``expr`` until ``pred(result)``; the last result on timeout is in the error."""
        deadline = time.monotonic() + timeout
        result: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            result = await self.query(expr)
            if pred(result):
                return result
            await asyncio.sleep(0.5)
        raise AssertionError(f"{expr}: condition not met in {timeout} s; last result {result}")


def _config(targets: list[str], rule_files: list[Path]) -> str:
    # JSON is YAML: no YAML library needed to write Prometheus' config.
    return json.dumps(
        {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [{"job_name": "ticker", "static_configs": [{"targets": targets}]}],
        },
        indent=2,
    )


@contextlib.asynccontextmanager
async def prometheus(targets: list[str], rule_files: Sequence[Path] = ()) -> AsyncIterator[Prometheus]:
    """A Prometheus server on a free loopback port scraping ``targets`` every
    second, with its own storage in a temporary directory; stopped and
    removed on exit, whatever happens."""
    binary = require("prometheus")
    with tempfile.TemporaryDirectory(prefix="ticker-prom-") as tmp:
        cfg = Path(tmp) / "prometheus.yml"
        cfg.write_text(_config(targets, list(rule_files)), encoding="utf-8")
        log = Path(tmp) / "prometheus.log"
        async with aiohttp.ClientSession() as http:
            for _attempt in range(3):  # the free port may be taken before Prometheus binds it
                port = free_port()
                with log.open("wb") as out:
                    proc = await asyncio.create_subprocess_exec(
                        binary,
                        f"--config.file={cfg}",
                        f"--storage.tsdb.path={tmp}/data",
                        f"--web.listen-address=127.0.0.1:{port}",
                        "--storage.tsdb.retention.time=1h",
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=out,
                    )
                prom = Prometheus(f"http://127.0.0.1:{port}", http, log)
                try:
                    if await _ready(prom, proc):
                        yield prom
                        return
                finally:
                    await _stop(proc)
                if "address already in use" not in prom.log_tail():
                    break
            raise AssertionError(f"prometheus did not become ready:\n{prom.log_tail()}")


async def _ready(prom: Prometheus, proc: asyncio.subprocess.Process, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            return False
        try:
            async with prom.http.get(prom.base + "/-/ready") as r:
                if r.status == 200:
                    return True
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    return False


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
