"""The aiohttp shell: sockets in, bytes out.

Rule: may import everything below it (observability, runtime, bus, feeds,
protocol, security, config, core, util); only :mod:`ticker.cli` imports it.
It moves bytes between sockets and the pure session and outbox, and owns
every connection's lifetime; no market-data decision is made here.

Modules: :mod:`~ticker.server.app` (routes, background tasks, shutdown),
:mod:`~ticker.server.connection` (one WebSocket: ``Connection.flush`` is
where a frame is written), :mod:`~ticker.server.flusher` (one write pass
per loop iteration), :mod:`~ticker.server.clients` (the connection set, its
sweep and close-all), :mod:`~ticker.server.http_api` (REST endpoints),
:mod:`~ticker.server.bars_api` (``GET /api/bars``),
:mod:`~ticker.server.web_ui` and ``web/`` (the quote board),
:mod:`~ticker.server.listener` (sockets, handshake deadlines, signals),
:mod:`~ticker.server.tls`, :mod:`~ticker.server.workers` (``--workers``),
:mod:`~ticker.server.keys` (typed app keys),
:mod:`~ticker.server.inbound` (client bytes through the frame guard to aiohttp),
:mod:`~ticker.server.cors` (CORS headers and preflights for ``/api/*``).
"""
