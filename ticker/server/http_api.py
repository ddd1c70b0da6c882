"""HTTP endpoints beside the WebSocket: health, readiness, symbols, snapshots, metrics.

With authentication on, ``/api/symbols`` and ``/api/snapshot`` need a token
(``Authorization: Bearer`` or ``?token=``) and show only the symbols it is
entitled to, like a subscription would. Health, readiness and metrics stay
open: restrict them at the network or proxy if they must not be public.
"""

from __future__ import annotations

import time

import orjson
from aiohttp import web

from ticker.core.model import Status
from ticker.observability.metrics import CONTENT_TYPE_LATEST, render
from ticker.protocol.errors import listed
from ticker.security.entitlements import EVERYTHING, Entitlements
from ticker.security.limits import Refusal
from ticker.security.tokens import TokenError
from ticker.server.keys import REGISTRY, SERVICE


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _error(status: int, code: str, message: str, **extra: object) -> web.Response:
    return _json({"error": {"code": code, "message": message, **extra}}, status)


def refusal(r: Refusal) -> web.Response:
    """The HTTP answer to a refused request or handshake."""
    resp = _error(r.status, r.code, r.message)
    if r.status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="ticker"'
    if r.retry_after_s is not None:
        resp.headers["Retry-After"] = str(r.retry_after_s)
    return resp


def _entitlements(request: web.Request) -> Entitlements | web.Response:
    """What the request's token may see, or the 401/403 to answer with."""
    admission = request.app[SERVICE].admission
    if admission.authenticator is None:
        return EVERYTHING
    try:
        token = request.query.get("token")
        identity = admission.identify(request.headers.get("Authorization"), token, time.time())
    except TokenError as exc:
        return refusal(Refusal(exc.status, exc.code, exc.message))
    if identity is None:
        return refusal(
            Refusal(401, "unauthenticated", "a token is required: 'Authorization: Bearer <token>' or ?token=")
        )
    return identity.entitlements


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    gateway = service.gateway
    if gateway is not None:  # a gateway is ready when it follows every feed on the bus
        if not gateway.ready:
            silent = [link.keys.feed for link in gateway.mirror.links if link.silent]
            bus = "connected" if gateway.stats.connected else "disconnected"
            return _json({"status": "not_ready", "bus": bus, "waiting_for_feeds": silent}, 503)
        return _json({"status": "ready"})
    waiting = service.waiting_feeds()
    if waiting:
        return _json({"status": "not_ready", "waiting_for_feeds": waiting}, 503)
    return _json({"status": "ready"})


async def symbols(request: web.Request) -> web.Response:
    entitled = _entitlements(request)
    if isinstance(entitled, web.Response):
        return entitled
    service = request.app[SERVICE]
    t = service.table
    market = service.market
    out = [
        {
            "symbol": inst.symbol,
            "description": inst.description,
            "decimals": inst.decimals,
            "pip_size": inst.pip_size,
            "feed": service.feed_of[inst.symbol],
            "backup": service.backup_of.get(inst.symbol),
            "source": service.source_of(sid),
            "status": Status(int(t.status[sid])).label,
            "seq": int(t.seq[sid]),
            **market.describe(sid),  # calendar, market_open, next_open/close, derived
        }
        for sid, inst in enumerate(t.instruments)
        if entitled.allows(inst.symbol)
    ]
    return _json({"symbols": out})


async def snapshot(request: web.Request) -> web.Response:
    entitled = _entitlements(request)
    if isinstance(entitled, web.Response):
        return entitled
    service = request.app[SERVICE]
    table = service.table
    param = request.query.get("symbols")
    if param is None:
        sids = [sid for sid, name in enumerate(table.symbols) if entitled.allows(name)]
    else:
        names = [s for s in (p.strip() for p in param.split(",")) if s]
        if not names:
            return _error(400, "bad_request", "query parameter 'symbols' is empty", field="symbols")
        unknown = [n for n in names if n not in table.ids]
        if unknown:
            shown, text = listed(unknown)
            return _error(404, "unknown_symbol", f"unknown symbol(s): {text}", symbols=shown)
        _, denied = entitled.split(names)
        if denied:
            shown, text = listed(denied)
            return _error(403, "not_entitled", f"not entitled to: {text}", symbols=shown)
        sids = [table.ids[n] for n in dict.fromkeys(names)]
    encode = service.encoder.snapshot_dict
    return _json({"snapshots": [encode(sid) for sid in sids]})


async def metrics(request: web.Request) -> web.Response:
    body = render(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
