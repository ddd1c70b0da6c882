"""The one wall clock in wire units.

Timestamps on the wire are integer microseconds since the Unix epoch (UTC).
Code that needs "now" takes a clock as a parameter (tests inject their own);
this is the default it is given.
"""

from __future__ import annotations

import time


def wall_us() -> int:
    """Now, in integer microseconds since the epoch."""
    return time.time_ns() // 1000
