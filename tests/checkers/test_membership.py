"""The membership checkers, each on a hand-made trace it must reject and on
a near miss it must accept (scenarios.py tells the stories)."""

from __future__ import annotations

import pytest

from tests.checkers import scenarios as s
from tests.checkers.builder import TraceBuilder, become, commit
from tests.checkers.scenarios import rejected

# -- At most one change pending -------------------------------------------------------


def test_single_change_rejects_a_second_change_before_the_first_is_applied() -> None:
    rejected(
        s.second_change(),
        "single-change-pending",
        "At most one configuration change pending",
        "leader n1 appended a configuration change at index 4",
        "the change at index 3 was not yet applied (applied index 2)",
    )


def test_single_change_accepts_a_change_appended_by_the_step_that_applies_the_last() -> None:
    scenario = s.second_change(applied_first=True)
    appended = scenario.trace.event(scenario.witnesses[0])
    assert appended["entries"] == [[4, 1, 0xC2, 1]]
    applied = scenario.trace.event(appended["cause"])
    assert applied["act"] == "applied" and applied["st"]["applied"] == 3
    s.clean(s.run_all(scenario.trace))


# -- Joint quorum --------------------------------------------------------------------------


def test_joint_quorum_rejects_a_commit_without_the_outgoing_majority() -> None:
    rejected(
        s.joint_commit(ackers=(4,)),
        "joint-quorum",
        "Decisions need a majority of every voter set",
        "n1 committed index 5 in term 1 backed by delivered acknowledgements from {1, 4}",
        "voters 1,2,4 & 1,2,3",
        "the outgoing voters {1,2,3} need 2 but only 1 (1)",
    )


def test_joint_quorum_accepts_a_commit_with_both_majorities() -> None:
    s.clean(s.run_all(s.joint_commit(ackers=(4, 2)).trace))


def test_joint_quorum_rejects_an_election_without_the_outgoing_majority() -> None:
    rejected(
        s.joint_election(votes=(2, 4)),
        "joint-quorum",
        "Decisions need a majority of every voter set",
        "n4 became leader of term 2 backed by delivered votes from {2, 4}",
        "the outgoing voters {1,2,3} need 2 but only 1 (2)",
    )


def test_joint_quorum_accepts_an_election_with_both_majorities() -> None:
    s.clean(s.run_all(s.joint_election(votes=(2, 3, 4)).trace))


def test_joint_quorum_rejects_a_commit_counting_a_learner() -> None:
    violation = s.only(s.run_all(s.learner_counted().trace), "joint-quorum")
    assert "from {1, 4} (the node counted {1, 4})" in violation.message
    assert "in configuration voters 1,2,3 learners 4" in violation.message
    assert "the voters {1,2,3} need 2 but only 1 (1)" in violation.message
    assert "It counted learner(s) 4." in violation.message


def test_joint_quorum_accepts_a_learner_in_a_support_that_has_a_majority() -> None:
    s.clean(s.run_all(s.learner_counted(ackers=(4, 2)).trace))


def test_joint_quorum_does_not_call_a_voter_being_demoted_a_learner() -> None:
    """n3 is still an outgoing voter while it is being demoted: counting it
    is right, only the incoming half is short."""
    scenario = s.demoting_voter_counted()
    violation = s.only(s.run_all(scenario.trace), "joint-quorum")
    assert violation.witnesses == scenario.witnesses
    assert "the incoming voters {1,2} need 2 but only 1 (1)" in violation.message
    assert "learner" not in violation.message


def test_a_counted_learner_vote_breaks_both_membership_invariants() -> None:
    """n4, a learner, grants its vote and n1 counts it: two invariants break
    at two events, each reported by its own checker."""
    b = TraceBuilder([1, 2, 3], learners=[4])
    won = b.elect(1, 2, [1, 4])
    report = s.run_all(b)
    assert sorted(v.checker for v in report.violations) == ["joint-quorum", "learners-never-vote"]
    by = {v.checker: v for v in report.violations}
    assert by["joint-quorum"].witnesses == (won.effect("become_leader"),)
    assert b.event(by["learners-never-vote"].witnesses[0])["n"] == "n4"


# -- Learners never vote -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("voter", "pre", "words"),
    [
        (4, False, ("n4 granted its vote to n1 for term 2", "a learner", "learners 4")),
        (4, True, ("n4 granted its pre-vote to n1 for term 2", "a learner")),
        (5, False, ("n5 granted its vote to n1 for term 2", "not a voter", "(voters none)")),
    ],
)
def test_learners_never_vote_rejects_a_vote_from_a_non_voter(
    voter: int, pre: bool, words: tuple[str, ...]
) -> None:
    rejected(
        s.vote_from(voter, granted=True, pre=pre),
        "learners-never-vote",
        "Learners never vote",
        *words,
    )


