"""Configuration: TOML files, environment overrides, validation.

Every setting has a default here, so the service runs with no file at all;
``config/default.toml`` spells the same defaults out (a test keeps the two
equal). Loading order: defaults < file < environment. An environment
variable ``TICKER_<SECTION>__<KEY>`` (or ``TICKER_<KEY>`` for a top-level
value such as ``bus``; double underscore between levels,
list items by index: ``TICKER_FEEDS__0__RATE``) overrides one value; the
value is read as a TOML value when it parses as one (``9000``, ``true``,
``["EURUSD"]``), else as a string.

Every error names the key path (``server.port``, ``feeds[0].rate``) or the
file line, and the reason.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from feeds.registry import FEED_TYPES

ENV_PREFIX = "TICKER_"


class ConfigError(Exception):
    """A configuration problem, with the key path or file line in the message."""


def _range(lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    return {"min": lo, "max": hi}


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = field(default=8080, metadata=_range(0, 65535))
    ws_path: str = "/ws"
    #: Seconds between server pings on each WebSocket (0 = none).
    heartbeat_s: float = field(default=30.0, metadata=_range(0, 3600))
    #: Seconds to wait for clients and feeds when shutting down.
    shutdown_timeout_s: float = field(default=5.0, metadata=_range(0, 300))
    #: Event loop. asyncio's own is the default; uvloop (an optional extra) used 2-10%
    #: less CPU per message on the benchmark machine with no latency difference beyond
    #: noise (docs/benchmarks.md). "auto" uses uvloop when it is installed.
    loop: Literal["auto", "asyncio", "uvloop"] = "asyncio"
    #: Seconds a new connection gets to finish its TLS handshake and, separately, to send a
    #: complete HTTP request; also how long an idle HTTP keep-alive connection stays open.
    handshake_timeout_s: float = field(default=10.0, metadata=_range(0.1, 300))
    #: Origins (``scheme://host[:port]``, ``*`` wildcards) whose browser pages may open a
    #: WebSocket; empty = any. Requests without an Origin header (non-browsers) always may.
    allowed_origins: tuple[str, ...] = ()
    #: Addresses or networks (CIDR) of reverse proxies whose ``X-Forwarded-For`` is believed.
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.ws_path.startswith("/"):
            raise ValueError("ws_path: must start with '/'")
        for i, origin in enumerate(self.allowed_origins):
            scheme, sep, host = origin.partition("://")
            if origin != "null" and (not sep or scheme not in ("http", "https") or not host or "/" in host):
                raise ValueError(
                    f"allowed_origins: [{i}] {origin!r} is not an origin like 'https://dash.example.com'"
                )
        for i, net in enumerate(self.trusted_proxies):
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: [{i}] {net!r} is not an IP address or CIDR network"
                ) from None


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """``wss://`` and ``https://`` straight from the server; off while both paths are empty."""

    #: PEM certificate chain (leaf first).
    cert_file: str = ""
    #: PEM private key of the certificate.
    key_file: str = ""
    #: Oldest TLS version accepted.
    min_version: Literal["1.2", "1.3"] = "1.2"

    def __post_init__(self) -> None:
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("cert_file: set both cert_file and key_file, or neither")

    @property
    def enabled(self) -> bool:
        return bool(self.cert_file)


@dataclass(frozen=True, slots=True)
class ApiKeyConfig:
    """One static API key: only its SHA-256 is stored (``ticker new-api-key`` makes one)."""

    name: str = ""
    #: Hex SHA-256 of the key.
    sha256: str = ""
    #: Symbols the key may see: names or glob patterns (``EUR*``, ``XA?USD``, ``*``).
    symbols: tuple[str, ...] = ()
    #: Simultaneous WebSocket connections; 0 = auth.max_connections_per_identity.
    max_connections: int = field(default=0, metadata=_range(0, 1_000_000))

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name: required (it names the identity in logs and limits)")
        if len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256):
            raise ValueError("sha256: must be 64 lowercase hex digits (the SHA-256 of the key)")
        _check_patterns(self.symbols)


def _check_patterns(patterns: tuple[str, ...]) -> None:
    if not patterns:
        raise ValueError("symbols: at least one symbol or pattern is required")
    for i, p in enumerate(patterns):
        if not p or len(p) > 64:
            raise ValueError(f"symbols: [{i}] must be 1 to 64 characters")


