"""Helpers for tests on the Redis bus: configs, a feed process in-process, and sequence checks on what clients got."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from tests.support.helpers import Client, config
from ticker.config import Config
from ticker.runtime.service import Role, Service
from ticker.server.app import make_app

MAJORS = ["EURUSD", "USDJPY", "GBPUSD"]


def bus_config(url: str, prefix: str, rate: float = 400.0, **extra: Any) -> Config:
    return config(
        bus=url,
        bus_prefix=prefix,
        feeds=[{"type": "synthetic", "rate": rate, "seed": 7, "symbols": [*MAJORS, "XAUUSD", "EURGBP"]}],
        **extra,
    )


@asynccontextmanager
async def feeding(cfg: Config) -> AsyncIterator[Service]:
    """A feed process's service, in this event loop."""
    service = Service(cfg, role=Role.FEED)
    runner = web.AppRunner(make_app(cfg, service))
    await runner.setup()
    try:
        yield service
    finally:
        await runner.cleanup()


def updates_by_symbol(msgs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in msgs:
        if m["type"] in ("update", "snapshot"):
            out[m["symbol"]].append(m)
    return out


def assert_never_backwards(msgs: list[dict[str, Any]]) -> None:
    last: dict[str, int] = {}
    for m in msgs:
        if m["type"] in ("update", "snapshot"):
            assert m["seq"] >= last.get(m["symbol"], 0), m
            if m["type"] == "update":
                assert m["seq"] > last.get(m["symbol"], 0), m
            last[m["symbol"]] = m["seq"]


def same_updates(got_a: list[dict[str, Any]], got_b: list[dict[str, Any]]) -> int:
    """Updates with the same symbol and seq are identical; returns how many were compared."""
    ua, ub = updates_by_symbol(got_a), updates_by_symbol(got_b)
    common = 0
    for sym in MAJORS:
        sa = {m["seq"]: m for m in ua[sym] if m["type"] == "update"}
        sb = {m["seq"]: m for m in ub[sym] if m["type"] == "update"}
        both = sa.keys() & sb.keys()
        common += len(both)
        assert all(sa[s] == sb[s] for s in both), sym
    return common


def assert_gapless(msgs: list[dict[str, Any]]) -> None:
    for sym, ms in updates_by_symbol(msgs).items():
        seqs = [m["seq"] for m in ms]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (sym, seqs)


async def subscribed(c: Client, symbols: list[str] = MAJORS) -> list[dict[str, Any]]:
    await c.send({"op": "subscribe", "symbols": symbols, "id": 1})
    await c.until(lambda m: m["type"] == "subscribed")
    return [await c.until(lambda m: m["type"] == "snapshot") for _ in symbols]
