"""Per-node trace cost and size by level, and merge speed, as JSON.

A seeded simulation (3 nodes, the default fault profile, crashes included)
gives the events real nodes would write. Each node's events are written
through ``NodeTraceWriter`` at level ``full`` and ``state``, flushing once
per step as a node process does (one ``write(2)`` per step), and timed: the
cost per step and per event, and the bytes per event. The per-node files
are then merged (``traces.merge``) and the merge timed.

Medians over several repetitions; compare ratios, not single runs.

    python bench/nodetrace.py            # full run
    python bench/nodetrace.py --quick    # shorter simulation, fewer repetitions
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from sim import SimConfig, Simulation, get_profile  # noqa: E402
from traces.merge import merge_traces  # noqa: E402
from traces.nodetrace import NodeTraceWriter, node_trace_name  # noqa: E402
from traces.recorder import MemoryRecorder, make_header  # noqa: E402
from traces.schema import INPUT_ACTIONS, actor_node  # noqa: E402

Event = dict[str, Any]


class _FullRecorder(MemoryRecorder):
    """Keeps what a ``full`` node trace holds (messages in ``recv``, state in ``restart``)."""

    self_contained = True


def simulate(seed: int, duration: float) -> tuple[Event, list[Event]]:
    cfg = SimConfig(nodes=3, seed=seed, duration_s=duration, profile=get_profile("default"))
    header = make_header("raftlab-sim", **cfg.header_fields())
    recorder = _FullRecorder(header)
    Simulation(cfg, recorder).run()
    return header, recorder.events


def node_steps(events: list[Event]) -> dict[int, list[list[Event]]]:
    """Each node's steps (input event and effects), with causes local to the node."""
    steps: dict[int, list[list[Event]]] = {}
    for event in events:
        node = actor_node(event["n"])
        if node is None:
            continue
        copy = {k: v for k, v in event.items() if k != "cause"}
        if event["act"] in INPUT_ACTIONS:
            steps.setdefault(node, []).append([copy])
        else:
            steps[node][-1].append(copy)
    return steps


def write_level(
    directory: Path, header: Event, steps: dict[int, list[list[Event]]], level: str
) -> dict[str, float]:
    fields = {k: v for k, v in header.items() if k not in ("schema", "version", "impl")}
    count = sum(len(s) for s in steps.values())
    events = sum(len(step) for s in steps.values() for step in s)
    started = time.perf_counter()
    for node, node_steps_ in steps.items():
        writer = NodeTraceWriter(directory / node_trace_name(node, 0), node, level, fields)
        for step in node_steps_:
            seq = 0
            for i, event in enumerate(step):
                event = dict(event)
                if i:
                    event["cause"] = seq
                number = writer.emit(event)
                if not i:
                    seq = number
            writer.flush()
        writer.close()
    wall = time.perf_counter() - started
    size = sum(p.stat().st_size for p in directory.glob("n*.trace.jsonl"))
    return {
        "steps": count,
        "events": events,
        "us_per_step": wall / count * 1e6,
        "events_per_s": events / wall,
        "bytes": size,
        "bytes_per_event": size / events,
    }


def merge_speed(directory: Path) -> dict[str, float]:
    started = time.perf_counter()
    _, events = merge_traces([directory])
    wall = time.perf_counter() - started
    return {"events": len(events), "events_per_s": len(events) / wall, "wall_s": wall}


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    duration, repeats = (5.0, 3) if args.quick else (20.0, 5)
    header, events = simulate(args.seed, duration)
    steps = node_steps(events)
    result: dict[str, Any] = {"nodes": 3, "simulated_s": duration, "repeats": repeats}
    for level in ("full", "state"):
        runs, merges = [], []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as tmp:
                runs.append(write_level(Path(tmp), header, steps, level))
                merges.append(merge_speed(Path(tmp)))
        result[level] = median_of(runs)
        result[level]["merge"] = median_of(merges)
    result["state_over_full_bytes"] = result["state"]["bytes"] / result["full"]["bytes"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
