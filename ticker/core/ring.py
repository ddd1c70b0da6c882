"""The resume ring: each symbol's recent updates, kept as the bytes subscribers got.

A client that reconnects says the last ``seq`` it saw per symbol; when the
ring still holds every update after it, the server replays exactly those
bytes and the client goes on as if it had never left
(:func:`ticker.core.resume.decide` makes the call). Invariants, per symbol,
kept by :meth:`UpdateRing.append` and :meth:`UpdateRing.reset` alone:

* entries are consecutive: entry ``i`` has ``seq == first + i``, and its bytes
  are the bytes every live subscriber was sent for that ``seq``
  (:class:`~ticker.core.ingest.Ingest` encodes each update once and appends
  it here), so a replay is the same stream a connected client received;
* ``floor`` is the ``seq`` a client must hold for the whole ring to apply on
  top of its state: the ``seq`` just before the first entry, or, when the
  first entry is a jump (a gateway that rejoined the bus after missing some
  ``seq``: that update carries every field changed since the ``seq`` it was
  computed from), that ``seq``. A client at ``floor`` or at a held ``seq`` is
  covered; one strictly between ``floor`` and the first entry is not;
* ``last`` is the newest ``seq`` appended (or reset to); nothing is replayed
  unless it is also the table's current ``seq`` (the caller checks);
* at most ``max_updates`` entries, none older than ``max_age_s`` (monotonic
  arrival time): the oldest go first and ``floor`` moves up with them.

Memory: each entry costs its payload (an update is 80-130 bytes of JSON plus
a 33-byte ``bytes`` header), a float for its arrival time (24 bytes) and two
deque slots (16 bytes). The payload is kept as a right-sized copy: orjson
(3.13) hands back its whole output buffer as the ``bytes`` object, 4 KiB
however short the JSON, so keeping its result would cost 4.1 KB of memory per
update instead of about 175 bytes (``python -m benchmarks.ring_memory``;
docs/protocol.md, Resuming, has the numbers at the defaults). The copy costs
540 instructions per update (callgrind), the whole ring 4-5% of the core's
instructions per delivered message (``python -m benchmarks.instructions ring``).
:attr:`UpdateRing.bytes` counts payload bytes only, which is what
``ticker_resume_ring_bytes`` exports.

Pure and synchronous, with time passed in: no clock of its own.
"""

from __future__ import annotations

from collections import deque
from itertools import islice


class UpdateRing:
    """Per symbol id, the last updates as encoded bytes, bounded by count and age."""

    __slots__ = ("max_updates", "max_age_s", "_payloads", "_times", "_floor", "_last", "bytes", "updates")

    def __init__(self, n_symbols: int, *, max_updates: int, max_age_s: float) -> None:
        if max_updates < 1:
            raise ValueError(f"max_updates must be at least 1, got {max_updates}")
        if not max_age_s > 0:
            raise ValueError(f"max_age_s must be > 0, got {max_age_s}")
        self.max_updates = max_updates
        self.max_age_s = max_age_s
        self._payloads: list[deque[bytes]] = [deque() for _ in range(n_symbols)]
        self._times: list[deque[float]] = [deque() for _ in range(n_symbols)]
        self._floor = [0] * n_symbols
        self._last = [0] * n_symbols
        #: Payload bytes held, all symbols together.
        self.bytes = 0
        #: Updates held, all symbols together.
        self.updates = 0

    # ------------------------------------------------------------ writing

    def append(self, sid: int, seq: int, payload: bytes, now: float) -> None:
        """Keep the update ``payload`` for ``seq`` (the hot path: once per update)."""
        last = self._last[sid]
        if seq != last + 1:
            if seq <= last:  # not a continuation of anything held
                self.reset(sid, seq)
                return
            self._clear(sid)
            self._floor[sid] = last  # the jump's delta was computed from `last`
        payloads = self._payloads[sid]
        times = self._times[sid]
        if payloads and (len(payloads) >= self.max_updates or times[0] <= now - self.max_age_s):
            self._trim(sid, now, 1)
        payloads.append(b"%b" % payload)  # a right-sized copy (see the module docstring)
        times.append(now)
        self._last[sid] = seq
        self.bytes += len(payload)
        self.updates += 1

    def reset(self, sid: int, seq: int) -> None:
        """The symbol's sequence restarted (or changed epoch) at ``seq``: forget its
        history; a client at ``seq`` exactly is still up to date."""
        self._clear(sid)
        self._floor[sid] = self._last[sid] = seq

    def prune(self, sid: int, now: float) -> None:
        """Drop the symbol's entries older than ``max_age_s``."""
        times = self._times[sid]
        if times and times[0] <= now - self.max_age_s:
            self._trim(sid, now, 0)

    def expire(self, now: float) -> None:
        """Drop every symbol's entries older than ``max_age_s`` (the housekeeping
        sweep calls this, so a symbol that went quiet does not hold its history
        for ever)."""
        horizon = now - self.max_age_s
        for sid, times in enumerate(self._times):
            if times and times[0] <= horizon:
                self._trim(sid, now, 0)

    def _trim(self, sid: int, now: float, room: int) -> None:
        """Drop the oldest entries until ``room`` more fit and none is too old."""
        payloads = self._payloads[sid]
        times = self._times[sid]
        horizon = now - self.max_age_s
        keep = self.max_updates - room
        first = self._last[sid] - len(payloads) + 1
        dropped = 0
        size = 0
        while payloads and (len(payloads) > keep or times[0] <= horizon):
            size += len(payloads.popleft())
            times.popleft()
            dropped += 1
        if dropped:
            self._floor[sid] = first + dropped - 1
            self.bytes -= size
            self.updates -= dropped

    def _clear(self, sid: int) -> None:
        payloads = self._payloads[sid]
        if payloads:
            self.bytes -= sum(map(len, payloads))
            self.updates -= len(payloads)
            payloads.clear()
            self._times[sid].clear()

    # ------------------------------------------------------------ reading

    def last(self, sid: int) -> int:
        """The newest ``seq`` the ring knows for the symbol."""
        return self._last[sid]

    def floor(self, sid: int) -> int:
        """The oldest ``seq`` a client may hold and still be replayed everything after it."""
        return self._floor[sid]

    def held(self, sid: int) -> int:
        """How many updates the ring holds for the symbol."""
        return len(self._payloads[sid])

    def after(self, sid: int, seq: int) -> list[bytes] | None:
        """Every update after ``seq`` up to :meth:`last`, oldest first; None when
        the ring does not hold all of them (``seq`` older than the floor, in the
        hole a jump left, or newer than anything held)."""
        last = self._last[sid]
        if seq == last:
            return []
        payloads = self._payloads[sid]
        if seq == self._floor[sid]:
            return list(payloads)
        first = last - len(payloads) + 1
        if first <= seq < last:
            return list(islice(payloads, seq - first + 1, None))
        return None
