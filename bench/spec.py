"""Benchmark the spec checker: events per second for spec/RaftReconfig.tla's
invariants and step properties alone, and for full trace validation (the
invariants and every step checked against its action), on a simulated
trace of about 100k events.

Prints one JSON object: the trace's shape (events, node steps judged), the
seconds spent projecting and evaluating (reading the trace is timed apart),
events and states per second, the median of ``--runs`` runs, first for the
invariants alone (the top-level fields), then under ``trace_validation``
for the full check; with ``--profile`` the functions where the full
check's time goes (cProfile, by own time).

``--sweep SEEDS`` instead checks short runs (6 simulated seconds, random
membership changes, 3 nodes for odd seeds and 5 for even ones) of every
fault profile for seeds 1..SEEDS, one JSON line each, for false alarms: a
safe run must pass every property and every step must be its action.
``--read-mode lease`` makes the sweep's leaders serve reads under a lease.

Usage::

    python bench/spec.py                 # a 5-node chaos run with membership changes
    python bench/spec.py --duration 10 --runs 1 --profile
    python bench/spec.py --sweep 6       # 66 safe runs, about four minutes
    python bench/spec.py --sweep 4 --read-mode lease
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checkers.spec.check import check_events, default_mapping_path, load_mapping  # noqa: E402
from raftlab.experiment import simulate  # noqa: E402
from sim import PROFILES, SimConfig  # noqa: E402
from traces.reader import load_trace  # noqa: E402


def make_trace(
    out: Path, seed: int, nodes: int, faults: str, duration: float, read_mode: str = "index"
) -> None:
    config = SimConfig.for_faults(
        faults, read_mode=read_mode, nodes=nodes, seed=seed, duration_s=duration
    )
    simulate(config, "random", out)


def top_functions(profiler: cProfile.Profile, count: int = 8) -> list[dict[str, Any]]:
    stats = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
    total = sum(row[1][2] for row in rows) or 1.0
    return [
        {
            "function": f"{Path(file).name}:{line}({name})",
            "own_s": round(own, 3),
            "share": round(own / total, 3),
        }
        for (file, line, name), (_cc, _nc, own, _cum, _callers) in rows[:count]
    ]


def sweep(seeds: int, read_mode: str) -> None:
    mapping = load_mapping(default_mapping_path())
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "sweep.jsonl"
        for seed in range(1, seeds + 1):
            nodes = 3 if seed % 2 else 5
            for faults in sorted(PROFILES):
                make_trace(trace, seed, nodes, faults, 6.0, read_mode)
                check = check_events(mapping, load_trace(trace)[1])
                row = {"seed": seed, "faults": faults, "nodes": nodes, "read_mode": read_mode}
                row["states"] = check.states
                row["validated"] = check.validated
                row["violations"] = [v.describe() for v in check.violations]
                print(json.dumps(row), flush=True)


def timed(
    mapping: Any, events: list[dict[str, Any]], runs: int, validate: bool
) -> tuple[list[float], int, int, int, list[float]]:
    """Wall seconds of each run, the states, violations and validated steps,
    and the CPU seconds of each run (the process's own: on a machine shared
    with other work the wall time says more about the neighbours)."""
    seconds: list[float] = []
    cpu: list[float] = []
    states = violations = validated = 0
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        check = check_events(mapping, events, validate=validate)
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        states, violations, validated = check.states, len(check.violations), check.validated
    return seconds, states, violations, validated, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--faults", default="chaos")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sweep", type=int, default=0, metavar="SEEDS")
    parser.add_argument(
        "--read-mode", default="index", choices=("index", "lease"), help="the sweep's read mode"
    )
    args = parser.parse_args()
    if args.sweep:
        sweep(args.sweep, args.read_mode)
        return
    mapping = load_mapping(default_mapping_path())
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "bench.jsonl"
        make_trace(trace, args.seed, args.nodes, args.faults, args.duration)
        started = time.perf_counter()
        _header, events = load_trace(trace)
        read_s = time.perf_counter() - started
    seconds, states, violations, _, cpu = timed(mapping, events, args.runs, validate=False)
    full_seconds, _, full_violations, validated, full_cpu = timed(
        mapping, events, args.runs, validate=True
    )
    median = statistics.median(seconds)
    full_median = statistics.median(full_seconds)
    doc: dict[str, Any] = {
        "bench": "spec-invariants",
        "spec": "spec/RaftReconfig.tla",
        "trace": {
            "seed": args.seed,
            "nodes": args.nodes,
            "faults": args.faults,
            "membership": "random",
            "duration_s": args.duration,
            "events": len(events),
            "states": states,
        },
        "violations": violations,
        "read_s": round(read_s, 3),
        "runs": [round(s, 3) for s in seconds],
        "median_s": round(median, 3),
        "events_per_s": round(len(events) / median),
        "states_per_s": round(states / median),
        "cpu_events_per_s": round(len(events) / statistics.median(cpu)),
        "invariants": list(mapping.invariants),
        "steps": list(mapping.steps),
        "trace_validation": {
            "actions": sorted({rule.name for rule in mapping.actions}),
            "steps_validated": validated,
            "violations": full_violations,
            "runs": [round(s, 3) for s in full_seconds],
            "median_s": round(full_median, 3),
            "events_per_s": round(len(events) / full_median),
            "states_per_s": round(states / full_median),
            "cpu_events_per_s": round(len(events) / statistics.median(full_cpu)),
        },
    }
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(check_events, mapping, events)
        doc["profile"] = top_functions(profiler)
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
