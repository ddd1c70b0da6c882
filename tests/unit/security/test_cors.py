"""CORS for /api/*: the same origin allow-list as WebSocket handshakes, decided from headers."""

import pytest

from ticker.security.admission import OriginPolicy
from ticker.security.cors import MAX_AGE_S, CorsPolicy
from ticker.security.limits import Refusal

DASH = "http://127.0.0.1:5173"
LISTED = CorsPolicy(OriginPolicy(["http://127.0.0.1:5173", "https://*.trading.example.com"]))
OPEN = CorsPolicy(OriginPolicy([]))  # the default config: any origin


@pytest.mark.parametrize("policy", [LISTED, OPEN])
def test_an_allowed_origin_is_echoed_never_a_star(policy: CorsPolicy) -> None:
    headers = policy.request(DASH)
    assert headers == {
        "Access-Control-Allow-Origin": DASH,
        "Access-Control-Expose-Headers": "Retry-After, WWW-Authenticate",
        "Vary": "Origin",
    }


def test_wildcards_and_case_follow_the_websocket_rules() -> None:
    assert not isinstance(LISTED.request("https://EU.trading.example.com"), Refusal)
    assert isinstance(LISTED.request("https://trading.example.com.evil.net"), Refusal)


def test_an_origin_off_the_list_is_refused_like_its_handshake() -> None:
    verdict = LISTED.request("http://127.0.0.1:9999")
    assert isinstance(verdict, Refusal)
    assert (verdict.status, verdict.code) == (403, "origin_not_allowed")
    assert "server.allowed_origins" in verdict.message
    preflight = LISTED.preflight("http://127.0.0.1:9999", "GET", "authorization")
    assert isinstance(preflight, Refusal) and preflight.code == "origin_not_allowed"


def test_no_origin_is_not_a_cross_origin_request() -> None:
    assert LISTED.request(None) == {"Vary": "Origin"}
    assert LISTED.preflight(None, "GET", None) is None
    assert LISTED.preflight(DASH, None, None) is None  # OPTIONS, but not a preflight


def test_a_preflight_allows_get_with_authorization_and_is_cached() -> None:
    headers = LISTED.preflight(DASH, "GET", "Authorization, content-type")
    assert isinstance(headers, dict)
    assert headers["Access-Control-Allow-Origin"] == DASH
    assert headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    assert "Authorization" in headers["Access-Control-Allow-Headers"].split(", ")
    assert headers["Access-Control-Max-Age"] == str(MAX_AGE_S)
    assert headers["Vary"].startswith("Origin")
    assert "Access-Control-Allow-Credentials" not in headers  # tokens, never cookies


@pytest.mark.parametrize(
    ("method", "asked", "code"),
    [("POST", None, "method_not_allowed"), ("DELETE", None, "method_not_allowed"),
     ("GET", "authorization, x-debug", "header_not_allowed")],
)  # fmt: skip
def test_a_preflight_for_anything_else_is_refused_saying_what(method: str, asked: str | None, code: str) -> None:
    verdict = OPEN.preflight(DASH, method, asked)
    assert isinstance(verdict, Refusal) and verdict.status == 403 and verdict.code == code
    assert (method if code == "method_not_allowed" else "x-debug") in verdict.message
