"""The client connection's life, as an explicit state machine, and what it wants subscribed.

Both are sans-I/O: :mod:`ticker.client.connection` asks them what to do and
tells them what happened. States and their allowed moves::

    IDLE ──> CONNECTING ──> OPEN ──> WAITING ──> CONNECTING ...
               │               │        │
               └──> WAITING    └────────┴──> CLOSED   (any state may close)

``WAITING`` is the backoff pause before the next attempt. ``CLOSED`` is
final: the user closed the client, or a connection ended with reconnecting
turned off, or the server refused the token.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class ConnState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    OPEN = "open"
    WAITING = "waiting"
    CLOSED = "closed"


_ALLOWED: dict[ConnState, frozenset[ConnState]] = {
    ConnState.IDLE: frozenset({ConnState.CONNECTING, ConnState.CLOSED}),
    ConnState.CONNECTING: frozenset({ConnState.OPEN, ConnState.WAITING, ConnState.CLOSED}),
    ConnState.OPEN: frozenset({ConnState.WAITING, ConnState.CLOSED}),
    ConnState.WAITING: frozenset({ConnState.CONNECTING, ConnState.CLOSED}),
    ConnState.CLOSED: frozenset({ConnState.CLOSED}),
}


class IllegalTransition(RuntimeError):
    """Our bug: the I/O shell asked for a move the state machine forbids."""


class ConnectionLifecycle:
    def __init__(self) -> None:
        self.state = ConnState.IDLE
        #: connections opened so far (the first one included)
        self.opened = 0

    def to(self, new: ConnState, why: str) -> None:
        if new not in _ALLOWED[self.state]:
            raise IllegalTransition(f"{self.state.value} -> {new.value} is not allowed (on {why})")
        if new is ConnState.OPEN:
            self.opened += 1
        self.state = new


class Subscriptions:
    """The symbols the user wants, with their throttle, in the order asked.

    What the client resubscribes after a reconnect. Symbols the server
    rejected for good (unknown, not entitled) are dropped so a reconnect does
    not ask for them again.
    """

    def __init__(self) -> None:
        self._wanted: dict[str, int] = {}

    def add(self, symbols: Iterable[str], throttle_ms: int) -> list[str]:
        added = list(dict.fromkeys(symbols))
        for s in added:
            self._wanted.pop(s, None)  # re-adding moves it last, as the server orders them
            self._wanted[s] = throttle_ms
        return added

    def remove(self, symbols: Iterable[str]) -> list[str]:
        return [s for s in dict.fromkeys(symbols) if self._wanted.pop(s, None) is not None]

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._wanted

    def __len__(self) -> int:
        return len(self._wanted)

    @property
    def symbols(self) -> list[str]:
        return list(self._wanted)

    def requests(self) -> list[tuple[list[str], int]]:
        """Subscribe requests that restore everything: one per distinct throttle."""
        groups: dict[int, list[str]] = {}
        for s, throttle in self._wanted.items():
            groups.setdefault(throttle, []).append(s)
        return [(symbols, throttle) for throttle, symbols in groups.items()]
