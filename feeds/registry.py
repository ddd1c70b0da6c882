"""Feed types by name: the options each accepts and how to build it.

The config loader validates a ``[[feeds]]`` table against the options
dataclass registered for its ``type`` (:data:`FEED_TYPES`, handed to it by
the composition root). Options live in pure modules, so reading the
registry loads no feed's I/O code; :func:`build_feed` imports the feed
class only when a feed of that type is built. Adding a feed type is one
entry here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from feeds.base import Feed
from feeds.replay.options import ReplayOptions
from feeds.synthetic.options import SyntheticOptions
from feeds.upstream.options import WebSocketOptions


@dataclass(frozen=True, slots=True)
class FeedType:
    options: type
    #: ``module:Class`` of the feed, imported when one is built.
    feed: str
    summary: str


FEED_TYPES: dict[str, FeedType] = {
    "synthetic": FeedType(
        SyntheticOptions, "feeds.synthetic.feed:SyntheticFeed", "numpy-generated forex and metals quotes"
    ),
    "replay": FeedType(
        ReplayOptions,
        "feeds.replay.feed:ReplayFeed",
        "recorded tick files (HistData, Dukascopy, TrueFX, MetaTrader 5, CSV)",
    ),
    "websocket": FeedType(
        WebSocketOptions,
        "feeds.upstream.feed:WebSocketFeed",
        "upstream market-data WebSocket (Binance, Coinbase, ticker, generic JSON)",
    ),
}

#: The feed a config without ``[[feeds]]`` runs.
DEFAULT_TYPE = "synthetic"


def build_feed(name: str, type_name: str, options: Any) -> Feed:
    module, _, cls = FEED_TYPES[type_name].feed.partition(":")
    feed_cls = getattr(importlib.import_module(module), cls)
    feed = feed_cls(name, options)
    assert isinstance(feed, Feed)
    return feed
