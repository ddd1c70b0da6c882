"""One client's protocol state: its subscriptions and its replies.

Sans-I/O: :meth:`Session.receive` takes the text of one client frame and
queues every reply in the connection's :class:`~ticker.outbox.Outbox`.
Registration in the hub and the snapshot are queued in the same synchronous
step, so every update a client sees for a symbol follows its snapshot and
has a higher ``seq``. A subscribe that resumes (``since``,
:mod:`ticker.protocol.resume`) queues the missed updates instead of the
snapshot, in that same step, so the stream has no gap and no repeat.

Policy lives here too, still without I/O: every inbound frame first passes
the connection's rate limit (:class:`~ticker.limits.InboundRate`); until the
client has authenticated (:class:`~ticker.access.Access`) only ``auth``,
``ping`` and ``heartbeat`` are served; a subscribe is cut down to the
identity's entitlements. Names, patterns and groups resolve through the
:class:`~ticker.protocol.catalog.Catalog` to hub ids: a symbol's own, or its
delayed stream's for a delayed grant, so everything below (hub, outbox,
snapshot) serves both alike; a delayed stream is never resumed (``since``
gets ``"reason":"delayed"`` and the delayed snapshot). With usage reporting
on, every subscription is an interval of the connection's
:class:`~ticker.core.usage.ConnectionUsage`.
When the connection must end, :meth:`receive` and :meth:`check` return a
:class:`~ticker.protocol.Close` for the I/O layer to carry out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, assert_never

from ticker.core.bar_fanout import BarFanout
from ticker.core.encode import QuoteEncoder
from ticker.core.hub import Hub
from ticker.core.outbox import Outbox
from ticker.core.ring import UpdateRing
from ticker.core.stats import FanoutStats
from ticker.core.table import SymbolTable
from ticker.core.usage import ENTITLEMENT, ConnectionUsage
from ticker.protocol.bar_session import BarSubscriptions
from ticker.protocol.catalog import Catalog, Selection, is_group, is_pattern
from ticker.protocol.codes import Close, CloseCode, CloseReason, ErrorCode
from ticker.protocol.errors import ProtocolError, listed
from ticker.protocol.heartbeat import HeartbeatTimer
from ticker.protocol.replies import (
    RequestId,
    encode_authenticated,
    encode_heartbeat,
    encode_pong,
    encode_subscribed,
    encode_unsubscribed,
    encode_warning,
)
from ticker.protocol.requests import Auth, Heartbeat, Ping, Request, Subscribe, Unsubscribe, parse_request
from ticker.protocol.resume import ResumePlan, Resumer
from ticker.security.access import OPEN, Access, AccessEvent, AccessState
from ticker.security.limits import InboundRate, RateVerdict
from ticker.security.tokens import TokenError
from ticker.util.clock import wall_us


def _symbols_error(code: ErrorCode, what: str, names: list[str], id: RequestId, rest: str) -> ProtocolError:
    shown, text = listed(names)
    return ProtocolError(code, f"{what}: {text}; {rest}", id=id, field="symbols", symbols=shown)


class Session:
    __slots__ = (
        "table", "hub", "encoder", "outbox", "stats", "max_symbols", "access", "rate",
        "_wall", "subscriptions", "closed", "ending", "bars", "_bar_fanout", "_max_history", "ring",
        "heartbeat", "catalog", "usage",
    )  # fmt: skip

    def __init__(
        self,
        table: SymbolTable,
        hub: Hub,
        encoder: QuoteEncoder,
        outbox: Outbox,
        stats: FanoutStats,
        *,
        max_symbols: int,
        access: Access | None = None,
        rate: InboundRate | None = None,
        wall_clock: Callable[[], int] = wall_us,
        bars: BarFanout | None = None,
        max_history: int = 0,
        ring: UpdateRing | None = None,
        catalog: Catalog | None = None,
        usage: ConnectionUsage | None = None,
    ) -> None:
        self.table = table
        self.hub = hub
        self.encoder = encoder
        self.outbox = outbox
        self.stats = stats
        self.max_symbols = max_symbols
        self.access = access if access is not None else OPEN
        self.rate = rate
        self._wall = wall_clock
        #: sid -> throttle_ms
        self.subscriptions: dict[int, int] = {}
        self.closed = False
        #: Set once the session has decided the connection must end.
        self.ending: Close | None = None
        #: Bar series followed (made on the first request about bars).
        self.bars: BarSubscriptions | None = None
        self._bar_fanout = bars
        self._max_history = max_history
        #: Recent updates for resuming (None: the server keeps none).
        self.ring = ring
        #: Made when the client asks for heartbeats (most never do).
        self.heartbeat: HeartbeatTimer | None = None
        #: Names -> hub ids (patterns, groups, delayed streams).
        self.catalog = catalog if catalog is not None else Catalog(table, encoder)
        self.usage = usage

    # ------------------------------------------------------------ input

    def receive(self, data: bytes | str, now: float) -> Close | None:
        """Handle one text frame from the client."""
        if self.closed or self.ending is not None:
            return None
        if self.rate is not None and (verdict := self.rate.check(now)) is not RateVerdict.OK:
            return self._refuse(verdict, now)
        try:
            request = parse_request(data)
        except ProtocolError as exc:
            self.error(exc, now)
            return None
        if not self.access.authenticated and not isinstance(request, (Auth, Ping, Heartbeat)):
            self.error(self._unauthenticated(request.id), now)
            return None
        self.stats.requests[type(request).__name__.lower()] += 1
        try:
            return self._end(self._dispatch(request, now))
        except ProtocolError as exc:
            self.error(exc, now)
            return None

    def _dispatch(self, request: Request, now: float) -> Close | None:
        """Serve one request; exhaustive over :data:`Request`, so mypy refuses a new
        request type until it has a handler here."""
        match request:
            case Subscribe():
                self._subscribe(request, now)
            case Unsubscribe():
                self._unsubscribe(request, now)
            case Ping():
                self._ping(request, now)
            case Auth():
                return self._auth(request, now)
            case Heartbeat():
                self._heartbeat(request, now)
            case _:
                assert_never(request)
        return None

    def receive_binary(self, now: float) -> Close | None:
        if self.closed or self.ending is not None:
            return None
        if self.rate is not None and (verdict := self.rate.check(now)) is not RateVerdict.OK:
            return self._refuse(verdict, now)
        self.error(
            ProtocolError(ErrorCode.BAD_REQUEST, "binary frames are not supported; send JSON text"),
            now,
        )
        return None

    def check(self, now: float) -> Close | None:
        """Timers (called a few times a second): heartbeat, auth deadline, token expiry."""
        if self.closed or self.ending is not None:
            return None
        heartbeat = self.heartbeat
        if heartbeat is not None and heartbeat.due(self.outbox, now):
            self.outbox.push(encode_heartbeat(None, self._wall()), now)
            self.stats.heartbeats_sent += 1
        event = self.access.due(now)
        if event is None:
            return None
        if event is AccessEvent.EXPIRING:
            expires_at = self.access.identity.expires_at
            left = (self.access.expires_mono or now) - now
            self.outbox.push(
                encode_warning(
                    event.value,
                    f"your token expires in {left:.0f} s; send "
                    '{"op":"auth","token":"<fresh token>"} to stay connected',
                    expires_at=None if expires_at is None else int(expires_at * 1_000_000),
                ),
                now,
            )
            return None
        if event is AccessEvent.AUTH_TIMEOUT:
            return self._end(
                Close(
                    CloseCode.POLICY_VIOLATION,
                    f"authentication required: no auth message within {self.access.auth_timeout_s:g} s",
                    CloseReason.AUTH_TIMEOUT,
                )
            )
        return self._end(Close(CloseCode.POLICY_VIOLATION, "token expired", CloseReason.TOKEN_EXPIRED))

    def _end(self, close: Close | None) -> Close | None:
        """Remember a verdict to close: nothing more is read or answered after it."""
        if close is not None:
            self.ending = close
        return close

    def _refuse(self, verdict: RateVerdict, now: float) -> Close | None:
        rate = self.rate
        assert rate is not None
        bucket = rate.bucket
        self.error(
            ProtocolError(
                ErrorCode.RATE_LIMITED,
                f"too many messages: this one was dropped unread (limit {bucket.rate:g}/s, bursts of "
                f"{bucket.burst:g}; next accepted in {rate.retry_after_ms()} ms). "
                f"{rate.close_after} dropped without a pause close the connection",
            ),
            now,
        )
        if verdict is RateVerdict.CLOSE:
            return self._end(
                Close(
                    CloseCode.POLICY_VIOLATION,
                    f"rate limit: {rate.close_after} messages over {bucket.rate:g}/s were dropped",
                    CloseReason.RATE_LIMITED,
                )
            )
        return None

    def _unauthenticated(self, id: RequestId) -> ProtocolError:
        return ProtocolError(
            ErrorCode.UNAUTHENTICATED,
            'authenticate first: send {"op":"auth","token":"..."} within '
            f"{self.access.auth_timeout_s:g} s of connecting, or give the token in the handshake",
            id=id,
            field="op",
        )

    def error(self, exc: ProtocolError, now: float) -> None:
        self.stats.errors[exc.code] += 1
        self.outbox.push(exc.encode(), now)

    # ------------------------------------------------------------ requests

    def _select(self, names: tuple[str, ...], id: RequestId) -> Selection:
        try:
            return self.catalog.select(names, self.access.entitlements)
        except ValueError as exc:  # too many patterns
            raise ProtocolError(ErrorCode.BAD_REQUEST, str(exc), id=id, field="symbols") from None

    def _subscribe(self, req: Subscribe, now: float) -> None:
        if req.bars:
            return self._subscribe_bars(req, now)
        if len(req.symbols) > self.max_symbols:  # by count, before any lookup
            raise ProtocolError(
                ErrorCode.TOO_MANY_SYMBOLS,
                f"a subscribe names {len(req.symbols)} symbols; the limit is {self.max_symbols} per "
                "connection (limits.max_symbols_per_connection); nothing was subscribed",
                id=req.id,
                field="symbols",
            )
        sel = self._select(req.symbols, req.id)
        known, unknown, denied = sel.ids, sel.unknown, sel.denied
        new = [sid for sid in known if sid not in self.subscriptions]
        if len(self.subscriptions) + len(new) > self.max_symbols:
            raise ProtocolError(
                ErrorCode.TOO_MANY_SYMBOLS,
                f"subscribing to {len(new)} more symbols would exceed the limit of "
                f"{self.max_symbols} per connection ({len(self.subscriptions)} subscribed); "
                "nothing was subscribed",
                id=req.id,
                field="symbols",
            )
        outbox = self.outbox
        if known:
            plan = None
            if req.since:  # resume: the ring holds live bytes, so delayed streams never resume
                resumer = Resumer(self.table, self.encoder, self.ring, self.stats, self._wall)
                delayed = {self.catalog.name(h) for h in known if self.catalog.delay(h)}
                plan = resumer.plan(known, req.since, self.subscriptions, now, delayed=delayed)
            resume = None if plan is None else plan.ack(req.throttle_ms > 0)
            outbox.push(self._subscribed(req.id, known, req.throttle_ms, resume), now)
            self._add(known, req.throttle_ms, now, plan)
        if unknown:
            self.error(self._unknown(unknown, req.id, "subscribed"), now)
        if denied:
            self.error(self._not_entitled(denied, req.id, "the others were subscribed"), now)

    def _subscribed(
        self, id: RequestId, hids: list[int], throttle_ms: int, resume: dict[str, Any] | None = None
    ) -> bytes:
        """The ack: symbols subscribed, the delayed ones named with their delay."""
        catalog = self.catalog
        delayed = {catalog.name(h): d for h in hids if (d := catalog.delay(h))}
        return encode_subscribed(id, [catalog.name(h) for h in hids], throttle_ms, resume, delayed=delayed)

    def _add(self, hids: list[int], throttle_ms: int, now: float, plan: ResumePlan | None = None) -> None:
        """Register in the hub and queue each snapshot (or a resume's replay), in the
        same synchronous step."""
        outbox = self.outbox
        interval = throttle_ms / 1000.0
        usage = self.usage
        for sid in hids:
            self.subscriptions[sid] = throttle_ms
            self.hub.add(sid, outbox)
            outbox.set_throttle(sid, interval, now)
            sent = 0
            if plan is None or not plan.send(sid, outbox, throttle_ms, now):
                snapshot = self.catalog.snapshot(sid)
                outbox.push(snapshot, now, sid)
                sent = len(snapshot)
            if usage is not None:
                usage.subscribed(sid, sent)

    def _bar_subscriptions(self) -> BarSubscriptions:
        if self.bars is None:
            fanout, max_history = self._bar_fanout, self._max_history
            self.bars = BarSubscriptions(
                fanout, self.outbox, self.catalog.encode_update, max_series=self.max_symbols,
                max_history=max_history,
            )
        return self.bars

    def _subscribe_bars(self, req: Subscribe, now: float) -> None:
        """``subscribe`` with ``bars``: the symbols' bar series (docs/protocol.md, Bars).
        Names, patterns and groups resolve as for quotes; bars are real time only, so
        a symbol the identity sees delayed gets no bars (``not_entitled``, saying so)."""
        sel = self._select(req.symbols, req.id)
        catalog = self.catalog
        live = [hid for hid in sel.ids if not catalog.delay(hid)]
        delayed = [catalog.name(hid) for hid in sel.ids if catalog.delay(hid)]
        bars = self._bar_subscriptions()
        held = set(bars.keys)
        bars.subscribe(req.id, live, req.bars, req.history, req.throttle_ms, now)
        self._bar_usage(held)
        if sel.unknown:
            self.error(self._unknown(sel.unknown, req.id, "subscribed"), now)
        if sel.denied:
            self.error(self._not_entitled(sel.denied, req.id, "the others were subscribed"), now)
        if delayed:
            rest = "bars are real time only and these are delayed for you; the others were subscribed"
            self.error(self._not_entitled(delayed, req.id, rest), now)

    def _bar_usage(self, held: set[int], reason: str = "unsubscribed") -> None:
        """Usage intervals for the bar series subscribed or dropped since ``held``."""
        usage, bars = self.usage, self.bars
        if usage is None or bars is None or bars.fanout is None:
            return
        fanout = bars.fanout
        now_held = bars.keys
        for key in now_held.keys() - held:
            symbol, label = self.table.symbols[key // fanout.n], fanout.labels[key % fanout.n]
            usage.bars_subscribed(fanout.series_id(key), symbol, label)
        for key in held - now_held.keys():
            usage.unsubscribed(fanout.series_id(key), reason)

    def _ping(self, req: Ping, now: float) -> None:
        self.outbox.push(encode_pong(req.id, self._wall()), now)

    def _heartbeat(self, req: Heartbeat, now: float) -> None:
        if self.heartbeat is None:
            self.heartbeat = HeartbeatTimer()
        self.heartbeat.set(req.interval_ms)
        self.outbox.push(encode_heartbeat(req.id, self._wall(), req.interval_ms), now)

    def _auth(self, req: Auth, now: float) -> Close | None:
        access = self.access
        try:
            identity = access.login(req.token, now, self._wall() / 1e6)
        except TokenError as exc:
            self.error(ProtocolError(ErrorCode.AUTH_FAILED, exc.message, id=req.id, field="token"), now)
            if access.state is AccessState.ENDED:
                why = f"authentication failed: {exc.message}"
                return Close(CloseCode.POLICY_VIOLATION, why, CloseReason.AUTH_FAILED)
            return None
        self.outbox.push(encode_authenticated(req.id, identity.name, identity.expires_at), now)
        # A refreshed token may grant less (drop what it no longer covers) or another
        # delay (move the subscription to the stream it now grants, with a snapshot).
        catalog = self.catalog
        lost: list[int] = []
        moved: dict[int, int] = {}
        for hid in self.subscriptions:
            sid = catalog.source(hid)[0]
            to = catalog.hub_id(sid, identity.entitlements.delay_of(self.table.symbols[sid]))
            if to is None:
                lost.append(hid)
            elif to != hid:
                moved[hid] = to
        if lost:
            names = [catalog.name(h) for h in lost]
            self._drop(lost, ENTITLEMENT)
            self.outbox.push(encode_unsubscribed(req.id, names), now)
            self.error(self._not_entitled(names, req.id, "they were unsubscribed"), now)
        for old, to in moved.items():
            throttle_ms = self.subscriptions[old]
            self._drop([old], ENTITLEMENT)
            self.outbox.push(self._subscribed(req.id, [to], throttle_ms), now)
            self._add([to], throttle_ms, now)
        held = set(self.bars.keys) if self.bars else set()
        gone = self.bars.drop_unentitled(req.id, identity.entitlements.allows, now) if self.bars else []
        self._bar_usage(held, ENTITLEMENT)
        if gone:
            self.error(self._not_entitled(gone, req.id, "their bars were unsubscribed"), now)
        return None

    def _drop(self, sids: Iterable[int], reason: str = "unsubscribed") -> None:
        usage = self.usage
        for sid in sids:
            if self.subscriptions.pop(sid, None) is not None:
                self.hub.remove(sid, self.outbox)
                self.outbox.forget(sid)
                if usage is not None:
                    usage.unsubscribed(sid, reason)

    def _unsubscribe(self, req: Unsubscribe, now: float) -> None:
        if req.bars:
            try:
                found, unknown = self.catalog.expand(req.symbols)
            except ValueError as exc:  # too many patterns
                raise ProtocolError(ErrorCode.BAD_REQUEST, str(exc), id=req.id, field="symbols") from None
            bars = self._bar_subscriptions()
            held = set(bars.keys)
            bars.unsubscribe(req.id, [sid for sid, _ in found], req.bars, now)
            self._bar_usage(held)
            if unknown:
                self.error(self._unknown(unknown, req.id, "unsubscribed"), now)
            return
        try:
            known, unknown = self.catalog.held(req.symbols, self.subscriptions)
        except ValueError as exc:  # too many patterns
            raise ProtocolError(ErrorCode.BAD_REQUEST, str(exc), id=req.id, field="symbols") from None
        self._drop(known)
        if known:
            self.outbox.push(encode_unsubscribed(req.id, [self.catalog.name(s) for s in known]), now)
        if unknown:
            self.error(self._unknown(unknown, req.id, "unsubscribed"), now)

    @staticmethod
    def _unknown(unknown: list[str], id: RequestId, verb: str) -> ProtocolError:
        patterns = any(is_pattern(n) or is_group(n) for n in unknown)
        return _symbols_error(
            ErrorCode.UNKNOWN_SYMBOL,
            "unknown symbol(s), or patterns and groups matching none you may see" if patterns
            else "unknown symbol(s)",
            unknown,
            id,
            f"the others were {verb}. GET /api/symbols lists them all",
        )

    @staticmethod
    def _not_entitled(denied: list[str], id: RequestId, rest: str) -> ProtocolError:
        return _symbols_error(ErrorCode.NOT_ENTITLED, "not entitled to", denied, id, rest)

    # ------------------------------------------------------------ teardown

    def close(self) -> None:
        """Unsubscribe everything and stop answering; idempotent."""
        if self.closed:
            return
        self.closed = True
        for sid in self.subscriptions:
            self.hub.remove(sid, self.outbox)
        self.subscriptions.clear()
        if self.usage is not None:
            self.usage.closed()
        if self.bars is not None:
            self.bars.close()
