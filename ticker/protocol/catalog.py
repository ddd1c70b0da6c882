"""What the names in a request mean, and which stream of each symbol a client gets.

A ``symbols`` list may hold, besides plain symbol names (v1):

* glob patterns (``"XAU*"``, ``"*JPY"``, ``"EUR???"``, ``"[EG]BPUSD"``: any name with
  ``*``, ``?`` or ``[``), matched case-sensitively against every symbol;
* named groups from config (``[groups] majors = [...]``), written ``"@majors"``.

:meth:`Catalog.select` expands them, in request order, without repeats, and
asks the identity's entitlements (:meth:`~ticker.security.entitlements.Entitlements.grant`)
about each symbol: a real-time grant subscribes the symbol's own hub id, a
delayed one the hub id of its delayed stream (:mod:`ticker.core.delay`),
nothing leaves it out. A plain name that is not entitled is reported
(``not_entitled``, as in v1); a pattern or group only ever yields what the
identity may see, and one that yields nothing is reported as matching
nothing (``unknown_symbol``), so patterns cannot be used to learn which
symbols exist beyond a licence.

"Symbols that appear later": ticker's symbol table is fixed when the service
starts (every feed declares its instruments before it runs, and every
configured instrument is in the table from the start, ``pending`` until its
feed first quotes it). A pattern therefore expands to every symbol it will
ever match, including those no feed has quoted yet; their subscribers get a
``pending`` snapshot and then the symbol's first data, with a ``status``
``live``, the moment its feed starts quoting it. An instrument a feed is not
configured with cannot appear at run time.

Pure: no I/O. Patterns compile once (cached); a request may hold at most
:data:`MAX_PATTERNS` patterns and groups, so matching stays cheap.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ticker.core.delay import DelayLines
from ticker.core.encode import QuoteEncoder
from ticker.core.outbox import UpdateEncoder
from ticker.core.table import SymbolTable
from ticker.security.entitlements import Entitlements
from ticker.util.errors import FieldError

#: Patterns and groups in one request at most.
MAX_PATTERNS = 16
GROUP_PREFIX = "@"
_WILDCARDS = frozenset("*?[")


def is_pattern(name: str) -> bool:
    return not _WILDCARDS.isdisjoint(name)


def is_group(name: str) -> bool:
    return name.startswith(GROUP_PREFIX)


@functools.lru_cache(maxsize=1024)
def _matcher(pattern: str) -> Callable[[str], object]:
    return re.compile(fnmatch.translate(pattern)).match


@dataclass(slots=True)
class Selection:
    """A request's names, expanded and cut to what the identity may see."""

    #: Hub ids (one per symbol: real time or its delayed stream), in request order.
    ids: list[int] = field(default_factory=list)
    #: Names, patterns and groups that matched nothing (that the identity may see).
    unknown: list[str] = field(default_factory=list)
    #: Plain names the identity may not see.
    denied: list[str] = field(default_factory=list)


