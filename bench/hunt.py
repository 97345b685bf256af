"""How fast does ``raftlab hunt`` find each unsafe mode, and how small does it
shrink it? As JSON.

For every mode (``consensus.unsafe.MODES``, or those given with ``--modes``;
``safe`` is the unmodified core, the control: a find there is a false alarm
or a real bug) and every hunt seed, the hunt runs with a budget; a find is
then shrunk with its own budget. One JSON line per mode on stdout:

- ``found``: seeds that found a counterexample, of ``seeds``;
- ``median_s``, ``worst_s``: wall seconds to detection over the seeds that
  found one (``worst_s`` is ``null`` if any seed found nothing: the budget
  was not enough);
- ``schedules``: schedules tried per seed; ``properties``: what was found;
- ``weight_before`` / ``weight_after``: the size of the counterexample as
  found and shrunk, per finding seed (docs/hunting.md), and ``size_after``
  (faults, membership steps, nodes, clients, client operations, duration);
  ``events_before`` / ``events_after``: the events of its trace, as found
  and shrunk; ``shrunk``: medians and ranges of the shrunk events, nodes,
  faults and operations.

Then, with ``--coverage N`` (default 10; 4 with ``--quick``), one line per
schedule shape (and ``swarm``): over N safe-mode schedules of that shape,
the share of runs that reached each situation consensus bugs need
(sim/hunt/coverage.py). A shape whose own situation stays at 0 is not doing
its job. With ``--safe-hunt S``, one line for a hunt of S seconds in safe
mode (``raftlab hunt --budget S`` without ``--mode``): whether it found
anything, the schedules tried and the simulated seconds explored. Then a
summary line, which says which build ran: like ``raftlab hunt``, the bench
re-runs itself on the compiled simulator when ``make accel`` has built it
(``--pure`` keeps the pure Python). Wall times depend on the machine and its
load: compare runs on the same machine only.

    python bench/hunt.py --quick                 # 2 seeds, 10 s each
    python bench/hunt.py --seeds 10 --budget 60  # the real measurement
    python bench/hunt.py --modes volatile-vote,safe --workers 2
    python bench/hunt.py --modes none --coverage 0 --safe-hunt 600
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# Python puts this script's folder first on sys.path, where "sim" would mean
# bench/sim.py rather than the simulator package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))
from raftlab.accel import ACCEL_DIR, BUILD_ENV, build_name, rerun_compiled  # noqa: E402

if os.environ.get(BUILD_ENV) == "compiled":  # re-run on the compiled build: it comes first
    sys.path.insert(0, str(ACCEL_DIR))

SAFE = "safe"


def known_modes() -> list[str]:
    from consensus.unsafe import MODES

    return list(MODES)


def measure_mode(mode: str, opts: argparse.Namespace) -> dict[str, Any]:
    from sim.hunt import HuntConfig, hunt, judge, shrink

    unsafe = () if mode == SAFE else (mode,)
    times: list[float] = []
    record: dict[str, Any] = {
        "mode": mode,
        "seeds": opts.seeds,
        "found": 0,
        "schedules": [],
        "properties": [],
        "weight_before": [],
        "weight_after": [],
        "size_after": [],
        "events_before": [],
        "events_after": [],
        "shrink_runs": [],
    }
    for seed in range(opts.first_seed, opts.first_seed + opts.seeds):
        config = HuntConfig(seed=seed, budget_s=opts.budget, workers=opts.workers, unsafe=unsafe)
        result = hunt(config)
        record["schedules"].append(result.schedules)
        if result.found is None:
            continue
        record["found"] += 1
        times.append(result.wall_s)
        shrunk = shrink(result.found, result.prop, judge, opts.shrink_budget)
        record["properties"].append(result.prop)
        record["weight_before"].append(result.found.schedule.weight())
        record["weight_after"].append(shrunk.schedule.weight())
        record["size_after"].append(list(shrunk.schedule.size()))
        record["events_before"].append(len(result.found.events))
        record["events_after"].append(len(shrunk.judgement.events))
        record["shrink_runs"].append(shrunk.runs)
    record["median_s"] = round(statistics.median(times), 2) if times else None
    record["worst_s"] = round(max(times), 2) if times and record["found"] == opts.seeds else None
    record["shrunk"] = shrunk_summary(record)
    return record


def shrunk_summary(record: dict[str, Any]) -> dict[str, Any]:
    """Median and range of the shrunk counterexamples' events, nodes, fault
    events and client operations."""
    parts = {
        "events": record["events_after"],
        "nodes": [size[2] for size in record["size_after"]],
        "faults": [size[0] for size in record["size_after"]],
        "operations": [size[4] for size in record["size_after"]],
    }
    return {
        name: {"median": statistics.median(values), "min": min(values), "max": max(values)}
        for name, values in parts.items()
        if values
    }


def safe_hunt(budget_s: float, seed: int, workers: int) -> dict[str, Any]:
    from sim.hunt import HuntConfig, hunt

    result = hunt(HuntConfig(seed=seed, budget_s=budget_s, workers=workers))
    return {
        "kind": "safe-hunt",
        "budget_s": budget_s,
        "seed": seed,
        "workers": workers,
        "found": result.prop or None,
        "schedules": result.schedules,
        "sim_seconds": round(result.sim_seconds, 1),
        "undecided": result.undecided,
        "wall_s": round(result.wall_s, 1),
    }


def measure_coverage(runs: int, seed: int) -> list[dict[str, Any]]:
    from collections import Counter

    from sim.hunt import judge
    from sim.hunt.coverage import SITUATIONS, situations
    from sim.hunt.shapes import SHAPES, draw

    reached: dict[str, Counter[str]] = {shape: Counter() for shape in ["swarm", *SHAPES]}
    counted: Counter[str] = Counter()
    index = 0
    while min(counted[shape] for shape in reached) < runs:
        schedule = draw(seed, index)
        index += 1
        if counted[schedule.shape] >= runs:
            continue
        counted[schedule.shape] += 1
        found = situations(judge(schedule).events)
        reached[schedule.shape].update(name for name in SITUATIONS if found[name])
    return [
        {
            "kind": "coverage",
            "shape": shape,
            "runs": counted[shape],
            "situations": {name: round(reached[shape][name] / runs, 2) for name in SITUATIONS},
        }
        for shape in reached
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--modes", help="comma-separated modes (default: every mode and safe; none: no mode)"
    )
    parser.add_argument("--seeds", type=int, default=5, help="hunt seeds per mode")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per hunt")
    parser.add_argument("--shrink-budget", type=float, default=60.0, help="seconds per shrink")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--coverage", type=int, default=10, help="runs per shape for coverage")
    parser.add_argument(
        "--safe-hunt", type=float, default=0.0, help="seconds of one safe-mode hunt (0: none)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds, 10 s hunts and shrinks, coverage of 4"
    )
    parser.add_argument(
        "--pure",
        action="store_true",
        help="stay on the pure Python even when make accel has built the compiled simulator "
        "(which raftlab hunt runs on, and so, by default, does this bench)",
    )
    opts = parser.parse_args(argv)
    if argv is None and not opts.pure:
        rerun_compiled([__file__, *sys.argv[1:]])
    if opts.quick:
        opts.seeds, opts.budget, opts.shrink_budget, opts.coverage = 2, 10.0, 10.0, 4
    available = known_modes()
    modes = opts.modes.split(",") if opts.modes else [*available, SAFE]
    modes = [] if modes == ["none"] else modes
    unknown = [m for m in modes if m != SAFE and m not in available]
    if unknown or opts.seeds < 1 or opts.budget <= 0 or opts.workers < 1:
        what = f"unknown modes {unknown}" if unknown else "--seeds, --budget, --workers"
        print(f"bench/hunt.py: bad usage: {what}", file=sys.stderr)
        return 2
    started = time.monotonic()
    records = []
    for mode in modes:
        record = measure_mode(mode, opts)
        records.append(record)
        print(json.dumps(record), flush=True)
        print(
            f"{mode:<28} found {record['found']}/{record['seeds']}  median {record['median_s']} s"
            f"  worst {record['worst_s']} s  sizes {record['weight_before']} -> "
            f"{record['weight_after']}  events {record['events_before']} -> "
            f"{record['events_after']}",
            file=sys.stderr,
        )
    for line in measure_coverage(opts.coverage, opts.first_seed) if opts.coverage > 0 else []:
        print(json.dumps(line), flush=True)
        shares = ", ".join(f"{k} {v:.0%}" for k, v in line["situations"].items())
        print(f"coverage {line['shape']:<24} {shares}", file=sys.stderr)
    if opts.safe_hunt > 0:
        line = safe_hunt(opts.safe_hunt, opts.first_seed, opts.workers)
        print(json.dumps(line), flush=True)
        print(
            f"safe hunt {line['budget_s']:g} s: found {line['found']}, {line['schedules']} "
            f"schedules, {line['sim_seconds']:,} simulated s",
            file=sys.stderr,
        )
    summary = {
        "kind": "summary",
        "modes": len(records),
        "found_every_seed": [r["mode"] for r in records if r["found"] == r["seeds"]],
        "never_found": [r["mode"] for r in records if r["found"] == 0],
        "budget_s": opts.budget,
        "seeds": opts.seeds,
        "workers": opts.workers,
        "build": build_name(),
        "wall_s": round(time.monotonic() - started, 1),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
