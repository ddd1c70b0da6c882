"""Showing prices as trading screens do: big figure, pips, pipette; spreads in pips.

Pure functions, mirrored by ``ticker/server/web/quotes.js`` (``splitPrice``,
``spreadPips``) so the terminal and the browser split prices the same way.
"""

from __future__ import annotations

import math


def pip_decimals(pip_size: float) -> int:
    """Decimal places of a pip: 0.0001 -> 4, 0.01 -> 2, 0.1 -> 1."""
    return max(0, round(-math.log10(pip_size)))


def split_price(price: float, decimals: int, pip_size: float) -> tuple[str, str, str]:
    """(big figure, pips, pipette): EURUSD 1.08412 -> ("1.08", "41", "2").

    The pips are the two digits ending at the pip position; the pipette is what
    follows. Two pip digits never straddle the decimal point: where they would (a
    metal quoted to cents with a 0.1 pip, XAUUSD 4080.25), the decimals are what a
    trader reads, so they are the large part: ("4080.", "25", "").
    """
    text = f"{price:.{decimals}f}"
    pipette = max(0, decimals - pip_decimals(pip_size))
    head = text[: len(text) - pipette] if pipette else text
    cut, digits = len(head), 0
    while cut > 0 and digits < 2:
        cut -= 1
        if head[cut] != ".":
            digits += 1
    point = text.find(".")
    if cut < point < len(head) - 1:
        return text[: point + 1], text[point + 1 :], ""
    return head[:cut], head[cut:], text[len(head) :]


def spread_pips(bid: float, ask: float, pip_size: float) -> float:
    """Ask minus bid in pips, to one decimal."""
    return round((ask - bid) / pip_size, 1)
