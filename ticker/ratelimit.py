"""At most one log line per interval, with a count of what was held back."""

from __future__ import annotations


class Throttle:
    """``ready(now)`` is True at most once per ``interval_s``; ``held`` counts the
    calls in between, so the next line can say how many it stands for."""

    __slots__ = ("interval_s", "_next", "held")

    def __init__(self, interval_s: float = 10.0) -> None:
        self.interval_s = interval_s
        self._next = float("-inf")
        self.held = 0

    def ready(self, now: float) -> bool:
        if now >= self._next:
            self._next = now + self.interval_s
            return True
        self.held += 1
        return False

    def take_held(self) -> int:
        held, self.held = self.held, 0
        return held
