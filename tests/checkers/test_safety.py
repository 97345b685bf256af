"""The Figure 3 checkers and monotonic progress, each on a hand-made trace it
must reject and on a near miss it must accept (scenarios.py tells the
stories). A rejection must come from that checker alone, name the right
witnesses and say which nodes and indexes are involved."""

from __future__ import annotations

import pytest

from tests.checkers import scenarios as s
from tests.checkers.scenarios import rejected

# -- Election Safety ---------------------------------------------------------------


def test_election_safety_rejects_two_leaders_in_one_term() -> None:
    scenario = s.two_leaders(second_term=2)
    rejected(
        scenario,
        "election-safety",
        "Election Safety",
        "two leaders in term 2",
        "n1 became leader",
        "n3 at seq",
        "votes from n2, n3",
        also=("vote-once",),
    )


def test_election_safety_accepts_leaders_of_different_terms() -> None:
    s.clean(s.run_all(s.two_leaders(second_term=3).trace))


# -- Leader Append-Only --------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "words", "also"),
    [
        ("truncate", ("n1 deleted its entries after index 2", "leader of term 2"), ()),
        (
            "overwrite",
            ("n1 overwrote entries from index 3", "its log ended at 3"),
            ("log-model-agreement",),  # an append over an entry, without a truncate
        ),
        (
            "snapshot",
            ("n1 replaced its log with a snapshot at index 5", "leader of term 2"),
            ("snapshot-agreement",),  # nothing up to index 5 was committed
        ),
    ],
)
def test_leader_append_only_rejects_a_leader_rewriting_its_log(
    how: str, words: tuple[str, ...], also: tuple[str, ...]
) -> None:
    rejected(s.leader_rewrites(how), "leader-append-only", "Leader Append-Only", *words, also=also)


def test_leader_append_only_accepts_a_follower_truncating_uncommitted_entries() -> None:
    scenario = s.follower_truncates()
    assert scenario.trace.event(scenario.witnesses[0])["act"] == "truncate"
    s.clean(s.run_all(scenario.trace))


# -- Log Matching ---------------------------------------------------------------------


def test_log_matching_rejects_same_entry_over_different_prefixes() -> None:
    rejected(
        s.mismatched_prefix(),
        "log-matching",
        "Log Matching",
        "n3 and n1 both hold entry 3 of term 2",
        "first differ at index 2 (n3 has term 2, n1 has term 1)",
    )


def test_log_matching_rejects_it_when_the_first_holder_is_the_one_that_went_wrong() -> None:
    rejected(
        s.prefix_changed_under_the_first_holder(),
        "log-matching",
        "Log Matching",
        "n2 and n3 both hold entry 3 of term 2",
        "first differ at index 2 (n2 has term 2, n3 has term 1)",
    )


def test_log_matching_accepts_a_follower_that_repairs_its_log() -> None:
    scenario = s.mismatched_prefix(follower_checks=True)
    s.clean(s.run_all(scenario.trace))
    # The follower did hold a different entry 2 before it truncated it.
    recv = scenario.trace.event(scenario.witnesses[1])["cause"]
    assert scenario.trace.event(recv + 2)["act"] == "truncate"


# -- Leader Completeness -------------------------------------------------------------


def test_leader_completeness_rejects_a_leader_missing_a_committed_entry() -> None:
    rejected(
        s.elected_without_committed(winner=3),
        "leader-completeness",
        "Leader Completeness",
        "n3 became leader of term 2 without committed entry 2 (term 1)",
        "its log ends at 1",
    )


def test_leader_completeness_accepts_a_leader_holding_the_committed_entries() -> None:
    s.clean(s.run_all(s.elected_without_committed(winner=2).trace))


def test_leader_completeness_rejects_a_late_commit_that_a_newer_leader_lacks() -> None:
    rejected(
        s.committed_after_election(),
        "leader-completeness",
        "Leader Completeness",
        "entry 2 of term 1 was committed in term 1 by n1",
        "n3, elected leader of term 2",
    )


