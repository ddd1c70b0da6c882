"""Bad-tick filter: hold a price jump until the next ticks confirm it.

Per symbol the filter keeps the last accepted mid price and the log returns
(tick to tick) of the last ``window`` accepted ticks. A tick is *suspicious*
when its log return from the last accepted mid exceeds ``max_sigma`` recent
standard deviations (with a floor of one pip, so a market that did not move
for a while does not flag a one-pip step) or ``max_jump_pct`` percent.

A suspicious tick is held, not applied. If the next ``confirm_ticks`` ticks
stay near it (none is suspicious relative to it), the market really moved:
the held ticks are released in order and the new level becomes the
reference. If a tick comes back near the old level instead, the held ticks
were outliers: they are rejected (counted by the caller) and that tick is
judged afresh. The filter is pure: items in, items to apply and a rejection
count out; it never sees a clock or a socket.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ticker.util.errors import FieldError

T = TypeVar("T")

#: Returns needed before the standard-deviation test applies.
MIN_SAMPLES = 20


@dataclass(slots=True)
class _State(Generic[T]):
    last: float  # log of the last accepted mid
    returns: deque[float]
    sum: float = 0.0
    sumsq: float = 0.0
    candidate: float = 0.0  # log mid of the held level
    held: list[T] | None = None


class OutlierFilter(Generic[T]):
    def __init__(
        self,
        pip_sizes: Sequence[float],
        *,
        max_sigma: float = 0.0,
        max_jump_pct: float = 0.0,
        window: int = 100,
        confirm_ticks: int = 2,
    ) -> None:
        if confirm_ticks < 1:
            raise FieldError("confirm_ticks", "must be >= 1")
        self.pip_sizes = list(pip_sizes)
        self.max_sigma = max_sigma
        self.max_log_jump = math.log1p(max_jump_pct / 100.0) if max_jump_pct > 0 else math.inf
        self.window = window
        self.confirm_ticks = confirm_ticks
        self._state: dict[int, _State[T]] = {}

    def offer(self, sid: int, mid: float, item: T) -> tuple[list[T], int]:
        """Judge one tick; returns (items to apply now, in order; held items rejected)."""
        if not mid > 0.0 or mid == math.inf:
            return [item], 0  # not a price: the table's own validation rejects it
        x = math.log(mid)
        st = self._state.get(sid)
        if st is None:
            self._state[sid] = _State(x, deque(maxlen=self.window))
            return [item], 0
        rejected = 0
        if st.held is not None:
            if not self._suspicious(st, sid, x - st.candidate):
                st.held.append(item)
                st.candidate = x
                if len(st.held) > self.confirm_ticks:  # the jump plus confirm_ticks ticks near it
                    out, st.held = st.held, None
                    st.last = x
                    return out, 0
                return [], 0
            rejected = len(st.held)
            st.held = None
        r = x - st.last
        if self._suspicious(st, sid, r):
            st.held = [item]
            st.candidate = x
            return [], rejected
        self._accept(st, x, r)
        return [item], rejected

    def _suspicious(self, st: _State[T], sid: int, r: float) -> bool:
        a = abs(r)
        if a > self.max_log_jump:
            return True
        n = len(st.returns)
        if self.max_sigma <= 0 or n < min(MIN_SAMPLES, self.window):
            return False
        var = max(st.sumsq / n - (st.sum / n) ** 2, 0.0)
        floor = self.pip_sizes[sid] / math.exp(st.last)  # one pip as a log return
        return a > self.max_sigma * max(math.sqrt(var), floor)

    def _accept(self, st: _State[T], x: float, r: float) -> None:
        if len(st.returns) == st.returns.maxlen:
            old = st.returns[0]
            st.sum -= old
            st.sumsq -= old * old
        st.returns.append(r)
        st.sum += r
        st.sumsq += r * r
        st.last = x

    def held(self, sid: int) -> int:
        """Ticks of ``sid`` waiting for confirmation."""
        st = self._state.get(sid)
        return len(st.held) if st is not None and st.held is not None else 0
