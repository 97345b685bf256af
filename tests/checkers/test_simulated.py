"""Real simulated runs pass every checker: the hand-made rejections elsewhere
mean something only if correct runs are accepted."""

from __future__ import annotations

from collections import Counter

import pytest

from checkers import default_registry, run_checkers
from tests.traces.simulated import simulate

RUNS = [
    ("default", 1, "random"),
    ("default", 2, "random"),
    ("chaos", 1, "random"),
    ("chaos", 3, "random"),
    ("default", 5, "joint"),
    ("chaos", 5, "joint"),
]


@pytest.mark.parametrize(("profile", "seed", "membership"), RUNS)
def test_a_simulated_run_passes_every_checker(profile: str, seed: int, membership: str) -> None:
    header, events = simulate(profile, seed, 2.5, membership)
    checkers = default_registry(plugins=False).create(header)
    report = run_checkers(iter(events), checkers)
    assert report.ok, "\n\n".join(v.describe() for v in report.violations)
    assert report.events == len(events)
    assert len(report.checkers) == len(default_registry(plugins=False).names())
    assert not report.warnings, "\n\n".join(v.describe() for v in report.warnings)
    actions = Counter(e["act"] for e in events)
    assert actions["become_leader"] >= 1 and actions["commit"] > 0 and actions["apply"] > 0
    if membership == "joint":
        # The membership checkers had joint configurations to look at.
        assert actions["enter_joint"] > 0 and actions["leave_joint"] > 0
    if profile == "chaos":
        assert actions["crash"] > 0 and actions["drop"] > 0
