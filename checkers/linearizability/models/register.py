"""The register model: one value with read, write and compare-and-set.

This is the object of Jepsen's etcd tests (and of Knossos' ``cas-register``):
the whole history is one partition.  It shares the key-value model's step
function and reductions; ``get``/``put`` are accepted as aliases of
``read``/``write``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from checkers.linearizability.history import Operation, Value
from checkers.linearizability.model import mypyc_attr
from checkers.linearizability.models.kv import KVModel

REGISTER_FUNCTIONS = ("read", "write", "cas")
#: What the register model accepts: its functions and the get/put aliases.
MODELLED = frozenset(REGISTER_FUNCTIONS) | {"get", "put"}


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(slots=True, frozen=True)
class RegisterModel(KVModel):
    """A single compare-and-set register (no partitioning by key)."""

    initial: Value = None
    name: str = "register"

    def partition(self, ops: Sequence[Operation]) -> list[tuple[str, list[Operation]]]:
        return [("", list(ops))]

    def unsupported(self, ops: Sequence[Operation]) -> str | None:
        first_line: dict[str, int] = {}
        odd: dict[str, int] = {}
        for op in ops:
            if op.key is not None and op.key not in first_line:
                first_line[op.key] = op.call_line
            if op.f not in MODELLED and op.f not in odd:
                odd[op.f] = op.call_line
        problems: list[str] = []
        if len(first_line) > 1:
            keys = sorted(first_line)
            shown = ", ".join(f"{k!r} (line {first_line[k]})" for k in keys[:5])
            more = f" and {len(keys) - 5} more" if len(keys) > 5 else ""
            problems.append(f"{len(keys)} keys: {shown}{more}")
        if odd:
            shown = ", ".join(f"{f} (line {line})" for f, line in sorted(odd.items()))
            problems.append(f"operations it does not model: {shown}")
        if not problems:
            return None
        return (
            "the register model checks one register with read, write and cas, but the "
            f"history has {'; and '.join(problems)}; use --model kv"
        )
