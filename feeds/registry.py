"""Feed types by name: the options each accepts and how to build it.

The config loader validates a ``[[feeds]]`` table against the options
dataclass registered for its ``type``; adding a feed type is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from feeds.base import Feed
from feeds.replay.feed import ReplayFeed, ReplayOptions
from feeds.synthetic import SyntheticFeed, SyntheticOptions
from feeds.upstream.feed import WebSocketFeed, WebSocketOptions


@dataclass(frozen=True, slots=True)
class FeedType:
    options: type
    build: Callable[[str, Any], Feed]
    summary: str


FEED_TYPES: dict[str, FeedType] = {
    "synthetic": FeedType(SyntheticOptions, SyntheticFeed, "numpy-generated forex and metals quotes"),
    "replay": FeedType(ReplayOptions, ReplayFeed, "recorded tick files (HistData, Dukascopy, TrueFX, CSV)"),
    "websocket": FeedType(
        WebSocketOptions,
        WebSocketFeed,
        "upstream market-data WebSocket (Binance, Coinbase, ticker, generic JSON)",
    ),
}


def build_feed(name: str, type_name: str, options: Any) -> Feed:
    return FEED_TYPES[type_name].build(name, options)
