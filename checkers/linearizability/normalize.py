"""Normalization: shrink a history before searching it, without changing the verdict.

Every rule here removes work, never a possible linearization, and never adds
one.  Generic rules (true for every model):

- A ``fail`` operation definitely had no effect: it is dropped.
- An unknown-outcome operation that cannot change the state (a read whose
  reply was lost) constrains nothing: it is dropped.

Then the model's own ``reduce`` runs on each partition (for the key-value
model: unobserved unknown writes are dropped, observed ones get a deadline,
unobserved completed writes are marked *invisible*; see
:func:`checkers.linearizability.models.kv.reduce_values`).

The result, :class:`Partition`, is what both searches consume: the
operations with their effective return times, flags the search uses for
pruning, and the list of what was dropped and why (shown in reports).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from checkers.linearizability.history import Operation
from checkers.linearizability.model import Model


@dataclass(slots=True, frozen=True)
class Partition:
    """One independently checkable part of a history, ready to search.

    ``ret[i]`` is the effective return time of ``ops[i]``: its completion
    time, a bound derived by the model, or ``None`` when it may stay open
    forever.
    """

    key: str
    ops: tuple[Operation, ...]
    ret: tuple[int | None, ...]
    invisible: frozenset[int]
    dropped: tuple[tuple[Operation, str], ...]
    total: int

    def __len__(self) -> int:
        return len(self.ops)


def normalize(key: str, ops: Sequence[Operation], model: Model) -> Partition:
    """Apply the generic rules, then the model's, to one partition."""
    dropped: list[tuple[Operation, str]] = []
    kept: list[Operation] = []
    for op in ops:
        status = op.status
        if status == "ok":
            kept.append(op)
        elif status == "fail":
            dropped.append((op, "failed: definitely had no effect"))
        elif status == "info" and model.readonly(op):
            dropped.append((op, "unknown-outcome read: it observed nothing anyone saw"))
        else:
            kept.append(op)
    red = model.reduce(kept)
    dropped.extend(red.dropped)
    bound = red.ret_bound
    if bound:
        rets = tuple([bound.get(op.id, op.ret) for op in red.ops])
    else:
        rets = tuple([op.ret for op in red.ops])
    dropped.sort(key=lambda d: d[0].id)
    return Partition(
        key=key,
        ops=tuple(red.ops),
        ret=rets,
        invisible=red.invisible,
        dropped=tuple(dropped),
        total=len(ops),
    )


def prepare(ops: Sequence[Operation], model: Model) -> list[Partition]:
    """Partition with the model, then normalize each part."""
    return [normalize(key, part, model) for key, part in model.partition(ops)]
