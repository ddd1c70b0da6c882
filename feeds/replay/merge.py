"""Merge per-file tick streams into one time-ordered stream, a chunk at a time.

A k-way merge at chunk granularity: every file's stream is time-ordered, so
nothing a file has not yet produced can be earlier than the last tick of its
current chunk. The horizon (the smallest such "last tick" over the files)
is therefore safe: every buffered tick at or before it is emitted now,
sorted stably (files listed first win ties), and the files whose buffers run
dry are read next. Memory stays at one chunk per file.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

import numpy as np

from ticker.core.batch import TickBatch


def merge(streams: Iterable[Iterator[TickBatch]]) -> Iterator[TickBatch]:
    """One time-ordered stream of the given time-ordered streams."""
    iters = list(streams)
    heads: dict[int, TickBatch] = {}
    for i, it in enumerate(iters):
        head = _next(it)
        if head is not None:
            heads[i] = head
    while heads:
        if len(heads) == 1:
            ((i, head),) = heads.items()
            yield head
            nxt = _next(iters[i])
            if nxt is None:
                return
            heads[i] = nxt
            continue
        # The file whose buffer ends earliest bounds what is safe to emit.
        horizon = heapq.nsmallest(1, (int(h.ts[-1]) for h in heads.values()))[0]
        parts: list[TickBatch] = []
        for i in sorted(heads):
            head = heads[i]
            take = head.ts <= horizon
            if take.all():
                parts.append(head)
                nxt = _next(iters[i])
                if nxt is None:
                    del heads[i]
                else:
                    heads[i] = nxt
            elif take.any():
                parts.append(head.take(take))
                heads[i] = head.take(~take)
        out = TickBatch.concat(parts) if len(parts) > 1 else parts[0]
        yield out.take(np.argsort(out.ts, kind="stable"))


def _next(it: Iterator[TickBatch]) -> TickBatch | None:
    for chunk in it:
        if len(chunk):
            return chunk
    return None
