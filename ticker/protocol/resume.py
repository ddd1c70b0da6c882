"""Resuming on subscribe: the ``since`` field, and the answer per symbol.

A client that reconnects subscribes as usual and adds, for the symbols it
already followed, the last ``seq`` it saw and that ``seq``'s epoch::

    {"op":"subscribe","symbols":["EURUSD","GBPUSD"],
     "since":{"EURUSD":{"seq":1042,"epoch":"9f86d081884c7d65"}},"id":3}

:func:`parse_since` checks the field (every key must be one of ``symbols``);
:class:`Resumer` decides per symbol with :func:`ticker.core.resume.decide`
and queues the answer: the missed updates (the ring's bytes, unchanged), then
the trading day as it stands (a ``day`` message, when daily statistics are on:
the ring has no day messages, and the day may have rolled meanwhile), then a
``status`` with the symbol's current status and session time, instead of the
snapshot. The session calls it in the same synchronous step in which it
registers the subscription in the hub, so no update can fall between the
replay and the live stream: a resumed stream has every ``seq`` after the
client's, once, in order.

A throttled subscription (``throttle_ms`` > 0) asked for at most one update
per interval, so it does not get the whole history: the missed updates are
merged into one, carrying every field they changed with the current values
and ``seq``, exactly what the throttle would have sent.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ticker.core.encode import QuoteEncoder, encode_status
from ticker.core.model import Status
from ticker.core.outbox import Outbox
from ticker.core.resume import Decision, Outcome, decide
from ticker.core.ring import UpdateRing
from ticker.core.stats import FanoutStats
from ticker.core.table import ASK, ASK_SIZE, BID, BID_SIZE, SymbolTable
from ticker.protocol.codes import ErrorCode
from ticker.protocol.errors import ProtocolError
from ticker.protocol.replies import RequestId

MAX_EPOCH_LENGTH = 64
_MAX_SAFE_INT = 2**53
_FIELD_BITS = {"bid": BID, "ask": ASK, "bid_size": BID_SIZE, "ask_size": ASK_SIZE}


@dataclass(frozen=True, slots=True)
class Position:
    """Where a client stands in one symbol's stream: its last ``seq`` and that seq's epoch."""

    symbol: str
    seq: int
    epoch: str


def _bad(message: str, id: RequestId) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_REQUEST, message, id=id, field="since")


def parse_since(value: Any, symbols: Sequence[str], id: RequestId) -> tuple[Position, ...]:
    """The ``since`` field of a subscribe: symbol -> ``{"seq": int, "epoch": str}``."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise _bad('field \'since\' must be an object: {"EURUSD":{"seq":1042,"epoch":"…"}}', id)
    wanted = set(symbols)
    out: list[Position] = []
    for symbol, mark in value.items():
        if symbol not in wanted:
            shown = symbol if len(symbol) <= 32 else symbol[:32] + "…"
            raise _bad(f"since names {shown!r}, which is not in 'symbols'", id)
        if not isinstance(mark, dict):
            raise _bad(f'since.{symbol} must be an object {{"seq": <int>, "epoch": "<string>"}}', id)
        seq, epoch = mark.get("seq"), mark.get("epoch")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < _MAX_SAFE_INT:
            raise _bad(f"since.{symbol}.seq must be an integer from 0 to 2^53", id)
        if not isinstance(epoch, str) or len(epoch) > MAX_EPOCH_LENGTH:
            raise _bad(f"since.{symbol}.epoch must be a string of at most {MAX_EPOCH_LENGTH} characters", id)
        out.append(Position(symbol, seq, epoch))
    return tuple(out)


def _changed_mask(updates: list[bytes]) -> int:
    """The fields the updates changed, together (resume of a throttled subscription:
    rare, so decoding our own bytes is fine)."""
    mask = 0
    for raw in updates:
        for key in orjson.loads(raw):
            mask |= _FIELD_BITS.get(key, 0)
    return mask


