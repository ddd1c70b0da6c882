"""Failover and staleness decisions: plain objects, times passed in."""

import numpy as np

from feeds.failover import Direction, Sources, Switch
from ticker.core.model import Status

P, B, OTHER = 0, 1, 2
LIVE, STALE, PENDING = Status.LIVE, Status.STALE, Status.PENDING


def sources(now: float = 0.0) -> Sources:
    # sid 0: P (stale after 5 s) backed by B; sid 1: B only (2 s); sid 2: OTHER only (never stale).
    return Sources([P, B, OTHER], [B, -1, -1], [5.0, 2.0, 0.0], now)


def status(*s: Status) -> np.ndarray:
    return np.array(s, dtype=np.int8)


def test_backup_ticks_are_dropped_while_the_primary_is_fresh() -> None:
    s = sources()
    assert s.admit(P, 0, 1.0) is True
    assert s.admit(B, 0, 1.5) is False
    assert s.admit(B, 0, 5.9) is False  # primary quiet for 4.9 s < 5 s
    assert s.switches == {}


def test_backup_takes_over_when_the_primary_is_stale_and_primary_takes_back() -> None:
    s = sources()
    s.admit(P, 0, 1.0)
    sw = s.admit(B, 0, 6.5)
    assert sw == Switch(0, P, B, Direction.TO_BACKUP)
    assert s.admit(B, 0, 6.6) is True
    assert s.stale_limit()[0] == 2.0  # the backup's own stale_after now applies
    back = s.admit(P, 0, 7.0)
    assert back == Switch(0, B, P, Direction.TO_PRIMARY)
    assert s.admit(B, 0, 7.1) is False
    assert s.switches == {(P, Direction.TO_BACKUP): 1, (P, Direction.TO_PRIMARY): 1}


def test_primary_gets_a_grace_period_at_start_up() -> None:
    s = sources(now=100.0)
    assert s.admit(B, 0, 103.0) is False  # primary has not ticked yet, but only 3 s passed
    assert isinstance(s.admit(B, 0, 106.0), Switch)


def test_sweep_marks_silent_symbols_stale_by_their_feed_limit() -> None:
    s = sources()
    applied = np.array([1.0, 1.0, 1.0])
    stale, switches = s.sweep(4.0, status(LIVE, LIVE, LIVE), applied)
    assert stale == [1] and switches == []  # sid 1: 3 s > 2 s; sid 0 within 5 s; sid 2 never
    stale, _ = s.sweep(7.0, status(LIVE, STALE, LIVE), applied)
    assert stale == [0]
    assert s.sweep(1e9, status(PENDING, STALE, LIVE), applied) == ([], [])


def test_sweep_fails_over_to_a_fresh_backup_instead_of_going_stale() -> None:
    s = sources()
    s.admit(P, 0, 1.0)
    s.admit(B, 0, 6.0)  # dropped (primary fresh at 5.0 s) but seen
    stale, switches = s.sweep(6.1, status(LIVE, LIVE, LIVE), np.array([1.0, 6.0, 6.0]))
    assert stale == [] and switches == [Switch(0, P, B, Direction.TO_BACKUP)]


def test_connection_lost_is_immediate_and_lets_the_backup_in() -> None:
    s = sources()
    s.admit(P, 0, 1.0)
    s.admit(B, 0, 1.1)
    stale, switches = s.connection_lost(P, 1.2, status(LIVE, LIVE, LIVE))
    assert stale == [] and switches == [Switch(0, P, B, Direction.TO_BACKUP)]  # fresh backup takes over
    stale, switches = s.connection_lost(B, 1.3, status(LIVE, LIVE, LIVE))
    assert stale == [0, 1] and switches == []  # B served both now; nothing to fall back on
    s2 = sources()
    s2.admit(P, 0, 1.0)
    stale, switches = s2.connection_lost(P, 1.2, status(LIVE, PENDING, LIVE))
    assert stale == [0] and switches == []  # backup never ticked
    assert isinstance(s2.admit(B, 0, 1.3), Switch)  # but its first tick is taken at once


def test_closed_symbols_never_go_stale_and_silence_counts_from_the_open() -> None:
    s = Sources([P, OTHER], [-1, -1], [5.0, 2.0, 0.0], 0.0)
    applied = np.array([1.0, 0.0])
    closed = status(Status.CLOSED, Status.PENDING)
    assert s.sweep(1000.0, closed, applied) == ([], [])  # a weekend of silence, market closed
    s.reopened([0], 1000.0)  # Sunday 17:00: the market opens, the symbol turns live
    live = status(LIVE, PENDING)
    assert s.sweep(1004.9, live, applied) == ([], [])
    assert s.sweep(1005.1, live, applied) == ([0], [])  # no tick within 5 s of the open


def test_a_derived_symbol_has_no_feed_and_never_goes_stale() -> None:
    s = Sources([P, -1], [-1, -1], [5.0, 2.0, 0.0], 0.0)
    both = status(LIVE, LIVE)
    assert s.sweep(100.0, both, np.array([1.0, 1.0])) == ([0], [])
    assert s.connection_lost(P, 100.0, status(STALE, LIVE)) == ([], [])
    assert s.feed_connected(1) and not s.feed_connected(0)
