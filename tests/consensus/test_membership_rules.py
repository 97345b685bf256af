"""The membership rules, one test (or a few) per rule.

Thesis chapter 4: single-server changes (4.1 and the 2015 raft-dev fix: a
leader appends a change only after committing an entry of its own term),
joint consensus (4.3), learners (4.2.1, "non-voting members"), availability
rules (4.2.2: a removed leader steps down; 4.2.3: removed servers must not
disrupt). Changes take effect when applied here (etcd-io/raft's doc.go).
"""

from __future__ import annotations

from consensus import (
    Applied,
    Campaign,
    ConfChange,
    DurableState,
    Effect,
    Entry,
    HardState,
    Membership,
    Note,
    RaftConfig,
    RaftCore,
    Refused,
    Role,
    Snapshot,
    Tick,
)
from tests.harness import Harness, change

E = 10


def refusals(effects: list[Effect]) -> list[str]:
    return [e.reason for e in effects if isinstance(e, Refused)]


def elect_with_stable_leader(h: Harness, node: int = 1) -> None:
    h.elect(node)
    h.stabilize()


def conf(h: Harness, node: int, spec: str) -> list[Effect]:
    return h.propose_conf(node, change(spec))


# -- a leader proposes a change only after committing an entry of its term --------


def test_change_refused_before_the_leader_commits_an_entry_of_its_term() -> None:
    h = Harness()
    h.campaign(1)
    while h.cores[1].role is not Role.LEADER:
        h.deliver(1)
    assert h.cores[1].log.term(h.cores[1].log.committed) != h.cores[1].term
    assert refusals(conf(h, 1, "add_learner 4")) == [
        "leader has not yet committed an entry of its own term"
    ]
    h.stabilize()  # the no-op commits
    assert refusals(conf(h, 1, "add_learner 4")) == []


# -- ...and only with no earlier change pending -------------------------------------


def test_change_refused_while_an_earlier_one_is_unapplied() -> None:
    h = Harness()
    elect_with_stable_leader(h)
    assert refusals(conf(h, 1, "add_learner 4")) == []
    pending = h.cores[1].pending_conf_index
    assert refusals(conf(h, 1, "add_learner 5")) == [
        f"configuration change at index {pending} is not applied yet"
    ]
    h.stabilize()  # committed and applied
    assert refusals(conf(h, 1, "add_learner 5")) == []


def test_new_leader_treats_its_whole_uncommitted_tail_as_pending() -> None:
    """A change left uncommitted by the previous leader may still be in the
    new leader's log: it must be applied before another is proposed."""
    h = Harness()
    elect_with_stable_leader(h)
    conf(h, 1, "add_learner 4")
    h.deliver_where(lambda m: m.src == 1)  # replicated, acks lost
    h.mailbox.clear()
    h.isolate(1)
    for n in (2, 3):
        h.tick(n, E)
    h.campaign(2)
    while h.cores[2].role is not Role.LEADER:
        h.deliver(1)
    assert h.cores[2].pending_conf_index == h.cores[2].log.last_index - 1
    assert refusals(conf(h, 2, "add_learner 5")) != []
    h.stabilize()
    assert refusals(conf(h, 2, "add_learner 5")) == []


def test_invalid_changes_are_refused() -> None:
    h = Harness()
    elect_with_stable_leader(h)
    assert refusals(conf(h, 1, "remove 1 remove 2 remove 3"))[0].startswith(
        "invalid configuration change: the change would remove every voter"
    )
    assert refusals(conf(h, 1, "leave"))[0].startswith("invalid configuration change")
    assert refusals(conf(h, 2, "add_learner 4")) == ["not the leader"]


# -- a node does not campaign with committed but unapplied changes ------------------


def node_with_unapplied_change() -> RaftCore:
    membership = Membership((1, 2, 3))
    entries = (Entry(2, 1), Entry(3, 1, conf=change("remove 3")))
    durable = DurableState(HardState(1, 1, 3), Snapshot(1, 0, membership), entries)
    return RaftCore(3, RaftConfig(election_ticks=E), 1, durable)


def test_no_campaign_while_committed_changes_are_unapplied() -> None:
    core = node_with_unapplied_change()
    effects = core.step(0, Campaign())
    assert core.role is Role.FOLLOWER and core.term == 1
    notes = [e for e in effects if isinstance(e, Note) and e.action == "campaign_refused"]
    assert notes and "committed but not applied" in str(notes[0].detail["reason"])
    core.step(core.next_deadline(), Tick())  # a timeout is refused the same way
    assert core.role is Role.FOLLOWER


