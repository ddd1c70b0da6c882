"""The effective config as data and as TOML (what ``ticker check-config`` prints)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ticker.config.schema import Config, FeedConfig, top_level_keys


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
