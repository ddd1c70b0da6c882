"""Which symbols an identity may see, and how fresh: glob patterns, compiled once.

Patterns follow :func:`fnmatch.fnmatchcase` (case-sensitive): ``*`` any run
of characters, ``?`` one character, ``[ABC]`` one of a set. ``EUR*`` grants
every symbol starting with EUR, ``*`` grants everything.

An entitlement grants a symbol either in real time or *delayed*: as it was
``delay_s`` seconds ago (a retail licence). Where several patterns match a
symbol, the most generous grant wins: real time beats any delay, a shorter
delay beats a longer one. :meth:`Entitlements.grant` is the one question
every path that shows a price must ask (:class:`Grant`: "what may this
identity see of this symbol, and as of when").

:meth:`Entitlements.allows` keeps its v1 meaning, *real time*: code that
has not learned about delays (a new feature asking only ``allows``) refuses a
delayed identity rather than showing it live data. Safe by default.

A set of patterns compiles into one regular expression per delay, cached by
the pattern tuples, so every connection holding the same key (or a token
with the same claims) shares one compiled matcher. Entitlements are checked
when a client subscribes or asks for a snapshot, never on the update path.
"""

from __future__ import annotations

import bisect
import fnmatch
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

_Match = Callable[[str], object]

#: (pattern, delay_s) pairs of delayed grants.
DelayedPatterns = tuple[tuple[str, int], ...]


def _compile(patterns: Iterable[str]) -> _Match:
    regex = "|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or r"(?!)"
    return re.compile(regex).match


@dataclass(frozen=True, slots=True)
class Grant:
    """What an identity may see of one symbol: real time (``delay_s == 0``) or the
    symbol as it was ``delay_s`` seconds ago.

    Every path that shows a price (subscribe, snapshot, REST, resume, bars)
    gates on this: a delayed grant may only be served data whose time is at or
    before :meth:`as_of`.
    """

    symbol: str
    delay_s: int = 0

    @property
    def delayed(self) -> bool:
        return self.delay_s > 0

    def as_of(self, now_us: int) -> int:
        """The newest instant (UTC µs) whose data this grant may see at ``now_us``."""
        return now_us - self.delay_s * 1_000_000

    def may_see(self, ts_us: int, now_us: int) -> bool:
        """May data stamped ``ts_us`` (a tick, a bar's end) be shown at ``now_us``?"""
        return ts_us <= self.as_of(now_us)


class Entitlements:
    __slots__ = ("patterns", "delayed", "_match", "_delayed")

    def __init__(self, patterns: tuple[str, ...], delayed: DelayedPatterns = ()) -> None:
        #: Real-time patterns.
        self.patterns = patterns
        #: Delayed patterns with their delays.
        self.delayed = delayed
        self._match: _Match | None = None if "*" in patterns else _compile(patterns)
        by_delay: dict[int, list[str]] = {}
        for pattern, delay in delayed:
            by_delay.setdefault(delay, []).append(pattern)
        #: (delay, matcher), shortest delay first.
        self._delayed = tuple((d, _compile(by_delay[d])) for d in sorted(by_delay))

    @property
    def everything(self) -> bool:
        """Every symbol in real time (the per-symbol checks can be skipped)."""
        return self._match is None

    @property
    def delays(self) -> tuple[int, ...]:
        """The delays these entitlements name, shortest first."""
        return tuple(d for d, _ in self._delayed)

    def delay_of(self, symbol: str) -> int | None:
        """0 for real time, the delay in seconds, or None: not entitled."""
        if self._match is None or self._match(symbol) is not None:
            return 0
        for delay, match in self._delayed:
            if match(symbol) is not None:
                return delay
        return None

    def grant(self, symbol: str) -> Grant | None:
        """What this identity may see of ``symbol``; None when nothing."""
        delay = self.delay_of(symbol)
        return None if delay is None else Grant(symbol, delay)

    def allows(self, symbol: str) -> bool:
        """May see ``symbol`` in real time (a delayed grant does not count: ask
        :meth:`grant` to serve delayed data)."""
        return self._match is None or self._match(symbol) is not None

    def sees(self, symbol: str) -> bool:
        """Entitled to ``symbol`` at all, in real time or delayed."""
        return self.delay_of(symbol) is not None

    def split(self, symbols: Iterable[str]) -> tuple[list[str], list[str]]:
        """``(allowed in real time, denied)``, each in the given order."""
        allowed: list[str] = []
        denied: list[str] = []
        for s in symbols:
            (allowed if self.allows(s) else denied).append(s)
        return allowed, denied

    def __repr__(self) -> str:
        if self.delayed:
            return f"Entitlements({list(self.patterns)!r}, delayed={list(self.delayed)!r})"
        return f"Entitlements({list(self.patterns)!r})"


@functools.lru_cache(maxsize=4096)
def entitlements(patterns: tuple[str, ...], delayed: DelayedPatterns = ()) -> Entitlements:
    """The (shared, cached) matcher for a tuple of patterns and delayed patterns."""
    return Entitlements(patterns, delayed)


def round_up_delay(delay_s: int, offered: Sequence[int]) -> int | None:
    """The shortest offered delay at least ``delay_s`` (sorted ``offered``), or None.

    A longer delay than a licence asks for is always allowed; a shorter one never."""
    i = bisect.bisect_left(offered, delay_s)
    return offered[i] if i < len(offered) else None


#: What every client gets while authentication is off.
EVERYTHING = entitlements(("*",))
