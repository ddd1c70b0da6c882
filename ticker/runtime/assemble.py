"""Builders the composition root uses: feeds from config, and the symbol universe
they provide together (with failover backups)."""

from __future__ import annotations

from collections.abc import Mapping

from feeds.base import Feed
from feeds.registry import build_feed
from ticker.config import Config, ConfigError
from ticker.config.errors import raise_all
from ticker.core.model import Instrument


def build_feeds(config: Config) -> list[Feed]:
    """Build every configured feed; a feed that cannot start (a missing file, an
    unknown instrument) is a ConfigError naming the feed, and every feed is tried
    before they are raised together (:class:`~ticker.config.ConfigErrors`)."""
    feeds = []
    errors: list[ConfigError] = []
    for i, f in enumerate(config.feeds):
        try:
            feeds.append(build_feed(f.name, f.type, f.options))
        except (ValueError, OSError) as exc:
            errors.append(ConfigError(f"feeds[{i}] ({f.name}): {exc}"))
    raise_all(errors)
    return feeds


def collect_instruments(
    feeds: list[Feed], backup_for: Mapping[str, str] | None = None
) -> tuple[list[Instrument], dict[str, str]]:
    """The union of the feeds' instruments, and which (primary) feed provides each
    symbol. ``backup_for`` maps a backup feed's name to its primary's: symbols the
    two share are served by the primary with the backup standing by."""
    backup_for = backup_for or {}
    instruments: dict[str, Instrument] = {}
    owner: dict[str, str] = {}
    shared: dict[str, int] = {}
    order = sorted(feeds, key=lambda f: f.name in backup_for)  # primaries first
    for feed in order:
        primary = backup_for.get(feed.name)
        shared[feed.name] = 0
        for inst in feed.instruments():
            if inst.symbol in owner:
                if primary is not None and owner[inst.symbol] == primary:
                    known = instruments[inst.symbol]
                    if known.decimals != inst.decimals:
                        raise ConfigError(
                            f"symbol {inst.symbol}: feed {feed.name!r} has {inst.decimals} decimals "
                            f"but its primary {primary!r} has {known.decimals}; they must agree"
                        )
                    shared[feed.name] += 1
                    continue
                other = owner[inst.symbol]
                raise ConfigError(
                    f"symbol {inst.symbol} is provided by feeds {other!r} and {feed.name!r}; "
                    f"each symbol needs one feed (to make {feed.name!r} a failover backup, "
                    f"set backup_for = {other!r} on it)"
                )
            owner[inst.symbol] = feed.name
            instruments[inst.symbol] = inst
    for backup, primary in backup_for.items():
        if shared.get(backup) == 0:
            raise ConfigError(f"feed {backup!r} is backup_for {primary!r} but the two share no symbol")
    # Keep the feeds' own order in the table.
    ordered = [i for f in feeds for i in f.instruments() if owner.get(i.symbol) == f.name]
    return ordered, owner


def backups(config: Config) -> dict[str, str]:
    """backup feed name -> primary feed name, from config."""
    return {f.name: f.common.backup_for for f in config.feeds if f.common.backup_for}
