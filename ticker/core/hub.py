"""Who is subscribed to what, and fan-out of encoded messages to them.

Plain bookkeeping: per symbol id, an insertion-ordered set of outboxes.
Publishing pushes the same bytes object into every subscriber's outbox and
returns; it never waits on a socket.
"""

from __future__ import annotations

from ticker.core.outbox import Outbox


class Hub:
    __slots__ = ("subscribers", "subscription_count")

    def __init__(self, n_symbols: int) -> None:
        self.subscribers: list[dict[Outbox, None]] = [{} for _ in range(n_symbols)]
        self.subscription_count = 0

    def add(self, sid: int, outbox: Outbox) -> bool:
        subs = self.subscribers[sid]
        if outbox in subs:
            return False
        subs[outbox] = None
        self.subscription_count += 1
        return True

    def remove(self, sid: int, outbox: Outbox) -> bool:
        if self.subscribers[sid].pop(outbox, 0) is None:
            self.subscription_count -= 1
            return True
        return False

    def has_subscribers(self, sid: int) -> bool:
        return bool(self.subscribers[sid])

    def publish_update(self, sid: int, mask: int, payload: bytes, now: float) -> None:
        for outbox in self.subscribers[sid]:
            outbox.push_update(sid, mask, payload, now)

    def publish_control(self, sid: int, payload: bytes, now: float) -> None:
        for outbox in self.subscribers[sid]:
            outbox.push(payload, now, sid)
