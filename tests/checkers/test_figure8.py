"""The Figure 8(e) detector finds the situation where it is and only there;
the soak's Figure 8 test relies on it to prove its runs contain it."""

from __future__ import annotations

import pytest

from checkers import default_registry, run_checkers
from tests.checkers import scenarios as s
from tests.checkers.builder import TraceBuilder
from tests.checkers.figure8 import Figure8Detector


def detect(trace: TraceBuilder) -> Figure8Detector:
    detector = Figure8Detector()
    checkers = default_registry(plugins=False).create(trace.header)
    report = run_checkers(iter(trace.events), [*checkers, detector])
    s.clean(report)
    return detector


@pytest.mark.parametrize("late_election", [False, True])
def test_the_detector_finds_figure_8e(late_election: bool) -> None:
    b, won, committed = s.figure_8(late_election)
    found = detect(b).situations
    assert len(found) == 1
    situation = found[0]
    assert (situation.index, situation.term, situation.committed_in) == (2, 1, 3)
    assert (situation.leader, situation.leader_term) == ("n3", 2)
    assert (situation.elected_seq, situation.commit_seq) == (won, committed)


def test_the_detector_is_silent_when_the_middle_leader_holds_the_entry() -> None:
    """Entry 2 of term 1 committed in term 2 by its own leader: no term lies
    between, and the next leader holds it."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    ack = b.replicate(1, 2, (2, 1, 0xA1))
    b.leader_commit(1, ack, 2, support=[1, 2])
    assert detect(b).situations == []
