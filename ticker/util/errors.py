"""Errors that carry where they happened as data."""

from __future__ import annotations


class FieldError(ValueError):
    """A value is wrong for one named field of a settings object.

    Raised by the validation of config sections and feed options; the config
    loader prefixes :attr:`field` with the section's key path
    (``feeds[0].rate``), so the path never has to be parsed out of a message.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