def test_campaign_allowed_once_the_change_is_applied() -> None:
    membership = Membership((1, 2, 3))
    entries = (Entry(2, 1), Entry(3, 1, conf=change("remove 3")))
    durable = DurableState(HardState(1, 1, 3), Snapshot(1, 0, membership), entries)
    for node, role in ((2, Role.PRE_CANDIDATE), (3, Role.FOLLOWER)):
        core = RaftCore(node, RaftConfig(election_ticks=E), 1, durable)
        core.step(0, Campaign())  # refused; hands the committed entries out
        assert core.role is Role.FOLLOWER
        core.step(0, Applied(3))  # "remove 3" applied
        core.step(E, Campaign())  # after the restart's grace (docs/reads.md, F3)
        assert core.role is role  # 3 is no longer a voter: it never campaigns


# -- a removed leader steps down --------------------------------------------------------


def test_removed_leader_steps_down_and_stays_quiet() -> None:
    h = Harness()
    elect_with_stable_leader(h)
    conf(h, 1, "remove 1")
    h.stabilize()
    assert h.cores[1].role is Role.FOLLOWER
    assert h.cores[1].membership == Membership((2, 3))
    assert [n.detail["reason"] for n in h.notes_of("step_down", 1)] == [
        "removed from the configuration"
    ]
    h.run_until(lambda: len(h.leaders()) == 1)
    assert h.leaders()[0] in (2, 3)
    term, campaigns = h.cores[1].term, len(h.notes_of("become_precandidate", 1))
    for _ in range(5 * E):
        h.tick(1)
    assert h.cores[1].role is Role.FOLLOWER
    assert len(h.notes_of("become_precandidate", 1)) == campaigns
    assert h.cores[1].term == term


def test_leader_demoted_to_learner_steps_down() -> None:
    h = Harness()
    elect_with_stable_leader(h)
    conf(h, 1, "add_learner 1")
    h.stabilize()
    assert h.cores[1].role is Role.FOLLOWER
    assert h.cores[1].membership == Membership((2, 3), learners=(1,))


# -- learners -------------------------------------------------------------------------


def test_learners_receive_the_log() -> None:
    h = Harness(voters=(1, 2), learners=(3,))
    elect_with_stable_leader(h)
    h.propose(1, "x")
    h.stabilize()
    assert h.data_applied(3) == ["x"]


def test_learners_never_count_toward_a_commit_quorum() -> None:
    h = Harness(voters=(1, 2), learners=(3,))
    elect_with_stable_leader(h)
    before = h.cores[1].log.committed
    h.cut(1, 2)
    h.propose(1, "x")
    h.stabilize()
    assert h.cores[1].progress[3].match == h.cores[1].log.last_index  # the learner has it
    assert h.cores[1].log.committed == before  # but 1 + learner is no quorum of {1, 2}
    h.heal()
    h.tick(1)
    h.stabilize()
    assert h.cores[1].log.committed == h.cores[1].log.last_index


def test_learners_never_count_toward_checkquorum() -> None:
    h = Harness(voters=(1, 2), learners=(3,))
    elect_with_stable_leader(h)
    h.cut(1, 2)
    for _ in range(2 * E):
        h.tick(1)
        h.tick(3)
        h.stabilize()  # the learner keeps answering heartbeats
    assert h.cores[1].role is Role.FOLLOWER


def test_a_joiner_learns_its_configuration_and_can_be_promoted() -> None:
    h = Harness()
    elect_with_stable_leader(h)
    h.add_node(4)  # starts with no configuration at all
    assert h.cores[4].membership == Membership()
    conf(h, 1, "add_learner 4")
    h.run_until(lambda: h.cores[4].membership == h.cores[1].membership, max_ticks=5)
    assert h.cores[4].membership == Membership((1, 2, 3), learners=(4,))
    assert h.notes_of("snapshot_install", 4)  # the configuration came in a snapshot
    conf(h, 1, "add_voter 4")
    h.stabilize()
    assert h.cores[4].membership == Membership((1, 2, 3, 4))
    assert h.notes_of("learner_promote", 1)
    # The promoted node takes part in elections: with 1 gone, a leader needs
    # 3 of the 4 votes, so 2, 3 and 4 must all grant one.
    h.isolate(1)
    h.run_until(lambda: any(n != 1 for n in h.leaders()), max_ticks=10 * E)


# -- joint consensus ---------------------------------------------------------------------


