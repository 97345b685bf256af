"""The client workload: who asks what, how often, and how clients retry.

Each client runs one operation at a time (put, get, delete, and optionally
compare-and-set) and thinks for an exponentially distributed time between
operations, so that all clients together issue about ``rate`` operations per
simulated second. Values are unique (``"<client>.<seq>"``), which makes
histories easy to check. A client retries an operation (same request number,
so the state machine applies it at most once) on redirects and attempt
timeouts, and gives up after the operation timeout: the outcome is then
unknown (``info``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sim.compiled import mypyc_attr


@dataclass(slots=True, frozen=True)
class WorkloadConfig:
    clients: int = 5
    rate: float = 100.0
    """Target operations per simulated second, over all clients."""
    keys: int = 8
    mix: tuple[tuple[str, float], ...] = (("put", 0.45), ("get", 0.45), ("delete", 0.10))
    attempt_timeout_ms: float = 300.0
    op_timeout_ms: float = 3000.0

    def validate(self) -> None:
        if self.clients < 0 or self.keys < 1 or self.rate <= 0:
            raise ValueError("workload needs clients >= 0, keys >= 1 and rate > 0")
        unknown = {op for op, _ in self.mix} - {"put", "get", "delete", "cas"}
        if unknown:
            raise ValueError(f"unknown operations in workload mix: {sorted(unknown)}")


@dataclass(slots=True)
class Operation:
    client: int
    seq: int
    f: str
    key: str
    value: Any
    invoked_us: int
    invoke_seq: int = 0


@dataclass(slots=True)
class Client:
    id: int
    target: int
    seq: int = 0
    op: Operation | None = None
    attempt: int = 0
    next_at: int = 0
    """When the next operation may start (open-loop pacing)."""


@mypyc_attr(allow_interpreted_subclasses=True)  # sim/operations.py's ScriptedWorkload
class Workload:
    def __init__(self, config: WorkloadConfig, rng: random.Random) -> None:
        config.validate()
        self.config = config
        self.rng = rng
        self._ops = [op for op, _ in config.mix]
        self._weights = [w for _, w in config.mix]
        self._last_value: dict[str, str] = {}

    def think_us(self, client: Client, now_us: int) -> int:
        """How long ``client`` waits from ``now_us`` before its next
        operation may start (the same for every client here)."""
        mean_s = self.config.clients / self.config.rate
        return max(1000, int(self.rng.expovariate(1.0 / mean_s) * 1_000_000))

    def next_operation(self, client: Client, now_us: int) -> Operation:
        client.seq += 1
        rng = self.rng
        f = rng.choices(self._ops, self._weights)[0]
        key = f"k{rng.randrange(self.config.keys)}"
        value: Any = None
        if f == "put":
            value = f"{client.id}.{client.seq}"
            self._last_value[key] = value
        elif f == "cas":
            expected = self._last_value.get(key)
            value = [expected, f"{client.id}.{client.seq}"]
        return Operation(client.id, client.seq, f, key, value, now_us)
