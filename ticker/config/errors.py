"""Config errors, with the key path as data, and all of them at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class ConfigError(Exception):
    """A configuration problem: ``key`` is the key path (``server.port``,
    ``feeds[0].rate``), a file (``config.toml``) or an environment variable,
    when one is to blame; ``reason`` says what is wrong. ``env`` names the
    environment variable that set the value, when one did."""

    def __init__(self, reason: str, *, key: str = "", env: str = "") -> None:
        where = ": ".join(p for p in (env, key) if p)
        super().__init__(f"{where}: {reason}" if where else reason)
        self.key = key
        self.reason = reason
        self.env = env


class ConfigErrors(ConfigError):
    """Several configuration problems found in one pass, so an operator can fix them
    all at once. ``errors`` holds each :class:`ConfigError` in the order found; the
    message lists them one per line. One problem alone is raised as itself
    (:func:`raise_all`), so its message is the same as ever."""

    errors: tuple[ConfigError, ...]

    def __init__(self, errors: Iterable[ConfigError]) -> None:
        flat: list[ConfigError] = []
        for e in errors:
            flat.extend(e.errors if isinstance(e, ConfigErrors) else (e,))
        self.errors = tuple(flat)
        text = f"{len(flat)} errors:\n" + "\n".join(f"  {e}" for e in flat)
        super().__init__(text)
        self.reason = text


def raise_all(errors: list[ConfigError]) -> None:
    """Raise what was collected: nothing, the one error, or a :class:`ConfigErrors`."""
    if len(errors) == 1 and not isinstance(errors[0], ConfigErrors):
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)


def blame_env(error: ConfigError, set_by: Mapping[str, str]) -> ConfigError:
    """``error`` naming the environment variable that set its key (or a table or
    list around it), when one did; ``set_by`` maps key paths to variables."""
    key = error.key
    if error.env or not key or not set_by:
        return error
    var = set_by.get(key)
    if var is None:  # a variable that set a table or list holding the key
        parents = [p for p in set_by if key.startswith(p) and key[len(p) : len(p) + 1] in (".", "[")]
        if not parents:
            return error
        var = set_by[max(parents, key=len)]
    return ConfigError(error.reason, key=key, env=var)


def key_path(path: str, key: str) -> str:
    """``path.key``, or ``key`` at the top level."""
    return f"{path}.{key}" if path else key
