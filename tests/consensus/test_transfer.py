"""Leader transfer (thesis 3.10): catch the target up, send TimeoutNow, let
it campaign at once; refuse proposals meanwhile; give up after an election
timeout; never hand leadership to a learner (etcd-io/etcd#11326)."""

from __future__ import annotations

from consensus import Effect, Membership, Receive, Refused, Role, TimeoutNow
from tests.harness import Harness, change

E = 10


def refusals(effects: list[Effect]) -> list[str]:
    return [e.reason for e in effects if isinstance(e, Refused)]


def stable(voters: tuple[int, ...] = (1, 2, 3), learners: tuple[int, ...] = ()) -> Harness:
    h = Harness(voters=voters, learners=learners)
    h.elect(1)
    h.stabilize()
    return h


def test_transfer_to_an_up_to_date_follower() -> None:
    h = stable()
    assert refusals(h.transfer(1, 3)) == []
    assert [m for m in h.mailbox if isinstance(m, TimeoutNow)] == [TimeoutNow(1, 1, 3)]
    h.stabilize()
    assert h.leaders() == [3] and h.cores[3].term == 2
    assert h.cores[1].role is Role.FOLLOWER and h.cores[1].lead == 3
    assert h.notes_of("become_candidate", 3)[0].detail == {"transfer": True}
    # The old leader records a hand-off, not an abort: traces must not read a
    # successful transfer as a failed one.
    assert [n.detail for n in h.notes_of("step_down", 1)] == [{"reason": "leadership handed to n3"}]
    assert not h.notes_of("transfer_abort", 1)


def test_transfer_to_a_lagging_follower_catches_it_up_first() -> None:
    h = stable()
    h.cut(1, 3)
    h.propose(1, "x")
    h.stabilize()
    h.heal()
    h.transfer(1, 3)
    assert not [m for m in h.mailbox if isinstance(m, TimeoutNow)]
    h.stabilize()
    assert h.leaders() == [3]
    assert h.data_applied(3) == ["x"]


def test_transfer_beats_the_followers_leader_lease() -> None:
    """Voters that just heard from the leader still vote for the target: the
    vote request is marked as a transfer (otherwise CheckQuorum's lease would
    make every transfer fail)."""
    h = stable()
    h.tick_all()
    h.stabilize()
    h.transfer(1, 2)
    h.stabilize()
    assert h.leaders() == [2]
    assert not h.notes_of("vote_ignored")


def test_proposals_are_refused_while_a_transfer_runs() -> None:
    h = stable()
    h.cut(1, 3)
    h.transfer(1, 3)
    reason = "leadership transfer to 3 in progress"
    assert refusals(h.propose(1, "x")) == [reason]
    assert refusals(h.propose_conf(1, change("add_learner 4"))) == [reason]


def test_transfer_is_aborted_after_an_election_timeout() -> None:
    h = stable()
    h.cut(1, 3)
    h.transfer(1, 3)
    for _ in range(E - 1):
        h.tick(1)
    assert h.cores[1].transfer_target == 3
    h.tick(1)
    assert h.cores[1].transfer_target == 0
    assert h.notes_of("transfer_abort", 1)[0].detail == {"target": 3, "reason": "timed out"}
    assert refusals(h.propose(1, "x")) == []
    assert h.leaders() == [1]


def test_transfer_refusals() -> None:
    h = stable(voters=(1, 2, 3), learners=(4,))
    assert refusals(h.transfer(1, 4)) == ["node 4 is a learner; leadership goes only to voters"]
    assert refusals(h.transfer(1, 9)) == ["node 9 is not a member; leadership goes only to voters"]
    assert refusals(h.transfer(1, 1)) == ["already the leader"]
    assert refusals(h.transfer(2, 3)) == ["not the leader"]
    h.cut(1, 3)
    h.transfer(1, 3)
    assert refusals(h.transfer(1, 3)) == ["transfer to 3 already in progress"]


def test_a_newer_transfer_supersedes_the_older() -> None:
    h = stable()
    h.cut(1, 3)
    h.transfer(1, 3)
    h.transfer(1, 2)
    assert h.notes_of("transfer_abort", 1)[0].detail["reason"] == "superseded by transfer to 2"
    h.stabilize()
    assert h.leaders() == [2]


def test_transfer_is_aborted_when_the_target_is_demoted() -> None:
    """etcd-io/etcd#11326: a transfer to a node that stops being a voter must
    not go through."""
    h = stable()
    h.propose_conf(1, change("add_learner 3"))
    h.deliver_where(lambda m: m.dst != 3)  # the change travels; 3 is slow
    h.cut(1, 3)
    h.transfer(1, 3)
    h.stabilize()
    assert h.cores[1].membership == Membership((1, 2), learners=(3,))
    assert h.cores[1].transfer_target == 0
    assert h.notes_of("transfer_abort", 1)[-1].detail["reason"] == "target is no longer a voter"


def test_a_learner_ignores_timeout_now() -> None:
    h = stable(voters=(1, 2), learners=(3,))
    h.step(3, Receive(TimeoutNow(1, 1, 3)))
    assert h.cores[3].role is Role.FOLLOWER
    assert h.notes_of("campaign_refused", 3)
    h.stabilize()
    assert h.leaders() == [1]
