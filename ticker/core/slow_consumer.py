"""When a client that cannot keep up gets warned, and when it gets cut off.

A connection is *over the limit* while its pending bytes exceed
``max_bytes`` or its lag (time since its queue was last empty) exceeds
``max_lag_s``. The first check over the limit yields one WARN; staying over
for ``grace_s`` yields CLOSE (the caller closes with 1013). Dropping back
under the limit ends the episode, so a later one warns again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SlowAction(enum.Enum):
    """What to do about a connection now."""

    OK = "ok"
    WARN = "warn"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class SlowConsumerPolicy:
    max_bytes: int
    max_lag_s: float
    grace_s: float


class SlowConsumerGuard:
    """Per-connection episode state for :class:`SlowConsumerPolicy`."""

    __slots__ = ("policy", "over_since", "warned")

    def __init__(self, policy: SlowConsumerPolicy) -> None:
        self.policy = policy
        self.over_since: float | None = None
        self.warned = False

    def check(self, pending_bytes: int, lag_s: float, now: float) -> SlowAction:
        p = self.policy
        if pending_bytes <= p.max_bytes and lag_s <= p.max_lag_s:
            self.over_since = None
            self.warned = False
            return SlowAction.OK
        if self.over_since is None:
            self.over_since = now
        if now - self.over_since >= p.grace_s:
            return SlowAction.CLOSE
        if not self.warned:
            self.warned = True
            return SlowAction.WARN
        return SlowAction.OK

    def describe(self, pending_bytes: int, lag_s: float) -> str:
        p = self.policy
        if pending_bytes > p.max_bytes:
            return f"{pending_bytes} bytes pending (limit {p.max_bytes})"
        return f"{lag_s:.1f} s behind (limit {p.max_lag_s:g} s)"
