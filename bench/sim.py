"""Simulator and invariant-checker speed, as JSON.

For 3- and 5-node clusters under a fault profile (``default`` unless
``--faults``) with a steady client load (10 ms network latency, 50 ms
heartbeat, 100 client operations per simulated second), prints simulated
seconds per wall second (``sim_per_wall``) and trace events per wall second,
with tracing on (the normal case) and off; then the invariant checkers'
throughput in events per second, both reading the trace file (parse
included) and over events already in memory.

``sim_per_cpu`` is the same speed per second of this process's CPU time:
on a machine shared with other work, wall time also counts the time other
processes held the CPU, and CPU time is the steadier figure to compare.

If the compiled build is there and fresh (``make accel``, see raftlab/accel.py),
the simulations run once more in a subprocess that imports it, reported under
``compiled``; otherwise ``compiled`` says why not.

Medians over several seeds; machines here are noisy, so compare medians and
ratios, not single runs.

    python bench/sim.py                 # full run (about a minute)
    python bench/sim.py --quick         # one seed, short runs
    python bench/sim.py --faults chaos --read-mode lease
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Python puts this script's folder first on sys.path, where "sim" would mean
# this very file; the benchmark needs the simulator package instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from checkers import default_registry, run_checkers  # noqa: E402
from raftlab.accel import accel_status, build_env, core_is_compiled  # noqa: E402
from sim import (  # noqa: E402
    NoActor,
    SimConfig,
    Simulation,
    WorkloadConfig,
)
from traces.reader import load_trace, open_trace  # noqa: E402
from traces.recorder import FileRecorder, make_header  # noqa: E402


def config(nodes: int, seed: int, duration: float, faults: str, read_mode: str) -> SimConfig:
    return SimConfig.for_faults(
        faults,
        read_mode=read_mode,
        nodes=nodes,
        seed=seed,
        duration_s=duration,
        workload=WorkloadConfig(clients=10, rate=100.0, keys=8),
    )


def run_sim(cfg: SimConfig, trace: Path | None) -> dict[str, float]:
    recorder = None
    if trace is not None:
        recorder = FileRecorder(trace, make_header("raftlab-sim", **cfg.header_fields()))
    started, cpu_started = time.perf_counter(), time.process_time()
    stats = Simulation(cfg, recorder, NoActor()).run()
    if recorder is not None:
        recorder.close()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    events = recorder.seq if recorder is not None else 0
    return {
        "wall_s": wall,
        "sim_per_wall": cfg.duration_s / wall,
        "sim_per_cpu": cfg.duration_s / cpu,
        "events": events,
        "events_per_s": events / wall,
        "steps_per_s": stats.steps / wall,
        "client_ops_per_sim_s": sum(stats.ops.values()) / cfg.duration_s,
    }


def check_speed(trace: Path) -> dict[str, float]:
    header, events = open_trace(trace)
    started = time.perf_counter()
    report = run_checkers(events, default_registry().create(header))
    with_parse = report.events / (time.perf_counter() - started)
    header, loaded = load_trace(trace)
    in_memory = run_checkers(loaded, default_registry().create(header))
    assert report.ok and in_memory.ok, "benchmark run violated an invariant"
    return {
        "events": report.events,
        "events_per_s_with_parse": with_parse,
        "events_per_s_in_memory": in_memory.events / in_memory.seconds,
    }


def median_of(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in rows), 2) for key in rows[0]}


def measure(
    args: argparse.Namespace, seeds: int, duration: float, checks: bool
) -> dict[str, object]:
    """Per cluster size: traced and untraced simulation speed (and, if
    ``checks``, the checkers' speed on the traced runs' traces)."""
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for nodes in (3, 5):
            traced, untraced, checked = [], [], []
            for seed in range(1, seeds + 1):
                trace = Path(tmp) / f"n{nodes}-s{seed}.jsonl"
                cfg = config(nodes, seed, duration, args.faults, args.read_mode)
                traced.append(run_sim(cfg, trace))
                untraced.append(run_sim(cfg, None))
                if checks:
                    checked.append(check_speed(trace))
            row: dict[str, object] = {"traced": median_of(traced), "untraced": median_of(untraced)}
            if checks:
                row["checkers"] = median_of(checked)
            results[f"nodes_{nodes}"] = row
    return results


def measure_compiled(args: argparse.Namespace) -> dict[str, object] | str:
    """The simulations again, in a subprocess running the compiled core; or
    why that cannot be done."""
    status = accel_status()
    if status:
        return status
    command = [sys.executable, str(Path(__file__).resolve()), "--compiled-child"]
    command += ["--duration", str(args.duration), "--seeds", str(args.seeds)]
    command += ["--faults", args.faults, "--read-mode", args.read_mode]
    if args.quick:
        command.append("--quick")
    with tempfile.TemporaryDirectory() as tmp:  # not the checkout: it would come first
        done = subprocess.run(
            command, env=build_env(os.environ), cwd=tmp, capture_output=True, text=True
        )
    if done.returncode != 0:
        return f"failed: {done.stderr.strip().splitlines()[-1:]}"
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="simulated seconds per run")
    parser.add_argument("--seeds", type=int, default=3, help="runs per configuration")
    parser.add_argument("--quick", action="store_true", help="one seed, 5 simulated seconds")
    parser.add_argument("--faults", default="default", help="fault profile (default: default)")
    parser.add_argument("--read-mode", default="index", choices=["index", "lease"])
    parser.add_argument(
        "--no-compiled", action="store_true", help="skip the compiled core even if built"
    )
    parser.add_argument("--compiled-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seeds = 1 if args.quick else args.seeds
    duration = 5.0 if args.quick else args.duration
    if args.compiled_child:
        if not core_is_compiled():
            sys.exit("bench/sim.py: the compiled core was not imported")
        print(json.dumps(measure(args, seeds, duration, checks=False)))
        return
    results: dict[str, object] = {
        "benchmark": "sim",
        "python": sys.version.split()[0],
        "duration_s": duration,
        "seeds": seeds,
        "faults": args.faults,
        "read_mode": args.read_mode,
        "setup": "10 ms latency, 50 ms heartbeat, 100 ops/s, 10 clients",
    }
    results.update(measure(args, seeds, duration, checks=True))
    if not args.no_compiled:
        results["compiled"] = measure_compiled(args)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
