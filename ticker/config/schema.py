"""The config schema: one frozen dataclass per section, with defaults.

Every setting has a default, so the service runs with no file at all;
``config/default.toml`` spells the same defaults out (a test keeps the two
equal). Field metadata ``min``/``max`` bound numbers; ``__post_init__``
checks what a type cannot say and raises :class:`~ticker.util.errors.FieldError`
naming the field, which the loader turns into a key path.

Feed options are not defined here: each feed type brings its own options
dataclass (:class:`FeedTypes`, handed to the loader by the composition
root), so config knows no feed implementation.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from ticker.config.market import MarketConfig
from ticker.core.calendar import CalendarError, parse_duration, parse_interval
from ticker.util.errors import FieldError


@dataclass(frozen=True, slots=True)
class FeedTypes:
    """The feed types config can validate: type name -> options dataclass, and the
    type of the one feed a config without ``[[feeds]]`` gets."""

    options: Mapping[str, type]
    default: str

    def __post_init__(self) -> None:
        if self.default not in self.options:
            raise ValueError(f"default feed type {self.default!r} is not among {sorted(self.options)}")


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
    #: Event loop. asyncio's own is the default; uvloop (an optional extra) used 5-29%
    #: less CPU per message on the benchmark machine but had worse latency at ordinary
    #: load (fuller, fewer frames; docs/benchmarks.md). "auto" uses uvloop when installed.
    loop: Literal["auto", "asyncio", "uvloop"] = "asyncio"
    #: Seconds a new connection gets to finish its TLS handshake and, separately, to send a
    #: complete HTTP request; also how long an idle HTTP keep-alive connection stays open.
    handshake_timeout_s: float = field(default=10.0, metadata=_range(0.1, 300))
    #: Connections the kernel queues before the server accepts them (``listen`` backlog,
    #: capped by ``net.core.somaxconn``). asyncio's 100 overflowed when thousands of
    #: dashboards reconnected at once after a restart (SYN cookies, then resets).
    backlog: int = field(default=2048, metadata=_range(1, 65535))
    #: Origins (``scheme://host[:port]``, ``*`` wildcards) whose browser pages may open a
    #: WebSocket; empty = any. Requests without an Origin header (non-browsers) always may.
    allowed_origins: tuple[str, ...] = ()
    #: Addresses or networks (CIDR) of reverse proxies whose ``X-Forwarded-For`` is believed.
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.ws_path.startswith("/"):
            raise FieldError("ws_path", "must start with '/'")
        for i, origin in enumerate(self.allowed_origins):
            scheme, sep, host = origin.partition("://")
            if origin != "null" and (not sep or scheme not in ("http", "https") or not host or "/" in host):
                raise FieldError(
                    "allowed_origins", f"[{i}] {origin!r} is not an origin like 'https://dash.example.com'"
                )
        for i, net in enumerate(self.trusted_proxies):
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise FieldError(
                    "trusted_proxies", f"[{i}] {net!r} is not an IP address or CIDR network"
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
            raise FieldError("cert_file", "set both cert_file and key_file, or neither")

    @property
    def enabled(self) -> bool:
        return bool(self.cert_file)


#: Longest delay an entitlement may name (a day).
MAX_DELAY_S = 86_400


@dataclass(frozen=True, slots=True)
class DelayedSymbolsConfig:
    """Symbols an identity sees as they were ``delay_s`` ago (docs/security.md, Delayed data)."""

    #: Names or glob patterns, as in ``symbols``.
    symbols: tuple[str, ...] = ()
    delay_s: int = field(default=900, metadata=_range(1, MAX_DELAY_S))

    def __post_init__(self) -> None:
        _check_patterns(self.symbols, required=True)


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
    #: Symbols the key sees delayed: ``[{ symbols = ["XAU*"], delay_s = 900 }]``. Where a
    #: symbol matches several entries (or ``symbols``), the shortest delay wins.
    delayed: tuple[DelayedSymbolsConfig, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise FieldError("name", "required (it names the identity in logs and limits)")
        if len(self.sha256) != 64 or any(c not in "0123456789abcdef" for c in self.sha256):
            raise FieldError("sha256", "must be 64 lowercase hex digits (the SHA-256 of the key)")
        _check_patterns(self.symbols, required=not self.delayed)


def _check_patterns(patterns: tuple[str, ...], *, required: bool = True) -> None:
    if not patterns and required:
        raise FieldError("symbols", "at least one symbol or pattern is required")
    for i, p in enumerate(patterns):
        if not p or len(p) > 64:
            raise FieldError("symbols", f"[{i}] must be 1 to 64 characters")


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
    #: Optional claim of delayed symbols: ``[{"symbols": ["XAU*"], "delay_s": 900}]``.
    delayed_claim: str = "delayed"

    def __post_init__(self) -> None:
        if self.algorithm and not self.key_file:
            raise FieldError("key_file", f"required for algorithm {self.algorithm}")
        if not self.symbols_claim:
            raise FieldError("symbols_claim", "must not be empty")
        if not self.delayed_claim:
            raise FieldError("delayed_claim", "must not be empty")


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
            raise FieldError(
                "enabled", "auth is on but there are no keys and no jwt.algorithm: nobody could log in"
            )
        names: set[str] = set()
        hashes: set[str] = set()
        for i, key in enumerate(self.keys):
            if key.name in names:
                raise FieldError("keys", f"[{i}] name {key.name!r} is used twice")
            if key.sha256 in hashes:
                raise FieldError("keys", f"[{i}] ({key.name}) has the same sha256 as another key")
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
class ResumeConfig:
    """History kept so reconnecting clients get exactly the updates they missed."""

    #: Updates kept per symbol (0 = none: a client resumes only if it missed nothing).
    max_updates: int = field(default=1000, metadata=_range(0, 1_000_000))
    #: ...and none older than this.
    max_age_s: float = field(default=120.0, metadata=_range(1, 86_400))


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    enabled: bool = True
    path: str = "/metrics"


@dataclass(frozen=True, slots=True)
class LogConfig:
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"


#: Closed bars kept per interval by default, as a duration of continuous trading
#: (docs/market-data.md; equal to ticker.core.bars.DEFAULT_RETENTION_US, a test checks).
DEFAULT_BAR_RETENTION: dict[str, str] = {
    "1s": "1h", "1m": "7d", "5m": "30d", "15m": "60d", "1h": "180d", "4h": "2y", "1d": "10y",
}  # fmt: skip
DEFAULT_BAR_INTERVALS = ("1s", "1m", "5m", "15m", "1h", "4h", "1d")


@dataclass(frozen=True, slots=True)
class BarsConfig:
    """``[bars]``: OHLC bars built from applied ticks (docs/market-data.md)."""

    enabled: bool = True
    #: Bar lengths: Ns or Nm with N dividing 60, Nh with N dividing 24, or 1d.
    intervals: tuple[str, ...] = DEFAULT_BAR_INTERVALS
    #: Price the bars are built from: bid (the FX charting convention), ask or mid.
    source: Literal["bid", "ask", "mid"] = "bid"
    #: Closed bars kept per interval, as a duration of trading ("1h", "7d", "2y"); an
    #: interval not listed keeps 1000 bars, a listed one not in ``intervals`` is ignored.
    retention: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_BAR_RETENTION))
    #: How long after a bar's end the timer waits before closing it, so that ticks in
    #: flight still land in it (a later one is sent as a correction).
    close_delay_ms: int = field(default=100, metadata=_range(0, 10_000))
    #: Most bars one request may ask for (``history`` in a subscribe, ``count`` in
    #: ``GET /api/bars``).
    max_history: int = field(default=5000, metadata=_range(1, 1_000_000))

    def __post_init__(self) -> None:
        if self.enabled and not self.intervals:
            raise FieldError("intervals", "list at least one interval, or set enabled = false")
        labels: list[str] = []
        for i, text in enumerate(self.intervals):
            try:
                label = parse_interval(text).label
            except CalendarError as exc:
                raise FieldError("intervals", f"[{i}] {exc}") from None
            if label in labels:
                raise FieldError("intervals", f"[{i}] {text!r} is listed twice")
            labels.append(label)
        # Keys may name intervals not built (the defaults list all seven), but must be intervals.
        for key, value in self.retention.items():
            try:
                if parse_interval(key).label != key:
                    raise CalendarError(f"write it {parse_interval(key).label!r}")
                parse_duration(value)
            except CalendarError as exc:
                raise FieldError(f"retention.{key}", str(exc)) from None


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
    #: Trading calendar of the feed's symbols: a ``market.calendars`` name, "auto" (each
    #: symbol's class: metals, crypto or fx) or "" (the feed type's default, docs/feeds.md).
    calendar: str = ""


@dataclass(frozen=True, slots=True)
class FeedConfig:
    name: str
    type: str
    options: Any
    common: FeedCommon = field(default_factory=FeedCommon)


@dataclass(frozen=True, slots=True)
class DelayConfig:
    """Delayed quotes: one shared delay line per symbol and delay (docs/security.md)."""

    #: Delays offered to JWTs besides those the API keys name; a token's delay is
    #: rounded up to the next one offered (a longer delay is always allowed).
    delays_s: tuple[int, ...] = ()
    #: The delay lines sample each changed symbol once per interval, so a delayed
    #: stream has at most one update per symbol per interval (the last change of each
    #: is always delivered) and a line holds at most delay / interval + 2 entries.
    interval_ms: int = field(default=1000, metadata=_range(10, 60_000))

    def __post_init__(self) -> None:
        for i, d in enumerate(self.delays_s):
            if not 1 <= d <= MAX_DELAY_S:
                raise FieldError("delays_s", f"[{i}] must be 1 to {MAX_DELAY_S} seconds, got {d}")


@dataclass(frozen=True, slots=True)
class UsageConfig:
    """The audit trail of subscriptions (docs/operations.md, Usage reports)."""

    enabled: bool = False
    #: JSON lines file ("" = none; with a Redis bus the records also go to the bus).
    path: str = ""
    #: The file is rotated (``path.1`` … ``path.N``) when a write would take it past this.
    max_bytes: int = field(default=100 * 1024 * 1024, metadata=_range(4096))
    #: Rotated files kept besides the current one.
    files: int = field(default=10, metadata=_range(1, 1000))
    #: Open intervals are written (and go on in a new record) this often, so a crash
    #: loses at most this much of any subscription.
    checkpoint_s: float = field(default=300.0, metadata=_range(1, 86_400))
    #: Records are written out (file fsync'd, bus appended) at least this often.
    flush_s: float = field(default=1.0, metadata=_range(0.05, 60))
    #: Records waiting to be written at most; more are dropped and counted.
    max_pending: int = field(default=200_000, metadata=_range(100, 10_000_000))
    #: Entries the bus stream ``<bus_prefix>:usage`` keeps (approximately).
    stream_maxlen: int = field(default=1_000_000, metadata=_range(1000, 1_000_000_000))


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
    resume: ResumeConfig = field(default_factory=ResumeConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    log: LogConfig = field(default_factory=LogConfig)
    bars: BarsConfig = field(default_factory=BarsConfig)
    #: Trading calendars, daily statistics, derived crosses (docs/market-data.md).
    market: MarketConfig = field(default_factory=MarketConfig)
    #: Empty here; the loader fills in the default feed when a file names none.
    feeds: tuple[FeedConfig, ...] = field(default_factory=tuple)
    #: Named symbol lists clients subscribe to as ``@name``: names or glob patterns.
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    delay: DelayConfig = field(default_factory=DelayConfig)
    usage: UsageConfig = field(default_factory=UsageConfig)

    def __post_init__(self) -> None:
        try:
            check_bus_url(self.bus)
        except ValueError as exc:
            raise FieldError("bus", f"{exc}") from None
        p = self.bus_prefix
        if not p or not all(c.isalnum() or c in "-_.:" for c in p):
            raise FieldError("bus_prefix", f"must be letters, digits, '-', '_', '.' or ':', got {p!r}")
        for name, members in self.groups.items():
            if not name or not all(c.isalnum() or c in "-_" for c in name):
                raise FieldError("groups", f"group name {name!r} must be letters, digits, '-' or '_'")
            if not members:
                raise FieldError(f"groups.{name}", "a group needs at least one symbol or pattern")
            for i, m in enumerate(members):
                if not 0 < len(m) <= 32 or m.startswith("@"):
                    raise FieldError(
                        f"groups.{name}",
                        f"[{i}] {m!r} must be a symbol or pattern of 1 to 32 characters (groups do not nest)",
                    )
        u = self.usage
        if u.enabled and not u.path and self.bus == "memory":
            raise FieldError("usage.enabled", "needs usage.path (or a Redis bus to write the records to)")


def top_level_keys() -> tuple[str, ...]:
    """Config keys that are plain values rather than sections (``bus``, ...)."""
    return tuple(f.name for f in dataclasses.fields(Config) if f.default is not dataclasses.MISSING)
