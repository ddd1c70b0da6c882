"""ticker: a WebSocket push server for live market quotes."""

__version__ = "0.1.0"
