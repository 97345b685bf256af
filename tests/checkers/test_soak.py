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


@pytest.mark.parametrize(
    ("seed", "nodes", "membership"),
    [
        (3, 3, "none"),  # raftlab run --seed 3 --nodes 3 --faults chaos --duration 20 ...
        (189, 5, "random"),  # raftlab sim --seed 189 --faults chaos --nodes 5 --duration 20
    ],
)
def test_the_figure_8_false_alarm_seeds_pass(seed: int, nodes: int, membership: str) -> None:
    """Both runs commit an entry of an old term in a later term, after a
    leader of a term in between was elected without it (Figure 8(e)); the
    leader-completeness checker used to call that a violation."""
    result = run_case("chaos", seed, nodes, 20.0, membership)
    assert result.events > 20_000
    assert not result.violations, _verdict(result)
