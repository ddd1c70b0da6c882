"""Rate and connection limits, with time passed in: no sleeping."""

from ticker.security.entitlements import EVERYTHING
from ticker.security.limits import ConnectionLimits, InboundRate, RateVerdict, Refusal, Ticket, TokenBucket
from ticker.security.tokens import Identity


def test_token_bucket_bursts_then_refills_at_rate() -> None:
    b = TokenBucket(rate=10, burst=5, now=0.0)
    assert [b.take(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert b.wait_s() > 0
    assert b.take(0.1) and not b.take(0.1)  # one token per 1/rate s
    assert [b.take(100.0) for _ in range(6)].count(True) == 5  # never above burst


def test_inbound_rate_refuses_then_closes_a_sustained_flood() -> None:
    r = InboundRate(rate=10, burst=5, close_after=3, now=0.0)
    verdicts = [r.check(0.0) for _ in range(8)]
    assert verdicts == [RateVerdict.OK] * 5 + [RateVerdict.REFUSE] * 2 + [RateVerdict.CLOSE]
    assert r.retry_after_ms() == 100


def test_a_quiet_spell_ends_the_episode() -> None:
    r = InboundRate(rate=10, burst=5, close_after=3, now=0.0)
    for _ in range(7):
        r.check(0.0)
    assert r.refused == 2
    assert r.check(1.0) is RateVerdict.OK  # 1 s at 10/s refills the whole bucket
    assert r.refused == 0
    assert [r.check(1.0) for _ in range(6)][-2:] == [RateVerdict.REFUSE, RateVerdict.REFUSE]


def test_slightly_over_the_rate_for_long_enough_is_closed() -> None:
    r = InboundRate(rate=10, burst=5, close_after=5, now=0.0)
    t, verdict, n = 0.0, RateVerdict.OK, 0
    while verdict is not RateVerdict.CLOSE and n < 10_000:
        verdict = r.check(t)
        t += 1 / 12  # 12 msg/s against 10/s
        n += 1
    assert verdict is RateVerdict.CLOSE
    assert 3 < t < 8  # ~ burst / (12 - 10) to drain, then close_after refusals at 2/s


def ident(name: str, limit: int) -> Identity:
    return Identity(name, EVERYTHING, limit)


def test_total_and_per_ip_limits() -> None:
    lim = ConnectionLimits(max_total=3, max_per_ip=2)
    a1, a2 = lim.admit("10.0.0.1", None), lim.admit("10.0.0.1", None)
    assert isinstance(a1, Ticket) and isinstance(a2, Ticket)
    third = lim.admit("10.0.0.1", None)
    assert isinstance(third, Refusal) and third.status == 429
    assert third.code == "too_many_connections_per_ip" and "10.0.0.1" in third.message
    b1 = lim.admit("10.0.0.2", None)
    assert isinstance(b1, Ticket)
    full = lim.admit("10.0.0.3", None)
    assert isinstance(full, Refusal) and full.status == 503 and full.code == "server_full"
    lim.release(a1)
    lim.release(a1)  # idempotent
    assert lim.total == 2 and lim.by_ip == {"10.0.0.1": 1, "10.0.0.2": 1}
    assert isinstance(lim.admit("10.0.0.3", None), Ticket)


def test_per_identity_limit_at_handshake_and_on_bind() -> None:
    lim = ConnectionLimits(max_total=100, max_per_ip=0)
    alice = ident("key:alice", 2)
    t1 = lim.admit("a", alice)
    assert isinstance(t1, Ticket) and isinstance(lim.admit("b", alice), Ticket)
    r = lim.admit("c", alice)
    assert isinstance(r, Refusal) and r.code == "too_many_connections_per_identity" and r.status == 429
    anon = lim.admit("c", None)
    assert isinstance(anon, Ticket)
    refusal = lim.bind(anon, alice)  # a later auth message counts too
    assert refusal is not None and refusal.code == "too_many_connections_per_identity"
    lim.release(t1)
    assert lim.bind(anon, alice) is None
    assert lim.by_identity == {"key:alice": 2}
    lim.release(anon)
    assert lim.by_identity == {"key:alice": 1}
    assert isinstance(lim.admit("d", ident("key:free", 0)), Ticket)  # 0 = no limit
