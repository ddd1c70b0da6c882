"""Reference data for synthetic instruments: levels, decimals, spreads, volatility.

Forex levels are derived from one USD value per currency, so crosses are
consistent with the majors (EURJPY = EURUSD × USDJPY at start). Levels are
late-2025 ballpark figures; the point is realism of shape, not of value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import permutations

from ticker.core.model import Instrument

#: USD value of one unit of each currency, and how liquid it trades.
USD_VALUE: dict[str, float] = {
    "USD": 1.0, "EUR": 1.16, "GBP": 1.315, "JPY": 1 / 155.2, "CHF": 1 / 0.805,
    "AUD": 0.65, "CAD": 1 / 1.405, "NZD": 0.565, "SEK": 1 / 9.45, "NOK": 1 / 10.1,
    "DKK": 1 / 6.43, "SGD": 1 / 1.30, "HKD": 1 / 7.78, "MXN": 1 / 18.4,
    "ZAR": 1 / 17.3, "PLN": 1 / 3.66, "CNH": 1 / 7.11, "TRY": 1 / 42.3,
}  # fmt: skip
MAJOR_CURRENCIES = ("EUR", "USD", "JPY", "GBP", "CHF", "AUD", "CAD", "NZD")
#: Market convention for which currency is the base of a pair.
BASE_PRIORITY = ("EUR", "GBP", "AUD", "NZD", "USD", "CAD", "CHF", "SGD", "NOK", "SEK",
                 "DKK", "PLN", "TRY", "ZAR", "MXN", "HKD", "CNH", "JPY")  # fmt: skip

MAJORS = ("EURUSD", "USDJPY", "GBPUSD", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD")
CROSSES = (
    "EURGBP", "EURJPY", "EURCHF", "EURAUD", "EURCAD", "EURNZD",
    "GBPJPY", "GBPCHF", "GBPAUD", "GBPCAD", "GBPNZD",
    "AUDJPY", "AUDNZD", "AUDCAD", "AUDCHF", "CADJPY", "CHFJPY",
    "NZDJPY", "NZDCAD", "NZDCHF", "CADCHF",
)  # fmt: skip
METALS = ("XAUUSD", "XAGUSD")
#: Metal codes: a symbol starting with one trades on the metals calendar.
METAL_CODES = ("XAU", "XAG", "XPT", "XPD")
#: Common crypto-asset codes (bases and stablecoin quotes): a symbol containing one
#: trades around the clock. Feeds of crypto venues say so themselves; this covers
#: generic feeds and replays (``BTCUSD``, ``ETH-USD``, ``SOLUSDT``).
CRYPTO_CODES = frozenset({
    "BTC", "XBT", "ETH", "SOL", "XRP", "ADA", "DOGE", "LTC", "BCH", "DOT", "AVAX", "LINK", "MATIC",
    "POL", "TRX", "XLM", "ATOM", "UNI", "ETC", "FIL", "NEAR", "APT", "ARB", "OP", "SHIB", "TON",
    "BNB", "USDT", "USDC", "DAI",
})  # fmt: skip
DEFAULT_SYMBOLS: tuple[str, ...] = MAJORS + CROSSES + METALS

#: Typical spreads in pips where the generic rule is too coarse.
_SPREAD_PIPS = {"EURUSD": 0.2, "USDJPY": 0.3, "GBPUSD": 0.4, "USDCHF": 0.5,
                "AUDUSD": 0.4, "USDCAD": 0.5, "NZDUSD": 0.6, "EURGBP": 0.6,
                "EURJPY": 0.8, "EURCHF": 0.9, "GBPJPY": 1.4}  # fmt: skip
_VOL = {"EURUSD": 0.07, "USDJPY": 0.10, "GBPUSD": 0.08, "USDCHF": 0.08, "AUDUSD": 0.10,
        "USDCAD": 0.06, "NZDUSD": 0.10}  # fmt: skip
_RATE = {"EURUSD": 10.0, "USDJPY": 9.0, "GBPUSD": 8.0, "USDCHF": 6.0, "AUDUSD": 7.0,
         "USDCAD": 6.0, "NZDUSD": 5.0}  # fmt: skip
_METALS = {
    # symbol: (level, decimals, pip, spread pips, vol, ticks/s, size)
    "XAUUSD": (4080.0, 2, 0.1, 2.5, 0.18, 6.0, 100.0),
    "XAGUSD": (50.8, 3, 0.01, 2.5, 0.30, 4.0, 5000.0),
    "XPTUSD": (1560.0, 2, 0.1, 20.0, 0.25, 1.0, 50.0),
    "XPDUSD": (1400.0, 2, 0.1, 30.0, 0.30, 1.0, 50.0),
}


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """How the synthetic market moves one instrument."""

    instrument: Instrument
    level: float
    spread_pips: float
    annual_vol: float
    rate: float  # ticks per second
    size: float  # typical top-of-book size

    @property
    def symbol(self) -> str:
        return self.instrument.symbol


def _fx_spec(symbol: str) -> InstrumentSpec:
    base, quote = symbol[:3], symbol[3:]
    level = USD_VALUE[base] / USD_VALUE[quote]
    jpy = quote == "JPY"
    decimals, pip = (3, 0.01) if jpy else (5, 0.0001)
    majors = base in MAJOR_CURRENCIES and quote in MAJOR_CURRENCIES
    usd = "USD" in (base, quote)
    spread = _SPREAD_PIPS.get(symbol, 1.5 if majors else (8.0 if usd else 25.0))
    vol = _VOL.get(symbol, 0.09 if majors else 0.14)
    rate = _RATE.get(symbol, 3.0 if majors else 1.0)
    inst = Instrument(symbol, decimals, pip, f"{base}/{quote}")
    return InstrumentSpec(inst, level, spread, vol, rate, 1_000_000.0)


def spec(symbol: str) -> InstrumentSpec:
    """The spec of a catalog symbol; KeyError naming it when unknown."""
    if symbol in _METALS:
        level, decimals, pip, spread, vol, rate, size = _METALS[symbol]
        inst = Instrument(symbol, decimals, pip, f"{symbol[:3]}/{symbol[3:]}")
        return InstrumentSpec(inst, level, spread, vol, rate, size)
    base, quote = symbol[:3], symbol[3:]
    if len(symbol) == 6 and base in USD_VALUE and quote in USD_VALUE and base != quote:
        return _fx_spec(symbol)
    raise KeyError(symbol)


def instrument_class(symbol: str) -> str:
    """``metals``, ``crypto`` or ``fx``: the calendar a symbol follows by default
    (docs/market-data.md). Metals by their code (XAU, XAG, XPT, XPD first); crypto
    when one side of the name is a known crypto code (``ETH-USD``, ``btc_usd``, or
    unseparated ``BTCUSD``/``SOLUSDT`` split into two parts of at least three
    letters, so ``USDCHF`` is not USDC + HF); everything else is forex."""
    s = symbol.upper()
    if s.startswith(METAL_CODES):
        return "metals"
    parts = [p for p in re.split(r"[-/_:.]", s) if p]
    if len(parts) > 1:
        return "crypto" if any(p in CRYPTO_CODES for p in parts) else "fx"
    for cut in range(3, len(s) - 2):
        if s[:cut] in CRYPTO_CODES or s[cut:] in CRYPTO_CODES:
            return "crypto"
    return "fx"


def universe() -> tuple[str, ...]:
    """Every symbol the catalog can generate: the defaults first, then more
    pairs in market convention, then the other metals."""
    rank = {c: i for i, c in enumerate(BASE_PRIORITY)}
    pairs = [a + b for a, b in permutations(USD_VALUE, 2) if rank[a] < rank[b]]
    extra = sorted(
        (p for p in pairs if p not in DEFAULT_SYMBOLS),
        key=lambda p: ("USD" not in p, p[:3] not in MAJOR_CURRENCIES, p),
    )
    metals = [m for m in _METALS if m not in DEFAULT_SYMBOLS]
    return DEFAULT_SYMBOLS + tuple(extra) + tuple(metals)
