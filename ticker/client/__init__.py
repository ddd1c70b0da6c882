"""A Python client for ticker: ``async with connect(url) as c: ...``.

See docs/client.md. The pieces, each usable alone:

- :func:`connect` / :class:`Client`: the asyncio WebSocket client (aiohttp).
- :class:`QuoteBook` / :class:`Quote`: the latest quote per symbol from
  protocol messages; pure, for clients on any transport.
- :class:`Message`: what the client yields.
"""

from ticker.client.book import Change, Quote, QuoteBook
from ticker.client.connection import AuthError, Client, api_url, connect, fetch_symbols
from ticker.client.messages import Message, unpack
from ticker.client.state import ConnState

__all__ = [
    "AuthError",
    "Change",
    "Client",
    "ConnState",
    "Message",
    "Quote",
    "QuoteBook",
    "api_url",
    "connect",
    "fetch_symbols",
    "unpack",
]
