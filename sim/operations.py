"""Explicit client operations: a workload that is a list, not a process.

The random workload (workload.py) draws each client's next operation and
think time from the seed as the run goes, so deleting one operation would
change every later one. A schedule may instead list its operations (client,
time, operation, key, value); the shrinker turns the operations a failing
run invoked into such a list and deletes entries from it, keeping only
those the violation needs.

Each client still runs one operation at a time and retries as in the
random workload: an operation is invoked at its time, or as soon as the
client's previous operation completes, if that is later. The clients'
random stream still picks the node a client asks first and the node it
tries after a timeout (see ``ScriptedWorkload``).
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Any

from sim.workload import Client, Operation, Workload, WorkloadConfig

#: Operations a client may invoke.
OPS = ("put", "get", "delete", "cas")
#: A delay past any run's end: a client with nothing left to do.
IDLE_US = 1 << 62


@dataclass(slots=True, frozen=True)
class ClientOp:
    """One operation: ``value`` is the value a put writes, ``[expected,
    new]`` for a compare-and-set, ``None`` for gets and deletes."""

    client: int
    at: float
    op: str
    key: str
    value: Any = None

    def at_us(self) -> int:
        return round(self.at * 1_000_000)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"client": self.client, "at": self.at, "op": self.op}
        doc["key"] = self.key
        if self.value is not None:
            doc["value"] = self.value
        return doc

    def describe(self) -> str:
        value = f" {self.value!r}" if self.value is not None else ""
        return f"{self.at:.3f} s: client {self.client} {self.op} {self.key}{value}"

    def problem(self, clients: int) -> str:
        """What is wrong with this operation in a run of ``clients``, or ''."""
        if not 1 <= self.client <= clients:
            return f"client must be between 1 and workload.clients ({clients})"
        if self.op not in OPS:
            return f"op must be one of {', '.join(OPS)}, got {self.op!r}"
        if self.op == "put" and not isinstance(self.value, str):
            return "a put needs a string value"
        if self.op == "cas" and not (
            isinstance(self.value, list | tuple)
            and len(self.value) == 2
            and all(v is None or isinstance(v, str) for v in self.value)
        ):
            return "a cas needs value [expected, new] (expected may be null)"
        if self.op in ("get", "delete") and self.value is not None:
            return f"a {self.op} takes no value"
        return ""


def operations_from_trace(events: list[dict[str, Any]]) -> tuple[ClientOp, ...]:
    """The operations a run's clients invoked, in order, from its trace."""
    return tuple(
        ClientOp(int(e["client"]), e["t"] / 1_000_000, str(e["f"]), str(e["key"]), e.get("value"))
        for e in events
        if e["act"] == "invoke" and e["n"] == "client"
    )


class ScriptedWorkload(Workload):
    """Hands each client its listed operations, in order, at their times.

    It still makes every draw the random workload makes (and ignores them),
    so that the clients' random stream, which also picks the nodes clients
    ask, stays in step: the operations a run invoked, listed, replay that
    run exactly, and deleting one changes only the later choices of nodes.
    """

    def __init__(
        self, config: WorkloadConfig, rng: random.Random, operations: tuple[ClientOp, ...]
    ) -> None:
        super().__init__(config, rng)
        self._queues: dict[int, deque[ClientOp]] = {}
        for op in sorted(operations, key=lambda o: (o.client, o.at_us())):
            self._queues.setdefault(op.client, deque()).append(op)

    def think_us(self, client: Client, now_us: int) -> int:
        super().think_us(client, now_us)
        queue = self._queues.get(client.id)
        if not queue:
            return IDLE_US
        return max(0, queue[0].at_us() - now_us)

    def next_operation(self, client: Client, now_us: int) -> Operation:
        operation = super().next_operation(client, now_us)
        listed = self._queues[client.id].popleft()
        operation.f, operation.key = listed.op, listed.key
        operation.value = list(listed.value) if listed.op == "cas" else listed.value
        return operation
