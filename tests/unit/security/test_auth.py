"""Tokens in, identities out: static API keys and HS256/RS256 JWTs, time passed in."""

import base64
import hashlib
import hmac
from pathlib import Path

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ticker.config import ConfigError
from ticker.runtime.configure import from_dict
from ticker.security.tokens import (
    Authenticator,
    TokenError,
    bearer_token,
    hash_key,
    load_jwt_key,
    new_api_key,
)

NOW = 1_800_000_000.0
SECRET = b"s" * 32
KEY = "tk_desk-one-secret"


def authenticator(jwt_section: dict | None = None, key: object = SECRET) -> Authenticator:
    cfg = from_dict(
        {
            "auth": {
                "enabled": True,
                "max_connections_per_identity": 7,
                "keys": [{"name": "desk1", "sha256": hash_key(KEY), "symbols": ["EUR*"], "max_connections": 3}],
                "jwt": jwt_section
                if jwt_section is not None
                else {"algorithm": "HS256", "key_file": "unused", "leeway_s": 0},
            }
        }
    )
    return Authenticator(cfg.auth, key if cfg.auth.jwt.algorithm else None)  # type: ignore[arg-type]


def hs256(claims: dict, secret: bytes = SECRET, **kw: object) -> str:
    return jwt.encode(claims, secret, algorithm="HS256", **kw)  # type: ignore[arg-type]


def claims(**over: object) -> dict:
    return {"sub": "alice", "exp": NOW + 60, "symbols": ["GBPUSD", "XA*"], **over}


def reason(fn: object, *args: object) -> TokenError:
    with pytest.raises(TokenError) as info:
        fn(*args)  # type: ignore[operator]
    return info.value


def test_api_key_is_found_by_its_hash() -> None:
    a = authenticator()
    ident = a.verify(KEY, NOW)
    assert ident.name == "key:desk1" and ident.max_connections == 3 and ident.expires_at is None
    assert ident.entitlements.allows("EURUSD") and not ident.entitlements.allows("GBPUSD")
    err = reason(a.verify, KEY + "x", NOW)
    assert err.status == 401 and err.code == "unauthenticated"


def test_new_api_keys_are_random_and_hash_to_64_hex() -> None:
    k1, k2 = new_api_key(), new_api_key()
    assert k1 != k2 and k1.startswith("tk_") and len(k1) > 40
    assert len(hash_key(k1)) == 64


def test_hs256_token_gives_identity_with_entitlements_and_expiry() -> None:
    ident = authenticator().verify(hs256(claims(max_connections=2)), NOW)
    assert ident.name == "jwt:alice" and ident.max_connections == 2 and ident.expires_at == NOW + 60
    assert ident.entitlements.allows("XAUUSD") and not ident.entitlements.allows("EURUSD")
    default = authenticator().verify(hs256(claims(symbols="EURUSD USDJPY")), NOW)
    assert default.max_connections == 7 and default.entitlements.allows("USDJPY")


def test_expiry_and_not_before_use_the_given_clock_and_leeway() -> None:
    a = authenticator()
    assert reason(a.verify, hs256(claims(exp=NOW - 1)), NOW).message == "token expired"
    assert "not valid yet" in reason(a.verify, hs256(claims(nbf=NOW + 10)), NOW).message
    lenient = authenticator({"algorithm": "HS256", "key_file": "x", "leeway_s": 30})
    ident = lenient.verify(hs256(claims(exp=NOW - 10)), NOW)
    assert ident.expires_at == NOW + 20  # honoured until exp + leeway, and no longer
    assert lenient.verify(hs256(claims(nbf=NOW + 10)), NOW)


@pytest.mark.parametrize(
    ("token_claims", "message"),
    [
        ({"exp": NOW + 60, "symbols": ["*"]}, "sub"),
        ({"sub": "alice", "symbols": ["*"]}, "exp"),
        (claims(exp="soon"), "'exp' must be a number"),
        (claims(sub=""), "sub"),
        (claims(symbols=[1]), "'symbols' must be a list"),
        (claims(max_connections=0), "'max_connections' must be a positive integer"),
    ],
)
def test_malformed_claims_are_refused(token_claims: dict, message: str) -> None:
    err = reason(authenticator().verify, hs256(token_claims), NOW)
    assert err.status == 401 and message in err.message


def test_a_token_granting_no_symbols_is_forbidden_not_unauthenticated() -> None:
    for grant in (None, [], ""):
        c = claims(symbols=grant) if grant is not None else {k: v for k, v in claims().items() if k != "symbols"}
        err = reason(authenticator().verify, hs256(c), NOW)
        assert (err.status, err.code) == (403, "not_entitled")


def test_forged_tokens_are_refused() -> None:
    a = authenticator()
    assert "invalid token" in reason(a.verify, hs256(claims(), b"x" * 32), NOW).message
    unsigned = jwt.encode(claims(), None, algorithm="none")  # type: ignore[arg-type]
    assert "invalid token" in reason(a.verify, unsigned, NOW).message
    assert "API key" in reason(a.verify, "not-a-jwt", NOW).message
    assert "longer than" in reason(a.verify, "x" * 9000, NOW).message
    assert reason(a.verify, "", NOW).message == "empty token"


