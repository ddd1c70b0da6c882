"""The resume ring and the resume decision: objects in, decisions out, no clock."""

from __future__ import annotations

import pytest

from ticker.core.resume import Outcome, decide
from ticker.core.ring import UpdateRing


def payload(seq: int) -> bytes:
    return b'{"type":"update","symbol":"EURUSD","seq":%d,"bid":1.1,"ts":%d}' % (seq, seq)


def filled(ring: UpdateRing, seqs: range, sid: int = 0, t0: float = 0.0, dt: float = 1.0) -> list[bytes]:
    out = []
    for i, seq in enumerate(seqs):
        p = payload(seq)
        ring.append(sid, seq, p, t0 + i * dt)
        out.append(p)
    return out


# ---------------------------------------------------------------- ring


def test_the_ring_replays_the_bytes_it_was_given_after_any_held_seq() -> None:
    ring = UpdateRing(2, max_updates=10, max_age_s=60)
    sent = filled(ring, range(1, 6))
    replay = ring.after(0, 2)
    assert replay == sent[2:] and all(type(b) is bytes for b in replay or [])
    assert ring.after(0, 0) == sent  # the floor: everything
    assert ring.after(0, 5) == []  # up to date
    assert ring.after(0, 6) is None  # newer than anything held
    assert ring.after(1, 0) == []  # a symbol that never ticked
    assert (ring.floor(0), ring.last(0), ring.held(0)) == (0, 5, 5)


def test_overflow_by_count_moves_the_floor_and_the_oldest_are_gone() -> None:
    ring = UpdateRing(1, max_updates=3, max_age_s=60)
    sent = filled(ring, range(1, 8))
    assert ring.held(0) == 3 and ring.floor(0) == 4
    assert ring.after(0, 4) == sent[4:]
    assert ring.after(0, 3) is None
    assert ring.bytes == sum(map(len, sent[4:])) and ring.updates == 3


def test_expiry_by_age_on_append_on_prune_and_in_the_sweep() -> None:
    ring = UpdateRing(2, max_updates=100, max_age_s=10)
    filled(ring, range(1, 6), t0=0.0, dt=1.0)  # arrived at 0, 1, 2, 3, 4
    filled(ring, range(1, 3), sid=1, t0=0.0)
    ring.prune(0, 12.5)  # 0, 1 and 2 are older than 10 s
    assert ring.floor(0) == 3 and ring.after(0, 2) is None and ring.after(0, 3) == [payload(4), payload(5)]
    ring.append(0, 6, payload(6), 14.0)  # drops the two that arrived at 3 and 4
    assert ring.floor(0) == 5 and ring.held(0) == 1
    ring.expire(30.0)  # a symbol that went quiet lets its history go
    assert ring.updates == 0 and ring.bytes == 0
    assert ring.after(0, 6) == [] and ring.after(0, 5) is None and ring.floor(1) == 2


def test_a_jump_keeps_its_base_and_leaves_a_hole_nobody_is_replayed_across() -> None:
    ring = UpdateRing(1, max_updates=10, max_age_s=60)
    filled(ring, range(1, 4))
    jump = payload(9)  # a gateway back on the bus: 4..8 were merged into 9
    ring.append(0, 9, jump, 5.0)
    ring.append(0, 10, payload(10), 6.0)
    assert ring.floor(0) == 3 and ring.held(0) == 2
    assert ring.after(0, 3) == [jump, payload(10)]  # a client at 3 gets exactly what live clients got
    assert ring.after(0, 5) is None and ring.after(0, 2) is None
    assert ring.after(0, 9) == [payload(10)]


def test_a_sequence_that_goes_back_or_is_reset_starts_the_history_over() -> None:
    ring = UpdateRing(1, max_updates=10, max_age_s=60)
    filled(ring, range(1, 6))
    ring.append(0, 2, payload(2), 9.0)  # not a continuation of anything held
    assert (ring.floor(0), ring.last(0), ring.held(0), ring.bytes) == (2, 2, 0, 0)
    filled(ring, range(3, 5))
    ring.reset(0, 40)
    assert ring.after(0, 40) == [] and ring.after(0, 4) is None and ring.updates == 0


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="max_updates"):
        UpdateRing(1, max_updates=0, max_age_s=1)
    with pytest.raises(ValueError, match="max_age_s"):
        UpdateRing(1, max_updates=1, max_age_s=0)


# ---------------------------------------------------------------- decision


@pytest.fixture
def ring() -> UpdateRing:
    r = UpdateRing(1, max_updates=5, max_age_s=10)
    filled(r, range(1, 9), t0=0.0)  # holds 4..8, arrived at 3..7
    return r


def test_covered_gap_is_recovered_with_exactly_the_missed_updates(ring: UpdateRing) -> None:
    d = decide(ring, 0, 5, "E", 8, "E", 8.0)
    assert d.outcome is Outcome.RECOVERED and d.updates == [payload(6), payload(7), payload(8)]
    up_to_date = decide(ring, 0, 8, "E", 8, "E", 8.0)
    assert up_to_date.outcome is Outcome.RECOVERED and up_to_date.updates == []


def test_overflowed_by_count_is_too_old(ring: UpdateRing) -> None:
    assert decide(ring, 0, 2, "E", 8, "E", 8.0).outcome is Outcome.TOO_OLD
    assert decide(ring, 0, 3, "E", 8, "E", 8.0).outcome is Outcome.RECOVERED  # the floor


def test_expired_by_age_is_too_old(ring: UpdateRing) -> None:
    # at 15.5 what arrived at 3..5 (seq 4..6) is older than 10 s: a client at 5 needs 6
    assert decide(ring, 0, 5, "E", 8, "E", 15.5).outcome is Outcome.TOO_OLD
    assert decide(ring, 0, 6, "E", 8, "E", 15.5).updates == [payload(7), payload(8)]


def test_another_epoch_is_never_resumed_whatever_the_seq(ring: UpdateRing) -> None:
    assert decide(ring, 0, 7, "OLD", 8, "E", 8.0).outcome is Outcome.EPOCH_CHANGED
    assert decide(ring, 0, 8, "OLD", 8, "E", 8.0).outcome is Outcome.EPOCH_CHANGED


def test_a_seq_newer_than_the_servers_is_never_trusted(ring: UpdateRing) -> None:
    assert decide(ring, 0, 9, "E", 8, "E", 8.0).outcome is Outcome.UNKNOWN_SEQ


def test_a_ring_out_of_step_with_the_table_replays_nothing(ring: UpdateRing) -> None:
    # the table moved on by a path that bypassed the ring: never a partial replay
    assert decide(ring, 0, 6, "E", 9, "E", 8.0).outcome is Outcome.TOO_OLD


def test_without_a_ring_only_a_client_that_missed_nothing_is_recovered() -> None:
    assert decide(None, 0, 8, "E", 8, "E", 0.0).outcome is Outcome.RECOVERED
    assert decide(None, 0, 7, "E", 8, "E", 0.0).outcome is Outcome.NO_HISTORY
