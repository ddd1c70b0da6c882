"""Options of a ``type = "websocket"`` feed (validated by the config loader)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from feeds.catalog import spec
from feeds.instruments import InstrumentOptions
from feeds.upstream.mapping import MappingOptions
from ticker.util.errors import FieldError

Preset = Literal["binance", "coinbase", "ticker", "generic"]


@dataclass(frozen=True, slots=True)
class WebSocketOptions:
    """Options of a ``type = "websocket"`` feed."""

    url: str = ""
    preset: Preset = "generic"
    #: Upstream symbol names to subscribe to (and to accept).
    symbols: tuple[str, ...] = ()
    #: upstream name -> served name (e.g. {"BTC-USD" = "BTCUSD"}).
    rename: dict[str, str] = field(default_factory=dict)
    #: Decimals and pip size by served name; required for symbols the catalog does not know.
    instruments: dict[str, InstrumentOptions] = field(default_factory=dict)
    #: Messages sent after connecting, replacing the preset's; "$symbols" -> JSON array,
    #: "$symbol" -> one message per symbol.
    subscribe: tuple[str, ...] | None = None
    mapping: MappingOptions | None = None
    #: No message for this long means the upstream went silent: reconnect.
    idle_timeout_s: float = field(default=30.0, metadata={"min": 0.05, "max": 3600})
    #: WebSocket ping interval (0 = none); a missing pong drops the connection.
    heartbeat_s: float = field(default=20.0, metadata={"min": 0, "max": 3600})
    connect_timeout_s: float = field(default=10.0, metadata={"min": 0.1, "max": 300})
    reconnect_initial_s: float = field(default=0.5, metadata={"min": 0.01, "max": 600})
    reconnect_max_s: float = field(default=30.0, metadata={"min": 0.01, "max": 3600})
    max_message_bytes: int = field(default=4 * 1024 * 1024, metadata={"min": 1024})

    def __post_init__(self) -> None:
        if not self.url.startswith(("ws://", "wss://")):
            raise FieldError("url", f"must start with ws:// or wss://, got {self.url!r}")
        if not self.symbols:
            raise FieldError("symbols", "list the upstream symbols to subscribe to")
        if len(set(self.symbols)) != len(self.symbols):
            raise FieldError("symbols", "lists a symbol twice")
        unknown = set(self.rename) - set(self.symbols)
        if unknown:
            raise FieldError("rename", f"{', '.join(sorted(unknown))} not in symbols")
        served = [self.rename.get(s, s) for s in self.symbols]
        if len(set(served)) != len(served):
            raise FieldError("rename", "two symbols get the same name")
        extra = set(self.instruments) - set(served)
        if extra:
            raise FieldError(
                "instruments", f"{', '.join(sorted(extra))} not among the served symbols {served}"
            )
        for s in served:
            if s not in self.instruments:
                try:
                    spec(s)
                except KeyError:
                    raise FieldError(
                        "instruments", f"{s} is not a known pair; add instruments.{s} = "
                        "{ decimals = .., pip_size = .. }"
                    ) from None
            elif self.instruments[s].decimals < 0:
                try:
                    spec(s)
                except KeyError:
                    raise FieldError("instruments", f"{s}.decimals is required") from None
        if self.preset == "generic" and self.mapping is None:
            raise FieldError("mapping", "preset 'generic' needs a mapping table (symbol, bid, ask paths...)")
        if self.preset != "generic" and self.mapping is not None:
            raise FieldError("mapping", f"only for preset 'generic'; {self.preset!r} has its own")
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise FieldError("reconnect_max_s", "must be >= reconnect_initial_s")

    def served(self) -> list[str]:
        return [self.rename.get(s, s) for s in self.symbols]
