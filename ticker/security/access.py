"""One connection's authentication state, as an explicit state machine.

States and the only moves between them::

    OPEN             auth is off: everything is entitled, nothing ever changes
    AWAITING_AUTH -> AUTHENTICATED   an ``auth`` message proved an identity
                  -> ENDED           no ``auth`` in time, or a bad one
    AUTHENTICATED -> AUTHENTICATED   a fresh token for the same identity
                  -> ENDED           the token expired

Time is passed in: ``now`` is the monotonic clock the session runs on,
``wall`` Unix time (token expiry is stated in it). A token's expiry is
turned into a monotonic deadline when it is accepted, so :meth:`Access.due`
only compares two floats and is cheap enough for the 4 Hz sweep over every
connection.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from ticker.security.entitlements import Entitlements
from ticker.security.tokens import ANONYMOUS, Identity, TokenError

#: Checks a token at Unix time ``wall`` and counts the connection against its identity.
Login = Callable[[str, float], Identity]


class AccessState(enum.Enum):
    OPEN = "open"
    AWAITING_AUTH = "awaiting_auth"
    AUTHENTICATED = "authenticated"
    ENDED = "ended"


_MOVES: dict[AccessState, frozenset[AccessState]] = {
    AccessState.OPEN: frozenset(),
    AccessState.AWAITING_AUTH: frozenset({AccessState.AUTHENTICATED, AccessState.ENDED}),
    AccessState.AUTHENTICATED: frozenset({AccessState.AUTHENTICATED, AccessState.ENDED}),
    AccessState.ENDED: frozenset(),
}


class AccessEvent(enum.Enum):
    AUTH_TIMEOUT = "auth_timeout"
    EXPIRING = "token_expiring"
    EXPIRED = "token_expired"


class Access:
    __slots__ = (
        "_login", "_next", "auth_timeout_s", "expires_mono", "identity", "state", "warn_before_s",
    )  # fmt: skip

    def __init__(
        self,
        *,
        login: Login | None = None,
        identity: Identity | None = None,
        now: float = 0.0,
        wall: float = 0.0,
        auth_timeout_s: float = 10.0,
        warn_before_s: float = 60.0,
    ) -> None:
        self._login = login
        self.auth_timeout_s = auth_timeout_s
        self.warn_before_s = warn_before_s
        self.identity = ANONYMOUS
        self.expires_mono: float | None = None
        #: Monotonic time of the next thing :meth:`due` must look at.
        self._next: float | None = None
        if login is None:
            self.state = AccessState.OPEN
        elif identity is None:
            self.state = AccessState.AWAITING_AUTH
            self._next = now + auth_timeout_s
        else:
            self.state = AccessState.AWAITING_AUTH
            self._accept(identity, now, wall, "handshake token")

    @property
    def entitlements(self) -> Entitlements:
        return self.identity.entitlements

    @property
    def authenticated(self) -> bool:
        """May the client subscribe? (True while auth is off.)"""
        return self.state is AccessState.OPEN or self.state is AccessState.AUTHENTICATED

    def _move(self, to: AccessState, why: str) -> None:
        if to not in _MOVES[self.state]:
            raise RuntimeError(f"illegal access transition {self.state.value} -> {to.value} on {why}")
        self.state = to

    def _accept(self, identity: Identity, now: float, wall: float, why: str) -> None:
        self._move(AccessState.AUTHENTICATED, why)
        self.identity = identity
        if identity.expires_at is None:
            self.expires_mono = self._next = None
            return
        self.expires_mono = now + (identity.expires_at - wall)
        self._next = min(self.expires_mono, self.expires_mono - self.warn_before_s)

    def login(self, token: str, now: float, wall: float) -> Identity:
        """Handle an ``auth`` message; raises :class:`TokenError`.

        A failed first login ends the connection's access (the caller closes
        it); a failed refresh leaves the current identity in place.
        """
        if self._login is None:
            raise TokenError("authentication is not enabled on this server; no token is needed")
        if self.state is AccessState.ENDED:
            raise TokenError("authentication has ended on this connection; it is being closed")
        first = self.state is AccessState.AWAITING_AUTH
        try:
            identity = self._login(token, wall)
            if not first and identity.name != self.identity.name:
                raise TokenError(
                    f"this token is for {identity.name}, but this connection is {self.identity.name}; "
                    "open a new connection to change identity"
                )
        except TokenError:
            if first:
                self._move(AccessState.ENDED, "failed auth message")
                self._next = None
            raise
        self._accept(identity, now, wall, "auth message")
        return identity

    def due(self, now: float) -> AccessEvent | None:
        """What, if anything, is due at monotonic time ``now``."""
        if self._next is None or now < self._next:
            return None
        if self.state is AccessState.AWAITING_AUTH:
            self._move(AccessState.ENDED, "auth timeout")
            self._next = None
            return AccessEvent.AUTH_TIMEOUT
        assert self.expires_mono is not None
        if now >= self.expires_mono:
            self._move(AccessState.ENDED, "token expiry")
            self._next = None
            return AccessEvent.EXPIRED
        self._next = self.expires_mono
        return AccessEvent.EXPIRING


#: The access of every connection while authentication is off. One shared instance:
#: in the open state nothing changes it (login refuses before touching anything,
#: nothing is ever due), and 10,000 idle connections need not carry one each.
OPEN = Access()
