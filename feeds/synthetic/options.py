"""Options of a ``type = "synthetic"`` feed (validated by the config loader)."""

from __future__ import annotations

from dataclasses import dataclass

from feeds.catalog import DEFAULT_SYMBOLS, spec, universe
from ticker.util.errors import FieldError


@dataclass(frozen=True, slots=True)
class SyntheticOptions:
    """Options of a ``type = "synthetic"`` feed."""

    #: Symbols to generate (any catalog symbol); empty = the 30 defaults.
    symbols: tuple[str, ...] = ()
    #: Instead of listing symbols: the first N symbols of the catalog universe.
    count: int = 0
    #: Total ticks per second across all symbols; 0 = each symbol's natural rate.
    rate: float = 0.0
    seed: int = 42
    #: Smallest gap between two emissions; ticks due in between go out together.
    batch_interval_ms: float = 1.0
    reversion_half_life_s: float = 3600.0
    #: What ``ts`` says: ``"scheduled"`` = when the model scheduled the tick (a real
    #: venue's source time: latency measured from it includes the feed's own batching
    #: and any lateness of the event loop); ``"emitted"`` = when the feed handed the
    #: batch to the table (latency from it is the server's and the network's alone).
    timestamps: str = "scheduled"

    def __post_init__(self) -> None:
        if self.count < 0 or self.count > len(universe()):
            raise FieldError("count", f"must be 0..{len(universe())}, got {self.count}")
        if self.count and self.symbols:
            raise FieldError("count", "give either 'symbols' or 'count', not both")
        if self.rate < 0 or self.rate > 10_000_000:
            raise FieldError("rate", f"must be 0..10000000 ticks/s, got {self.rate}")
        if not 0.05 <= self.batch_interval_ms <= 1000:
            raise FieldError("batch_interval_ms", f"must be 0.05..1000, got {self.batch_interval_ms}")
        if self.timestamps not in ("scheduled", "emitted"):
            raise FieldError("timestamps", f"must be 'scheduled' or 'emitted', got {self.timestamps!r}")
        if self.reversion_half_life_s <= 0:
            raise FieldError("reversion_half_life_s", "must be > 0")
        for i, s in enumerate(self.symbols):
            try:
                spec(s)
            except KeyError:
                raise FieldError(
                    "symbols", f"[{i}] unknown synthetic symbol {s!r}: use a pair of known currencies "
                    "(e.g. EURUSD) or a metal (XAUUSD, XAGUSD, XPTUSD, XPDUSD)"
                ) from None
        if len(set(self.symbols)) != len(self.symbols):
            raise FieldError("symbols", "lists a symbol twice")

    def symbol_list(self) -> tuple[str, ...]:
        if self.count:
            return universe()[: self.count]
        return self.symbols or DEFAULT_SYMBOLS
