"""``ticker watch EURUSD GBPUSD``: a live terminal table of quotes over ticker.client.

:func:`render` turns the client's state into a rich renderable and does no
I/O (tests render it to text); :func:`watch` is the loop: one task consumes
the stream into :class:`WatchState`, the main loop redraws a few times a
second until SIGINT or SIGTERM, then everything closes and the exit code is 0.
On a terminal the table redraws in place; piped, it is printed every
``refresh`` seconds. After a connection drops the status line reads
``reconnecting`` until the client is back; the client resumes every symbol
from the last ``seq`` shown, so a recovered symbol continues without a gap
(its Gaps column stays as it was) and the notice says how the resume went.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from dataclasses import dataclass, field

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ticker.client import AuthError, Client, ConnState, Message, connect, fetch_symbols
from ticker.client.book import Quote
from ticker.client.meter import Meter
from ticker.client.prices import split_price, spread_pips
from ticker.client.resume import Recovery, outcomes
from ticker.core.model import Instrument

_CONN_STYLE = {ConnState.OPEN: "green", ConnState.CONNECTING: "yellow", ConnState.WAITING: "red"}


@dataclass
class WatchState:
    symbols: list[str]
    instruments: dict[str, Instrument]
    meters: dict[str, Meter] = field(default_factory=dict)
    #: last price move per symbol and side: +1 up, -1 down
    moves: dict[tuple[str, str], int] = field(default_factory=dict)
    notice: str = ""
    _last: dict[tuple[str, str], float] = field(default_factory=dict, repr=False)

    def on_message(self, m: Message, now: float) -> None:
        if m.type == "update" and m.symbol is not None:
            self.meters.setdefault(m.symbol, Meter()).record(now, m.latency_s)
            for side in ("bid", "ask"):
                if side in m.data:
                    self._move(m.symbol, side, m.data[side])
        elif m.type in ("error", "warning"):
            self.notice = f"{m.type} {m.data.get('code')}: {m.data.get('message')}"
        elif m.type == "disconnected":
            retry = m.data.get("retry_in_s")
            self.notice = f"disconnected ({m.data.get('code')}): {m.data.get('reason')}" + (
                f"; retrying in {retry:.1f} s" if retry is not None else ""
            )
        elif m.type == "connected":
            self.notice = "reconnected; resuming…" if m.data.get("attempt", 1) > 1 else ""
        elif m.type == "subscribed" and isinstance(m.data.get("resume"), dict):
            self.notice = _resumed(outcomes(m.data))

    def _move(self, symbol: str, side: str, price: float) -> None:
        key = (symbol, side)
        prev = self._last.get(key)
        if prev is not None and price != prev:
            self.moves[key] = 1 if price > prev else -1
        self._last[key] = price


def _resumed(rs: dict[str, Recovery]) -> str:
    ok = [r for r in rs.values() if r.recovered]
    replayed = sum(r.replayed for r in ok)
    text = f"resumed {len(ok)} of {len(rs)} symbol(s) without a gap ({replayed} missed updates replayed)"
    lost = [f"{s} ({r.reason})" for s, r in rs.items() if not r.recovered]
    return text + ("; fresh snapshot for " + ", ".join(lost) if lost else "")


def _connection(client: Client) -> str:
    """The connection state as a user reads it: after the first connect, a client
    that is waiting or connecting is reconnecting."""
    state = client.state
    if client.lifecycle.opened and state in (ConnState.WAITING, ConnState.CONNECTING):
        return "reconnecting"
    return state.value


def _price(q: Quote | None, side: str, inst: Instrument | None, move: int) -> Text:
    price = getattr(q, side) if q is not None else None
    if price is None:
        return Text("—", style="dim")
    colour = {1: "green", -1: "red"}.get(move, "")
    if inst is None:
        return Text(str(price), style=colour)
    big, pips, pipette = split_price(price, inst.decimals, inst.pip_size)
    return Text.assemble((big, "dim"), (pips, f"bold {colour}".strip()), (pipette, colour))


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    ms = seconds * 1000
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.0f} ms"


def render(client: Client, state: WatchState, now: float) -> Group:
    """The whole screen: a status line and the quote table."""
    conn = client.state
    head = Text.assemble(
        ("● ", _CONN_STYLE.get(conn, "red")),
        (_connection(client), "bold"),
        f"  {client.url}",
        (f"  reconnects {client.reconnects}" if client.reconnects else "", "dim"),
    )
    table = Table(expand=False, header_style="bold", box=None, padding=(0, 1))
    for name in ("Symbol", "Bid", "Ask", "Spread", "Upd/s", "Latency", "p99 5s", "Gaps", "Age", "Status"):
        table.add_column(name, justify="left" if name == "Symbol" else "right", no_wrap=True)
    for sym in state.symbols:
        q = client.book.get(sym)
        inst = state.instruments.get(sym)
        meter = state.meters.get(sym)
        spread = "—"
        if q is not None and q.bid is not None and q.ask is not None:
            spread = f"{spread_pips(q.bid, q.ask, inst.pip_size):.1f}" if inst else f"{q.ask - q.bid:g}"
        status = q.status if q is not None else "pending"
        table.add_row(
            Text(sym, style="bold"),
            _price(q, "bid", inst, state.moves.get((sym, "bid"), 0)),
            _price(q, "ask", inst, state.moves.get((sym, "ask"), 0)),
            spread,
            f"{meter.rate(now):.1f}" if meter else "0.0",
            _ms(meter.last_latency_s if meter else None),
            _ms(meter.latency_quantile(0.99, now) if meter else None),
            str(client.book.gaps.get(sym, 0)),
            f"{now - meter.last_at:.1f} s" if meter and meter.last_at is not None else "—",
            Text(status, style={"live": "green", "stale": "red"}.get(status, "yellow")),
        )
    parts: list[Text | Table] = [head, table]
    if state.notice:
        parts.append(Text(state.notice, style="yellow"))
    return Group(*parts)


async def _consume(client: Client, state: WatchState) -> None:
    async for m in client:
        state.on_message(m, time.monotonic())


async def watch(
    url: str,
    symbols: list[str],
    *,
    token: str | None = None,
    throttle_ms: int = 0,
    refresh_s: float = 0.25,
    console: Console | None = None,
) -> int:
    console = console or Console()
    err = Console(stderr=True)
    instruments: dict[str, Instrument] = {}
    try:
        instruments = await fetch_symbols(url, token=token)
    except Exception as exc:  # the table still works, without pip formatting
        err.print(f"[yellow]symbol list unavailable ({exc}); prices shown unformatted[/]")
    unknown = [s for s in symbols if instruments and s not in instruments]
    if unknown:
        err.print(f"[red]unknown symbol(s): {', '.join(unknown)}[/] (GET /api/symbols lists them)")
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    state = WatchState(symbols, instruments)
    try:
        async with connect(url, token=token) as client, asyncio.TaskGroup() as tg:
            await client.subscribe(symbols, throttle_ms=throttle_ms)
            consumer = tg.create_task(_consume(client, state))
            await _draw_until(stop, client, state, console, refresh_s)
            consumer.cancel()
    except AuthError as exc:
        err.print(f"[red]{exc}[/]")
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0


async def _draw_until(
    stop: asyncio.Event, client: Client, state: WatchState, console: Console, refresh_s: float
) -> None:
    if not console.is_terminal:
        refresh_s = max(refresh_s, 1.0)  # piped: a table a second, not a flood
    live = Live(console=console, auto_refresh=False, transient=False) if console.is_terminal else None
    with live or contextlib.nullcontext():
        while not stop.is_set():
            screen = render(client, state, time.monotonic())
            if live is not None:
                live.update(screen, refresh=True)
            else:
                console.print(screen)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), refresh_s)