def test_issuer_and_audience_when_configured() -> None:
    a = authenticator({"algorithm": "HS256", "key_file": "x", "issuer": "idp", "audience": "ticker"})
    assert a.verify(hs256(claims(iss="idp", aud="ticker")), NOW).name == "jwt:alice"
    assert "invalid token" in reason(a.verify, hs256(claims(iss="other", aud="ticker")), NOW).message
    assert "invalid token" in reason(a.verify, hs256(claims(iss="idp")), NOW).message


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_public(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_rs256_with_public_key_file_and_no_algorithm_confusion(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    pub = tmp_path / "pub.pem"
    pub.write_bytes(pem_public(rsa_key))
    a = authenticator({"algorithm": "RS256", "key_file": str(pub)}, load_jwt_key("RS256", str(pub)))
    good = jwt.encode(claims(), rsa_key, algorithm="RS256")
    assert a.verify(good, NOW).name == "jwt:alice"
    # The classic confusion attack: HS256 "signed" with the public key as the HMAC secret.
    forged = hmac_signed(claims(), pem_public(rsa_key))
    assert "invalid token" in reason(a.verify, forged, NOW).message


def hmac_signed(payload: dict, secret: bytes) -> str:
    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(orjson.dumps({"alg": "HS256", "typ": "JWT"})) + b"." + b64(orjson.dumps(payload))
    sig = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(sig)).decode()


def test_jwt_key_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"auth.jwt.key_file: cannot read .*missing"):
        load_jwt_key("HS256", str(tmp_path / "missing"))
    short = tmp_path / "short"
    short.write_bytes(b"tooshort\n")
    with pytest.raises(ConfigError, match="is 8 bytes; at least 32"):
        load_jwt_key("HS256", str(short))
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET + b"\n")
    assert load_jwt_key("HS256", str(secret)) == SECRET
    not_pem = tmp_path / "x.pem"
    not_pem.write_text("hello")
    with pytest.raises(ConfigError, match="not a PEM public key"):
        load_jwt_key("RS256", str(not_pem))
    ec_pem = tmp_path / "ec.pem"
    ec_pem.write_bytes(pem_public(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(ConfigError, match="not an RSA public key"):
        load_jwt_key("RS256", str(ec_pem))
    small = tmp_path / "small.pem"
    small.write_bytes(pem_public(rsa.generate_private_key(public_exponent=65537, key_size=1024)))
    with pytest.raises(ConfigError, match="1024 bits; at least 2048"):
        load_jwt_key("RS256", str(small))


def test_bearer_header() -> None:
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer   abc ") == "abc"
    for bad in ("Basic dXNlcg==", "Bearer", "Bearer   ", "abc"):
        with pytest.raises(TokenError, match="Bearer <token>"):
            bearer_token(bad)


def delayed_authenticator(delays: tuple[int, ...] = ()) -> Authenticator:
    cfg = from_dict(
        {
            "auth": {
                "enabled": True,
                "keys": [
                    {"name": "retail", "sha256": hash_key(KEY), "symbols": ["EUR*"],
                     "delayed": [{"symbols": ["XAU*", "XAG*"], "delay_s": 900}]},
                    {"name": "late", "sha256": hash_key("tk_late"), "delayed": [{"symbols": ["*"], "delay_s": 60}]},
                ],
                "jwt": {"algorithm": "HS256", "key_file": "unused", "leeway_s": 0},
            },
        }
    )  # fmt: skip
    return Authenticator(cfg.auth, SECRET, delays=delays)


def test_api_keys_grant_delayed_symbols_and_name_the_delays_offered() -> None:
    auth = delayed_authenticator(delays=(1800,))
    assert auth.delays == (60, 900, 1800)
    retail = auth.verify(KEY, NOW).entitlements
    assert retail.delay_of("EURUSD") == 0 and retail.delay_of("XAGUSD") == 900 and retail.delay_of("GBPUSD") is None
    late = auth.verify("tk_late", NOW).entitlements  # a key with delayed symbols only
    assert late.delay_of("EURUSD") == 60 and not late.allows("EURUSD")


def test_jwt_delayed_claim_rounds_up_to_an_offered_delay() -> None:
    auth = delayed_authenticator()
    token = hs256(claims(symbols=["EUR*"], delayed=[{"symbols": ["XAU*"], "delay_s": 600},
                                                    {"symbols": "GBP* AUD*", "delay_s": 60}]))  # fmt: skip
    ent = auth.verify(token, NOW).entitlements
    assert ent.delay_of("EURUSD") == 0 and ent.delay_of("XAUUSD") == 900 and ent.delay_of("AUDUSD") == 60
    only_delayed = hs256({"sub": "bob", "exp": NOW + 60, "delayed": [{"symbols": ["*"], "delay_s": 900}]})
    assert auth.verify(only_delayed, NOW).entitlements.delay_of("USDJPY") == 900


@pytest.mark.parametrize(
    ("delayed", "status", "message"),
    [
        ([{"symbols": ["XAU*"], "delay_s": 7200}], 403, "delayed by 7200 s, but this server offers delays of 60, 900"),
        ([{"symbols": ["XAU*"], "delay_s": 0}], 401, "delay_s must be an integer from 1 to 86400"),
        ([{"symbols": ["XAU*"], "delay_s": True}], 401, "delay_s must be an integer"),
        ([{"symbols": [5], "delay_s": 900}], 401, "claim 'delayed[].symbols' must be a list of at most"),
        (["XAU*"], 401, "claim 'delayed' must be a list of"),
        ({"XAU*": 900}, 401, "claim 'delayed' must be a list of"),
    ],
)
def test_bad_delayed_claims_are_refused(delayed: object, status: int, message: str) -> None:
    err = reason(delayed_authenticator().verify, hs256(claims(delayed=delayed)), NOW)
    assert err.status == status and message in err.message


def test_a_token_granting_nothing_at_all_is_403() -> None:
    err = reason(delayed_authenticator().verify, hs256({"sub": "x", "exp": NOW + 60}), NOW)
    assert err.status == 403 and err.code == "not_entitled"
