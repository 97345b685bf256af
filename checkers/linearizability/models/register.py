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
from checkers.linearizability.models.kv import KVModel

REGISTER_FUNCTIONS = ("read", "write", "cas")


@dataclass(slots=True, frozen=True)
class RegisterModel(KVModel):
    """A single compare-and-set register (no partitioning by key)."""

    initial: Value = None
    name: str = "register"

    def partition(self, ops: Sequence[Operation]) -> list[tuple[str, list[Operation]]]:
        return [("", list(ops))]
