"""The peer's fault: :class:`ProtocolError`.

Raised by request parsing and by request handlers when a client asked for
something we cannot do; the session turns it into an ``error`` reply and
the connection stays open. Our own bugs are never a ProtocolError: they
propagate and are logged as internal errors (h11's local vs remote errors).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ticker.protocol.codes import ErrorCode
from ticker.protocol.replies import RequestId, encode_error


class ProtocolError(Exception):
    """The peer sent something we cannot act on; becomes an ``error`` reply."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        id: RequestId = None,
        field: str | None = None,
        symbols: Sequence[str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.id = id
        self.field = field
        self.symbols = tuple(symbols) if symbols is not None else None
        #: More fields of the error reply (``intervals`` with an unknown interval).
        self.extra = dict(extra) if extra else None

    def encode(self) -> bytes:
        return encode_error(
            self.code, self.message, id=self.id, field=self.field, symbols=self.symbols, extra=self.extra
        )


#: Symbols an error lists at most, in its ``symbols`` and in its message: a request may
#: name thousands, and an error must never echo an unbounded list back.
MAX_LISTED_SYMBOLS = 20


def listed(names: Sequence[str], limit: int = MAX_LISTED_SYMBOLS) -> tuple[list[str], str]:
    """The first ``limit`` of ``names``, and the same as text that says how many more there are."""
    shown = list(names[:limit])
    more = len(names) - len(shown)
    return shown, ", ".join(shown) + (f" (and {more} more)" if more else "")
