"""What the security checks cost, in process, without sockets.

    python -m benchmarks.security

* per inbound message: the session with and without the rate limit (a
  ``ping`` parsed, answered and queued), and the token bucket alone;
* per subscribe: 200 symbols with everything entitled vs. a pattern list;
* per handshake: an API key lookup and HS256 / RS256 JWT verification.

None of these sit on the update fan-out path; the numbers show how small
they are next to the per-message work they guard.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from feeds.catalog import universe
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.model import Instrument
from ticker.core.outbox import Outbox
from ticker.core.stats import FanoutStats
from ticker.core.table import SymbolTable
from ticker.protocol.session import Session
from ticker.runtime.configure import from_dict
from ticker.security.access import Access
from ticker.security.entitlements import entitlements
from ticker.security.limits import InboundRate
from ticker.security.tokens import Authenticator, Identity, hash_key


def per_call_us(fn: Callable[[], object], n: int) -> float:
    """Best of five runs of ``n`` calls, in microseconds per call."""
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e6


def _session(symbols: list[str], access: Access | None = None, rate: InboundRate | None = None) -> Session:
    table = SymbolTable([Instrument(s, 5, 0.0001) for s in symbols])
    stats = FanoutStats()
    encoder = QuoteEncoder(table)
    box = Outbox(encoder.update, stats, high_water=10**9)
    return Session(table, Hub(len(table)), encoder, box, stats, max_symbols=10**6, access=access, rate=rate)


def inbound() -> list[str]:
    ping = b'{"op":"ping","id":1}'
    plain = _session(["EURUSD"])
    limited = _session(["EURUSD"], rate=InboundRate(1e12, 10**9, 10**9, 0.0))
    bucket = InboundRate(1e12, 10**9, 10**9, 0.0)
    clock = time.monotonic

    def drain(s: Session) -> Callable[[], object]:
        def step() -> None:
            s.receive(ping, clock())
            s.outbox.drop_all()

        return step

    per_call_us(drain(plain), 50_000)  # warm-up
    a = min(per_call_us(drain(plain), 50_000) for _ in range(3))
    b = min(per_call_us(drain(limited), 50_000) for _ in range(3))
    c = per_call_us(lambda: bucket.check(clock()), 200_000)
    return [
        f"ping through the session, no rate limit:   {a:6.2f} µs",
        f"ping through the session, rate limited:    {b:6.2f} µs  (+{b - a:.2f} µs)",
        f"token bucket check alone:                  {c:6.2f} µs",
    ]


def subscribe() -> list[str]:
    symbols = list(universe())[:200]
    req = ('{"op":"subscribe","symbols":[' + ",".join(f'"{s}"' for s in symbols) + "]}").encode()
    patterns = ("EUR*", "GBP*", "USD*", "AUD*", "NZD*", "CAD*", "CHF*", "XA?USD")
    ident = Identity("key:bench", entitlements(patterns), 0, None)

    def run(access: Access | None) -> float:
        def step() -> None:
            s = _session(symbols, access)
            s.receive(req, 0.0)

        return per_call_us(step, 200)

    everything = run(None)
    limited = run(Access(login=lambda t, w: ident, identity=ident))
    allowed = sum(ident.entitlements.allows(s) for s in symbols)
    check = per_call_us(lambda: ident.entitlements.split(symbols), 2_000)
    return [
        f"subscribe 200 symbols, everything entitled: {everything:8.1f} µs (incl. session set-up)",
        f"subscribe 200 symbols, {len(patterns)} patterns ({allowed} allowed): {limited:8.1f} µs",
        f"the entitlement check alone, 200 symbols:   {check:8.1f} µs",
    ]


def handshake() -> list[str]:
    key = "tk_benchmark-key"
    secret = b"s" * 32
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with tempfile.TemporaryDirectory() as d:
        pub = Path(d) / "pub.pem"
        pub.write_bytes(
            private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        sec = Path(d) / "secret"
        sec.write_bytes(secret)

        def auth(alg: str, key_file: Path) -> Authenticator:
            cfg = from_dict({"auth": {
                "enabled": True,
                "keys": [{"name": "k", "sha256": hash_key(key), "symbols": ["*"]}],
                "jwt": {"algorithm": alg, "key_file": str(key_file)},
            }})  # fmt: skip
            return Authenticator.from_config(cfg.auth)

        hs, rs = auth("HS256", sec), auth("RS256", pub)
    claims = {"sub": "alice", "exp": time.time() + 3600, "symbols": ["EUR*", "XAUUSD"]}
    hs_token = jwt.encode(claims, secret, algorithm="HS256")
    rs_token = jwt.encode(claims, private, algorithm="RS256")
    now = time.time()
    return [
        f"API key (SHA-256 lookup):  {per_call_us(lambda: hs.verify(key, now), 20_000):7.1f} µs",
        f"HS256 JWT:                 {per_call_us(lambda: hs.verify(hs_token, now), 5_000):7.1f} µs",
        f"RS256 JWT (2048-bit key):  {per_call_us(lambda: rs.verify(rs_token, now), 2_000):7.1f} µs",
    ]


def main() -> None:
    for title, section in (("per inbound message", inbound), ("per subscribe", subscribe),
                           ("per handshake", handshake)):  # fmt: skip
        print(f"{title}:")
        for line in section():
            print("  " + line)


if __name__ == "__main__":
    main()
