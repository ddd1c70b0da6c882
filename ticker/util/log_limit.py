"""Rate limiting for log lines that can repeat without end.

A feed failing in a loop, a file full of malformed lines or a recurring bug
in a periodic task must not flood the log (and the disk, and the log
shipper). :class:`LogLimiter` keeps a token bucket per key: ``burst`` lines
straight away, then one line per ``interval_s``. Lines it suppresses are
counted, and the count rides on the next line let through
(``suppressed=N`` in its context), so an operator still sees how often the
error happened. The metrics count every occurrence regardless.

The decision (:meth:`LogLimiter.allow`) is pure bookkeeping with an
injected clock; :meth:`LogLimiter.log` is the one-line convenience that
logs when allowed. Keys are bounded (least recently used ones are
forgotten), so a key per file or per feed is fine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from ticker.util.errors import FieldError


class _Bucket:
    __slots__ = ("tokens", "last", "suppressed")

    def __init__(self, tokens: float, last: float) -> None:
        self.tokens = tokens
        self.last = last
        self.suppressed = 0


class LogLimiter:
    def __init__(
        self,
        *,
        burst: int = 5,
        interval_s: float = 60.0,
        max_keys: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1:
            raise FieldError("burst", f"must be >= 1, got {burst}")
        if interval_s <= 0:
            raise FieldError("interval_s", f"must be > 0, got {interval_s}")
        self.burst = burst
        self.interval_s = interval_s
        self.max_keys = max(max_keys, 1)
        self._clock = clock
        self._buckets: dict[Hashable, _Bucket] = {}

    def allow(self, key: Hashable) -> int | None:
        """``None``: suppress this line. Otherwise log it: the number is how many
        lines for ``key`` were suppressed since the last one let through."""
        now = self._clock()
        bucket = self._buckets.pop(key, None)  # re-inserted below: most recent last
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                del self._buckets[next(iter(self._buckets))]
            bucket = _Bucket(float(self.burst), now)
        else:
            refill = max(now - bucket.last, 0.0) / self.interval_s
            bucket.tokens = min(float(self.burst), bucket.tokens + refill)
            bucket.last = now
        self._buckets[key] = bucket
        if bucket.tokens < 1.0:
            bucket.suppressed += 1
            return None
        bucket.tokens -= 1.0
        suppressed, bucket.suppressed = bucket.suppressed, 0
        return suppressed

    def log(
        self,
        logger: logging.Logger,
        level: int,
        key: Hashable,
        msg: str,
        *args: object,
        exc_info: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> bool:
        """Log ``msg`` unless ``key`` is over its rate; True when logged."""
        suppressed = self.allow(key)
        if suppressed is None:
            return False
        context = dict(extra or {})
        if suppressed:
            context["suppressed"] = suppressed
        logger.log(level, msg, *args, exc_info=exc_info, extra=context, stacklevel=2)
        return True
