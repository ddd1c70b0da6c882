"""Security policy, pure: who may connect, what they may see, how much they may send.

Rule: may import :mod:`ticker.config` and :mod:`ticker.util`; never asyncio,
aiohttp, redis or prometheus_client. Decisions are values (an
:class:`~ticker.security.tokens.Identity`, a
:class:`~ticker.security.limits.Refusal`, an access event) that the I/O
layer carries out. PyJWT is loaded only where a JWT is configured.

Modules: :mod:`~ticker.security.tokens` (API keys and JWTs -> identities),
:mod:`~ticker.security.entitlements` (symbol patterns, real time or delayed:
the one ``grant`` every price-showing path asks),
:mod:`~ticker.security.admission` (the handshake: origin, token, limits),
:mod:`~ticker.security.access` (one connection's authentication state),
:mod:`~ticker.security.limits` (connection counts, inbound rate),
:mod:`~ticker.security.cors` (cross-origin requests to the HTTP API),
:mod:`~ticker.security.dev_certs` (a local CA and certificate for ``ticker dev-certs``).
"""
