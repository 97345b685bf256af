"""Configuration transitions judged as transitions: each applied
configuration against the node's previous one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.checkers import scenarios as s
from tests.checkers.builder import TraceBuilder, conf, conf_apply


def applying(*steps: dict[str, Any]) -> tuple[TraceBuilder, list[int]]:
    """Voters n1-n3; n1 applies one configuration entry per step, at
    indexes 2, 3, ... (the entries' contents are not the point here)."""
    b = TraceBuilder([1, 2, 3])
    seqs = []
    for index, configuration in enumerate(steps, start=2):
        step = b.applied(1, 1, effects=[conf_apply(index, configuration)])
        seqs.append(step.effect("conf_apply"))
    return b, seqs


LEGAL = {
    "one voter added": [conf([1, 2, 3, 4])],
    "one voter removed": [conf([1, 2])],
    "a learner added and promoted": [conf([1, 2, 3], learners=[4]), conf([1, 2, 3, 4])],
    "two voters replaced through a joint configuration": [
        conf([1, 4, 5], outgoing=[1, 2, 3]),
        conf([1, 4, 5]),
    ],
    "a voter demoted through a joint configuration": [
        conf([1, 2], outgoing=[1, 2, 3], learners_next=[3]),
        conf([1, 2], learners=[3]),
    ],
}


@pytest.mark.parametrize("story", sorted(LEGAL))
def test_legal_transitions_are_accepted(story: str) -> None:
    b, _ = applying(*LEGAL[story])
    s.clean(s.run_all(b))


ILLEGAL = {
    "two voters changed in one step": (
        [conf([1, 4, 5])],
        0,
        "voters 2,3,4,5 changed in one step without a joint configuration",
    ),
    "a joint configuration whose outgoing half is not the old voters": (
        [conf([1, 4, 5], outgoing=[1, 2])],
        0,
        "outgoing voters must be the previous voters {1,2,3}",
    ),
    "a joint configuration changed into another": (
        [conf([1, 4, 5], outgoing=[1, 2, 3]), conf([1, 4, 6], outgoing=[1, 2, 3])],
        1,
        "a joint configuration may only be left",
    ),
    "leaving to other voters than the incoming ones": (
        [conf([1, 4, 5], outgoing=[1, 2, 3]), conf([1, 2, 3])],
        1,
        "must keep its incoming voters {1,4,5}",
    ),
    "leaving without making the demoted voter a learner": (
        [conf([1, 2], outgoing=[1, 2, 3], learners_next=[3]), conf([1, 2])],
        1,
        "must make 3 learner(s)",
    ),
    "a node both voter and learner": (
        [conf([1, 2, 3], learners=[3])],
        0,
        "node(s) 3 would be voter and learner at once",
    ),
}


@pytest.mark.parametrize("story", sorted(ILLEGAL))
def test_illegal_transitions_are_rejected(story: str) -> None:
    steps, bad, words = ILLEGAL[story]
    b, seqs = applying(*steps)
    violation = s.only(s.run_all(b), "conf-transitions")
    assert violation.witnesses == (seqs[bad],)
    assert words in violation.message
    assert "n1 applied the configuration change at index" in violation.message


def test_two_changes_in_one_step_are_judged_one_after_the_other() -> None:
    """Entering and leaving a joint configuration in one step (an automatic
    leave applied at once) is legal; each is judged against the one before."""
    b = TraceBuilder([1, 2, 3])
    effects = [
        conf_apply(2, conf([1, 4, 5], outgoing=[1, 2, 3], auto_leave=True)),
        conf_apply(3, conf([1, 4, 5])),
    ]
    b.applied(1, 1, effects=effects)
    s.clean(s.run_all(b))
