"""Handshake decisions from header values: origin, client address, token, limits."""

import ipaddress

import pytest

from ticker.runtime.configure import from_dict
from ticker.security.admission import Admission, Admitted, OriginPolicy, client_ip, ip_key
from ticker.security.limits import Refusal
from ticker.security.tokens import Authenticator, hash_key

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize(
    ("peer", "xff", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        # An untrusted peer's X-Forwarded-For is ignored: anyone can write one.
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),
        ("10.0.0.5", "198.51.100.7", "198.51.100.7"),
        # Read from the right: the client's own forged entries on the left prove nothing.
        ("10.0.0.5", "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        # Chains of trusted proxies are skipped.
        ("10.0.0.5", "198.51.100.7, 10.1.1.1, 10.2.2.2", "198.51.100.7"),
        # Every hop trusted: the leftmost is the best we know.
        ("10.0.0.5", "10.9.9.9, 10.1.1.1", "10.9.9.9"),
        # Garbage stops the walk at the last address a trusted proxy vouched for.
        ("10.0.0.5", "<script>, 10.1.1.1", "10.1.1.1"),
        ("10.0.0.5", "198.51.100.7:4711", "198.51.100.7"),
        ("10.0.0.5", "[2001:db8::1]:443", "2001:db8::1"),
        ("::1", "2001:db8::7", "2001:db8::7"),
        ("::ffff:10.0.0.5", "198.51.100.7", "198.51.100.7"),
        (None, "198.51.100.7", "unknown"),
    ],
)
def test_client_ip(peer: str | None, xff: str | None, expected: str) -> None:
    assert client_ip(peer, xff, PROXIES) == expected


def test_ipv6_clients_count_per_64() -> None:
    assert ip_key("2001:db8:1:2:aaaa::1") == ip_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert ip_key("203.0.113.9") == "203.0.113.9"


def test_origin_policy() -> None:
    anyone = OriginPolicy(())
    assert anyone.allows("https://evil.example") and anyone.allows(None)
    p = OriginPolicy(("https://dash.example.com", "https://*.trading.example.com", "http://localhost:*"))
    assert p.allows("https://dash.example.com")
    assert p.allows("HTTPS://Dash.Example.com")  # scheme and host are case-insensitive
    assert p.allows("https://eu.trading.example.com")
    assert p.allows("http://localhost:5173")
    assert p.allows(None)  # not a browser: origin checks cannot apply
    for bad in (
        "https://evil.example",
        "http://dash.example.com",  # wrong scheme
        "https://dash.example.com.evil.example",
        "https://trading.example.com.evil.example",
        "null",
        "",
    ):
        assert not p.allows(bad), bad


KEY = "tk_test-key"


def admission(**limits: object) -> Admission:
    cfg = from_dict(
        {
            "server": {"allowed_origins": ["https://dash.example.com"], "trusted_proxies": ["10.0.0.0/8"]},
            "limits": {"max_connections": 10, **limits},
            "auth": {
                "enabled": True,
                "keys": [{"name": "k", "sha256": hash_key(KEY), "symbols": ["*"], "max_connections": 2}],
            },
        }
    )
    return Admission(cfg, Authenticator.from_config(cfg.auth))


def admit(g: Admission, **kw: object) -> Admitted | Refusal:
    args: dict = {
        "peer": "203.0.113.9",
        "origin": None,
        "authorization": None,
        "query_token": None,
        "forwarded_for": None,
        "now": 0.0,
    }
    args.update(kw)
    return g.admit(**args)


def test_refusals_come_before_the_upgrade_with_status_and_code() -> None:
    g = admission()
    r = admit(g, origin="https://evil.example", authorization=f"Bearer {KEY}")
    assert isinstance(r, Refusal) and (r.status, r.code) == (403, "origin_not_allowed")
    assert "evil.example" in r.message
    r = admit(g, authorization="Bearer wrong")
    assert isinstance(r, Refusal) and (r.status, r.code) == (401, "unauthenticated")
    r = admit(g, authorization="Basic abc")
    assert isinstance(r, Refusal) and r.status == 401 and "Bearer" in r.message
    assert g.limits.total == 0  # nothing refused was counted


def test_token_from_header_or_query_or_none_yet() -> None:
    g = admission()
    by_header = admit(g, authorization=f"Bearer {KEY}", origin="https://dash.example.com")
    by_query = admit(g, query_token=KEY)
    later = admit(g)
    assert isinstance(by_header, Admitted) and by_header.identity is not None
    assert isinstance(by_query, Admitted) and by_query.identity is not None
    assert isinstance(later, Admitted) and later.identity is None  # must send an auth message
    over = admit(g, query_token=KEY)
    assert isinstance(over, Refusal) and over.code == "too_many_connections_per_identity"
    g.release(by_header)
    assert g.limits.total == 2


def test_per_ip_limit_counts_the_forwarded_client() -> None:
    g = admission(max_connections_per_ip=1)
    first = admit(g, peer="10.0.0.2", forwarded_for="198.51.100.7")
    assert isinstance(first, Admitted) and first.ip == "198.51.100.7"
    again = admit(g, peer="10.0.0.3", forwarded_for="198.51.100.7")
    assert isinstance(again, Refusal) and again.status == 429
    other = admit(g, peer="10.0.0.2", forwarded_for="198.51.100.8")
    assert isinstance(other, Admitted)


def test_origin_patterns_have_one_wildcard_and_brackets_are_literal() -> None:
    p = OriginPolicy(("https://[::1]:*", "https://a?.example.com"))
    assert p.allows("https://[::1]:8443")
    assert not p.allows("https://1:8443")  # not a character class
    assert p.allows("https://a?.example.com") and not p.allows("https://ab.example.com")
