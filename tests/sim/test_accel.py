"""The compiled build (``make accel``) writes the same trace bytes as the pure Python.

Each simulation runs twice in a subprocess, once importing the pure Python
and once the mypyc build in build/accel/ (the core, the node runtime, the
simulator's loop and the recorder compiled; raftlab/accel.py), and the two
trace files must be identical; one of them plays a schedule file, whose
simulator subclasses the compiled one. ``make test`` builds it first when a
C compiler is there; skipped when the build is missing or stale.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from raftlab.accel import ROOT, build_env
from sim.operations import ClientOp
from sim.schedule import Schedule
from tests.sim.test_schedule import EVERY_KIND

RUNS = [
    ["--faults", "chaos", "--membership", "random", "--nodes", "5"],
    ["--faults", "swarm", "--read-mode", "lease", "--nodes", "3"],
    ["--faults", "crashes", "--membership", "none", "--unsafe", "volatile-vote"],
]

#: A schedule file's run: the simulator subclass of sim/schedule.py, whose
#: triggers hook the network, the disks and the replies (every kind of fault
#: event, as tests/sim/test_schedule.py has it).
SCHEDULE = EVERY_KIND


#: The same run with its clients' operations listed: sim/operations.py's
#: interpreted workload subclasses the compiled one (the shrinker lists them).
LISTED = replace(
    SCHEDULE,
    operations=tuple(
        ClientOp(1 + i % 3, 0.3 + 0.1 * i, op, f"k{i % 3}", f"v{i}" if op == "put" else None)
        for i, op in enumerate(["put", "get", "put", "delete", "put", "get"] * 4)
    ),
)


def _env(compiled: bool) -> dict[str, str]:
    """The pure Python comes from the checkout on PYTHONPATH, the compiled
    build from build/accel placed before it (both run outside the checkout)."""
    return build_env(dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="0"), compiled)


def _sim(tmp: Path, name: str, args: list[str], compiled: bool) -> bytes:
    out = tmp / name
    command = [sys.executable, "-m", "raftlab.cli", "sim", *args, "--no-check", "--out", str(out)]
    subprocess.run(
        command, env=_env(compiled), cwd=tmp, check=True, capture_output=True, timeout=300
    )
    return out.read_bytes()


def _hot_files(tmp: Path, compiled: bool) -> list[str]:
    """Where the core and the simulator's loop were imported from."""
    code = (
        "import consensus.core, sim.cluster; print(consensus.core.__file__, sim.cluster.__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(compiled),
        cwd=tmp,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.split()


def test_each_subprocess_imports_the_core_it_is_meant_to(built: None, tmp_path: Path) -> None:
    """Without this the byte comparison below could compare pure with pure."""
    pure = _hot_files(tmp_path, compiled=False)
    assert [Path(f).name for f in pure] == ["core.py", "cluster.py"]
    for path in _hot_files(tmp_path, compiled=True):
        assert path.endswith(".so") and "build/accel" in path, path


@pytest.mark.parametrize("args", RUNS, ids=lambda a: "-".join(a[1::2]))
def test_compiled_core_writes_the_same_trace(built: None, tmp_path: Path, args: list[str]) -> None:
    args = ["--seed", "11", "--duration", "4", *args]
    pure = _sim(tmp_path, "pure.jsonl", args, compiled=False)
    compiled = _sim(tmp_path, "compiled.jsonl", args, compiled=True)
    assert len(pure) > 50_000
    assert pure == compiled


@pytest.mark.parametrize("schedule", [SCHEDULE, LISTED], ids=["random-clients", "listed-ops"])
def test_compiled_build_plays_a_schedule_to_the_same_trace(
    built: None, tmp_path: Path, schedule: Schedule
) -> None:
    path = tmp_path / "schedule.json"
    path.write_bytes(schedule.dumps())
    pure = _sim(tmp_path, "pure.jsonl", ["--schedule", str(path)], compiled=False)
    compiled = _sim(tmp_path, "compiled.jsonl", ["--schedule", str(path)], compiled=True)
    assert len(pure) > 50_000
    assert pure == compiled


def _hunt(tmp: Path, name: str, build: str | None) -> dict[str, object]:
    """``raftlab hunt`` through the console entry point; ``build`` is
    RAFTLAB_BUILD (None: unset, the entry point chooses)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("RAFTLAB_BUILD", None)
    if build is not None:
        env["RAFTLAB_BUILD"] = build
    command = [sys.executable, "-m", "raftlab.cli", "hunt", "--mode", "volatile-vote"]
    command += ["--seed", "3", "--budget", "30s", "--out", str(tmp / name), "--json"]
    done = subprocess.run(
        command, env=env, cwd=tmp, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 1, done.stderr  # a counterexample
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_hunt_runs_on_the_compiled_build_unless_told_pure(built: None, tmp_path: Path) -> None:
    compiled = _hunt(tmp_path, "compiled", None)
    pure = _hunt(tmp_path, "pure", "pure")
    assert (compiled["build"], pure["build"]) == ("compiled", "pure")
    assert compiled["index"] == pure["index"]
    same = ["counterexample.jsonl", "schedule.json"]
    assert [(tmp_path / "compiled" / f).read_bytes() for f in same] == [
        (tmp_path / "pure" / f).read_bytes() for f in same
    ]
