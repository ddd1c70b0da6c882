"""Which symbols an identity may see: glob patterns, compiled once.

Patterns follow :func:`fnmatch.fnmatchcase` (case-sensitive): ``*`` any run
of characters, ``?`` one character, ``[ABC]`` one of a set. ``EUR*`` grants
every symbol starting with EUR, ``*`` grants everything.

A set of patterns compiles into one regular expression, cached by the
pattern tuple, so every connection holding the same key (or a token with the
same claim) shares one compiled matcher. Entitlements are checked when a
client subscribes or asks for a snapshot, never on the update path.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable


class Entitlements:
    __slots__ = ("patterns", "_match")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = patterns
        if "*" in patterns:
            self._match = None  # everything: skip the regex
        else:
            regex = "|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or r"(?!)"
            self._match = re.compile(regex).match

    @property
    def everything(self) -> bool:
        return self._match is None

    def allows(self, symbol: str) -> bool:
        return self._match is None or self._match(symbol) is not None

    def split(self, symbols: Iterable[str]) -> tuple[list[str], list[str]]:
        """``(allowed, denied)``, each in the given order."""
        allowed: list[str] = []
        denied: list[str] = []
        for s in symbols:
            (allowed if self.allows(s) else denied).append(s)
        return allowed, denied

    def __repr__(self) -> str:
        return f"Entitlements({list(self.patterns)!r})"


@functools.lru_cache(maxsize=4096)
def entitlements(patterns: tuple[str, ...]) -> Entitlements:
    """The (shared, cached) matcher for a tuple of patterns."""
    return Entitlements(patterns)


#: What every client gets while authentication is off.
EVERYTHING = entitlements(("*",))