def test_leader_completeness_accepts_a_late_commit_the_newer_leader_holds() -> None:
    s.clean(s.run_all(s.committed_after_election(new_leader_has_it=True).trace))


# -- State Machine Safety ----------------------------------------------------------------


def test_state_machine_safety_rejects_two_entries_applied_at_one_index() -> None:
    rejected(
        s.different_applies(crc=0xBAD),
        "state-machine-safety",
        "State Machine Safety",
        "n1 applied entry 2 of term 1 (crc 000000a1)",
        "n2 applied a different entry 2 of term 1 (crc 00000bad)",
    )


def test_state_machine_safety_accepts_the_same_entry_applied_twice() -> None:
    s.clean(s.run_all(s.different_applies(crc=0xA1).trace))


# -- Monotonic commit and apply --------------------------------------------------------


def test_monotonic_rejects_a_commit_index_going_back() -> None:
    rejected(
        s.commit_goes_back(),
        "monotonic-commit-apply",
        "Monotonic commit and apply",
        "n2's commit index went back from 3 to 1",
        also=("log-model-agreement",),  # no event moved the commit index back
    )


def test_monotonic_accepts_a_lower_commit_index_after_a_restart() -> None:
    scenario = s.commit_goes_back(restart_first=True)
    assert scenario.trace.event(scenario.witnesses[0])["st"]["commit"] == 1
    s.clean(s.run_all(scenario.trace))


def test_monotonic_rejects_applying_beyond_the_commit_index() -> None:
    rejected(
        s.applied_beyond_commit(),
        "monotonic-commit-apply",
        "Monotonic commit and apply",
        "n2 applied up to 3 but has only committed up to 2",
    )


def test_monotonic_rejects_a_gap_in_the_applied_entries() -> None:
    rejected(
        s.apply_skips(first=4),
        "monotonic-commit-apply",
        "Monotonic commit and apply",
        "n2 applied entries from index 4, but the next entry to apply was 2",
    )


def test_monotonic_accepts_entries_applied_in_order() -> None:
    s.clean(s.run_all(s.apply_skips(first=2).trace))


def test_monotonic_accepts_applying_after_a_snapshot() -> None:
    scenario = s.apply_after_snapshot()
    assert scenario.trace.event(scenario.witnesses[0])["entries"][0][0] == 4
    s.clean(s.run_all(scenario.trace))


# -- Figure 8(e): committed in a later term than the entry's own -----------------------


@pytest.mark.parametrize("late_election", [False, True])
def test_leader_completeness_accepts_figure_8e(late_election: bool) -> None:
    """An entry of term 1 committed in term 3 need not be in the log of the
    leader of term 2, whether that leader was elected before the commit or
    (delivered late) after it."""
    b, won, committed = s.figure_8(late_election)
    assert b.event(won)["act"] == "become_leader" and b.event(won)["term"] == 2
    assert b.event(committed)["index"] == 3 and b.event(committed)["term"] == 3
    assert (won > committed) is late_election
    s.clean(s.run_all(b))


def test_leader_completeness_still_rejects_a_later_leader_missing_the_entry() -> None:
    """The same story, but n3 wins term 4 (after the commit in term 3)
    without entry 2: n2 had it and must not have voted for n3."""
    b, _, committed = s.figure_8()
    b.restart(3, cause=b.crash(3))
    ask = b.step(3, "tick", st={"term": 4, "vote": 3, "lead": 0}, effects=[s.become("candidate")])
    del ask
    won = b.step(3, "tick", st={"lead": 3}, effects=[s.become("leader", votes=[2, 3])])
    violation = s.only(s.run_all(b), "leader-completeness", also=("joint-quorum",))
    assert violation.witnesses == (won.effect("become_leader"),)
    assert "committed entry 3 (term 3), committed in term 3" in violation.message
    assert b.event(committed)["act"] == "commit"
