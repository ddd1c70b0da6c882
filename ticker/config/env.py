"""Environment overrides: ``TICKER_<SECTION>__<KEY>=value``.

An environment variable ``TICKER_<SECTION>__<KEY>`` (or ``TICKER_<KEY>`` for
a top-level value such as ``bus``; double underscore between levels, list
items by index: ``TICKER_FEEDS__0__RATE``) overrides one value of the raw
config before it is validated. The value is read as a TOML value when it
parses as one (``9000``, ``true``, ``["EURUSD"]``), else as a string.

:func:`apply_env` returns which variable set which key path, so an error in
a value names the variable that set it (``TICKER_SERVER__PROT:
server.prot: unknown key``), and collects its own errors (a variable that
cannot be applied) instead of stopping at the first.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

from ticker.config.errors import ConfigError, key_path
from ticker.config.schema import top_level_keys

ENV_PREFIX = "TICKER_"


def _env_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_env(
    raw: dict[str, Any], env: Mapping[str, str], *, default_feed: str, errors: list[ConfigError] | None = None
) -> dict[str, str]:
    """Apply ``TICKER_A__B=value`` overrides to a raw config dict, in place; return
    key path -> the variable that set it. A ``TICKER_FEEDS__0__...`` override without
    ``[[feeds]]`` in the file starts from the default feed (type ``default_feed``).

    A variable that cannot be applied is a :class:`ConfigError` keyed by its name:
    appended to ``errors`` when given (the others are still applied), else raised."""
    top = top_level_keys()
    set_by: dict[str, str] = {}
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX):
            continue
        try:
            path = _apply(raw, name, env[name], top, default_feed)
        except ConfigError as exc:
            if errors is None:
                raise
            errors.append(exc)
            continue
        if path:
            set_by[path] = name
    return set_by


def _apply(raw: dict[str, Any], name: str, text: str, top: tuple[str, ...], default_feed: str) -> str:
    """Apply one variable; the key path it set ("" for a variable that is not an override)."""
    if "__" not in name:  # TICKER_BUS=redis://...: a top-level value
        key = name[len(ENV_PREFIX) :].lower()
        if key in top:
            raw[key] = _env_value(text)
            return key
        return ""
    parts = name[len(ENV_PREFIX) :].lower().split("__")
    if any(not p for p in parts):
        raise ConfigError("empty key segment in environment override", key=name)
    node: Any = raw
    where = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit():
                raise ConfigError(f"{where} is an array; expected an index, got {part!r}", key=name)
            idx = int(part)
            if idx == len(node) and where == "feeds":
                node.append({})
            if idx >= len(node):
                raise ConfigError(f"there is no {where}[{idx}]", key=name)
            where = f"{where}[{idx}]"
            if last:
                node[idx] = _env_value(text)
            else:
                node = node[idx]
            continue
        if not isinstance(node, dict):
            raise ConfigError(f"{where} is not a table", key=name)
        where = key_path(where, part)
        if last:
            node[part] = _env_value(text)
        else:
            if part == "feeds" and part not in node:
                node[part] = [{"type": default_feed}]
            node = node.setdefault(part, {})
    return where