@pytest.mark.parametrize(("voter", "granted"), [(4, False), (5, False), (2, True)])
def test_learners_never_vote_accepts_refusals_and_voters(voter: int, granted: bool) -> None:
    scenario = s.vote_from(voter, granted=granted)
    assert scenario.trace.event(scenario.witnesses[0])["msg"]["granted"] is granted
    s.clean(s.run_all(scenario.trace))


def test_learners_never_vote_judges_a_grant_by_the_configuration_it_was_asked_in() -> None:
    """A grant decided as a voter may leave after the node's removal (it
    waited for a write): legal. Asked only after the removal: rejected."""
    legal = s.grant_released_after_removal(asked_as_voter=True)
    report = s.run_all(legal.trace)
    assert not [v for v in report.violations if v.checker == "learners-never-vote"]
    rejected(
        s.grant_released_after_removal(asked_as_voter=False),
        "learners-never-vote",
        "Learners never vote",
        "n3 granted its pre-vote to n1 for term 2 although it is not a voter",
    )


# -- No campaign with unapplied changes ----------------------------------------------------


def test_no_campaign_rejects_campaigning_over_a_committed_unapplied_change() -> None:
    rejected(
        s.campaign_with_unapplied_change(),
        "no-campaign-unapplied-conf",
        "No campaign with unapplied configuration changes",
        "n2 started an election (candidate)",
        "the configuration change at index 3 was committed (commit 3)",
        "not applied (applied 1)",
    )


def test_no_campaign_accepts_campaigning_once_the_change_is_applied() -> None:
    s.clean(s.run_all(s.campaign_with_unapplied_change(applied_first=True).trace))


def test_an_input_caused_by_the_previous_step_starts_a_step_of_its_own() -> None:
    """A driver may record that a storage acknowledgement was caused by the
    step that asked for the write. That ``persisted`` input is a new step,
    not an effect of the last one: the commit index n2 learned in that last
    step still counts, and the campaign is still rejected."""
    b = TraceBuilder([1, 2, 3], learners=[4])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0))
    ack = b.replicate(1, 2, (2, 1, 0))
    b.leader_commit(1, ack, 2, support=[1, 2])
    b.propose(1, (3, 1, 0xC1, 1))
    ack = b.replicate(1, 2, (3, 1, 0xC1, 1))
    b.leader_commit(1, ack, 3, support=[1, 2])
    learned = b.replicate(1, 2)  # n2 learns commit 3, the change is handed over
    assert b.event(learned.seq)["st"]["commit"] == 3
    b.step(2, "persisted", inp={"id": 1}, cause=learned.seq)
    st = {"term": 2, "vote": 2, "lead": 0}
    campaign = b.step(2, "tick", st=st, effects=[become("candidate", transfer=False)])
    violation = s.only(s.run_all(b), "no-campaign-unapplied-conf")
    assert violation.witnesses == (campaign.effect("become_candidate"),)
    assert "(commit 3)" in violation.message


# -- Configuration changes only after committing in the leader's term ---------------------


def conf_after_commit(committed_own_term: bool) -> tuple[TraceBuilder, int]:
    """n1 leads term 1 and leaves entry 2 uncommitted; it wins term 2 and
    appends a change at once (rejected) or after committing an entry of
    term 2 (accepted)."""
    b = TraceBuilder([1, 2, 3])
    b.elect(1, 1, [1, 2], entry=(2, 1, 0xA1))
    b.replicate(1, 2, (2, 1, 0xA1))
    b.elect(1, 2, [1, 2], entry=(3, 2, 0xB3))
    if committed_own_term:
        ack = b.replicate(1, 2, (3, 2, 0xB3))
        b.recv(1, ack.mids[-1], effects=[commit(3, support=[1, 2])])
    change = b.propose(1, (4, 2, 0xC4, 1))
    return b, change.effect("append")


def test_conf_after_own_commit_rejects_a_change_before_the_leaders_first_commit() -> None:
    b, witness = conf_after_commit(committed_own_term=False)
    violation = s.only(s.run_all(b), "conf-after-own-commit")
    assert violation.witnesses == (witness,)
    assert "n1, leader of term 2, appended a configuration change at index 4" in violation.message
    assert "its commit index 1 holds an entry of term 0" in violation.message


def test_conf_after_own_commit_accepts_a_change_once_an_own_term_entry_is_committed() -> None:
    b, _ = conf_after_commit(committed_own_term=True)
    s.clean(s.run_all(b))
