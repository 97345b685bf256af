"""Determinism: the same construction and the same (now, input) sequence give
the same effects and the same digest(), on any machine and under any
PYTHONHASHSEED; and consensus/ uses no clock, randomness or I/O of its own."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from consensus import (
    Campaign,
    DurableState,
    Effect,
    Input,
    Membership,
    RaftConfig,
    RaftCore,
    Tick,
)
from tests.consensus.test_persistence import OPS, checked, run_schedule
from tests.harness import Harness, change

ROOT = Path(__file__).resolve().parents[2]


def busy_run(seed: int = 1) -> list[str]:
    """A run touching most of the core: elections, replication, a membership
    change, a transfer, a read, compaction, a partition and a restart.
    Returns every effect and every node's digest after every step."""
    h = Harness(voters=(1, 2, 3, 4, 5), seed=seed)
    trace: list[str] = []
    step = h.step

    def recording_step(node: int, inp: Input) -> list[Effect]:
        effects = step(node, inp)
        trace.append(f"{node} {inp!r} -> {effects!r} {h.cores[node].digest()}")
        return effects

    h.step = recording_step  # type: ignore[method-assign]
    h.run_until(lambda: bool(h.leaders()))
    leader = h.leaders()[0]
    for i in range(5):
        h.propose(leader, f"v{i}")
    h.stabilize()
    h.propose_conf(leader, change("add_learner 6"))
    h.add_node(6)
    h.run_until(lambda: h.cores[6].membership.learners == (6,), max_ticks=20)
    h.read(leader, 1)
    h.compact(leader)
    h.isolate(leader)
    h.run_until(lambda: len(h.leaders()) == 2, max_ticks=100)
    h.heal()
    h.crash(leader)
    h.run_until(lambda: len(h.leaders()) == 1, max_ticks=100)
    new = h.leaders()[0]
    target = next(n for n in (1, 2, 3, 4, 5) if n != new)
    h.transfer(new, target)
    h.stabilize()
    return trace


def test_same_inputs_same_effects_and_digests() -> None:
    first = busy_run()
    assert len(first) > 300
    assert busy_run() == first


def test_a_different_seed_changes_the_run() -> None:
    assert busy_run(seed=2) != busy_run(seed=1)


def test_digest_is_independent_of_pythonhashseed() -> None:
    code = (
        "import zlib;"
        "from tests.consensus.test_determinism import busy_run;"
        "print(zlib.crc32(repr(busy_run()).encode()))"
    )
    outputs = set()
    for hash_seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1


@settings(max_examples=25)
@given(ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 60)), min_size=40, max_size=100))
def test_random_schedules_replay_identically(ops: list[tuple[str, int]]) -> None:
    runs = []
    for _ in range(2):
        h = checked(config=RaftConfig(election_ticks=4))
        run_schedule(h, ops)
        runs.append(([repr(e) for e in h.events], [h.cores[n].digest() for n in sorted(h.cores)]))
    assert runs[0] == runs[1]


def test_digest_reflects_state() -> None:
    def core() -> RaftCore:
        return RaftCore(1, RaftConfig(), 7, DurableState.bootstrap(Membership((1, 2, 3))))

    a, b = core(), core()
    assert a.digest() == b.digest()
    a.step(0, Tick())
    b.step(0, Tick())
    assert a.digest() == b.digest()  # a no-op tick changes nothing
    a.step(0, Campaign())
    assert a.digest() != b.digest()
    b.step(0, Campaign())
    assert a.digest() == b.digest()
    assert a.draws == b.draws != []


# -- the layering contract: consensus/ has no clock, randomness or I/O -------------------

FORBIDDEN = {
    "asyncio",
    "datetime",
    "kubernetes",
    "os",
    "random",
    "secrets",
    "socket",
    "subprocess",
    "threading",
    "time",
    "uuid",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_consensus_imports_no_clock_randomness_or_io() -> None:
    files = sorted((ROOT / "consensus").glob("*.py"))
    assert files
    ours = {"consensus", "traces", "kv", "sim", "checkers", "raftlab", "controller"}
    for path in files:
        imported = imported_modules(path)
        assert not imported & FORBIDDEN, f"{path.name} imports {sorted(imported & FORBIDDEN)}"
        assert imported & ours <= {"consensus", "traces"}, f"{path.name} imports {imported & ours}"
