"""The order in which a search meets invocations and returns.

Both searches walk the same timeline.  Ties put invocations before returns:
two operations that share a timestamp are treated as concurrent, which can
only admit more linearizations, never reject a correct history because of
clock granularity.
"""

from __future__ import annotations

from checkers.linearizability.normalize import Partition

CALL = 0
RETURN = 1


def timeline(part: Partition) -> list[tuple[int, int, int]]:
    """``(time, kind, local op index)`` sorted; no return for open-forever ops."""
    # Invocations come in order already (operations are numbered by
    # invocation) and returns nearly so: two runs that the sort merges.
    evs = [(op.call, CALL, i) for i, op in enumerate(part.ops)]
    evs += [(r, RETURN, i) for i, r in enumerate(part.ret) if r is not None]
    evs.sort()
    return evs
