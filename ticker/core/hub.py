"""Who is subscribed to what, and fan-out of encoded messages to them.

Plain bookkeeping: per symbol id, an insertion-ordered set of outboxes.
Publishing pushes the same bytes object into every subscriber's outbox and
returns; it never waits on a socket.

Hub ids are symbol ids, and beyond them the delayed streams' ids
(:mod:`ticker.core.delay` extends the hub). For usage reports the hub counts
the updates and bytes it publishes per id: two additions per update, not per
subscriber.
"""

from __future__ import annotations

from ticker.core.outbox import Outbox


class Hub:
    __slots__ = ("subscribers", "subscription_count", "published", "published_bytes")

    def __init__(self, n_symbols: int) -> None:
        self.subscribers: list[dict[Outbox, None]] = [{} for _ in range(n_symbols)]
        self.subscription_count = 0
        #: Updates and payload bytes published per id so far (usage reports).
        self.published = [0] * n_symbols
        self.published_bytes = [0] * n_symbols

    def __len__(self) -> int:
        return len(self.subscribers)

    def extend(self, n: int) -> int:
        """Add ``n`` ids (delayed streams); returns the first."""
        first = len(self.subscribers)
        self.subscribers.extend({} for _ in range(n))
        self.published.extend([0] * n)
        self.published_bytes.extend([0] * n)
        return first

    def counters(self, hid: int) -> tuple[int, int]:
        """(updates, bytes) published on ``hid`` so far."""
        return self.published[hid], self.published_bytes[hid]

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
        self.published[sid] += 1
        self.published_bytes[sid] += len(payload)
        for outbox in self.subscribers[sid]:
            outbox.push_update(sid, mask, payload, now)

    def publish_control(self, sid: int, payload: bytes, now: float) -> None:
        for outbox in self.subscribers[sid]:
            outbox.push(payload, now, sid)