def test_multi_voter_change_goes_through_joint_and_leaves_automatically() -> None:
    h = Harness(voters=(1, 2, 3))
    elect_with_stable_leader(h)
    h.add_node(4)
    h.add_node(5)
    conf(h, 1, "add_voter 4 add_voter 5 remove 2 remove 3")
    h.run_until(lambda: h.cores[1].membership == Membership((1, 4, 5)), max_ticks=10)
    assert [n.action for who, n in h.notes if who == 1 and "joint" in n.action] == [
        "enter_joint",
        "leave_joint",
    ]
    h.run_until(lambda: all(h.cores[n].membership == Membership((1, 4, 5)) for n in (4, 5)))
    h.propose(1, "after")
    h.stabilize()
    assert h.data_applied(4)[-1] == "after"


def test_single_voter_change_skips_joint() -> None:
    h = Harness()
    elect_with_stable_leader(h)
    conf(h, 1, "remove 3")
    h.stabilize()
    assert h.cores[1].membership == Membership((1, 2))
    assert not h.notes_of("enter_joint")


def test_explicit_joint_stays_until_asked_to_leave() -> None:
    h = Harness()
    elect_with_stable_leader(h)
    conf(h, 1, "remove 3 joint_explicit")
    for _ in range(3):
        h.tick_all()
        h.stabilize()
    joint = h.cores[1].membership
    assert joint.joint and not joint.auto_leave
    assert refusals(conf(h, 1, "add_learner 4"))[0].startswith("invalid configuration change")
    assert refusals(conf(h, 1, "leave")) == []
    h.stabilize()
    assert h.cores[1].membership == Membership((1, 2))
    assert all(h.cores[n].membership == Membership((1, 2)) for n in (1, 2))


def test_demotion_through_joint_keeps_the_vote_until_leaving() -> None:
    h = Harness()
    elect_with_stable_leader(h)
    h.add_node(4)
    conf(h, 1, "add_learner 3 add_voter 4 joint_explicit")
    h.run_until(lambda: h.cores[1].membership.joint, max_ticks=5)
    joint = h.cores[1].membership
    assert joint.learners_next == (3,) and joint.is_voter(3)
    conf(h, 1, "leave")
    h.stabilize()
    assert h.cores[1].membership == Membership((1, 2, 4), learners=(3,))
    assert h.notes_of("voter_demote", 1)


JOINT = Membership(voters=(1, 4, 5), outgoing=(1, 2, 3), auto_leave=False)


def test_joint_election_needs_both_majorities() -> None:
    h = Harness(membership=JOINT, config=RaftConfig(pre_vote=False))
    h.cut(1, 4)
    h.cut(1, 5)  # 1 + 2 + 3: a majority of the outgoing half only
    h.campaign(1)
    h.stabilize()
    assert h.cores[1].role is Role.CANDIDATE
    h.heal()
    h.cut(1, 2)
    h.cut(1, 3)  # 1 + 4 + 5: a majority of the incoming half only
    h.campaign(1)
    h.stabilize()
    assert h.cores[1].role is Role.CANDIDATE
    h.heal()
    h.cut(1, 3)
    h.cut(1, 5)  # 1 + 2 + 4: both
    h.campaign(1)
    h.stabilize()
    assert h.cores[1].role is Role.LEADER


def test_joint_commit_needs_both_majorities() -> None:
    for cut in ((4, 5), (2, 3)):  # either half alone is not enough
        h = Harness(membership=JOINT)
        elect_with_stable_leader(h)
        committed = h.cores[1].log.committed
        for n in cut:
            h.cut(1, n)
        h.propose(1, f"without {cut}")
        h.stabilize()
        assert h.cores[1].log.committed == committed
        h.heal()
        h.tick(1)
        h.stabilize()
        assert h.cores[1].log.committed == h.cores[1].log.last_index


def test_removed_nodes_do_not_disrupt_the_new_configuration() -> None:
    """Thesis 4.2.3: nodes removed from the configuration, if they never
    learn it, time out and campaign; PreVote and leader stickiness keep them
    from deposing the new configuration's leader."""
    h = Harness(voters=(1, 2, 3, 4))
    elect_with_stable_leader(h)
    h.isolate(4)  # 4 never hears of its removal
    conf(h, 1, "remove 4")
    h.stabilize()
    h.heal()
    for _ in range(5 * E):
        h.tick_all()
        h.stabilize()
    assert h.leaders() == [1] and h.cores[1].term == 1


def test_leave_joint_is_proposed_only_when_the_joint_config_is_applied() -> None:
    h = Harness()
    elect_with_stable_leader(h)
    conf(h, 1, "remove 3 joint")
    leader = h.cores[1]
    entries = [e.conf for e in leader.log.entries if e.conf is not None]
    assert entries == [change("remove 3 joint")]  # no leave yet
    h.stabilize()
    entries = [e.conf for e in leader.log.entries if e.conf is not None]
    assert entries == [change("remove 3 joint"), ConfChange.leave()]
    assert leader.membership == Membership((1, 2))
