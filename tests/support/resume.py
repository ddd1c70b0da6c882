"""Checking resumed streams: what a client saw across connections, and the server's state."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

import aiohttp
import orjson

from tests.support.helpers import Client, RawClient, messages
from ticker.client.book import QuoteBook
from ticker.core.table import SymbolTable


class Seen:
    """Everything one logical client saw, over any number of connections, in order."""

    def __init__(self) -> None:
        self.book = QuoteBook()
        self.by_symbol: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.acks: list[dict[str, Any]] = []

    def add(self, msgs: list[dict[str, Any]]) -> None:
        for m in msgs:
            kind = m.get("type")
            if kind in ("snapshot", "update"):
                self.by_symbol[m["symbol"]].append(m)
            elif kind == "subscribed":
                self.acks.append(m)
            self.book.apply(m)

    def since(self) -> dict[str, dict[str, Any]]:
        return {q.symbol: {"seq": q.seq, "epoch": q.epoch} for q in self.book}

    def assert_every_seq_once_in_order(self) -> int:
        """Per symbol: one snapshot, then every following seq exactly once; the update count."""
        total = 0
        for symbol, ms in self.by_symbol.items():
            assert [m["type"] for m in ms].count("snapshot") == 1 and ms[0]["type"] == "snapshot", symbol
            seqs = [m["seq"] for m in ms]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (symbol, seqs)
            total += len(ms) - 1
        return total

    def assert_equals(self, table: SymbolTable) -> None:
        for q in self.book:
            sid = table.ids[q.symbol]
            server = (int(table.seq[sid]), float(table.bid[sid]), float(table.ask[sid]), table.epoch[sid])
            assert (q.seq, q.bid, q.ask, q.epoch) == server, q.symbol
            for field in ("bid_size", "ask_size"):
                value = float(getattr(table, field)[sid])
                assert getattr(q, field) == (None if value != value else value), (q.symbol, field)


async def read_until_cut(c: Client, seconds: float) -> list[dict[str, Any]]:
    """Read until the connection ends (or ``seconds`` pass); the messages."""
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        msg = await c.ws.receive(timeout=left)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            return out
        out.extend(messages(msg.data))
    raise TimeoutError(f"the connection was not cut within {seconds} s")


async def resume(c: Client, symbols: list[str], since: dict[str, Any]) -> dict[str, Any]:
    """Subscribe with ``since``; the ``subscribed`` reply (messages before it are kept)."""
    await c.send({"op": "subscribe", "symbols": symbols, "since": since, "id": 2})
    return await c.until(lambda m: m["type"] == "subscribed")


async def raw_read_until_mid_frame(
    raw: RawClient, want: int, chunk: int = 7, within: float = 10.0
) -> list[dict[str, Any]]:
    """Read ``chunk`` bytes at a time until at least ``want`` messages arrived and the
    bytes read end inside a frame; the complete messages (the partial frame is what
    an abrupt close loses)."""
    from ticker.protocol.frames import split_frames

    out: list[dict[str, Any]] = []
    buf = bytearray()
    async with asyncio.timeout(within):
        while True:
            data = await raw.reader.read(chunk)
            if not data:
                raise ConnectionError("server closed first")
            buf += data
            for opcode, payload in split_frames(buf):
                if opcode == 1:
                    out.extend(orjson.loads(payload) if payload[:1] == b"[" else [orjson.loads(payload)])
            if len(out) >= want and buf:
                return out
