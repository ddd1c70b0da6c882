"""Metric families as a table: name, kind, help, labels, and where the numbers come from.

A :class:`Family` reads plain counters at scrape time; the collectors in
:mod:`~ticker.observability.metrics` turn each into a prometheus-client
family. Adding a metric is one row in a table (and a line in
docs/operations.md: a test keeps the two equal).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ticker.core.stats import Histogram

S = TypeVar("S")

#: One sample: label values and a number (counter, gauge) or a histogram.
Sample = tuple[Sequence[str], float | Histogram]


class Kind(enum.Enum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


@dataclass(frozen=True, slots=True)
class Family(Generic[S]):
    """One metric family read from a source object ``S`` at scrape time."""

    kind: Kind
    #: Without the ``_total`` a counter gets on exposition.
    name: str
    doc: str
    labels: tuple[str, ...]
    samples: Callable[[S], Iterable[Sample]]


def counter(name: str, doc: str, read: Callable[[S], float]) -> Family[S]:
    """A counter without labels."""
    return Family(Kind.COUNTER, name, doc, (), lambda s: [((), read(s))])


def gauge(name: str, doc: str, read: Callable[[S], float]) -> Family[S]:
    """A gauge without labels."""
    return Family(Kind.GAUGE, name, doc, (), lambda s: [((), read(s))])


def histogram(name: str, doc: str, read: Callable[[S], Histogram]) -> Family[S]:
    """A histogram without labels."""
    return Family(Kind.HISTOGRAM, name, doc, (), lambda s: [((), read(s))])


def with_known(counts: dict[str, int], known: Iterable[str]) -> list[Sample]:
    """Every known label value (zero when unseen) plus any other counted one, so
    ``rate()`` sees the first event and a dashboard never shows "no data"."""
    keys = dict.fromkeys(str(k) for k in known)
    keys.update(dict.fromkeys(sorted(str(k) for k in counts)))
    return [((k,), counts.get(k, 0)) for k in keys]
