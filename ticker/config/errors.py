"""Config errors, with the key path as data."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem: ``key`` is the key path (``server.port``,
    ``feeds[0].rate``), a file (``config.toml``) or an environment variable,
    when one is to blame; ``reason`` says what is wrong."""

    def __init__(self, reason: str, *, key: str = "") -> None:
        super().__init__(f"{key}: {reason}" if key else reason)
        self.key = key
        self.reason = reason


def key_path(path: str, key: str) -> str:
    """``path.key``, or ``key`` at the top level."""
    return f"{path}.{key}" if path else key
