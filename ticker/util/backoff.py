"""Exponential backoff with full jitter, as a pure generator (no sleeping here)."""

from __future__ import annotations

import random
from collections.abc import Iterator


def backoff(
    initial: float = 0.5,
    maximum: float = 30.0,
    factor: float = 2.0,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """Yield delays: each drawn uniformly from [cap/2, cap], cap doubling to ``maximum``."""
    rand = rng or random.Random()
    cap = initial
    while True:
        yield cap / 2 + rand.random() * cap / 2
        cap = min(cap * factor, maximum)
