"""Loading: TOML file + environment -> validated :class:`~ticker.config.schema.Config`.

Order: defaults < file < environment. Every error is a
:class:`~ticker.config.errors.ConfigError` whose ``key`` names the key path
(``server.port``, ``feeds[0].rate``) or the file, and whose ``reason`` says
what is wrong. Feed options are validated against the dataclass the feed
type registered (:class:`~ticker.config.schema.FeedTypes`, passed in).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from ticker.config.env import apply_env
from ticker.config.errors import ConfigError, key_path
from ticker.config.schema import Config, FeedCommon, FeedConfig, FeedTypes
from ticker.util.errors import FieldError


def load(
    path: str | os.PathLike[str] | None,
    feed_types: FeedTypes,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Load a config file (or only defaults when ``path`` is None) plus the
    environment's overrides (``os.environ`` unless ``env`` is given)."""
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror or exc}", key=str(p)) from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", key=str(p)) from None
    apply_env(raw, os.environ if env is None else env, default_feed=feed_types.default)
    return from_dict(raw, feed_types)


def from_dict(raw: Mapping[str, Any], feed_types: FeedTypes) -> Config:
    """Validate raw config data (as TOML gives it); without ``feeds``, the one
    default feed (``feed_types.default``) with its default options."""
    raw = dict(raw)
    feeds_raw = raw.pop("feeds", None)
    if feeds_raw is None:
        feeds_raw = [{"type": feed_types.default}]
    cfg = _build(Config, {k: v for k, v in raw.items()}, "", skip=("feeds",))
    return dataclasses.replace(cfg, feeds=_feeds(feeds_raw, feed_types))


def _feeds(value: Any, feed_types: FeedTypes) -> tuple[FeedConfig, ...]:
    if not isinstance(value, list):
        raise ConfigError("must be an array of tables ([[feeds]])", key="feeds")
    if not value:
        raise ConfigError("at least one feed is required", key="feeds")
    out: list[FeedConfig] = []
    names: set[str] = set()
    for i, item in enumerate(value):
        where = f"feeds[{i}]"
        if not isinstance(item, dict):
            raise ConfigError("must be a table", key=where)
        item = dict(item)
        type_name = item.pop("type", None)
        if type_name is None:
            raise ConfigError(f"missing; one of {', '.join(sorted(feed_types.options))}", key=f"{where}.type")
        if type_name not in feed_types.options:
            known = ", ".join(sorted(feed_types.options))
            raise ConfigError(f"unknown feed type {type_name!r}; one of {known}", key=f"{where}.type")
        name = item.pop("name", type_name if i == 0 else f"{type_name}{i}")
        if not isinstance(name, str) or not name or not name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"must be letters, digits, '-' or '_', got {name!r}", key=f"{where}.name")
        if name in names:
            raise ConfigError(f"feed name {name!r} is used twice", key=f"{where}.name")
        names.add(name)
        common_keys = {f.name for f in dataclasses.fields(FeedCommon)}
        common = _build(FeedCommon, {k: v for k, v in item.items() if k in common_keys}, where)
        options = _build(
            feed_types.options[type_name], {k: v for k, v in item.items() if k not in common_keys}, where
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
            raise ConfigError("a feed cannot back itself up", key=where)
        primary = by_name.get(target)
        if primary is None:
            raise ConfigError(f"no feed named {target!r}; feeds: {', '.join(by_name)}", key=where)
        if primary.common.backup_for:
            raise ConfigError(f"{target!r} is itself a backup (for {primary.common.backup_for!r})", key=where)
        if target in backed:
            raise ConfigError(f"{target!r} already has a backup, {backed[target]!r}", key=where)
        if primary.common.stale_after_s <= 0:
            raise ConfigError(
                f"primary {target!r} has stale_after_s = 0, so it never goes stale "
                "and the backup would never be used; set its stale_after_s",
                key=where,
            )
        backed[target] = f.name


def _build(cls: type, raw: Any, path: str, skip: tuple[str, ...] = ()) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"must be a table, got {_kind(raw)}", key=path or "config")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    for key in raw:
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(fields)}"
            raise ConfigError(f"unknown key{hint}", key=key_path(path, key))
    kwargs = {
        name: _convert(hints[name], raw[name], key_path(path, name), f.metadata)
        for name, f in fields.items()
        if name in raw
    }
    try:
        return cls(**kwargs)
    except FieldError as exc:
        raise ConfigError(exc.reason, key=key_path(path, exc.field)) from None
    except ValueError as exc:  # a check spanning fields: blame the table
        raise ConfigError(str(exc), key=path or "config") from None


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
            raise ConfigError(f"must be one of {', '.join(map(repr, choices))}, got {value!r}", key=path)
        return value
    if origin is tuple:
        (item_tp, _) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"must be an array, got {_kind(value)}", key=path)
        return tuple(_convert(item_tp, v, f"{path}[{i}]", {}) for i, v in enumerate(value))
    if origin is dict:
        _, val_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"must be a table, got {_kind(value)}", key=path)
        return {str(k): _convert(val_tp, v, f"{path}.{k}", {}) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, path)  # type: ignore[arg-type]
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"must be true or false, got {value!r}", key=path)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"must be an integer, got {value!r}", key=path)
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"must be a number, got {value!r}", key=path)
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"must be a finite number, got {value!r}", key=path)
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"must be a string, got {_kind(value)}", key=path)
        return value
    elif tp is Any:
        return value
    else:  # pragma: no cover - a schema bug, not a user error
        raise TypeError(f"{path}: unsupported config type {tp!r}")
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and value < lo:
        raise ConfigError(f"must be >= {lo}, got {value!r}", key=path)
    if hi is not None and value > hi:
        raise ConfigError(f"must be <= {hi}, got {value!r}", key=path)
    return value