class Catalog:
    """The symbol table, the groups and the delayed streams, as one id space."""

    __slots__ = ("table", "delayed", "groups", "_encoder")

    def __init__(
        self,
        table: SymbolTable,
        encoder: QuoteEncoder,
        groups: Mapping[str, Sequence[str]] | None = None,
        delayed: DelayLines | None = None,
    ) -> None:
        self.table = table
        self._encoder = encoder
        self.delayed = delayed
        #: group name -> symbol ids, expanded once (the table is fixed).
        self.groups: dict[str, tuple[int, ...]] = {}
        for name, members in (groups or {}).items():
            sids: dict[int, None] = {}
            for i, member in enumerate(members):
                found = self._match(member)
                if not found:
                    what = "matches no symbol" if is_pattern(member) else "is not a symbol"
                    raise FieldError(f"groups.{name}", f"[{i}] {member!r} {what} of the feeds")
                sids.update(dict.fromkeys(found))
            self.groups[name] = tuple(sids)

    # ------------------------------------------------------------ names

    def _match(self, name: str) -> list[int]:
        """Symbol ids a plain name or a pattern names (not a group)."""
        if not is_pattern(name):
            sid = self.table.ids.get(name)
            return [] if sid is None else [sid]
        match = _matcher(name)
        return [sid for sid, s in enumerate(self.table.symbols) if match(s) is not None]

    def expand(self, names: Iterable[str]) -> tuple[list[tuple[int, bool]], list[str]]:
        """``([(sid, named explicitly)], unknown)``: every symbol the names mean, in
        order, without repeats; ``unknown`` the names that mean nothing. ValueError
        for more than :data:`MAX_PATTERNS` patterns and groups."""
        names = list(names)
        check_patterns(names)
        out: dict[int, bool] = {}
        unknown: list[str] = []
        for name in names:
            if is_group(name):
                sids: Sequence[int] = self.groups.get(name[1:], ())
            else:
                sids = self._match(name)
            if not sids:
                unknown.append(name)
            explicit = not (is_group(name) or is_pattern(name))
            for sid in sids:
                out[sid] = out.get(sid, False) or explicit
        return list(out.items()), unknown

    def select(self, names: Sequence[str], entitled: Entitlements) -> Selection:
        """The hub ids ``entitled`` may have for ``names`` (a subscribe, a snapshot)."""
        found, unknown = self.expand(names)
        sel = Selection(unknown=unknown)
        if entitled.everything:
            sel.ids = [sid for sid, _ in found]
            return sel
        symbols = self.table.symbols
        yielded: set[int] = set()
        for sid, explicit in found:
            hid = self.hub_id(sid, entitled.delay_of(symbols[sid]))
            if hid is not None:
                sel.ids.append(hid)
                yielded.add(sid)
            elif explicit:
                sel.denied.append(symbols[sid])
        # A pattern or group that yielded nothing the identity may see "matches nothing".
        for name in names:
            if (is_pattern(name) or is_group(name)) and name not in unknown:
                sids = self.groups.get(name[1:], ()) if is_group(name) else self._match(name)
                if yielded.isdisjoint(sids):
                    sel.unknown.append(name)
        return sel

    def held(self, names: Sequence[str], held: Iterable[int]) -> tuple[list[int], list[str]]:
        """For an unsubscribe: ``(hub ids, unknown)``, the held subscriptions the names
        mean (a plain name that is not held still counts as known, as in v1)."""
        by_sid = {self.source(hid)[0]: hid for hid in held}
        found, unknown = self.expand(names)
        return [by_sid.get(sid, sid) for sid, _ in found], unknown

    # ------------------------------------------------------------ ids

    def hub_id(self, sid: int, delay_s: int | None) -> int | None:
        """The hub id serving ``sid`` at ``delay_s`` (0: real time); None when not
        entitled, or for a delay this server keeps no line for."""
        if delay_s is None:
            return None
        if delay_s == 0:
            return sid
        d = self.delayed
        if d is None or not d.offers(delay_s):
            return None
        return d.hub_id(sid, delay_s)

    def source(self, hid: int) -> tuple[int, int]:
        """(symbol id, delay_s) of a hub id."""
        if self.delayed is None:
            return hid, 0
        return self.delayed.source(hid)

    def name(self, hid: int) -> str:
        return self.table.symbols[self.source(hid)[0]]

    def delay(self, hid: int) -> int:
        return self.source(hid)[1]

    @property
    def encode_update(self) -> UpdateEncoder:
        """The update encoder for both id spaces (what every outbox is given)."""
        return self._encoder.update if self.delayed is None else self.delayed.encode_update

    def snapshot(self, hid: int) -> bytes:
        if self.delayed is None:
            return self._encoder.snapshot(hid)
        return self.delayed.snapshot(hid)

    def snapshot_dict(self, hid: int) -> dict[str, Any]:
        if self.delayed is None:
            return self._encoder.snapshot_dict(hid)
        return self.delayed.snapshot_dict(hid)

    def state(self, hid: int) -> tuple[int, int]:
        """(seq, status) of the stream a hub id names."""
        if self.delayed is None:
            return int(self.table.seq[hid]), int(self.table.status[hid])
        return self.delayed.state(hid)


def check_patterns(names: Sequence[str]) -> None:
    """Raise ValueError when a request holds too many patterns and groups."""
    n = sum(1 for name in names if is_pattern(name) or is_group(name))
    if n > MAX_PATTERNS:
        raise ValueError(f"at most {MAX_PATTERNS} patterns and groups in one request, got {n}")
