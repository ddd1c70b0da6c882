"""What a feed needs to say about a symbol before it starts: decimals and pip size.

Resolution order, per field: the feed's ``instruments`` config, then the
built-in catalog (:mod:`feeds.catalog`) for known forex pairs and metals,
then what the data itself shows (decimals seen in a file's first lines);
decimals are the larger of catalog and data, so no precision is rounded away.

Decimals seen in data ignore binary float noise: a file written by a program
that did arithmetic on doubles holds ``1.0850000000000002`` for 1.085, and
that price has 3 decimals, not 16 (capped at 10); one that stored float32 holds
``1.0850000381469727``, also 3.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

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


#: How far from a d-decimal value a price may be, in units in its last place
#: (spacing of doubles at it), and still count as that value with float noise.
#: One operation on doubles errs by at most half a unit; 16 allows a few chained
#: ones, and stays far below any real decimal digit (1e-10 of 1.0 is 450,000 units).
NOISE_ULPS = 16


def decimals_of(prices: Iterable[float], limit: int = 10) -> int:
    """The fewest decimals ``d`` (at most ``limit``) such that every finite price is
    within :data:`NOISE_ULPS` units in the last place of its rounding to ``d``
    decimals: the decimals the text meant, not those of its float noise.

    Prices that need more than 8 decimals that way but are all exactly single
    precision values (an export that stored float32: ``1.0850000381469727``) are
    measured against float32's spacing instead; real 9- or 10-decimal prices are
    practically never all exact float32 values, so they keep their decimals.
    (From 32768 up a float32 has at most 8 binary fraction digits, so its exact
    value has at most 8 decimals: those come out as up to 8, never fewer than
    written.)"""
    p = np.fromiter(prices, dtype=np.float64)
    p = p[np.isfinite(p)]
    if not len(p):
        return 0
    d = _fewest(p, NOISE_ULPS * np.spacing(np.abs(p)), limit)
    if d > 8 and (p.astype(np.float32).astype(np.float64) == p).all():
        d = _fewest(p, np.spacing(np.abs(p).astype(np.float32)).astype(np.float64), limit)
    return d


def _fewest(p: np.ndarray, tolerance: np.ndarray, limit: int) -> int:
    for d in range(limit):
        if (np.abs(p - np.round(p, d)) <= tolerance).all():
            return d
    return limit


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
