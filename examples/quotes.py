"""Print live quotes with their latency, using ticker.client.

    python examples/quotes.py EURUSD GBPUSD XAUUSD [--url ws://127.0.0.1:8080/ws] [--seconds 10]

Start a server first (`make run`). The client reconnects by itself when the
server restarts, resubscribes, and keeps the latest quote per symbol in
``client.book``; see docs/client.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os

from ticker.client import connect


async def main(url: str, symbols: list[str], seconds: float | None, token: str | None) -> None:
    async with connect(url, token=token) as client:
        await client.subscribe(symbols)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                async for msg in client:
                    if msg.type == "update" and msg.quote is not None:
                        q = msg.quote
                        gap = f"  ({msg.gap} merged)" if msg.gap else ""
                        ms = (msg.latency_s or 0.0) * 1000
                        print(f"{q.symbol}  {q.bid}/{q.ask}  seq {q.seq}  latency {ms:.2f} ms{gap}")
                    elif msg.type in ("snapshot", "status") and msg.quote is not None:
                        print(f"{msg.type:8} {msg.quote}")
                    elif msg.type in ("error", "warning", "connected", "disconnected"):
                        print(f"{msg.type}: {dict(msg.data)}")
        print("last quotes:", *(f"{q.symbol} {q.bid}/{q.ask}" for q in client.book), sep="\n  ")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("symbols", nargs="+")
    parser.add_argument("--url", default=os.environ.get("TICKER_URL", "ws://127.0.0.1:8080/ws"))
    parser.add_argument("--token", default=os.environ.get("TICKER_TOKEN"))
    parser.add_argument("--seconds", type=float, help="stop after this long (default: run forever)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.url, args.symbols, args.seconds, args.token))
