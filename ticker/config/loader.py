"""Loading: TOML file + environment -> validated :class:`~ticker.config.schema.Config`.

Order: defaults < file < environment. Every error is a
:class:`~ticker.config.errors.ConfigError` whose ``key`` names the key path
(``server.port``, ``feeds[0].rate``) or the file, and whose ``reason`` says
what is wrong; one whose value came from the environment names the
variable too. Validation goes on past an error, so every error in the file
and the environment is reported at once (:class:`ConfigErrors`). A table
with a wrong value is not built, and its other values are checked one by
one, so a check across fields never reports an echo of the wrong value
(``set both cert_file and key_file`` when ``cert_file`` is a number).
Feed options are validated
against the dataclass the feed type registered
(:class:`~ticker.config.schema.FeedTypes`, passed in).
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
from ticker.config.errors import ConfigError, blame_env, key_path, raise_all
from ticker.config.schema import Config, FeedCommon, FeedConfig, FeedTypes
from ticker.util.errors import FieldError


class _Failed:
    """What a value that could not be converted becomes (its error is already collected)."""

    def __repr__(self) -> str:
        return "<failed>"


FAILED: Any = _Failed()


class _Problems:
    """The errors found so far in one load."""

    __slots__ = ("errors",)

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def fail(self, reason: str, key: str) -> Any:
        self.errors.append(ConfigError(reason, key=key))
        return FAILED


def load(
    path: str | os.PathLike[str] | None,
    feed_types: FeedTypes,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Load a config file (or only defaults when ``path`` is None) plus the
    environment's overrides (``os.environ`` unless ``env`` is given)."""
    config, errors = check(path, feed_types, env)
    raise_all(errors)
    return config


def check(
    path: str | os.PathLike[str] | None,
    feed_types: FeedTypes,
    env: Mapping[str, str] | None = None,
) -> tuple[Config, list[ConfigError]]:
    """Like :func:`load`, but return the errors with the best config that could be
    built without the values they name (those keep their defaults), so callers can
    check further (feed files, TLS files) and report everything in one go. A file
    that cannot be read or parsed is raised at once: there is nothing to go on."""
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
    env_errors: list[ConfigError] = []
    environ = os.environ if env is None else env
    set_by = apply_env(raw, environ, default_feed=feed_types.default, errors=env_errors)
    config, errors = _validate(raw, feed_types)
    return config, env_errors + [blame_env(e, set_by) for e in errors]


def from_dict(raw: Mapping[str, Any], feed_types: FeedTypes) -> Config:
    """Validate raw config data (as TOML gives it); without ``feeds``, the one
    default feed (``feed_types.default``) with its default options."""
    config, errors = _validate(raw, feed_types)
    raise_all(errors)
    return config


def _validate(raw: Mapping[str, Any], feed_types: FeedTypes) -> tuple[Config, list[ConfigError]]:
    problems = _Problems()
    raw = dict(raw)
    feeds_raw = raw.pop("feeds", None)
    if feeds_raw is None:
        feeds_raw = [{"type": feed_types.default}]
    cfg = _build(Config, {k: v for k, v in raw.items()}, "", problems, skip=("feeds",), partial=True)
    feeds = _feeds(feeds_raw, feed_types, problems)
    return dataclasses.replace(cfg, feeds=() if feeds is FAILED else feeds), problems.errors


def _feeds(value: Any, feed_types: FeedTypes, problems: _Problems) -> tuple[FeedConfig, ...]:
    if not isinstance(value, list):
        return problems.fail("must be an array of tables ([[feeds]])", "feeds")
    if not value:
        return problems.fail("at least one feed is required", "feeds")
    out: list[FeedConfig] = []
    names: set[str] = set()
    failed: set[str] = set()  # feeds named but not built: backup checks skip them
    for i, item in enumerate(value):
        where = f"feeds[{i}]"
        if not isinstance(item, dict):
            problems.fail("must be a table", where)
            continue
        item = dict(item)
        type_name = item.pop("type", None)
        name = item.pop("name", None)
        if name is None and type_name is not None:
            name = type_name if i == 0 else f"{type_name}{i}"
        if name is None:  # no name and no type: the missing type says it all
            pass
        elif not isinstance(name, str) or not name or not name.replace("-", "").replace("_", "").isalnum():
            problems.fail(f"must be letters, digits, '-' or '_', got {name!r}", f"{where}.name")
            name = None
        elif name in names:
            problems.fail(f"feed name {name!r} is used twice", f"{where}.name")
            name = None
        else:
            names.add(name)
        if type_name is None:
            problems.fail(f"missing; one of {', '.join(sorted(feed_types.options))}", f"{where}.type")
        elif type_name not in feed_types.options:
            known = ", ".join(sorted(feed_types.options))
            problems.fail(f"unknown feed type {type_name!r}; one of {known}", f"{where}.type")
            type_name = None
        common_keys = {f.name for f in dataclasses.fields(FeedCommon)}
        common = _build(FeedCommon, {k: v for k, v in item.items() if k in common_keys}, where, problems)
        options = FAILED
        if type_name is not None:
            options_raw = {k: v for k, v in item.items() if k not in common_keys}
            options = _build(feed_types.options[type_name], options_raw, where, problems)
        if name is None or type_name is None or common is FAILED or options is FAILED:
            if isinstance(name, str):
                failed.add(name)
            continue
        out.append(FeedConfig(name, type_name, options, common))
    _check_backups(out, failed, problems)
    return tuple(out)


