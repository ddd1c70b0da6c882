"""Load generator: many WebSocket subscribers in one process, minimal per-message cost.

A raw asyncio protocol speaks just enough WebSocket (client handshake, masked
text frames out, unmasked frames in) to subscribe and then count. Per frame it
does one ``bytes.count`` for updates and one regex for ``ts`` values, both in
C, so the generator stays far cheaper than the server it measures. Latency is
the receive time of the TCP chunk minus each message's ``ts``.

Run by the benchmark driver as a subprocess; prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import resource
import sys
import time
import zlib
from dataclasses import dataclass, field

import numpy as np
import orjson

from ticker.protocol.frames import masked_text_frame

TS = re.compile(rb'"ts":(\d+)')
UPDATE = b'"type":"update"'
#: With --bars the connections follow bar series and count bar messages instead.
BAR = b'"type":"bar"'


@dataclass
class Totals:
    measuring: bool = False
    updates: int = 0
    frames: int = 0
    bytes: int = 0
    #: (receive time µs, [ts bytes...]) per received chunk; converted after the window.
    samples: list[tuple[int, list[bytes]]] = field(default_factory=list)
    subscribed: int = 0
    closed: int = 0
    close_codes: dict[int, int] = field(default_factory=dict)
    warnings: int = 0
    counted: bytes = UPDATE


class BenchClient(asyncio.Protocol):
    def __init__(
        self, totals: Totals, host: str, port: int, path: str, request: bytes, stalled: bool, deflate: bool
    ):
        self.totals = totals
        self.inflate = zlib.decompressobj(-15) if deflate else None
        ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else ""
        self.request = request
        self.stalled = stalled
        key = base64.b64encode(os.urandom(16)).decode()
        self.handshake = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n"
        ).encode()
        self.buf = bytearray()
        self.upgraded = False
        self.subscribed = False
        self.transport: asyncio.Transport | None = None
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.handshake)

    def connection_lost(self, exc: Exception | None) -> None:
        self.totals.closed += 1
        if not self.done.done():
            self.done.set_result(None)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(bytes(buf[:200]).decode(errors="replace"))
            if self.inflate is not None and b"permessage-deflate" not in buf[:end]:
                raise RuntimeError("server did not accept permessage-deflate")
            del buf[: end + 4]
            self.upgraded = True
            if self.request:
                self.transport.write(masked_text_frame(self.request))  # type: ignore[union-attr]
            if self.stalled:
                self.transport.pause_reading()  # type: ignore[union-attr]
        # Find the end of the last complete frame; note close frames on the way.
        pos = 0
        frames = 0
        n = len(buf)
        inflated: list[bytes] = []
        while n - pos >= 2:
            b1 = buf[pos + 1] & 0x7F
            if b1 < 126:
                hdr = 2
            elif b1 == 126:
                if n - pos < 4:
                    break
                hdr, b1 = 4, (buf[pos + 2] << 8) | buf[pos + 3]
            else:
                if n - pos < 10:
                    break
                hdr, b1 = 10, int.from_bytes(buf[pos + 2 : pos + 10], "big")
            end = pos + hdr + b1
            if end > n:
                break
            if buf[pos] & 0x0F == 8:
                self._closed_by_server(bytes(buf[pos + hdr : end]))
            elif self.inflate is not None and buf[pos] & 0x40:  # RSV1: compressed message
                inflated.append(self.inflate.decompress(bytes(buf[pos + hdr : end]) + b"\x00\x00\xff\xff"))
            pos = end
            frames += 1
        if not pos:
            return
        region = bytes(buf[:pos])
        del buf[:pos]
        wire = len(region)
        if inflated:
            region = b"".join(inflated)
        totals = self.totals
        if not self.subscribed and b'"type":"subscribed"' in region:
            self.subscribed = True
            totals.subscribed += 1
        if b'"slow_consumer"' in region:
            totals.warnings += 1
        if totals.measuring:
            totals.frames += frames
            totals.bytes += wire
            totals.updates += region.count(totals.counted)
            ts = TS.findall(region)
            if ts:
                totals.samples.append((time.time_ns() // 1000, ts))

    def _closed_by_server(self, payload: bytes) -> None:
        code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
        codes = self.totals.close_codes
        codes[code] = codes.get(code, 0) + 1
        self.transport.close()  # type: ignore[union-attr]


def latencies(samples: list[tuple[int, list[bytes]]]) -> np.ndarray:
    """Receive time minus ``ts`` for every message seen, in µs."""
    if not samples:
        return np.array([], dtype=np.int64)
    counts = np.fromiter((len(ts) for _, ts in samples), dtype=np.int64, count=len(samples))
    recv = np.repeat(np.fromiter((t for t, _ in samples), dtype=np.int64, count=len(samples)), counts)
    ts = np.array([x for _, t in samples for x in t]).astype(np.int64)
    return recv - ts


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def run(args: argparse.Namespace) -> dict:
    loop = asyncio.get_running_loop()
    totals = Totals()
    if args.bars:
        totals.counted = BAR
    symbols = args.symbols.split(",") if args.symbols else []
    clients: list[BenchClient] = []
    sem = asyncio.Semaphore(200)

    async def open_one(i: int) -> None:
        gi = args.first + i
        subs = [symbols[(gi * args.k + j) % len(symbols)] for j in range(args.k)] if args.k else []
        request: dict[str, object] = {"op": "subscribe", "symbols": subs, "id": gi}
        if args.bars:
            request["bars"] = args.bars
        req = orjson.dumps(request) if subs else b""
        stalled = i < args.stalled
        async with sem:
            _, proto = await loop.create_connection(
                lambda: BenchClient(totals, args.host, args.port, args.path, req, stalled, args.deflate),
                args.host,
                args.port,
            )
        clients.append(proto)  # type: ignore[arg-type]

    await asyncio.gather(*(open_one(i) for i in range(args.connections)))
    connected_at = time.time()
    await asyncio.sleep(max(args.start_at - time.time(), 0))
    cpu0, t0 = _cpu(), time.time()
    totals.measuring = True
    await asyncio.sleep(max(args.end_at - time.time(), 0))
    totals.measuring = False
    cpu1, t1 = _cpu(), time.time()
    for c in clients:
        if c.transport is not None:
            c.transport.abort()
    lat = latencies(totals.samples)
    return {
        "connections": args.connections,
        "connected_at": connected_at,
        "window_s": t1 - t0,
        "updates": totals.updates,
        "frames": totals.frames,
        "bytes": totals.bytes,
        "cpu_s": cpu1 - cpu0,
        "subscribed": totals.subscribed,
        "closed_during_run": totals.closed,
        "close_codes": totals.close_codes,
        "warnings": totals.warnings,
        "latency_us": lat.tolist() if args.raw_latency else None,
        "latency_hist": np.histogram(lat, bins=LAT_BINS)[0].tolist() if len(lat) else [],
        "latency_max_us": int(lat.max()) if len(lat) else 0,
    }


#: Fine log-spaced bins (µs) so the parent can merge histograms from many processes.
LAT_BINS = np.unique(np.round(np.logspace(0, 7.5, 1500))).astype(np.int64)
LAT_BINS = np.concatenate(([-(10**9)], LAT_BINS, [10**12]))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/ws")
    p.add_argument("--connections", type=int, required=True)
    p.add_argument("--first", type=int, default=0, help="global index of the first connection")
    p.add_argument("--k", type=int, default=10, help="symbols per connection")
    p.add_argument("--symbols", default="")
    p.add_argument("--stalled", type=int, default=0, help="this many connections never read")
    p.add_argument("--start-at", type=float, required=True)
    p.add_argument("--end-at", type=float, required=True)
    p.add_argument("--raw-latency", action="store_true")
    p.add_argument("--deflate", action="store_true", help="negotiate permessage-deflate")
    p.add_argument("--bars", default="", help="follow this bar interval of the k symbols and count bar messages")
    args = p.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    try:
        import uvloop  # the generator must stay cheaper than the server it measures

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
