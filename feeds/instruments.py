"""What a feed needs to say about a symbol before it starts: decimals and pip size.

Resolution order, per field: the feed's ``instruments`` config, then the
built-in catalog (:mod:`feeds.catalog`) for known forex pairs and metals,
then what the data itself shows (decimals seen in a file's first lines);
decimals are the larger of catalog and data, so no precision is rounded away.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from feeds.catalog import spec
from ticker.core.model import Instrument
from ticker.util.errors import FieldError


@dataclass(frozen=True, slots=True)
class InstrumentOptions:
    """``instruments.SYMBOL`` in a feed's config; unset fields are looked up or inferred."""

    decimals: int = field(default=-1, metadata={"min": -1, "max": 10})
    #: 0 = look up or infer.
    pip_size: float = field(default=0.0, metadata={"min": 0})
    description: str = ""


def decimals_of(prices: Iterable[float], limit: int = 10) -> int:
    """The fewest decimals that write every price exactly (as read from text)."""
    best = 0
    for p in prices:
        if not math.isfinite(p):
            continue
        while best < limit and round(p, best) != p:
            best += 1
    return best


def default_pip(decimals: int) -> float:
    """Forex convention: 5 or 3 decimals quote a tenth of a pip; otherwise one point."""
    return 10.0 ** -(decimals - 1) if decimals in (3, 5) else 10.0**-decimals


def resolve(symbol: str, given: InstrumentOptions | None, inferred_decimals: int | None) -> Instrument:
    """The instrument for ``symbol``; ValueError naming it when its decimals are unknowable."""
    given = given or InstrumentOptions()
    try:
        known: Instrument | None = spec(symbol).instrument
    except KeyError:
        known = None
    decimals = given.decimals
    if decimals < 0:
        # Never round away precision the data has (HistData gold has 3 decimals, say).
        candidates = [d for d in (known.decimals if known else None, inferred_decimals) if d is not None]
        decimals = max(candidates, default=-1)
    if decimals < 0:
        raise FieldError(
            "instruments", f"{symbol} is not a known pair; give instruments.{symbol}.decimals (and pip_size)"
        )
    pip = given.pip_size or (known.pip_size if known else default_pip(decimals))
    description = given.description or (known.description if known else "")
    return Instrument(symbol, decimals, pip, description)
