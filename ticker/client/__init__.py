"""A Python client for ticker: ``async with connect(url) as c: ...``.

See docs/client.md. The pieces, each usable alone:

- :func:`connect` / :class:`Client`: the asyncio WebSocket client (aiohttp).
- :class:`QuoteBook` / :class:`Quote`: the latest quote per symbol from
  protocol messages; pure, for clients on any transport.
- :class:`Message`: what the client yields.
- :class:`Bar` / :class:`BarStore`: bars from ``bar``/``bars`` messages, typed; pure.
- :class:`Recovery`: how a symbol came back after a reconnect (``Client.recovery``).

Rule: standalone. Imports nothing of the server side (no
:mod:`ticker.server`, :mod:`ticker.runtime`, :mod:`ticker.bus`,
:mod:`feeds`) and no numpy, so ``pip install ticker`` users can use it in
a notebook or a trading bot without the server's weight; only
:mod:`ticker.core.model` (plain values) and :mod:`ticker.util`.
``ticker watch`` (:mod:`~ticker.client.watch`) is built on it.
"""

from ticker.client.bars import Bar, BarStore
from ticker.client.book import Change, Quote, QuoteBook
from ticker.client.connection import AuthError, Client, api_url, connect, fetch_symbols
from ticker.client.messages import Message, unpack
from ticker.client.resume import Recovery
from ticker.client.state import ConnState

__all__ = [
    "AuthError",
    "Bar",
    "BarStore",
    "Change",
    "Client",
    "ConnState",
    "Message",
    "Quote",
    "QuoteBook",
    "Recovery",
    "api_url",
    "connect",
    "fetch_symbols",
    "unpack",
]
