"""Pausing Python's cyclic garbage collector around allocation-heavy work.

Parsing and both searches allocate millions of small, acyclic objects
(events, operations, configuration tuples, trails).  Each burst of
allocations triggers the cyclic collector, whose oldest generation rescans
the whole heap, the history included; on a 100k-operation history that
doubled the time of a search.  Nothing here creates reference cycles, so
reference counting frees everything and the collector can wait.  The
previous setting is restored on exit, so callers see no change.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector for the duration of the block."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