class ResumePlan:
    """The decisions for one subscribe request, made before anything is queued."""

    __slots__ = ("_resumer", "decisions")

    def __init__(self, resumer: Resumer, decisions: dict[int, Decision]) -> None:
        self._resumer = resumer
        self.decisions = decisions

    def ack(self, throttled: bool) -> dict[str, dict[str, Any]]:
        """The ``resume`` object of the ``subscribed`` reply."""
        names = self._resumer.table.symbols
        out: dict[str, dict[str, Any]] = {}
        for sid, d in self.decisions.items():
            if d.outcome is Outcome.RECOVERED:
                n = len(d.updates)
                out[names[sid]] = {"recovered": True, "replayed": min(n, 1) if throttled else n}
            else:
                out[names[sid]] = {"recovered": False, "reason": d.outcome.value}
        return out

    def send(self, sid: int, outbox: Outbox, throttle_ms: int, now: float) -> bool:
        """Queue the answer for ``sid``; False when it needs the usual snapshot instead."""
        d = self.decisions.get(sid)
        if d is None or d.outcome is not Outcome.RECOVERED:
            return False
        r = self._resumer
        if throttle_ms and d.updates:
            mask = _changed_mask(d.updates)
            outbox.push_update(sid, mask, r.encoder.update(sid, mask), now)
            r.stats.replayed += 1
        else:
            for payload in d.updates:
                outbox.push(payload, now)  # control: never merged, never dropped
            r.stats.replayed += len(d.updates)
        t = r.table
        market = r.encoder.market
        if market is not None:
            # The ring holds updates only: a day that rolled while the client was away
            # reaches it as the current day, whole (it replaces the client's).
            day = market.day_message(sid)
            if day is not None:
                outbox.push(day, now, sid)
        extra = market.status_fields(sid) if market is not None else None
        status = Status(int(t.status[sid])).label
        outbox.push(encode_status(t.symbols[sid], status, r.wall(), extra), now, sid)
        return True


class Resumer:
    """Decides and answers ``since`` for one session."""

    __slots__ = ("table", "encoder", "ring", "stats", "wall")

    def __init__(
        self,
        table: SymbolTable,
        encoder: QuoteEncoder,
        ring: UpdateRing | None,
        stats: FanoutStats,
        wall: Callable[[], int],
    ) -> None:
        self.table = table
        self.encoder = encoder
        self.ring = ring
        self.stats = stats
        self.wall = wall

    def plan(
        self,
        sids: Sequence[int],
        since: Sequence[Position],
        held: Container[int],
        now: float,
        *,
        delayed: Container[str] = (),
    ) -> ResumePlan:
        """Decide for every subscribed symbol that has a position in ``since``.

        ``held`` are the symbols already subscribed on this connection: their
        live updates are already queued, so a replay could repeat them; they
        get a snapshot (``already_subscribed``). ``delayed`` are the symbols the
        connection sees delayed (:mod:`ticker.core.delay`): the ring holds live
        updates, so they are never replayed (``delayed``; the session sends the
        delayed snapshot).
        """
        table = self.table
        ids = table.ids
        wanted = set(sids)
        seqs = table.seq
        decisions: dict[int, Decision] = {}
        for pos in since:
            sid = ids.get(pos.symbol, -1)
            if pos.symbol in delayed:
                decisions[sid] = Decision(Outcome.DELAYED, [])
                self.stats.resumes[Outcome.DELAYED.value] += 1
                continue
            if sid not in wanted:  # unknown or not entitled: reported by the session
                continue
            if sid in held:
                d = Decision(Outcome.ALREADY_SUBSCRIBED, [])
            else:
                d = decide(self.ring, sid, pos.seq, pos.epoch, int(seqs[sid]), table.epoch[sid], now)
            decisions[sid] = d
            self.stats.resumes[d.outcome.value] += 1
        return ResumePlan(self, decisions)
