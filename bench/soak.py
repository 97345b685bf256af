"""Safe-mode soak: many simulated runs, every fault profile, every checker.

A correct core must pass every safety checker on every run, so any violation
here is a bug: in the core if the run really broke an invariant, in a
checker if it did not (a false alarm). Each run is one seed of one fault
profile (every profile in ``sim.profiles.PROFILES``, so new ones are swept
without editing this file) on 3 or 5 nodes with random membership changes.

Prints JSON: runs, seeds, events, safety violations and liveness warnings by
checker, and for each run with a violation (or a warning) the command that
reproduces it and the first finding.

    python bench/soak.py                          # 300 seeds x profiles x 3,5 nodes
    python bench/soak.py --seeds 50 --duration 10 --profiles chaos,crashes
    python bench/soak.py --seeds 60 --duration 5 --read-mode lease

``run_case`` is also what ``tests/checkers/test_soak.py`` runs, so the suite
and the long sweep judge runs the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Python puts this script's folder first on sys.path, where "sim" would mean
# bench/sim.py; the sweep needs the simulator package instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from checkers import Violation, default_registry, run_checkers  # noqa: E402
from checkers.base import TraceChecker  # noqa: E402
from raftlab.experiment import make_actor  # noqa: E402
from sim import SimConfig, Simulation  # noqa: E402
from sim.profiles import PROFILES  # noqa: E402
from traces.recorder import MemoryRecorder, make_header  # noqa: E402


@dataclass(slots=True)
class CaseResult:
    """One simulated run and what the checkers said about it."""

    profile: str
    seed: int
    nodes: int
    duration_s: float
    membership: str
    read_mode: str = "index"
    events: int = 0
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)

    def command(self) -> str:
        """The CLI command that reproduces this run."""
        return (
            f"raftlab sim --seed {self.seed} --faults {self.profile} --nodes {self.nodes} "
            f"--duration {self.duration_s:g} --membership {self.membership}"
            + (f" --read-mode {self.read_mode}" if self.read_mode != "index" else "")
        )


def run_case(
    profile: str,
    seed: int,
    nodes: int,
    duration_s: float,
    membership: str = "random",
    read_mode: str = "index",
    observers: Iterable[TraceChecker] = (),
) -> CaseResult:
    """Simulate one run in memory and check it with every built-in checker.

    ``observers`` are fed the same events in the same pass, with the same
    shared model (a test's detector of a situation, say); they keep what
    they find to themselves (``finish`` returns nothing)."""
    config = SimConfig.for_faults(
        profile, read_mode=read_mode, nodes=nodes, seed=seed, duration_s=duration_s
    )
    header = make_header("raftlab-sim", **config.header_fields(), membership=membership)
    recorder = MemoryRecorder(header)
    Simulation(config, recorder, make_actor(membership, seed, nodes)).run()
    checkers = default_registry(plugins=False).create(header) + list(observers)
    report = run_checkers(iter(recorder.events), checkers)
    return CaseResult(
        profile,
        seed,
        nodes,
        duration_s,
        membership,
        read_mode,
        report.events,
        report.violations,
        report.warnings,
    )


def cases(
    seeds: Iterable[int], profiles: Iterable[str], nodes: Iterable[int]
) -> list[tuple[str, int, int]]:
    return [(p, s, n) for p in profiles for n in nodes for s in seeds]


def sweep(
    seeds: Iterable[int],
    profiles: Iterable[str],
    nodes: Iterable[int],
    duration_s: float,
    membership: str,
    read_mode: str = "index",
) -> dict[str, object]:
    started = time.perf_counter()
    violations: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    failing: list[dict[str, object]] = []
    warned: list[dict[str, object]] = []
    events = runs = 0
    seed_list = list(seeds)
    for profile, seed, n in cases(seed_list, profiles, nodes):
        result = run_case(profile, seed, n, duration_s, membership, read_mode)
        runs += 1
        events += result.events
        violations.update(v.checker for v in result.violations)
        warnings.update(v.checker for v in result.warnings)
        for found, into in ((result.violations, failing), (result.warnings, warned)):
            if found:
                into.append(
                    {
                        "command": result.command(),
                        "checkers": sorted({v.checker for v in found}),
                        "first": found[0].describe(),
                    }
                )
    return {
        "benchmark": "soak",
        "runs": runs,
        "seeds": [seed_list[0], seed_list[-1]] if seed_list else [],
        "duration_s": duration_s,
        "membership": membership,
        "read_mode": read_mode,
        "events": events,
        "wall_s": round(time.perf_counter() - started, 1),
        "violations_by_checker": dict(sorted(violations.items())),
        "warnings_by_checker": dict(sorted(warnings.items())),
        "failing_runs": failing,
        "warning_runs": warned,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=300, help="seeds per profile and size")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--duration", type=float, default=20.0, help="simulated seconds per run")
    parser.add_argument("--profiles", default="", help="comma-separated (default: every profile)")
    parser.add_argument("--nodes", default="3,5", help="comma-separated cluster sizes")
    parser.add_argument("--membership", default="random", help="random, none or a script")
    parser.add_argument("--read-mode", default="index", choices=["index", "lease"])
    args = parser.parse_args()
    profiles = [p for p in args.profiles.split(",") if p] or list(PROFILES)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    nodes = [int(n) for n in args.nodes.split(",")]
    result = sweep(seeds, profiles, nodes, args.duration, args.membership, args.read_mode)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
