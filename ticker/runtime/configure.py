"""Config with the feed types this build knows: the loader's one composition step.

:mod:`ticker.config` is pure and knows no feed; here it is handed the
registry's option types (:data:`feeds.registry.FEED_TYPES`). Everything
that loads config for real (the CLI, the worker supervisor, tests,
benchmarks) goes through these functions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from feeds.registry import DEFAULT_TYPE, FEED_TYPES
from ticker.config import Config, ConfigError, FeedTypes, loader

#: The option types config validates ``[[feeds]]`` against.
TYPES = FeedTypes({name: t.options for name, t in FEED_TYPES.items()}, DEFAULT_TYPE)


def load(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load a config file (None: built-in defaults) plus ``TICKER_*`` overrides from
    ``env`` (default: ``os.environ``)."""
    return loader.load(path, TYPES, env)


def check(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> tuple[Config, list[ConfigError]]:
    """Like :func:`load`, but every error in the file and the environment is returned
    with the best config that could be built without the values they name."""
    return loader.check(path, TYPES, env)


def from_dict(raw: Mapping[str, Any]) -> Config:
    """Validate raw config data (as TOML gives it)."""
    return loader.from_dict(raw, TYPES)


def defaults() -> Config:
    """The built-in defaults (what ``config/default.toml`` spells out)."""
    return loader.from_dict({}, TYPES)
