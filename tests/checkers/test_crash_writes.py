"""The checkers' model and the simulator agree on what a crash loses.

The simulator names the writes a crash loses (``crash.lost_writes``); the
model counts as durable the writes acknowledged by ``persisted`` and loses
the rest (docs/trace-format.md, "What is durable after a crash"). Every
completed simulated write is acknowledged in the same event, so the two
lists must be equal at every crash, including crashes aimed at a write in
flight."""

from __future__ import annotations

from typing import Any

import pytest

from bench.soak import run_case
from checkers.base import Violation
from checkers.model import ClusterModel


class CrashLedger:
    """Records, at each crash, the model's lost writes and the simulator's."""

    name = "crash-ledger"
    invariant = "the model's lost writes are the simulator's"
    actions = frozenset({"crash"})

    def __init__(self) -> None:
        self.crashes: list[tuple[int, list[int], list[int]]] = []

    def feed(self, event: dict[str, Any], model: ClusterModel) -> None:
        lost = [write[0] for write in model.node(f"n{event['node']}").lost]
        self.crashes.append((event["seq"], lost, event.get("lost_writes", [])))

    def finish(self) -> list[Violation]:
        return []


@pytest.mark.parametrize("profile", ["stalls", "slow-disk", "swarm"])
def test_durable_means_acknowledged_at_every_crash(profile: str) -> None:
    ledger = CrashLedger()
    for seed in (1, 2, 3):
        result = run_case(profile, seed, 5, 4.0, "random", observers=[ledger])
        assert not result.violations, result.command()
    disagreements = [(seq, ours, theirs) for seq, ours, theirs in ledger.crashes if ours != theirs]
    assert disagreements == []
    if profile != "swarm":  # a swarm draw may leave crashes out
        assert any(theirs for _, _, theirs in ledger.crashes), "some crash lost a write in flight"
