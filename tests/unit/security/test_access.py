"""A connection's authentication state machine, with both clocks passed in."""

import pytest

from ticker.security.access import Access, AccessEvent, AccessState
from ticker.security.entitlements import entitlements
from ticker.security.tokens import Identity, TokenError

WALL = 1_800_000_000.0
ALICE = Identity("jwt:alice", entitlements(("EUR*",)), 5, WALL + 100)


def login_as(*identities: Identity):  # type: ignore[no-untyped-def]
    queue = list(identities)

    def login(token: str, wall: float) -> Identity:
        if token == "bad":
            raise TokenError("nope")
        return queue.pop(0)

    return login


def test_auth_off_is_open_forever() -> None:
    a = Access()
    assert a.state is AccessState.OPEN and a.authenticated and a.entitlements.everything
    assert a.due(1e9) is None
    with pytest.raises(TokenError, match="not enabled"):
        a.login("x", 0, WALL)


def test_awaiting_auth_times_out() -> None:
    a = Access(login=login_as(ALICE), now=10.0, wall=WALL, auth_timeout_s=5)
    assert a.state is AccessState.AWAITING_AUTH and not a.authenticated
    assert a.due(14.9) is None
    assert a.due(15.0) is AccessEvent.AUTH_TIMEOUT
    assert a.state is AccessState.ENDED
    assert a.due(100.0) is None


def test_login_then_warning_then_expiry_on_the_monotonic_clock() -> None:
    a = Access(login=login_as(ALICE), now=10.0, wall=WALL, warn_before_s=30)
    a.login("t", 12.0, WALL + 2)
    assert a.state is AccessState.AUTHENTICATED and a.identity is ALICE
    assert a.expires_mono == 12.0 + 98  # expiry at wall + 100 is 98 s after the login
    assert a.due(79.9) is None
    assert a.due(80.0) is AccessEvent.EXPIRING
    assert a.due(100.0) is None  # warned once
    assert a.due(110.0) is AccessEvent.EXPIRED
    assert a.state is AccessState.ENDED


def test_refresh_extends_and_must_keep_the_identity() -> None:
    later = Identity("jwt:alice", entitlements(("EURUSD",)), 5, WALL + 1000)
    bob = Identity("jwt:bob", entitlements(("*",)), 5, WALL + 1000)
    a = Access(login=login_as(ALICE, later, bob), identity=None, now=0.0, wall=WALL)
    a.login("t", 0.0, WALL)
    a.login("t", 50.0, WALL + 50)
    assert a.identity is later and a.expires_mono == 1000.0
    with pytest.raises(TokenError, match="this token is for jwt:bob"):
        a.login("t", 60.0, WALL + 60)
    with pytest.raises(TokenError):
        a.login("bad", 60.0, WALL + 60)
    assert a.state is AccessState.AUTHENTICATED and a.identity is later  # failed refresh: kept


def test_failed_first_login_ends_access() -> None:
    a = Access(login=login_as(ALICE), now=0.0, wall=WALL)
    with pytest.raises(TokenError):
        a.login("bad", 1.0, WALL)
    assert a.state is AccessState.ENDED
    with pytest.raises(TokenError, match="ended"):
        a.login("t", 2.0, WALL)
    with pytest.raises(RuntimeError, match="illegal access transition ended -> authenticated on test"):
        a._move(AccessState.AUTHENTICATED, "test")


def test_handshake_identity_is_authenticated_from_the_start() -> None:
    forever = Identity("key:k", entitlements(("*",)), 0, None)
    a = Access(login=login_as(), identity=forever, now=0.0, wall=WALL)
    assert a.state is AccessState.AUTHENTICATED and a.due(1e9) is None


def test_the_shared_open_access_never_changes() -> None:
    """Every connection shares OPEN while auth is off: nothing a client does moves it."""
    from ticker.security.access import OPEN, AccessState

    for _ in range(3):
        with pytest.raises(TokenError, match="not enabled"):
            OPEN.login("tk_whatever", 1.0, 1.0)
        assert OPEN.due(1e12) is None
    assert OPEN.state is AccessState.OPEN and OPEN.authenticated and OPEN.identity.name == "anonymous"
