"""Feed types by name: the options each accepts and how to build it.

The config loader validates a ``[[feeds]]`` table against the options
dataclass registered for its ``type``; adding a feed type is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from feeds.base import Feed
from feeds.synthetic import SyntheticFeed, SyntheticOptions


@dataclass(frozen=True, slots=True)
class FeedType:
    options: type
    build: Callable[[str, Any], Feed]
    summary: str


FEED_TYPES: dict[str, FeedType] = {
    "synthetic": FeedType(SyntheticOptions, SyntheticFeed, "numpy-generated forex and metals quotes"),
}


def build_feed(name: str, type_name: str, options: Any) -> Feed:
    return FEED_TYPES[type_name].build(name, options)
