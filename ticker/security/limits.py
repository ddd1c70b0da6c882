"""Limits on what one client may take: message rate and connection counts.

Pure bookkeeping with injected time. The aiohttp layer asks before it
upgrades a connection (:class:`ConnectionLimits`) and the session asks for
every inbound message (:class:`InboundRate`); neither ever waits.

Inbound rate rules (a token bucket per connection):

* Each message, valid or not, text or binary, takes one token. The bucket
  holds ``burst`` tokens and refills at ``rate`` per second.
* A message that finds the bucket empty is refused (not parsed, answered
  with a ``rate_limited`` error).
* An *episode* of refusals ends when the client has been quiet long enough
  for the bucket to refill completely. A connection that reaches
  ``close_after`` refusals in one episode is closed (1008): a short burst
  costs a few errors, a client that keeps flooding is dropped.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from dataclasses import dataclass

from ticker.security.tokens import Identity


class TokenBucket:
    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = now

    def refill(self, now: float) -> None:
        elapsed = now - self.stamp
        if elapsed > 0:
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
            self.stamp = now

    def take(self, now: float) -> bool:
        self.refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait_s(self) -> float:
        """Seconds until the next token (after the last refill)."""
        return max(0.0, (1.0 - self.tokens) / self.rate)


class RateVerdict(enum.Enum):
    OK = "ok"
    REFUSE = "refuse"
    CLOSE = "close"


class InboundRate:
    __slots__ = ("bucket", "close_after", "refused", "refused_total")

    def __init__(self, rate: float, burst: int, close_after: int, now: float) -> None:
        self.bucket = TokenBucket(rate, burst, now)
        self.close_after = close_after
        #: Refusals in the current episode.
        self.refused = 0
        self.refused_total = 0

    def check(self, now: float) -> RateVerdict:
        bucket = self.bucket
        bucket.refill(now)
        if bucket.tokens >= bucket.burst:
            self.refused = 0  # quiet long enough for a full refill: the episode is over
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return RateVerdict.OK
        self.refused += 1
        self.refused_total += 1
        return RateVerdict.CLOSE if self.refused >= self.close_after else RateVerdict.REFUSE

    def retry_after_ms(self) -> int:
        return math.ceil(self.bucket.wait_s() * 1000)


#: Why WebSocket handshakes are refused before the upgrade (:attr:`Refusal.code`).
#: Exported as zero from the start so ``rate()`` sees the first refusal.
REFUSAL_REASONS: tuple[str, ...] = (
    "unauthenticated",
    "not_entitled",
    "origin_not_allowed",
    "server_full",
    "too_many_connections_per_ip",
    "too_many_connections_per_identity",
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A handshake or request turned away before any WebSocket exists."""

    status: int
    #: Machine-readable reason; also the metrics label.
    code: str
    message: str
    retry_after_s: int | None = None


class Ticket:
    """One admitted connection's place in the counts; handed back on close."""

    __slots__ = ("ip_key", "identity", "released")

    def __init__(self, ip_key: str, identity: str | None) -> None:
        self.ip_key = ip_key
        self.identity = identity
        self.released = False


class ConnectionLimits:
    """Open WebSocket connections: in total, per client IP, per identity."""

    def __init__(self, max_total: int, max_per_ip: int) -> None:
        self.max_total = max_total
        self.max_per_ip = max_per_ip
        self.total = 0
        self.by_ip: Counter[str] = Counter()
        self.by_identity: Counter[str] = Counter()

    def admit(self, ip_key: str, identity: Identity | None) -> Ticket | Refusal:
        if self.total >= self.max_total:
            return Refusal(
                503,
                "server_full",
                f"the server is at its limit of {self.max_total} connections; try again later",
                retry_after_s=5,
            )
        if self.max_per_ip and self.by_ip[ip_key] >= self.max_per_ip:
            return Refusal(
                429,
                "too_many_connections_per_ip",
                f"{ip_key} already has {self.max_per_ip} connections open, the limit per address",
                retry_after_s=5,
            )
        refusal = self._identity_refusal(identity)
        if refusal is not None:
            return refusal
        self.total += 1
        self.by_ip[ip_key] += 1
        name = None
        if identity is not None:
            name = identity.name
            self.by_identity[name] += 1
        return Ticket(ip_key, name)

    def _identity_refusal(self, identity: Identity | None) -> Refusal | None:
        if identity is None or not identity.max_connections:
            return None
        if self.by_identity[identity.name] >= identity.max_connections:
            return Refusal(
                429,
                "too_many_connections_per_identity",
                f"{identity.name} already has {identity.max_connections} connections open, its limit",
                retry_after_s=5,
            )
        return None

    def bind(self, ticket: Ticket, identity: Identity) -> Refusal | None:
        """Count an admitted connection against the identity it proved later (``auth`` op)."""
        if ticket.identity == identity.name:
            return None
        refusal = self._identity_refusal(identity)
        if refusal is not None:
            return refusal
        self._forget_identity(ticket)
        ticket.identity = identity.name
        self.by_identity[identity.name] += 1
        return None

    def release(self, ticket: Ticket) -> None:
        if ticket.released:
            return
        ticket.released = True
        self.total -= 1
        self.by_ip[ticket.ip_key] -= 1
        if not self.by_ip[ticket.ip_key]:
            del self.by_ip[ticket.ip_key]
        self._forget_identity(ticket)

    def _forget_identity(self, ticket: Ticket) -> None:
        name = ticket.identity
        if name is not None:
            self.by_identity[name] -= 1
            if not self.by_identity[name]:
                del self.by_identity[name]
            ticket.identity = None
