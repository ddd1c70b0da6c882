"""The aiohttp application: routes, background tasks and shutdown.

Background work hangs off ``cleanup_ctx`` so every task has an owner: the
feed runner and the housekeeping sweep start with the app and are cancelled
and awaited when it stops. On shutdown every client is closed with 1001
(going away) before the feeds stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator

from aiohttp import web

from ticker.config import Config
from ticker.observability.metrics import make_registry
from ticker.runtime.service import Service
from ticker.security.cors import CorsPolicy
from ticker.security.limits import Refusal
from ticker.server import bars_api, http_api, web_ui
from ticker.server.clients import Clients
from ticker.server.connection import Connection
from ticker.server.cors import API_PREFIX, cors_middleware
from ticker.server.flusher import Flusher
from ticker.server.keys import CLIENTS, FLUSHER, REGISTRY, SERVICE
from ticker.util.log_limit import LogLimiter

log = logging.getLogger("ticker.app")

SWEEP_INTERVAL_S = 0.25

#: Refused handshakes are worth a log line, but a flood of them must not flood the log
#: (every one is counted in ticker_handshakes_refused_total).
_REFUSAL_LOG = LogLimiter(burst=5, interval_s=10.0)


async def websocket(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    cfg = service.config
    headers = request.headers
    verdict = service.admission.admit(
        peer=request.remote,
        origin=headers.get("Origin"),
        authorization=headers.get("Authorization"),
        # request.query parses and keeps a dict for the connection's life: only when there is one
        query_token=request.query.get("token") if request.query_string else None,
        forwarded_for=headers.get("X-Forwarded-For"),
        now=time.time(),
    )
    if isinstance(verdict, Refusal):
        service.fanout_stats.refused[verdict.code] += 1
        _REFUSAL_LOG.log(
            log, logging.INFO, verdict.code, "handshake refused: %s", verdict.message,
            extra={"peer": request.remote, "status": verdict.status},
        )  # fmt: skip
        return http_api.refusal(verdict)
    try:
        ws = web.WebSocketResponse(
            heartbeat=cfg.server.heartbeat_s or None,
            # aiohttp refuses a frame of max_msg_size bytes or more; the frame guard
            # (ticker/protocol/frame_guard.py) enforces the documented limit first.
            max_msg_size=cfg.limits.max_message_bytes + 1,
            compress=cfg.fanout.compression,
            decode_text=False,
        )
        await ws.prepare(request)
        sndbuf = cfg.fanout.socket_send_buffer
        sock = request.transport.get_extra_info("socket") if request.transport is not None else None
        if sndbuf and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        conn = Connection(
            service,
            ws,
            verdict.ip,
            request.transport,
            request.app[FLUSHER],
            verdict,
            observe=cfg.metrics.enabled,
            close_timeout_s=cfg.server.shutdown_timeout_s,
            max_message_bytes=cfg.limits.max_message_bytes,
        )
        clients = request.app[CLIENTS]
        clients.add(conn)  # not a context manager: its frame would live as long as the connection
        try:
            await conn.run()
        finally:
            clients.discard(conn)
        return ws
    finally:
        service.admission.release(verdict)


async def _feeds_ctx(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE]
    await service.start()  # feeds, or the bus publisher/gateway link (by role)
    yield
    await service.stop()
    states = ", ".join(f"{name}={st.value}" for name, st in service.runner.states.items())
    log.info("feeds stopped: %s", states)


async def _sweep_ctx(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE]
    clients = app[CLIENTS]
    limiter = LogLimiter(burst=3, interval_s=60.0)

    async def sweep() -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            try:
                now = service.clock()
                clients.sweep(now)
                service.sweep(now)
            except Exception:  # our bug: log it loudly (but not 4 times a second), keep serving
                limiter.log(log, logging.ERROR, "sweep", "housekeeping sweep failed", exc_info=True)

    task = asyncio.create_task(sweep(), name="sweep")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _close_clients(app: web.Application) -> None:
    """Close every client with 1001; those that do not answer within half the
    shutdown deadline are cut off, leaving the rest of it for the feeds."""
    app[SERVICE].licensing.begin_shutdown()  # their usage intervals end as "shutdown"
    await app[CLIENTS].close_all(app[SERVICE].config.server.shutdown_timeout_s / 2)


def make_app(config: Config, service: Service | None = None) -> web.Application:
    service = service or Service(config)
    app = web.Application(client_max_size=64 * 1024)
    app[SERVICE] = service
    app[REGISTRY] = make_registry(service)
    app[FLUSHER] = Flusher()
    app[CLIENTS] = Clients(service.fanout_stats, observe=config.metrics.enabled)
    if service.serves_clients:  # a feed process serves HTTP only
        app.router.add_get(config.server.ws_path, websocket)
    app.router.add_get("/healthz", http_api.healthz)
    app.router.add_get("/readyz", http_api.readyz)
    # The HTTP API is a sub-application so that only it passes the CORS middleware: an
    # app-level middleware would stay on every WebSocket's stack for its lifetime
    # (about 0.7 KiB per connection, docs/benchmarks.md).
    api = web.Application(middlewares=[cors_middleware(CorsPolicy(service.admission.origins))])
    api[SERVICE] = service
    api.router.add_get("/symbols", http_api.symbols)
    api.router.add_get("/snapshot", http_api.snapshot)
    api.router.add_get("/bars", bars_api.bars)
    app.add_subapp(API_PREFIX.rstrip("/"), api)
    web_ui.add_routes(app, config.server.ws_path)
    if config.metrics.enabled:
        app.router.add_get(config.metrics.path, http_api.metrics)
    app.cleanup_ctx.append(_feeds_ctx)
    app.cleanup_ctx.append(_sweep_ctx)
    app.on_shutdown.append(_close_clients)
    return app
