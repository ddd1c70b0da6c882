"""Can a reconnecting client's gap be filled? The resume decision, pure.

A client resuming a symbol says the last ``seq`` it saw and the epoch that
``seq`` belongs to. :func:`decide` answers with a :class:`Decision`:
``RECOVERED`` with exactly the updates it missed (possibly none), or why
not, in which case the caller sends a fresh snapshot. The rules, in order:

1. another epoch: the sequence the client followed is gone (the service
   restarted, the feed started over), so its ``seq`` means nothing here;
2. a ``seq`` newer than the symbol's current one cannot come from this
   epoch (a bogus value, or a sequence lost and restarted under the same
   name, which epochs exist to prevent): never trusted;
3. the current ``seq``: nothing was missed, recovered with nothing to replay
   (also true with the ring off);
4. otherwise the ring (:class:`~ticker.core.ring.UpdateRing`) must hold
   every update after the client's ``seq`` *up to the current one*; a ring
   that is out of step with the table, overflowed (by count) or expired (by
   age) past the client's ``seq`` gives ``TOO_OLD``.

Never a partial replay: either every missed update, in order, or none.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from ticker.core.ring import UpdateRing


class Outcome(enum.Enum):
    """How one symbol's resume went; the value is the ``reason`` clients see and
    the ``outcome`` label of ``ticker_resumes_total``."""

    RECOVERED = "recovered"
    #: The ring no longer reaches back to the client's seq (overflowed or expired).
    TOO_OLD = "too_old"
    #: The client's seq belongs to another epoch.
    EPOCH_CHANGED = "epoch_changed"
    #: The client's seq is newer than the server's.
    UNKNOWN_SEQ = "unknown_seq"
    #: The server keeps no history (``resume.max_updates = 0``) and the client missed updates.
    NO_HISTORY = "no_history"
    #: The symbol was already subscribed on this connection (decided by the session).
    ALREADY_SUBSCRIBED = "already_subscribed"
    #: The connection sees the symbol delayed: a delayed stream is never replayed (the
    #: ring holds live updates); it gets the delayed snapshot (decided by the session).
    DELAYED = "delayed"


class Decision(NamedTuple):
    outcome: Outcome
    #: The missed updates, oldest first (empty unless recovered).
    updates: list[bytes]


_NOTHING: list[bytes] = []


def decide(
    ring: UpdateRing | None,
    sid: int,
    seq: int,
    epoch: str,
    current_seq: int,
    current_epoch: str,
    now: float,
) -> Decision:
    """Resume symbol ``sid`` for a client that last saw ``seq`` of ``epoch``."""
    if epoch != current_epoch:
        return Decision(Outcome.EPOCH_CHANGED, _NOTHING)
    if seq > current_seq:
        return Decision(Outcome.UNKNOWN_SEQ, _NOTHING)
    if seq == current_seq:
        return Decision(Outcome.RECOVERED, [])
    if ring is None:
        return Decision(Outcome.NO_HISTORY, _NOTHING)
    ring.prune(sid, now)
    if ring.last(sid) != current_seq:
        return Decision(Outcome.TOO_OLD, _NOTHING)
    updates = ring.after(sid, seq)
    if updates is None:
        return Decision(Outcome.TOO_OLD, _NOTHING)
    return Decision(Outcome.RECOVERED, updates)
