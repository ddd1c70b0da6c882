"""Who is calling: tokens in, identities out.

Two kinds of token, both presented the same way (``Authorization: Bearer``,
a ``token`` query parameter, or an ``auth`` message):

* **Static API keys.** The config holds only each key's SHA-256, never the
  key; a token is looked up by its hash. (A dict lookup on a digest leaks
  nothing useful through timing: learning a prefix of a SHA-256 does not
  help find a key.)
* **JWTs** (HS256 with a shared secret, or RS256 with a public key), checked
  by PyJWT with the one configured algorithm pinned, so a token cannot pick
  its own (no ``alg: none``, no HS/RS confusion). ``exp`` and ``sub`` are
  required. Expiry is checked here against an injected clock, not by PyJWT,
  so the same code runs in tests without sleeping.

An :class:`Identity` names the caller, its entitlements (real time and
delayed, :mod:`ticker.security.entitlements`), its connection limit and when
it stops being valid. A JWT's delayed claim is rounded up to a delay the
server offers (``delay.delays_s`` and the API keys' delays): a longer delay
than licensed is fine, a shorter one never; a delay longer than any offered
refuses the token (403), as the server could not honour it. Nothing here does I/O except reading
the JWT key file once, in :meth:`Authenticator.from_config`. PyJWT and
cryptography are imported only where a JWT is configured or checked, so a
deployment with API keys alone never loads them.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ticker.config import ApiKeyConfig, AuthConfig, ConfigError
from ticker.config.schema import MAX_DELAY_S
from ticker.security.entitlements import (
    EVERYTHING,
    DelayedPatterns,
    Entitlements,
    entitlements,
    round_up_delay,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

#: Longest token accepted anywhere (handshake header, query, ``auth`` message).
MAX_TOKEN_LENGTH = 8192
MAX_PATTERNS = 1000
MIN_HS256_SECRET_BYTES = 32
MIN_RSA_BITS = 2048
API_KEY_PREFIX = "tk_"


class TokenError(Exception):
    """The caller could not be authenticated (HTTP 401) or is granted nothing (403)."""

    def __init__(self, message: str, *, status: int = 401, code: str = "unauthenticated") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class Identity:
    #: ``key:<name>`` or ``jwt:<sub>``: what logs and connection limits count by.
    name: str
    entitlements: Entitlements
    #: Simultaneous connections allowed to this identity (0 = no limit).
    max_connections: int = 0
    #: Unix time the credential stops being valid; None = never.
    expires_at: float | None = None


#: Everyone, while authentication is off.
ANONYMOUS = Identity("anonymous", EVERYTHING)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    """A fresh random API key (256 bits), recognisable by its prefix."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None without a header)."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def _patterns(value: Any, claim: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list):
        raise TokenError(f"claim {claim!r} must be a list of symbol patterns (or a space-separated string)")
    if len(value) > MAX_PATTERNS or not all(isinstance(p, str) and 0 < len(p) <= 64 for p in value):
        raise TokenError(
            f"claim {claim!r} must be a list of at most {MAX_PATTERNS} symbol patterns of 1 to 64 characters"
        )
    return tuple(value)


def _delayed_claim(value: Any, claim: str, offered: Sequence[int]) -> DelayedPatterns:
    """``[{"symbols": [...] or "A B", "delay_s": 900}, ...]`` -> (pattern, delay) pairs,
    each delay rounded up to one the server offers."""
    if value is None:
        return ()
    shape = f'claim {claim!r} must be a list of {{"symbols": [...], "delay_s": <seconds>}} objects'
    if not isinstance(value, list) or len(value) > MAX_PATTERNS:
        raise TokenError(shape)
    out: list[tuple[str, int]] = []
    for item in value:
        if not isinstance(item, dict):
            raise TokenError(shape)
        delay = item.get("delay_s")
        if isinstance(delay, bool) or not isinstance(delay, int) or not 1 <= delay <= MAX_DELAY_S:
            raise TokenError(f"claim {claim!r}: delay_s must be an integer from 1 to {MAX_DELAY_S}")
        served = round_up_delay(delay, offered)
        if served is None:
            shown = ", ".join(map(str, offered)) or "none"
            raise TokenError(
                f"the token grants symbols delayed by {delay} s, but this server offers delays of "
                f"{shown} s only", status=403, code="not_entitled",
            )  # fmt: skip
        out += [(p, served) for p in _patterns(item.get("symbols"), f"{claim}[].symbols")]
    if len(out) > MAX_PATTERNS:
        raise TokenError(shape)
    return tuple(out)


def key_entitlements(key: ApiKeyConfig) -> Entitlements:
    """An API key's entitlements: its real-time and its delayed patterns."""
    return entitlements(key.symbols, tuple((p, d.delay_s) for d in key.delayed for p in d.symbols))


def offered_delays(config: AuthConfig, extra: Sequence[int] = ()) -> tuple[int, ...]:
    """Every delay the server keeps a delay line for: ``extra`` (``delay.delays_s``)
    and the delays the API keys name, shortest first."""
    return tuple(sorted({*extra, *(d.delay_s for k in config.keys for d in k.delayed)}))


