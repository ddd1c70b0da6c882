"""Configuration: the schema, loading a TOML file with environment overrides,
and rendering the effective config.

Rule: pure. Imports the standard library, :mod:`ticker.util` and the calendar
(:mod:`ticker.core.calendar`, standard library only: the one definition of a bar
interval and a duration) only; never
asyncio, aiohttp, redis, prometheus_client, and no feed implementation (feed
option types are handed to the loader as :class:`FeedTypes` by the
composition root, :mod:`ticker.runtime.configure`). Errors carry the key path
as data (:class:`ConfigError`).

Modules: :mod:`~ticker.config.schema` (sections and defaults),
:mod:`~ticker.config.loader` (file -> validated config),
:mod:`~ticker.config.env` (``TICKER_*`` overrides),
:mod:`~ticker.config.market` (calendars, daily statistics, crosses),
:mod:`~ticker.config.render` (effective config as TOML),
:mod:`~ticker.config.errors` (:class:`ConfigError`, and :class:`ConfigErrors` for all
of a load's errors at once).
"""

from ticker.config.errors import ConfigError, ConfigErrors
from ticker.config.market import CalendarConfig, MarketConfig
from ticker.config.schema import (
    ApiKeyConfig,
    AuthConfig,
    BarsConfig,
    Config,
    DelayConfig,
    DelayedSymbolsConfig,
    FanoutConfig,
    FeedCommon,
    FeedConfig,
    FeedTypes,
    JwtConfig,
    LimitsConfig,
    LogConfig,
    MetricsConfig,
    OutlierConfig,
    ResumeConfig,
    ServerConfig,
    TlsConfig,
    UsageConfig,
)

__all__ = [
    "ApiKeyConfig",
    "AuthConfig",
    "BarsConfig",
    "CalendarConfig",
    "Config",
    "ConfigError",
    "ConfigErrors",
    "DelayConfig",
    "DelayedSymbolsConfig",
    "FanoutConfig",
    "FeedCommon",
    "FeedConfig",
    "FeedTypes",
    "JwtConfig",
    "LimitsConfig",
    "LogConfig",
    "MarketConfig",
    "MetricsConfig",
    "OutlierConfig",
    "ResumeConfig",
    "ServerConfig",
    "TlsConfig",
    "UsageConfig",
]
