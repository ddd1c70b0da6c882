"""The documented step for trying the production example on a laptop, end to end:
``eval "$(ticker dev-certs DIR)"``, then serve config/examples/production.toml and connect
over wss:// trusting only the new CA, with the printed API key and with a JWT."""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import jwt
import orjson
import pytest

from tests.support.paths import ROOT
from tests.support.processes import Processes

pytestmark = pytest.mark.system

LISTENING = re.compile(r"listening on https://127\.0\.0\.1:(\d+)/ws")
# The documented step, then what `make run CONFIG=config/examples/production.toml` runs
# (on a free port instead of 8443, which may be taken on a shared test machine).
SCRIPT = (
    'eval "$("$PYTHON" -m ticker dev-certs "$DIR")" && '
    'TICKER_SERVER__PORT=0 exec "$PYTHON" -m ticker serve --config config/examples/production.toml'
)


def strict_client(ca: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT  # the default from Python 3.13 on
    return ctx


async def subscribe(url: str, ctx: ssl.SSLContext, headers: dict[str, str]) -> list[dict]:
    async with aiohttp.ClientSession() as http, http.ws_connect(url, ssl=ctx, headers=headers) as ws:
        await ws.send_str(orjson.dumps({"op": "subscribe", "symbols": ["EURUSD", "XAUUSD"], "id": 1}).decode())
        got: list[dict] = []
        while len([m for m in got if m["type"] == "snapshot"]) < 2:
            msg = await ws.receive(timeout=5)
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            data = orjson.loads(msg.data)
            got += data if isinstance(data, list) else [data]
        return got


def documented_step(procs: Processes, certs: Path) -> subprocess.Popen[bytes]:
    """Run SCRIPT in a shell, as a user would type it, logging to ``serve.log``."""
    with (procs.workdir / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            ["bash", "-c", SCRIPT], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHON": sys.executable, "DIR": str(certs), "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    procs.procs["serve"] = proc
    return proc


async def test_dev_certs_then_the_production_example_serves_wss_on_this_machine(tmp_path: Path) -> None:
    certs = tmp_path / "dev-certs"
    procs = Processes(tmp_path)
    proc = documented_step(procs, certs)
    try:
        deadline = time.monotonic() + 30
        while not (m := LISTENING.search(procs.log("serve"))):
            assert proc.poll() is None and time.monotonic() < deadline, procs.log("serve")
            await asyncio.sleep(0.05)
        port = int(m.group(1))
        key = (certs / "api-key.txt").read_text().strip()
        assert f"API key \"dev\" (every symbol): {key}" in procs.log("serve")  # shown once, on stderr
        ctx = strict_client(certs / "ca.pem")
        url = f"wss://127.0.0.1:{port}/ws"

        # The printed API key, from a page of this server (its origin is allowed).
        origin = f"https://127.0.0.1:{port}"
        got = await subscribe(url, ctx, {"Authorization": f"Bearer {key}", "Origin": origin})
        assert got[0] == {"type": "subscribed", "id": 1, "symbols": ["EURUSD", "XAUUSD"]}
        assert {m["symbol"] for m in got if m["type"] == "snapshot"} == {"EURUSD", "XAUUSD"}

        # A JWT signed with the generated identity-provider key, with the example's issuer and audience.
        signing_key = (certs / "jwt-private.pem").read_bytes()
        claims = {"sub": "alice", "exp": int(time.time()) + 600, "iss": "https://id.example.com/",
                  "aud": "ticker", "symbols": ["XAUUSD", "EURUSD"]}  # fmt: skip
        token = jwt.encode(claims, signing_key, algorithm="RS256")
        got = await subscribe(url, ctx, {"Authorization": f"Bearer {token}"})
        assert got[0]["type"] == "subscribed"

        # HTTPS by name too (the certificate is for localhost, 127.0.0.1 and ::1).
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {key}"}
            async with http.get(f"https://localhost:{port}/api/symbols", ssl=ctx, headers=headers) as r:
                assert r.status == 200 and len((await r.json())["symbols"]) >= 20
            # Nobody else trusts this CA.
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await http.get(f"https://127.0.0.1:{port}/healthz")
    finally:
        codes = procs.stop_all(15)
    assert codes["serve"] == 0, procs.dump()


def test_dev_certs_files_are_private_and_never_silently_replaced(tmp_path: Path) -> None:
    certs = tmp_path / "c"

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ticker", "dev-certs", str(certs), *extra],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
        )  # fmt: skip

    first = run()
    assert first.returncode == 0, first.stderr
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in certs.iterdir()}
    assert modes["server-key.pem"] == modes["jwt-private.pem"] == modes["api-key.txt"] == 0o600
    assert modes["ca.pem"] == modes["server.pem"] == 0o644
    assert stat.S_IMODE(certs.stat().st_mode) == 0o700
    ca = (certs / "ca.pem").read_bytes()

    again = run()
    assert again.returncode == 1 and "--force" in again.stderr
    assert (certs / "ca.pem").read_bytes() == ca  # untouched
    forced = run("--force")
    assert forced.returncode == 0 and (certs / "ca.pem").read_bytes() != ca
    assert "export TICKER_TLS__CERT_FILE=" + str(certs / "server.pem") in forced.stdout