@dataclass(frozen=True, slots=True)
class JwtConfig:
    """JSON Web Tokens signed by your identity provider."""

    #: "" = JWTs are not accepted.
    algorithm: Literal["", "HS256", "RS256"] = ""
    #: HS256: file holding the shared secret (at least 32 bytes); RS256: the PEM public key.
    key_file: str = ""
    #: Required ``iss`` claim ("" = not checked).
    issuer: str = ""
    #: Required ``aud`` claim ("" = not checked).
    audience: str = ""
    #: Clock skew tolerated on ``exp`` and ``nbf``.
    leeway_s: float = field(default=30.0, metadata=_range(0, 3600))
    #: Claim listing the symbol patterns (a list, or a space-separated string).
    symbols_claim: str = "symbols"
    #: Optional integer claim overriding auth.max_connections_per_identity.
    max_connections_claim: str = "max_connections"

    def __post_init__(self) -> None:
        if self.algorithm and not self.key_file:
            raise ValueError(f"key_file: required for algorithm {self.algorithm}")
        if not self.symbols_claim:
            raise ValueError("symbols_claim: must not be empty")


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Who may connect and which symbols each identity may see."""

    enabled: bool = False
    #: A client that gave no token in the handshake must send ``{"op":"auth"}`` within this.
    timeout_s: float = field(default=10.0, metadata=_range(0.1, 600))
    #: Simultaneous WebSocket connections per identity unless its key or token says otherwise.
    max_connections_per_identity: int = field(default=20, metadata=_range(1, 1_000_000))
    #: Send a ``token_expiring`` warning this long before a token expires.
    expiry_warning_s: float = field(default=60.0, metadata=_range(0, 86_400))
    keys: tuple[ApiKeyConfig, ...] = ()
    jwt: JwtConfig = field(default_factory=JwtConfig)

    def __post_init__(self) -> None:
        if self.enabled and not self.keys and not self.jwt.algorithm:
            raise ValueError(
                "enabled: auth is on but there are no keys and no jwt.algorithm: nobody could log in"
            )
        names: set[str] = set()
        hashes: set[str] = set()
        for i, key in enumerate(self.keys):
            if key.name in names:
                raise ValueError(f"keys: [{i}] name {key.name!r} is used twice")
            if key.sha256 in hashes:
                raise ValueError(f"keys: [{i}] ({key.name}) has the same sha256 as another key")
            names.add(key.name)
            hashes.add(key.sha256)


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    max_symbols_per_connection: int = field(default=200, metadata=_range(1, 100_000))
    #: Largest client message accepted; larger ones close the connection with 1009.
    max_message_bytes: int = field(default=65_536, metadata=_range(256, 16 * 1024 * 1024))
    #: WebSocket connections open at once; more get HTTP 503.
    max_connections: int = field(default=50_000, metadata=_range(1, 10_000_000))
    #: WebSocket connections per client IP (IPv6: per /64); more get HTTP 429. 0 = no limit.
    max_connections_per_ip: int = field(default=0, metadata=_range(0, 10_000_000))
    #: Client messages per second per connection (token bucket refill); 0 = no limit.
    messages_per_s: float = field(default=50.0, metadata=_range(0, 1_000_000))
    #: Token bucket size: messages a connection may send in a burst.
    message_burst: int = field(default=100, metadata=_range(1, 1_000_000))
    #: Refused messages in one over-the-limit episode before the connection is closed (1008).
    rate_limit_close_after: int = field(default=100, metadata=_range(1, 1_000_000))


@dataclass(frozen=True, slots=True)
class FanoutConfig:
    #: Queued messages per connection above which updates are conflated per symbol.
    queue_high_water: int = field(default=512, metadata=_range(1, 1_000_000))
    #: Largest coalesced frame the writer builds (a single bigger message still goes).
    max_frame_bytes: int = field(default=65_536, metadata=_range(1024, 16 * 1024 * 1024))
    #: A connection is slow while more than this is pending (its queue plus socket buffer)...
    slow_consumer_max_bytes: int = field(default=4 * 1024 * 1024, metadata=_range(1024))
    #: ...or while its queue has not been empty for this long...
    slow_consumer_max_lag_s: float = field(default=2.0, metadata=_range(0.01, 3600))
    #: ...and it is closed (1013) once it has been slow this long; it is warned first.
    slow_consumer_grace_s: float = field(default=5.0, metadata=_range(0, 3600))
    #: Kernel send buffer per client socket (SO_SNDBUF); 0 leaves it to the OS, whose
    #: autotuning lets a stalled client hold up to tcp_wmem max (often 4 MiB) unnoticed.
    socket_send_buffer: int = field(default=262_144, metadata=_range(0, 64 * 1024 * 1024))
    #: Offer permessage-deflate to clients that ask for it.
    compression: bool = False


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    enabled: bool = True
    path: str = "/metrics"


@dataclass(frozen=True, slots=True)
class LogConfig:
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"


@dataclass(frozen=True, slots=True)
class OutlierConfig:
    """``outliers`` of a feed: hold price jumps until confirmed (see ticker/outliers.py)."""

    #: Reject a jump above this many recent standard deviations of tick returns (0 = off).
    max_sigma: float = field(default=0.0, metadata=_range(0, 1000))
    #: Reject a jump above this percentage of the price (0 = off).
    max_jump_pct: float = field(default=0.0, metadata=_range(0, 1000))
    #: Recent ticks whose returns make the standard deviation.
    window: int = field(default=100, metadata=_range(5, 100_000))
    #: Ticks near a jumped price that make it real (the held ticks are then applied).
    confirm_ticks: int = field(default=2, metadata=_range(1, 1000))

    @property
    def enabled(self) -> bool:
        return self.max_sigma > 0 or self.max_jump_pct > 0


@dataclass(frozen=True, slots=True)
class FeedCommon:
    """Keys every ``[[feeds]]`` table accepts, whatever its type."""

    #: A symbol without a tick for this long turns stale (0 = never).
    stale_after_s: float = field(default=30.0, metadata=_range(0, 86_400))
    #: Name of the feed this one backs up: its ticks for shared symbols are applied
    #: only while that primary feed is stale.
    backup_for: str = ""
    outliers: OutlierConfig = field(default_factory=OutlierConfig)


@dataclass(frozen=True, slots=True)
class FeedConfig:
    name: str
    type: str
    options: Any
    common: FeedCommon = field(default_factory=FeedCommon)


def _default_feeds() -> tuple[FeedConfig, ...]:
    return (FeedConfig("synthetic", "synthetic", FEED_TYPES["synthetic"].options()),)


BUS_SCHEMES = ("redis", "rediss", "unix")


def check_bus_url(url: str) -> None:
    """Raise ValueError naming what is wrong with a ``bus`` value."""
    if url == "memory":
        return
    hint = 'must be "memory" or a Redis URL such as "redis://127.0.0.1:6379/0"'
    parts = urlsplit(url)
    if parts.scheme not in BUS_SCHEMES:
        raise ValueError(f"{hint}, got {url!r}")
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError(f"{hint}; a unix:// URL needs a socket path, got {url!r}")
        return
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{hint}; the port is not a number from 1 to 65535 in {url!r}") from None
    if not parts.hostname or (port is not None and not 0 < port < 65536):
        raise ValueError(f"{hint}; host or port missing or invalid in {url!r}")
    db = parts.path.lstrip("/")
    if db and not db.isdigit():
        raise ValueError(f"{hint}; the database after '/' must be a number, got {db!r}")


@dataclass(frozen=True, slots=True)
class Config:
    #: Where ticks travel from feeds to the WebSocket side: "memory" (one process, the
    #: default) or a Redis URL, which splits the service into ``ticker feed`` and
    #: ``ticker serve`` processes (docs/scaling.md).
    bus: str = "memory"
    #: Prefix of every Redis key the bus uses, so deployments can share one Redis.
    bus_prefix: str = "ticker"
    #: Entries (batches of ticks) each feed's Redis stream keeps for gateways catching up.
    bus_stream_maxlen: int = field(default=10_000, metadata=_range(100, 10_000_000))
    server: ServerConfig = field(default_factory=ServerConfig)
    tls: TlsConfig = field(default_factory=TlsConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    fanout: FanoutConfig = field(default_factory=FanoutConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    log: LogConfig = field(default_factory=LogConfig)
    feeds: tuple[FeedConfig, ...] = field(default_factory=_default_feeds)

    def __post_init__(self) -> None:
        try:
            check_bus_url(self.bus)
        except ValueError as exc:
            raise ValueError(f"bus: {exc}") from None
        p = self.bus_prefix
        if not p or not all(c.isalnum() or c in "-_.:" for c in p):
            raise ValueError(f"bus_prefix: must be letters, digits, '-', '_', '.' or ':', got {p!r}")


def top_level_keys() -> tuple[str, ...]:
    """Config keys that are plain values rather than sections (``bus``, ...)."""
    return tuple(f.name for f in dataclasses.fields(Config) if f.default is not dataclasses.MISSING)


# ---------------------------------------------------------------- loading


def load(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load a config file (or only defaults when ``path`` is None) plus overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{p}: cannot read: {exc.strerror or exc}") from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    apply_env(raw, os.environ if env is None else env)
    return from_dict(raw)


def from_dict(raw: Mapping[str, Any]) -> Config:
    raw = dict(raw)
    feeds_raw = raw.pop("feeds", None)
    cfg = _build(Config, {k: v for k, v in raw.items()}, "", skip=("feeds",))
    if feeds_raw is not None:
        cfg = dataclasses.replace(cfg, feeds=_feeds(feeds_raw))
    return cfg


def _feeds(value: Any) -> tuple[FeedConfig, ...]:
    if not isinstance(value, list):
        raise ConfigError("feeds: must be an array of tables ([[feeds]])")
    if not value:
        raise ConfigError("feeds: at least one feed is required")
    out: list[FeedConfig] = []
    names: set[str] = set()
    for i, item in enumerate(value):
        where = f"feeds[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: must be a table")
        item = dict(item)
        type_name = item.pop("type", None)
        if type_name is None:
            raise ConfigError(f"{where}.type: missing; one of {', '.join(sorted(FEED_TYPES))}")
        if type_name not in FEED_TYPES:
            raise ConfigError(
                f"{where}.type: unknown feed type {type_name!r}; one of {', '.join(sorted(FEED_TYPES))}"
            )
        name = item.pop("name", type_name if i == 0 else f"{type_name}{i}")
        if not isinstance(name, str) or not name or not name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"{where}.name: must be letters, digits, '-' or '_', got {name!r}")
        if name in names:
            raise ConfigError(f"{where}.name: feed name {name!r} is used twice")
        names.add(name)
        common_keys = {f.name for f in dataclasses.fields(FeedCommon)}
        common = _build(FeedCommon, {k: v for k, v in item.items() if k in common_keys}, where)
        options = _build(
            FEED_TYPES[type_name].options, {k: v for k, v in item.items() if k not in common_keys}, where
        )
        out.append(FeedConfig(name, type_name, options, common))
    _check_backups(out)
    return tuple(out)


def _check_backups(feeds: list[FeedConfig]) -> None:
    """``backup_for`` must name another, non-backup feed that can go stale."""
    by_name = {f.name: f for f in feeds}
    backed: dict[str, str] = {}
    for i, f in enumerate(feeds):
        target = f.common.backup_for
        if not target:
            continue
        where = f"feeds[{i}].backup_for"
        if target == f.name:
            raise ConfigError(f"{where}: a feed cannot back itself up")
        primary = by_name.get(target)
        if primary is None:
            raise ConfigError(f"{where}: no feed named {target!r}; feeds: {', '.join(by_name)}")
        if primary.common.backup_for:
            raise ConfigError(f"{where}: {target!r} is itself a backup (for {primary.common.backup_for!r})")
        if target in backed:
            raise ConfigError(f"{where}: {target!r} already has a backup, {backed[target]!r}")
        if primary.common.stale_after_s <= 0:
            raise ConfigError(
                f"{where}: primary {target!r} has stale_after_s = 0, so it never goes stale "
                "and the backup would never be used; set its stale_after_s"
            )
        backed[target] = f.name


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _build(cls: type, raw: Any, path: str, skip: tuple[str, ...] = ()) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path or 'config'}: must be a table, got {_kind(raw)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    for key in raw:
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(fields)}"
            raise ConfigError(f"{_join(path, key)}: unknown key{hint}")
    kwargs = {
        name: _convert(hints[name], raw[name], _join(path, name), f.metadata)
        for name, f in fields.items()
        if name in raw
    }
    try:
        return cls(**kwargs)
    except ValueError as exc:
        msg = str(exc)
        key, sep, rest = msg.partition(": ")
        if sep and key in fields:
            raise ConfigError(f"{_join(path, key)}: {rest}") from None
        raise ConfigError(f"{path or 'config'}: {msg}") from None


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)  # fmt: skip


def _convert(tp: Any, value: Any, path: str, meta: Mapping[str, Any]) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _convert(args[0], value, path, meta)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(f"{path}: must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return value
    if origin is tuple:
        (item_tp, _) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{path}: must be an array, got {_kind(value)}")
        return tuple(_convert(item_tp, v, f"{path}[{i}]", {}) for i, v in enumerate(value))
    if origin is dict:
        _, val_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: must be a table, got {_kind(value)}")
        return {str(k): _convert(val_tp, v, f"{path}.{k}", {}) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, path)  # type: ignore[arg-type]
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: must be an integer, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: must be a number, got {value!r}")
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"{path}: must be a finite number, got {value!r}")
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: must be a string, got {_kind(value)}")
        return value
    elif tp is Any:
        return value
    else:  # pragma: no cover - a schema bug, not a user error
        raise TypeError(f"{path}: unsupported config type {tp!r}")
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and value < lo:
        raise ConfigError(f"{path}: must be >= {lo}, got {value!r}")
    if hi is not None and value > hi:
        raise ConfigError(f"{path}: must be <= {hi}, got {value!r}")
    return value


# ---------------------------------------------------------------- environment


def _env_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    """Apply ``TICKER_A__B=value`` overrides to a raw config dict, in place."""
    top = top_level_keys()
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX):
            continue
        if "__" not in name:  # TICKER_BUS=redis://...: a top-level value
            key = name[len(ENV_PREFIX) :].lower()
            if key in top:
                raw[key] = _env_value(env[name])
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if any(not p for p in parts):
            raise ConfigError(f"{name}: empty key segment in environment override")
        node: Any = raw
        where = ""
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit():
                    raise ConfigError(f"{name}: {where} is an array; expected an index, got {part!r}")
                idx = int(part)
                if idx == len(node) and where == "feeds":
                    node.append({})
                if idx >= len(node):
                    raise ConfigError(f"{name}: there is no {where}[{idx}]")
                where = f"{where}[{idx}]"
                if last:
                    node[idx] = _env_value(env[name])
                else:
                    node = node[idx]
                continue
            if not isinstance(node, dict):
                raise ConfigError(f"{name}: {where} is not a table")
            where = _join(where, part)
            if last:
                node[part] = _env_value(env[name])
            else:
                if part == "feeds" and part not in node:
                    node[part] = [{"type": c.type, "name": c.name} for c in _default_feeds()]
                node = node.setdefault(part, {})


# ---------------------------------------------------------------- printing


def to_dict(cfg: Any) -> Any:
    """The effective config as plain TOML-able data (feed options inlined)."""
    if isinstance(cfg, FeedConfig):
        return {"name": cfg.name, "type": cfg.type, **to_dict(cfg.common), **to_dict(cfg.options)}
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, tuple):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, dict):
        return {k: to_dict(v) for k, v in cfg.items()}
    return cfg


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if v is None:
        return '""'
    raise TypeError(type(v))


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else _toml_value(k)


def to_toml(cfg: Config) -> str:
    """Render the effective config as TOML (what ``ticker check-config`` prints)."""
    data = to_dict(cfg)
    top = top_level_keys()
    lines: list[str] = [f"{k} = {_toml_value(data[k])}" for k in top]
    if lines:
        lines.append("")
    for section, body in data.items():
        if section == "feeds" or section in top:
            continue
        lines.append(f"[{section}]")
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in body.items() if v is not None]
        lines.append("")
    for feed in data["feeds"]:
        lines.append("[[feeds]]")
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in feed.items() if v is not None]
        lines.append("")
    return "\n".join(lines)