def _check_backups(feeds: list[FeedConfig], failed: set[str], problems: _Problems) -> None:
    """``backup_for`` must name another, non-backup feed that can go stale."""
    by_name = {f.name: f for f in feeds}
    backed: dict[str, str] = {}
    for i, f in enumerate(feeds):
        target = f.common.backup_for
        if not target or target in failed:  # a feed with errors of its own: nothing to check against
            continue
        where = f"feeds[{i}].backup_for"
        if target == f.name:
            problems.fail("a feed cannot back itself up", where)
            continue
        primary = by_name.get(target)
        if primary is None:
            problems.fail(f"no feed named {target!r}; feeds: {', '.join(by_name)}", where)
        elif primary.common.backup_for:
            problems.fail(f"{target!r} is itself a backup (for {primary.common.backup_for!r})", where)
        elif target in backed:
            problems.fail(f"{target!r} already has a backup, {backed[target]!r}", where)
        elif primary.common.stale_after_s <= 0:
            problems.fail(
                f"primary {target!r} has stale_after_s = 0, so it never goes stale "
                "and the backup would never be used; set its stale_after_s",
                where,
            )
        else:
            backed[target] = f.name


def _build(
    cls: type, raw: Any, path: str, problems: _Problems, skip: tuple[str, ...] = (), *, partial: bool = False
) -> Any:
    """An instance of the dataclass ``cls`` from the table ``raw``, or FAILED when a
    value in it is wrong (every error is collected). ``partial``: the best instance
    without the wrong values instead (they keep their defaults)."""
    if not isinstance(raw, dict):
        problems.fail(f"must be a table, got {_kind(raw)}", path or "config")
        return cls() if partial else FAILED
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in skip}
    for key in raw:
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(fields)}"
            problems.fail(f"unknown key{hint}", key_path(path, key))
    kwargs = {
        name: _convert(hints[name], raw[name], key_path(path, name), f.metadata, problems)
        for name, f in fields.items()
        if name in raw
    }
    if any(v is FAILED for v in kwargs.values()):
        kwargs = {k: v for k, v in kwargs.items() if v is not FAILED}
        if not partial:
            _check_alone(cls, kwargs, path, problems)
            return FAILED
    while True:
        try:
            return cls(**kwargs)
        except FieldError as exc:
            problems.fail(exc.reason, key_path(path, exc.field))
            if not partial or exc.field not in kwargs:
                return cls() if partial else FAILED
            del kwargs[exc.field]  # and check the rest again without it
        except ValueError as exc:  # a check spanning fields: blame the table
            problems.fail(str(exc), path or "config")
            return cls() if partial else FAILED


def _check_alone(cls: type, good: Mapping[str, Any], path: str, problems: _Problems) -> None:
    """A table with a wrong value is not built, but its other values still get their
    own checks: each alone, the rest at their defaults. Only an error naming that value
    counts; one about another field could be an echo of the wrong value."""
    for name, value in good.items():
        try:
            cls(**{name: value})
        except FieldError as exc:
            if exc.field == name:
                problems.fail(exc.reason, key_path(path, name))
        except (ValueError, TypeError):
            pass


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)  # fmt: skip


def _convert(tp: Any, value: Any, path: str, meta: Mapping[str, Any], problems: _Problems) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _convert(args[0], value, path, meta, problems)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            return problems.fail(f"must be one of {', '.join(map(repr, choices))}, got {value!r}", path)
        return value
    if origin is tuple:
        (item_tp, _) = typing.get_args(tp)
        if not isinstance(value, list):
            return problems.fail(f"must be an array, got {_kind(value)}", path)
        items = [_convert(item_tp, v, f"{path}[{i}]", {}, problems) for i, v in enumerate(value)]
        return FAILED if any(v is FAILED for v in items) else tuple(items)
    if origin is dict:
        _, val_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            return problems.fail(f"must be a table, got {_kind(value)}", path)
        out = {str(k): _convert(val_tp, v, f"{path}.{k}", {}, problems) for k, v in value.items()}
        return FAILED if any(v is FAILED for v in out.values()) else out
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, path, problems)  # type: ignore[arg-type]
    if tp is bool:
        if not isinstance(value, bool):
            return problems.fail(f"must be true or false, got {value!r}", path)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return problems.fail(f"must be an integer, got {value!r}", path)
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return problems.fail(f"must be a number, got {value!r}", path)
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            return problems.fail(f"must be a finite number, got {value!r}", path)
    elif tp is str:
        if not isinstance(value, str):
            return problems.fail(f"must be a string, got {_kind(value)}", path)
        return value
    elif tp is Any:
        return value
    else:  # pragma: no cover - a schema bug, not a user error
        raise TypeError(f"{path}: unsupported config type {tp!r}")
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and value < lo:
        return problems.fail(f"must be >= {lo}, got {value!r}", path)
    if hi is not None and value > hi:
        return problems.fail(f"must be <= {hi}, got {value!r}", path)
    return value
