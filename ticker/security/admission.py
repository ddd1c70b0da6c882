"""Whether to upgrade a connection: origin, client address, token, limits.

:meth:`Admission.admit` decides from the few header values that matter and
returns either an :class:`Admitted` (go ahead and upgrade) or a
:class:`~ticker.limits.Refusal` (HTTP status, code and message, sent
*before* any upgrade). The aiohttp handler only copies headers in and
applies the verdict. Checks run cheapest and least revealing first:
origin (403), token (401/403), then connection counts (503/429).

Client address: the TCP peer, unless the peer is a trusted proxy; then
``X-Forwarded-For`` is read from the right, skipping trusted proxies, and
the first address that is not one is the client (entries further left were
written by the client itself and prove nothing). IPv6 clients are counted
per /64, the block one subscriber usually gets.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ticker.config import Config
from ticker.security.limits import ConnectionLimits, Refusal, Ticket
from ticker.security.tokens import Authenticator, Identity, TokenError, bearer_token

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _origin_regex(pattern: str) -> str:
    """``*`` matches anything; every other character only itself (an IPv6 origin's
    brackets are not a character class)."""
    return ".*".join(re.escape(part) for part in pattern.lower().split("*")) + r"\Z"


class OriginPolicy:
    """Browser origins allowed to open a WebSocket (cross-site WebSocket hijacking)."""

    def __init__(self, allowed: Sequence[str]) -> None:
        self.allowed = tuple(allowed)
        regex = "|".join(f"(?:{_origin_regex(o)})" for o in self.allowed)
        self._match: Callable[[str], object] | None = re.compile(regex).match if regex else None

    def allows(self, origin: str | None) -> bool:
        """True without a list, for requests without an Origin (not a browser), or on a match."""
        if self._match is None or origin is None:
            return True
        return self._match(origin.strip().lower()) is not None


def _parse_ip(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Sequence[IPNetwork]) -> str:
    """The client's address, believing ``X-Forwarded-For`` only as far as trusted proxies wrote it."""
    ip = _parse_ip(peer) if peer else None
    if ip is None:
        return peer or "unknown"

    def is_trusted(addr: IPAddress) -> bool:
        return any(addr in net for net in trusted)

    if not forwarded_for or not is_trusted(ip):
        return str(ip)
    for hop in reversed(forwarded_for.split(",")):
        addr = _parse_ip(hop)
        if addr is None:  # garbage: whatever the client wrote; stop at the last sure hop
            break
        ip = addr
        if not is_trusted(addr):
            break
    return str(ip)


def ip_key(ip: str) -> str:
    """What per-address limits count by: the address, or its /64 for IPv6."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(addr, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return ip


@dataclass(slots=True)
class Admitted:
    ip: str
    #: None while auth is off, or until the client sends an ``auth`` message.
    identity: Identity | None
    ticket: Ticket


class Admission:
    def __init__(self, config: Config, authenticator: Authenticator | None) -> None:
        self.authenticator = authenticator
        self.origins = OriginPolicy(config.server.allowed_origins)
        self.trusted = tuple(ipaddress.ip_network(n, strict=False) for n in config.server.trusted_proxies)
        lim = config.limits
        self.limits = ConnectionLimits(lim.max_connections, lim.max_connections_per_ip)

    def client_ip(self, peer: str | None, forwarded_for: str | None) -> str:
        return client_ip(peer, forwarded_for, self.trusted)

    def identify(self, authorization: str | None, query_token: str | None, now: float) -> Identity | None:
        """The identity in the request's token; None when it carries none or auth is off.

        Raises :class:`TokenError` for a bad token.
        """
        if self.authenticator is None:
            return None
        token = bearer_token(authorization)
        if token is None:
            token = query_token
        if token is None:
            return None
        return self.authenticator.verify(token, now)

    def admit(
        self,
        *,
        peer: str | None,
        origin: str | None,
        authorization: str | None,
        query_token: str | None,
        forwarded_for: str | None,
        now: float,
    ) -> Admitted | Refusal:
        """Decide on a WebSocket handshake; ``now`` is Unix time."""
        ip = self.client_ip(peer, forwarded_for)
        if not self.origins.allows(origin):
            return Refusal(
                403,
                "origin_not_allowed",
                f"Origin {str(origin)[:100]!r} may not open a WebSocket here (server.allowed_origins)",
            )
        try:
            identity = self.identify(authorization, query_token, now)
        except TokenError as exc:
            return Refusal(exc.status, exc.code, exc.message)
        verdict = self.limits.admit(ip_key(ip), identity)
        if isinstance(verdict, Refusal):
            return verdict
        return Admitted(ip, identity, verdict)

    def login(self, admitted: Admitted, token: str, now: float) -> Identity:
        """Authenticate an admitted connection by message; raises :class:`TokenError`."""
        if self.authenticator is None:
            raise TokenError("authentication is not enabled on this server; no token is needed")
        identity = self.authenticator.verify(token, now)
        refusal = self.limits.bind(admitted.ticket, identity)
        if refusal is not None:
            raise TokenError(refusal.message, status=refusal.status, code=refusal.code)
        admitted.identity = identity
        return identity

    def release(self, admitted: Admitted) -> None:
        self.limits.release(admitted.ticket)