class Authenticator:
    def __init__(
        self,
        config: AuthConfig,
        jwt_key: bytes | RSAPublicKey | None = None,
        *,
        delays: Sequence[int] = (),
    ) -> None:
        self.config = config
        #: Delays a JWT's delayed claim is rounded up to (API keys' delays included).
        self.delays = offered_delays(config, delays)
        default_max = config.max_connections_per_identity
        self._keys: dict[str, Identity] = {
            k.sha256: Identity(f"key:{k.name}", key_entitlements(k), k.max_connections or default_max)
            for k in config.keys
        }
        self._jwt = config.jwt
        self._jwt_key = jwt_key
        if self._jwt.algorithm and jwt_key is None:
            raise ValueError("a JWT algorithm is configured but no key was given")

    @classmethod
    def from_config(cls, config: AuthConfig, *, delays: Sequence[int] = ()) -> Authenticator:
        """Build from config, reading the JWT key file; errors name the key. ``delays``:
        the delays offered besides the API keys' (``delay.delays_s``)."""
        return cls(config, load_jwt_key(config.jwt.algorithm, config.jwt.key_file), delays=delays)

    def verify(self, token: str, now: float) -> Identity:
        """The identity ``token`` proves at Unix time ``now``; raises :class:`TokenError`."""
        if not token:
            raise TokenError("empty token")
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenError(f"token longer than {MAX_TOKEN_LENGTH} characters")
        found = self._keys.get(hash_key(token))
        if found is not None:
            return found
        if self._jwt.algorithm and token.count(".") == 2:
            return self._verify_jwt(token, now)
        raise TokenError("not a known API key" + (" or a valid JWT" if self._jwt.algorithm else ""))

    def _verify_jwt(self, token: str, now: float) -> Identity:
        import jwt

        cfg = self._jwt
        try:
            claims = jwt.decode(
                token,
                self._jwt_key,  # type: ignore[arg-type]
                algorithms=[cfg.algorithm],
                audience=cfg.audience or None,
                issuer=cfg.issuer or None,
                options={
                    "require": ["exp", "sub"],
                    "verify_exp": False,  # checked below against the injected clock
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": bool(cfg.audience),
                    "verify_iss": bool(cfg.issuer),
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from None
        exp = claims["exp"]
        if isinstance(exp, bool) or not isinstance(exp, (int, float)) or not math.isfinite(exp):
            raise TokenError("invalid token: 'exp' must be a number")
        if now > exp + cfg.leeway_s:
            raise TokenError("token expired")
        nbf = claims.get("nbf")
        if nbf is not None:
            if isinstance(nbf, bool) or not isinstance(nbf, (int, float)):
                raise TokenError("invalid token: 'nbf' must be a number")
            if now + cfg.leeway_s < nbf:
                raise TokenError("token not valid yet (nbf)")
        sub = claims["sub"]
        if not isinstance(sub, str) or not 0 < len(sub) <= 200:
            raise TokenError("invalid token: 'sub' must be a string of 1 to 200 characters")
        patterns = _patterns(claims.get(cfg.symbols_claim), cfg.symbols_claim)
        delayed = _delayed_claim(claims.get(cfg.delayed_claim), cfg.delayed_claim, self.delays)
        if not patterns and not delayed:
            raise TokenError(
                f"the token grants no symbols (claims {cfg.symbols_claim!r}, {cfg.delayed_claim!r})",
                status=403,
                code="not_entitled",
            )
        limit = claims.get(cfg.max_connections_claim, self.config.max_connections_per_identity)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise TokenError(f"invalid token: {cfg.max_connections_claim!r} must be a positive integer")
        # Honoured until exp + leeway, here and for the connection's lifetime alike.
        return Identity(f"jwt:{sub}", entitlements(patterns, delayed), limit, float(exp) + cfg.leeway_s)


def load_jwt_key(algorithm: str, path: str) -> bytes | RSAPublicKey | None:
    """Read and check the JWT verification key; raises :class:`ConfigError` naming the key."""
    if not algorithm:
        return None
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    where = "auth.jwt.key_file"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror or exc}") from None
    if algorithm == "HS256":
        secret = data.strip()
        if len(secret) < MIN_HS256_SECRET_BYTES:
            raise ConfigError(
                f"{where}: the HS256 secret in {path} is {len(secret)} bytes; "
                f"at least {MIN_HS256_SECRET_BYTES} are required"
            )
        return secret
    try:
        key = load_pem_public_key(data)
    except ValueError as exc:
        raise ConfigError(f"{where}: {path} is not a PEM public key: {exc}") from None
    if not isinstance(key, RSAPublicKey):
        raise ConfigError(f"{where}: {path} holds a {type(key).__name__}, not an RSA public key")
    if key.key_size < MIN_RSA_BITS:
        raise ConfigError(f"{where}: RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} are required")
    return key
