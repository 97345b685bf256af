"""Every unsafe mode is caught: from a fixed seed, a simulation with the mode
on fails the checker named in consensus/unsafe.py (linearizability for
stale reads), and the same seed with the mode off passes every checker.

The seeds were found offline by trying seeds in order with the cases'
settings; they are fixtures, not results: what each test asserts is the
checkers' verdict on the run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from consensus.unsafe import CATALOG, MODES
from raftlab.experiment import CheckOutcome, check_trace, replay_file, simulate
from sim import SimConfig, get_profile, raft_config_for


@dataclass(frozen=True)
class Case:
    mode: str
    seed: int
    faults: str
    membership: str
    nodes: int
    duration_s: float
    read_mode: str = "index"
    raft: dict[str, Any] = field(default_factory=dict)
    """Core settings that make the bug reachable in a short run."""


CASES = [
    # A candidate asks learners too; a learner's grant is the violation.
    Case("learner-early-vote", 1, "partitions", "random", 3, 10.0),
    # The random actor replaces a voter or promotes two learners at once.
    Case("no-joint", 2, "partitions", "random", 3, 10.0),
    # Catch-up one entry per message: a lagging follower acknowledges the
    # previous term's tail before the new leader's no-op, and a majority of
    # such acknowledgements is what the mode wrongly counts as a commit.
    Case("commit-old-term", 3, "crashes", "none", 3, 10.0, raft={"max_entries_per_msg": 1}),
    Case("volatile-vote", 1, "crashes", "none", 3, 5.0),
    # Elections under partitions while the random actor keeps proposing changes.
    Case("config-before-noop", 1, "partitions", "random", 5, 20.0),
    # A deposed leader on the wrong side of a partition keeps answering reads.
    Case("lease-without-checkquorum", 2, "partitions", "none", 5, 10.0, read_mode="lease"),
]


def run_case(case: Case, tmp_path: Path, unsafe: bool) -> CheckOutcome:
    profile = get_profile(case.faults)
    raft = dataclasses.replace(raft_config_for(profile, case.read_mode), **case.raft)
    if unsafe:
        raft = dataclasses.replace(raft, unsafe=(case.mode,))
    config = SimConfig(
        nodes=case.nodes,
        seed=case.seed,
        duration_s=case.duration_s,
        profile=profile,
        raft=raft,
    )
    out = tmp_path / f"{case.mode}-{'unsafe' if unsafe else 'safe'}.jsonl"
    simulate(config, case.membership, out)
    return check_trace(out)


def failed_checkers(outcome: CheckOutcome) -> set[str]:
    names = {v.checker for v in outcome.report.violations}
    if outcome.lin_verdict == "not-linearizable":
        names.add("linearizability")
    return names


def test_every_mode_has_a_case() -> None:
    assert [case.mode for case in CASES] == list(MODES)


@pytest.mark.parametrize("case", CASES, ids=[case.mode for case in CASES])
def test_the_mode_is_caught_and_the_same_seed_without_it_passes(case: Case, tmp_path: Path) -> None:
    catcher = next(m.caught_by for m in CATALOG if m.name == case.mode)
    unsafe = run_case(case, tmp_path, unsafe=True)
    assert unsafe.header["raft"]["unsafe"] == [case.mode]
    assert catcher in failed_checkers(unsafe), unsafe.report.violations
    safe = run_case(case, tmp_path, unsafe=False)
    assert "unsafe" not in safe.header["raft"]
    assert failed_checkers(safe) == set(), safe.report.violations
    assert safe.lin_verdict in ("", "linearizable")


def test_a_run_with_a_mode_replays_with_the_mode_from_its_header(tmp_path: Path) -> None:
    """Replay builds its cores from the header's ``raft``, ``unsafe``
    included: the sabotaged run replays step for step."""
    case = next(case for case in CASES if case.mode == "volatile-vote")
    run_case(case, tmp_path, unsafe=True)
    report = replay_file(tmp_path / "volatile-vote-unsafe.jsonl")
    assert report.verdict == "DETERMINISTIC", report.divergence
    assert report.steps > 0
