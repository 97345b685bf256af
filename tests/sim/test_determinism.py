"""The same seed gives a byte-identical trace under any PYTHONHASHSEED."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_sim(tmp: Path, hash_seed: str, name: str, faults: str, read_mode: str) -> bytes:
    out = tmp / name
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    command = [
        sys.executable,
        "-m",
        "raftlab.cli",
        "sim",
        "--seed",
        "42",
        "--duration",
        "4",
        "--faults",
        faults,
        "--read-mode",
        read_mode,
        "--membership",
        "random",
        "--no-check",
        "--out",
        str(out),
    ]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    return out.read_bytes()


@pytest.mark.parametrize(("faults", "read_mode"), [("chaos", "index"), ("swarm", "lease")])
def test_same_seed_same_bytes_under_different_hash_seeds(
    tmp_path: Path, faults: str, read_mode: str
) -> None:
    """chaos has every fault (crashes, pauses, drift, stalls); swarm draws its own."""
    first = run_sim(tmp_path, "1", "a.jsonl", faults, read_mode)
    second = run_sim(tmp_path, "987654", "b.jsonl", faults, read_mode)
    assert len(first) > 100_000
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()


def test_different_seeds_differ(tmp_path: Path) -> None:
    from sim import SimConfig, Simulation
    from traces.recorder import MemoryRecorder, make_header

    traces = []
    for seed in (1, 2):
        config = SimConfig(seed=seed, duration_s=1.0)
        recorder = MemoryRecorder(make_header("raftlab-sim", **config.header_fields()))
        Simulation(config, recorder).run()
        traces.append(recorder.events)
    assert traces[0] != traces[1]
