"""Wire protocol v1, sans I/O (docs/protocol.md).

Rule: pure. May import :mod:`ticker.core`, :mod:`ticker.security` and
:mod:`ticker.util`; never asyncio, aiohttp, redis or prometheus_client.
Bytes in, replies queued in an outbox and close verdicts out.

Modules: :mod:`~ticker.protocol.requests` (parse a client message into a
typed :data:`~ticker.protocol.requests.Request`),
:mod:`~ticker.protocol.session` (one connection's protocol state,
dispatching exhaustively on the request type),
:mod:`~ticker.protocol.bar_session` (one connection's bar subscriptions),
:mod:`~ticker.protocol.replies` (acks, errors, pongs, warnings, heartbeats),
:mod:`~ticker.protocol.resume` (``since`` on subscribe: replay or snapshot),
:mod:`~ticker.protocol.heartbeat` (when an idle connection is due a heartbeat),
:mod:`~ticker.protocol.errors` (the peer's fault: ``ProtocolError``),
:mod:`~ticker.protocol.codes` (error codes, close codes, close reasons),
:mod:`~ticker.protocol.frames` (RFC 6455 framing of text frames),
:mod:`~ticker.protocol.frame_guard` (client frame headers checked before aiohttp parses them),
:mod:`~ticker.protocol.catalog` (names, patterns and ``@groups`` to hub ids,
real time or a delayed stream).
"""
