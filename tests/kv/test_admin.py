"""The admin gRPC API against real RaftCores (tests/kv/admin_cluster.py).

Every RPC goes over a real grpc.aio server on 127.0.0.1 (a free port per
node) through ``AdminClient`` or the raw stub; the answers are compared with
the cores' own state. Waiting is done by ticking the cluster until a
condition holds, never by sleeping.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from consensus import ChangeItem, ChangeOp, Membership, Role, Transition
from consensus.progress import ProgressState
from kv.admin import (
    META_ERROR,
    META_LEADER_ADDRESS,
    META_LEADER_ID,
    AdminClient,
    AdminError,
    InvalidRequestError,
    NodeAddress,
    NotLeaderError,
    OutcomeUnknownError,
    RefusedError,
)
from kv.netfaults import PARTITIONED, LinkFaults
from kv.proto import admin_pb2 as pb
from kv.proto import admin_pb2_grpc as pb_grpc
from tests.harness import change
from tests.kv.admin_cluster import AdminFixture

NEW = {n: NodeAddress(f"127.0.0.1:{7000 + n}", f"127.0.0.1:{8000 + n}") for n in (4, 5)}


@pytest.fixture
def fx() -> Iterator[AdminFixture]:
    fixture = AdminFixture()
    try:
        yield fixture
    finally:
        fixture.close()


def voter_items(*specs: tuple[ChangeOp, int]) -> list[ChangeItem]:
    return [ChangeItem(op, node) for op, node in specs]


def core(fx: AdminFixture, node: int) -> Any:
    return fx.cluster.h.cores[node]


# -- GetStatus ------------------------------------------------------------------


def test_status_of_the_leader_reports_the_cores_state_and_progress(fx: AdminFixture) -> None:
    fx.call(lambda: fx.cluster.h.propose(1, "x"))
    fx.call(lambda: fx.cluster.drive(lambda: False, max_ticks=3))
    s = fx.client(1).status()
    leader = core(fx, 1)
    assert (s.node_id, s.role, s.term, s.leader_id) == (1, Role.LEADER, leader.term, 1)
    assert s.leader_address == fx.address(1)
    assert (s.commit, s.applied, s.last_index) == (
        leader.log.committed,
        leader.log.applied,
        leader.log.last_index,
    )
    assert s.configuration == Membership((1, 2, 3))
    assert [p.node_id for p in s.progress] == [1, 2, 3]
    for p in s.progress:
        pr = leader.progress[p.node_id]
        assert (p.match, p.next, p.state, p.inflight) == (
            pr.match,
            pr.next,
            pr.state,
            len(pr.inflights),
        )
        assert p.recent_active
        assert p.state is ProgressState.REPLICATE
    assert sorted(s.members) == [1, 2, 3]
    assert s.members[2].admin == fx.address(2)
    assert s.faults == {}


def test_status_of_a_follower_names_the_leader_and_has_no_progress(fx: AdminFixture) -> None:
    s = fx.client(3).status()
    assert (s.node_id, s.role, s.leader_id, s.leader_address) == (
        3,
        Role.FOLLOWER,
        1,
        fx.address(1),
    )
    assert s.progress == ()
    assert s.commit == core(fx, 3).log.committed


# -- the controller's flow: learner, caught up, promote, remove -------------------


def test_add_learner_wait_caught_up_promote_then_remove(fx: AdminFixture) -> None:
    client = fx.client(1)
    added = client.add_learner(4, NEW[4])
    assert added.configuration == Membership((1, 2, 3), learners=(4,))
    assert core(fx, 1).log.term(added.index) == added.term
    fx.wait(lambda: client.caught_up(4, 0).caught_up)
    assert core(fx, 4).log.committed == core(fx, 1).log.committed
    promoted = client.promote(4)
    assert promoted.configuration == Membership((1, 2, 3, 4))
    assert promoted.index > added.index
    removed = client.remove_node(3)
    assert removed.configuration == Membership((1, 2, 4))
    s = client.status()
    assert s.configuration == core(fx, 1).membership == Membership((1, 2, 4))
    assert [p.node_id for p in s.progress] == [1, 2, 4]
    assert s.members[4] == NEW[4]


def test_caught_up_compares_the_learners_match_with_the_leaders_commit(fx: AdminFixture) -> None:
    client = fx.client(1)
    client.add_learner(4, NEW[4])
    fx.wait(lambda: client.caught_up(4, 0).caught_up)
    client.set_faults({4: LinkFaults(block_out=True)})
    for i in range(5):
        fx.call(lambda i=i: fx.cluster.h.propose(1, f"w{i}"))
    fx.call(lambda: fx.cluster.drive(lambda: False, max_ticks=2))
    r = client.caught_up(4, 0)
    leader = core(fx, 1)
    assert r.match == leader.progress[4].match
    assert r.commit == leader.log.committed
    assert r.lag == r.commit - r.match >= 5
    assert not r.caught_up
    assert client.caught_up(4, r.lag).caught_up == r.recent_active
    client.set_faults(heal=True)
    fx.wait(lambda: client.caught_up(4, 0).caught_up)
    assert core(fx, 4).log.committed == core(fx, 1).log.committed


def test_a_learner_not_heard_from_is_never_caught_up(fx: AdminFixture) -> None:
    client = fx.client(1)
    client.add_learner(4, NEW[4])
    fx.wait(lambda: client.caught_up(4, 0).caught_up)
    client.set_faults({4: PARTITIONED})
    fx.wait(lambda: not client.caught_up(4, 1000).recent_active)
    r = client.caught_up(4, 1000)
    assert r.lag <= 1000 and not r.caught_up


def test_removing_the_leader_applies_and_it_steps_down(fx: AdminFixture) -> None:
    client = fx.client(1)
    r = client.remove_node(1)
    assert r.configuration == Membership((2, 3))
    assert core(fx, 1).role is not Role.LEADER
    fx.wait(lambda: bool(fx.cluster.h.leaders()) and fx.cluster.h.leaders()[0] in (2, 3))
    new_leader = fx.cluster.h.leaders()[0]
    assert fx.client(new_leader).status().configuration == Membership((2, 3))


def test_the_cores_refusal_is_failed_precondition(fx: AdminFixture) -> None:
    # A configuration entry proposed straight to the core and not yet
    # delivered: the core refuses another change until it is applied.
    fx.call(lambda: fx.cluster.h.propose_conf(1, change("add_learner 5")))
    with pytest.raises(RefusedError, match="is not applied yet") as info:
        fx.client(1).remove_node(3)
    assert info.value.code == "FAILED_PRECONDITION"


# -- ChangeMembership and LeaveJoint ------------------------------------------------


def test_two_voters_at_once_go_through_joint_and_leave_automatically(fx: AdminFixture) -> None:
    client = fx.client(1)
    items = voter_items((ChangeOp.ADD_VOTER, 4), (ChangeOp.ADD_VOTER, 5))
    r = client.change_membership(items, Transition.AUTO, NEW)
    assert r.configuration == Membership(
        voters=(1, 2, 3, 4, 5), outgoing=(1, 2, 3), auto_leave=True
    )
    fx.wait(lambda: not client.status().configuration.joint)
    assert client.status().configuration == Membership((1, 2, 3, 4, 5))


def test_explicit_joint_stays_until_leave_joint(fx: AdminFixture) -> None:
    client = fx.client(1)
    items = voter_items((ChangeOp.ADD_VOTER, 4), (ChangeOp.REMOVE, 3))
    r = client.change_membership(items, Transition.JOINT_EXPLICIT, {4: NEW[4]})
    joint = Membership(voters=(1, 2, 4), outgoing=(1, 2, 3))
    assert r.configuration == joint
    fx.call(lambda: fx.cluster.drive(lambda: False, max_ticks=20))
    assert client.status().configuration == joint
    with pytest.raises(RefusedError, match="joint configuration"):
        client.remove_node(2)
    left = client.leave_joint()
    assert left.configuration == Membership((1, 2, 4))
    assert left.index > r.index
    with pytest.raises(RefusedError, match="not in a joint configuration"):
        client.leave_joint()


def test_a_demotion_in_joint_waits_in_learners_next(fx: AdminFixture) -> None:
    client = fx.client(1)
    items = voter_items((ChangeOp.ADD_LEARNER, 3), (ChangeOp.ADD_VOTER, 4))
    r = client.change_membership(items, Transition.JOINT_EXPLICIT, {4: NEW[4]})
    assert r.configuration == Membership(voters=(1, 2, 4), outgoing=(1, 2, 3), learners_next=(3,))
    assert client.leave_joint().configuration == Membership((1, 2, 4), learners=(3,))


def test_a_change_that_cannot_commit_has_an_unknown_outcome(fx: AdminFixture) -> None:
    client = fx.client(1)
    # Block every follower: the entry is appended but cannot commit.
    client.set_faults({2: PARTITIONED, 3: PARTITIONED})
    last = core(fx, 1).log.last_index
    with pytest.raises(OutcomeUnknownError, match="not applied") as info:
        client.add_learner(4, NEW[4])
    assert info.value.code == "UNAVAILABLE"
    assert core(fx, 1).log.last_index > last  # proposed, in the leader's log
    assert core(fx, 1).membership == Membership((1, 2, 3))  # never applied


# -- TransferLeader -------------------------------------------------------------------


def test_transfer_leader_moves_leadership_and_the_client_follows(fx: AdminFixture) -> None:
    client = fx.client(1)
    r = client.transfer_leader(2)
    assert r.leader_id == 2 and core(fx, 2).role is Role.LEADER
    assert r.term == core(fx, 2).term
    assert client.status().leader_id == 2  # node 1 now follows 2
    # The next leader-only call is redirected from node 1 to node 2.
    assert client.caught_up(3, 0).commit == core(fx, 2).log.committed
    assert client.address == fx.address(2)


def test_transfer_to_the_leader_itself_answers_at_once(fx: AdminFixture) -> None:
    r = fx.client(1).transfer_leader(1)
    assert (r.leader_id, r.term) == (1, core(fx, 1).term)


def test_transfer_to_a_learner_is_invalid(fx: AdminFixture) -> None:
    client = fx.client(1)
    client.add_learner(4, NEW[4])
    with pytest.raises(InvalidRequestError, match="node 4 is a learner"):
        client.transfer_leader(4)


# -- the not-leader answer ------------------------------------------------------------


def test_a_follower_answers_failed_precondition_with_the_leader(fx: AdminFixture) -> None:
    with grpc.insecure_channel(fx.address(2)) as channel:
        stub = pb_grpc.AdminStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.RemoveNode(pb.RemoveNodeRequest(node_id=3), timeout=10)
    err = info.value
    assert isinstance(err, grpc.Call)
    assert err.code() is grpc.StatusCode.FAILED_PRECONDITION
    meta = dict(err.trailing_metadata() or ())
    assert meta[META_ERROR] == "not-leader"
    assert meta[META_LEADER_ID] == "1"
    assert meta[META_LEADER_ADDRESS] == fx.address(1)
    assert core(fx, 1).membership == Membership((1, 2, 3))


def test_the_client_raises_not_leader_when_told_not_to_follow(fx: AdminFixture) -> None:
    client = fx.client(3, follow_leader=False)
    with pytest.raises(NotLeaderError) as info:
        client.promote(2)
    assert (info.value.leader_id, info.value.leader_address) == (1, fx.address(1))
    assert info.value.code == "FAILED_PRECONDITION"


def test_the_client_follows_the_leader_from_a_follower(fx: AdminFixture) -> None:
    client = fx.client(3)
    r = client.add_learner(4, NEW[4])
    assert r.configuration.learners == (4,)
    assert client.address == fx.address(1)
    assert core(fx, 1).membership.learners == (4,)


def test_not_leader_with_no_known_leader_is_raised(fx: AdminFixture) -> None:
    client = fx.client(1)
    client.add_learner(4, NEW[4])
    fx.start_server(4)
    fx.call(lambda: fx.cluster.h.isolate(4))
    fx.call(lambda: fx.cluster.h.crash(4))  # restarts knowing no leader
    with pytest.raises(NotLeaderError) as info:
        fx.client(4).promote(4)
    assert (info.value.leader_id, info.value.leader_address) == (0, "")


# -- SetFaults ------------------------------------------------------------------------


def test_set_faults_cuts_a_link_for_real_and_heal_restores_it(fx: AdminFixture) -> None:
    client = fx.client(1)
    slow = LinkFaults(drop=0.25, delay_ms=5.0, jitter_ms=2.5)
    after = client.set_faults({3: PARTITIONED, 2: slow})
    assert after == {2: slow, 3: PARTITIONED}
    assert client.status().faults == after
    before = core(fx, 3).log.committed
    fx.call(lambda: fx.cluster.h.propose(1, "w"))
    fx.call(lambda: fx.cluster.drive(lambda: False, max_ticks=3))
    assert core(fx, 1).log.committed > before == core(fx, 3).log.committed
    assert client.set_faults(heal=True) == {}
    fx.wait(lambda: core(fx, 3).log.committed == core(fx, 1).log.committed)


def test_set_faults_heal_then_set_in_one_call(fx: AdminFixture) -> None:
    client = fx.client(2)  # any node answers for its own links
    client.set_faults({1: PARTITIONED})
    after = client.set_faults({3: LinkFaults(block_in=True)}, heal=True)
    assert after == {3: LinkFaults(block_in=True)}


def _set_faults_raw(fx: AdminFixture, node: int, request: pb.SetFaultsRequest) -> grpc.Call:
    with grpc.insecure_channel(fx.address(node)) as channel, pytest.raises(grpc.RpcError) as info:
        pb_grpc.AdminStub(channel).SetFaults(request, timeout=10)
    assert isinstance(info.value, grpc.Call)
    return info.value


@pytest.mark.parametrize(
    ("faults", "heal", "message"),
    [
        ([], False, "nothing to do"),
        ([pb.PeerFaults(peer_id=0, block_in=True)], False, r"faults\[0\].peer_id is required"),
        ([pb.PeerFaults(peer_id=1, block_in=True)], False, "peer 1 is this node"),
        ([pb.PeerFaults(peer_id=9, block_in=True)], False, "node 9 is not a known peer"),
        ([pb.PeerFaults(peer_id=2, drop=1.5)], False, r"drop must be a probability"),
        ([pb.PeerFaults(peer_id=2, drop=float("nan"))], False, r"drop must be a probability"),
        ([pb.PeerFaults(peer_id=2, delay_ms=-1)], True, r"faults\[0\].delay_ms must be"),
        ([pb.PeerFaults(peer_id=2, jitter_ms=float("inf"))], False, r"jitter_ms must be"),
        (
            [pb.PeerFaults(peer_id=2, block_in=True), pb.PeerFaults(peer_id=2, drop=0.5)],
            False,
            "peer 2 appears more than once",
        ),
    ],
)
def test_set_faults_rejects_bad_requests(
    fx: AdminFixture, faults: list[pb.PeerFaults], heal: bool, message: str
) -> None:
    fx.client(1).set_faults({3: PARTITIONED})
    err = _set_faults_raw(fx, 1, pb.SetFaultsRequest(heal=heal, faults=faults))
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert re.search(message, err.details() or "")
    # Nothing was applied, not even the heal.
    assert fx.client(1).status().faults == {3: PARTITIONED}


# -- validation -----------------------------------------------------------------------

Call = Callable[[AdminClient], object]

INVALID: list[tuple[str, Call, str]] = [
    ("learner id 0", lambda c: c.add_learner(0, NEW[4]), "node_id is required"),
    ("learner exists", lambda c: c.add_learner(2, NEW[4]), "node 2 is already a voter"),
    (
        "learner address",
        lambda c: c.add_learner(4, NodeAddress("nohost", "127.0.0.1:1")),
        r"address of node 4.peer must be host:port",
    ),
    (
        "learner port",
        lambda c: c.add_learner(4, NodeAddress("127.0.0.1:1", "127.0.0.1:99999")),
        r"admin must be host:port",
    ),
    ("promote voter", lambda c: c.promote(2), "node 2 is a voter, not a learner"),
    ("promote unknown", lambda c: c.promote(9), "node 9 is not a member, not a learner"),
    ("remove unknown", lambda c: c.remove_node(9), "node 9 is not a member, nothing to remove"),
    ("empty changes", lambda c: c.change_membership([]), "changes is empty"),
    (
        "duplicate node",
        lambda c: c.change_membership(
            voter_items((ChangeOp.ADD_VOTER, 4), (ChangeOp.REMOVE, 4)), addresses=NEW
        ),
        r"changes\[1\]: node 4 appears in more than one change",
    ),
    (
        "new without address",
        lambda c: c.change_membership(voter_items((ChangeOp.ADD_VOTER, 4))),
        r"node 4 is new; its address \(peer and admin\) is required",
    ),
    (
        "member with address",
        lambda c: c.change_membership(
            voter_items((ChangeOp.ADD_LEARNER, 2)), addresses={2: NEW[4]}
        ),
        "node 2 is already a member; give no address",
    ),
    (
        "no-op voter",
        lambda c: c.change_membership(voter_items((ChangeOp.ADD_VOTER, 3))),
        "node 3 is already a voter",
    ),
    (
        "every voter removed",
        lambda c: c.change_membership(
            voter_items((ChangeOp.REMOVE, 1), (ChangeOp.REMOVE, 2), (ChangeOp.REMOVE, 3))
        ),
        "impossible: the change would remove every voter",
    ),
    ("negative lag", lambda c: c.caught_up(2, -1), "max_lag must be >= 0"),
    ("caught up unknown", lambda c: c.caught_up(9, 0), "node 9 is not a member"),
    ("caught up id 0", lambda c: c.caught_up(0, 0), "node_id is required"),
    ("transfer unknown", lambda c: c.transfer_leader(9), "node 9 is not a member"),
    ("transfer id 0", lambda c: c.transfer_leader(0), "target_id is required"),
]


@pytest.mark.parametrize(("call", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_requests_are_rejected_with_a_message(
    fx: AdminFixture, call: Call, message: str
) -> None:
    client = fx.client(1)
    before = core(fx, 1).log.last_index
    with pytest.raises(InvalidRequestError, match=message) as info:
        call(client)
    assert info.value.code == "INVALID_ARGUMENT"
    assert core(fx, 1).log.last_index == before  # nothing was proposed
    assert core(fx, 1).membership == Membership((1, 2, 3))


def _change_raw(fx: AdminFixture, request: pb.ChangeMembershipRequest) -> grpc.Call:
    with grpc.insecure_channel(fx.address(1)) as channel, pytest.raises(grpc.RpcError) as info:
        pb_grpc.AdminStub(channel).ChangeMembership(request, timeout=10)
    assert isinstance(info.value, grpc.Call)
    return info.value


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (pb.ChangeMembershipRequest(changes=[pb.ChangeItem(node_id=4)]), r"op is required"),
        (
            pb.ChangeMembershipRequest(
                changes=[pb.ChangeItem(op=pb.CHANGE_OP_REMOVE, node_id=3)], transition=7
            ),
            "unknown transition 7",
        ),
        (
            pb.ChangeMembershipRequest(
                changes=[
                    pb.ChangeItem(
                        op=pb.CHANGE_OP_REMOVE, node_id=3, address=pb.NodeAddress(peer="a:1")
                    )
                ]
            ),
            "a removal takes no address",
        ),
        (
            pb.ChangeMembershipRequest(changes=[pb.ChangeItem(op=pb.CHANGE_OP_ADD_VOTER)]),
            r"changes\[0\].node_id is required",
        ),
    ],
)
def test_malformed_change_items_are_invalid(
    fx: AdminFixture, request_: pb.ChangeMembershipRequest, message: str
) -> None:
    err = _change_raw(fx, request_)
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert re.search(message, err.details() or "")


def test_add_learner_without_address_is_invalid(fx: AdminFixture) -> None:
    with grpc.insecure_channel(fx.address(1)) as channel, pytest.raises(grpc.RpcError) as info:
        pb_grpc.AdminStub(channel).AddLearner(pb.AddLearnerRequest(node_id=4), timeout=10)
    err = info.value
    assert isinstance(err, grpc.Call)
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "address is required" in (err.details() or "")


def test_validation_comes_before_the_leader_check(fx: AdminFixture) -> None:
    """A malformed request gets the same answer from every node."""
    client = fx.client(2, follow_leader=False)
    with pytest.raises(InvalidRequestError, match="max_lag"):
        client.caught_up(3, -5)
    with pytest.raises(InvalidRequestError, match="appears in more than one change"):
        client.change_membership(voter_items((ChangeOp.REMOVE, 3), (ChangeOp.ADD_LEARNER, 3)))
    with pytest.raises(InvalidRequestError, match="must be host:port"):
        client.add_learner(4, NodeAddress("127.0.0.1:1", "nowhere"))
    with pytest.raises(NotLeaderError):
        client.caught_up(3, 5)


def test_an_unreachable_node_is_an_admin_error(fx: AdminFixture) -> None:
    server = fx.servers.pop(3)
    fx.run(server.stop(None))
    with pytest.raises(AdminError) as info:
        fx.client(3, timeout=5).status()
    assert info.value.code == "UNAVAILABLE"
    assert fx.address(3) in info.value.message
