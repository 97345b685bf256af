"""Safe-mode soak: correct runs under every fault profile pass every checker.

A violation on a simulated run of the correct core is either a core bug or
a checker's false alarm; both are defects, so this test fails on any. The
profiles come from ``sim.profiles.PROFILES`` itself, so a profile added
there is soaked here without a change. ``bench/soak.py`` runs the same
cases (``run_case``) over hundreds of seeds and longer runs.
"""

from __future__ import annotations

import pytest

from bench.soak import CaseResult, run_case
from sim.profiles import PROFILES
from tests.checkers.figure8 import Figure8Detector

#: Seeds per profile and cluster size, and simulated seconds per run: about
#: 100 runs and 2.5 million events in all, within half a minute.
SEEDS = range(1, 9)
DURATION_S = 3.0


def _verdict(result: CaseResult) -> str:
    return f"{result.command()}\n\n" + "\n\n".join(v.describe() for v in result.violations)


@pytest.mark.parametrize("nodes", [3, 5])
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile_passes_every_checker(profile: str, nodes: int) -> None:
    events = 0
    for seed in SEEDS:
        result = run_case(profile, seed, nodes, DURATION_S, "random")
        assert not result.violations, _verdict(result)
        events += result.events
    assert events > len(SEEDS) * 1000, "the runs did happen"


#: The issue's two false-alarm commands. Under the fault profiles of the
#: time both runs held the Figure 8(e) situation; since the ``chaos`` profile
#: gained slow and stalling disks, crash points, pauses and clock drift they
#: simulate other runs, which no longer do (the detector finds nothing in
#: them). They stay as runs that must pass; ``FIGURE_8_RUNS`` are seeds that
#: hold the situation under the current simulator.
ISSUE_RUNS = [
    (3, 3, "none"),  # raftlab run --seed 3 --nodes 3 --faults chaos --duration 20 --membership none
    (189, 5, "random"),  # raftlab sim --seed 189 --faults chaos --nodes 5 --duration 20
]

#: Found by sweeping seeds 1-60 (3 nodes) and 1-40 (5 nodes) of ``chaos``
#: for 20 s with the detector: on 3 nodes the leader of the middle term is
#: elected before the commit, on 5 nodes after it (its votes arrive late).
FIGURE_8_RUNS = [
    (49, 3, "none"),  # raftlab sim --seed 49 --nodes 3 --faults chaos --duration 20 -m none
    (10, 5, "none"),  # raftlab sim --seed 10 --nodes 5 --faults chaos --duration 20 -m none
]


@pytest.mark.parametrize(("seed", "nodes", "membership"), ISSUE_RUNS)
def test_the_issues_false_alarm_commands_pass(seed: int, nodes: int, membership: str) -> None:
    result = run_case("chaos", seed, nodes, 20.0, membership)
    assert result.events > 15_000, "the run did happen"
    assert not result.violations, _verdict(result)


@pytest.mark.parametrize(("seed", "nodes", "membership"), FIGURE_8_RUNS)
def test_runs_with_the_figure_8e_situation_pass(seed: int, nodes: int, membership: str) -> None:
    """Each run commits an entry of a term t in a term C after a leader of a
    term between them was elected without it (Figure 8(e)): legal, and what
    the leader-completeness checker used to call a violation."""
    detector = Figure8Detector()
    result = run_case("chaos", seed, nodes, 20.0, membership, observers=[detector])
    assert detector.situations, f"{result.command()} no longer shows Figure 8(e)"
    situation = detector.situations[0]
    assert situation.term < situation.leader_term < situation.committed_in
    assert not result.violations, _verdict(result)
