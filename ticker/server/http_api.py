"""HTTP endpoints beside the WebSocket: health, readiness, symbols, snapshots, metrics.

With authentication on, ``/api/symbols`` and ``/api/snapshot`` need a token
(``Authorization: Bearer`` or ``?token=``) and show only the symbols it is
entitled to, like a subscription would: a symbol the token sees delayed is
shown as its delayed stream (prices, ``seq`` and status as of the delay,
marked ``"delayed"``), never live. Names resolve as in a subscribe (patterns,
``@groups``). Health, readiness and metrics stay open: restrict them at the
network or proxy if they must not be public.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import orjson
from aiohttp import web

from ticker.core.model import Status
from ticker.observability.metrics import CONTENT_TYPE_LATEST, render
from ticker.protocol.errors import listed
from ticker.security.entitlements import Entitlements
from ticker.security.limits import Refusal
from ticker.security.tokens import ANONYMOUS, Identity, TokenError
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


def _identity(request: web.Request) -> Identity | web.Response:
    """Who the request's token proves (everyone while auth is off), or the 401/403."""
    admission = request.app[SERVICE].admission
    if admission.authenticator is None:
        return ANONYMOUS
    try:
        token = request.query.get("token")
        identity = admission.identify(request.headers.get("Authorization"), token, time.time())
    except TokenError as exc:
        return refusal(Refusal(exc.status, exc.code, exc.message))
    if identity is None:
        return refusal(
            Refusal(401, "unauthenticated", "a token is required: 'Authorization: Bearer <token>' or ?token=")
        )
    return identity


def _entitlements(request: web.Request) -> Entitlements | web.Response:
    """What the request's token may see, or the 401/403 to answer with."""
    identity = _identity(request)
    return identity if isinstance(identity, web.Response) else identity.entitlements


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
    """Every symbol the token sees (``?group=name``: the group's), with its stream's
    ``seq`` and status: the delayed stream's for a delayed grant."""
    identity = _identity(request)
    if isinstance(identity, web.Response):
        return identity
    service = request.app[SERVICE]
    t = service.table
    market = service.market
    catalog = service.licensing.catalog
    group = request.query.get("group")
    sids: Sequence[int] = range(len(t))
    if group is not None:
        members = catalog.groups.get(group.removeprefix("@"))
        if members is None:
            known = ", ".join(sorted(catalog.groups)) or "none"
            return _error(404, "unknown_group", f"unknown group {group!r}; groups: {known}", field="group")
        sids = members
    entitled = identity.entitlements
    out = []
    for sid in sids:
        inst = t.instruments[sid]
        hid = catalog.hub_id(sid, entitled.delay_of(inst.symbol))
        if hid is None:
            continue
        seq, status = catalog.state(hid)
        row = {
            "symbol": inst.symbol,
            "description": inst.description,
            "decimals": inst.decimals,
            "pip_size": inst.pip_size,
            "feed": service.feed_of[inst.symbol],
            "backup": service.backup_of.get(inst.symbol),
            "source": service.source_of(sid),
            "status": Status(status).label,
            "seq": seq,
            **market.describe(sid),  # calendar, market_open, next_open/close, derived (no prices)
        }
        if hid != sid:
            row["delayed"] = catalog.delay(hid)
        out.append(row)
    return _json({"symbols": out} if group is None else {"group": group.removeprefix("@"), "symbols": out})


async def snapshot(request: web.Request) -> web.Response:
    identity = _identity(request)
    if isinstance(identity, web.Response):
        return identity
    entitled = identity.entitlements
    service = request.app[SERVICE]
    table = service.table
    catalog = service.licensing.catalog
    param = request.query.get("symbols")
    if param is None:
        found = (catalog.hub_id(sid, entitled.delay_of(name)) for sid, name in enumerate(table.symbols))
        hids = [h for h in found if h is not None]
    else:
        names = [s for s in (p.strip() for p in param.split(",")) if s]
        if not names:
            return _error(400, "bad_request", "query parameter 'symbols' is empty", field="symbols")
        try:
            sel = catalog.select(names, entitled)
        except ValueError as exc:
            return _error(400, "bad_request", str(exc), field="symbols")
        if sel.unknown:
            shown, text = listed(sel.unknown)
            return _error(404, "unknown_symbol", f"unknown symbol(s): {text}", symbols=shown)
        if sel.denied:
            shown, text = listed(sel.denied)
            return _error(403, "not_entitled", f"not entitled to: {text}", symbols=shown)
        hids = sel.ids
    snapshots = [catalog.snapshot_dict(h) for h in hids]
    licensing = service.licensing
    if licensing.ledger is not None:  # usage: who saw which snapshot
        ip = service.admission.client_ip(request.remote, request.headers.get("X-Forwarded-For"))
        for hid, snap in zip(hids, snapshots, strict=True):
            licensing.rest_snapshot(identity.name, ip, hid, len(orjson.dumps(snap)))
    return _json({"snapshots": snapshots})


async def metrics(request: web.Request) -> web.Response:
    body = render(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
