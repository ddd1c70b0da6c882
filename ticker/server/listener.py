"""Serving the app on a socket: listener, handshake deadlines, signals, shutdown.

aiohttp's own ``run_app`` cannot bound the TLS handshake, so the service
runs its own short loop on aiohttp's public runner API:

* **Handshake deadlines.** The TLS handshake must finish within
  ``server.handshake_timeout_s`` (asyncio's ``ssl_handshake_timeout``), and
  then the HTTP request within the same time again: aiohttp's keep-alive
  timer starts when a connection is made and is not pushed back by bytes
  that do not complete a request, so a client that opens a socket and
  sends nothing, or half a request, or one byte a second, is dropped when
  it fires. The same timer closes idle HTTP keep-alive connections.
* **SIGTERM / SIGINT.** Stop listening, close every client with 1001 and
  stop the feeds (``ticker.app``'s shutdown hooks), all within
  ``server.shutdown_timeout_s``; then exit 0. A second signal during the
  shutdown is ignored: the deadline already bounds it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import time

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ticker.config import Config, ConfigError
from ticker.server.tls import server_context

log = logging.getLogger("ticker.serve")

#: Extra time the whole shutdown may take beyond shutdown_timeout_s before we stop waiting.
SHUTDOWN_SLACK_S = 1.0


class Site(web.BaseSite):
    """A TCP listener whose TLS handshake has a deadline."""

    __slots__ = ("host", "requested_port", "handshake_timeout_s", "reuse_port")

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        handshake_timeout_s: float,
        reuse_port: bool = False,
        backlog: int = 2048,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context, backlog=backlog)
        self.host = host
        self.requested_port = port
        self.handshake_timeout_s = handshake_timeout_s
        self.reuse_port = reuse_port

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def port(self) -> int:
        if self._server is not None and self._server.sockets:  # type: ignore[attr-defined]
            return int(self._server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        return self.requested_port

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            server,
            self.host,
            self.requested_port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            ssl_handshake_timeout=self.handshake_timeout_s if self._ssl_context else None,
            reuse_port=self.reuse_port or None,
        )


class ClientFaultFilter(logging.Filter):
    """Malformed HTTP from a client is the client's fault, not ours (aiohttp logs it as an
    error with a traceback, which lets anyone flood the logs): reduce it to one line,
    shown only at debug level."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        if not log.isEnabledFor(logging.DEBUG):
            return False
        peer = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        record.msg = "bad HTTP request from %s: %s"
        record.args = (peer, (str(exc.message).splitlines() or [""])[0][:200])
        record.exc_info = None
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def _install_log_filter() -> None:
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, ClientFaultFilter) for f in server_log.filters):
        server_log.addFilter(ClientFaultFilter())


def make_runner(app: web.Application, config: Config) -> web.AppRunner:
    _install_log_filter()
    s = config.server
    return web.AppRunner(
        app,
        access_log=None,
        keepalive_timeout=s.handshake_timeout_s,
        shutdown_timeout=max(s.shutdown_timeout_s / 4, 0.1),
    )


async def start_site(
    runner: web.AppRunner,
    config: Config,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    *,
    reuse_port: bool = False,
) -> Site:
    site = Site(
        runner,
        host,
        port,
        ssl_context=ssl_context,
        handshake_timeout_s=config.server.handshake_timeout_s,
        reuse_port=reuse_port,
        backlog=config.server.backlog,
    )
    await site.start()
    return site


async def _serve(
    app: web.Application, config: Config, ssl_context: ssl.SSLContext | None, reuse_port: bool
) -> None:
    runner = make_runner(app, config)
    await runner.setup()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[str] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig.name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        host, port = config.server.host, config.server.port
        try:
            site = await start_site(runner, config, host, port, ssl_context, reuse_port=reuse_port)
        except OSError as exc:
            raise ConfigError(f"server.port: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        log.info("listening on %s%s", site.name, config.server.ws_path)
        await stop.wait()
    finally:
        deadline = config.server.shutdown_timeout_s
        log.info(
            "%s: shutting down (deadline %g s)", received[0] if received else "stopping", deadline
        )
        started = time.monotonic()
        try:
            async with asyncio.timeout(deadline + SHUTDOWN_SLACK_S):
                await runner.cleanup()
        except TimeoutError:
            log.error("shutdown did not finish within %g s; exiting anyway", deadline + SHUTDOWN_SLACK_S)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        log.info("shutdown complete in %.2f s", time.monotonic() - started)


def serve(
    app: web.Application,
    config: Config,
    loop: asyncio.AbstractEventLoop | None = None,
    *,
    reuse_port: bool = False,
) -> int:
    """Run until SIGTERM or SIGINT on ``loop`` (a new asyncio loop by default); the exit code.
    ``reuse_port`` lets ``--workers`` processes share the port (SO_REUSEPORT).

    Raises :class:`~ticker.config.ConfigError` for unusable TLS files, before listening.
    """
    ssl_context = server_context(config.tls)
    factory = (lambda: loop) if loop is not None else None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_serve(app, config, ssl_context, reuse_port))
    return 0
