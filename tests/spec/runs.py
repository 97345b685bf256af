"""Simulated traces for the spec tests: one seeded run, written to a file and
read back as its events, with any core setting changed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from raftlab.experiment import simulate
from sim import SimConfig
from traces.reader import load_trace


def simulated_events(
    out: Path,
    seed: int,
    faults: str,
    nodes: int,
    duration_s: float,
    membership: str = "random",
    read_mode: str = "index",
    unsafe: tuple[str, ...] = (),
    **raft: Any,
) -> list[dict[str, Any]]:
    """Simulate to ``out`` and return the trace's events; ``raft`` replaces
    fields of the core configuration the profile gives."""
    config = SimConfig.for_faults(
        faults, read_mode=read_mode, unsafe=unsafe, nodes=nodes, seed=seed, duration_s=duration_s
    )
    if raft:
        config = dataclasses.replace(config, raft=dataclasses.replace(config.raft, **raft))
    simulate(config, membership, out)
    return load_trace(out)[1]
