"""Resuming after a reconnect, client side: what to ask for, and what came back.

Sans-I/O. :func:`since` turns the book (the last ``seq`` and epoch seen per
symbol) into a subscribe's ``since`` field; :func:`outcomes` reads the
``resume`` object of the ``subscribed`` reply into :class:`Recovery` values.
The protocol is in docs/protocol.md (Resuming after a reconnect).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ticker.client.book import QuoteBook


@dataclass(frozen=True, slots=True)
class Recovery:
    """How one symbol came back after a reconnect.

    ``recovered``: every update missed while away was replayed (``replayed``
    of them, possibly none), in order, so the stream has no gap. Otherwise
    ``reason`` says why not (``too_old``, ``epoch_changed``, ``unknown_seq``,
    ``no_history``, ``already_subscribed``) and a fresh snapshot replaced the
    quote.
    """

    recovered: bool
    replayed: int = 0
    reason: str | None = None


def since(book: QuoteBook, symbols: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The positions to resume from: symbols the book holds with a known epoch."""
    out: dict[str, dict[str, Any]] = {}
    for symbol in symbols:
        q = book.get(symbol)
        if q is not None and q.epoch:
            out[symbol] = {"seq": q.seq, "epoch": q.epoch}
    return out


def outcomes(ack: Mapping[str, Any]) -> dict[str, Recovery]:
    """The ``resume`` object of a ``subscribed`` reply (empty when it has none)."""
    raw = ack.get("resume")
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Recovery] = {}
    for symbol, r in raw.items():
        if not isinstance(r, dict):
            continue
        replayed = r.get("replayed")
        reason = r.get("reason")
        out[symbol] = Recovery(
            r.get("recovered") is True,
            replayed if isinstance(replayed, int) and not isinstance(replayed, bool) else 0,
            reason if isinstance(reason, str) else None,
        )
    return out
