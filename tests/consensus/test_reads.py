"""Linearizable reads (thesis 6.4): ReadIndex, and leases only with
CheckQuorum."""

from __future__ import annotations

import pytest

from consensus import (
    CoreMisuse,
    DurableState,
    Effect,
    Heartbeat,
    Membership,
    RaftConfig,
    RaftCore,
    ReadMode,
    ReadReady,
    ReadRefused,
)
from tests.harness import Harness

E = 10
LEASE = RaftConfig(election_ticks=E, read_mode=ReadMode.LEASE)


def ready(effects: list[Effect]) -> list[tuple[int, int]]:
    return [(e.ctx, e.index) for e in effects if isinstance(e, ReadReady)]


def all_ready(h: Harness, node: int) -> list[tuple[int, int]]:
    return [(e.ctx, e.index) for who, e in h.events if who == node and isinstance(e, ReadReady)]


def all_refused(h: Harness, node: int) -> list[ReadRefused]:
    return [e for who, e in h.events if who == node and isinstance(e, ReadRefused)]


def stable(config: RaftConfig | None = None, **kw: object) -> Harness:
    h = Harness(config=config, **kw)  # type: ignore[arg-type]
    h.elect(1)
    h.stabilize()
    return h


def test_followers_refuse_reads_and_name_the_leader() -> None:
    h = stable()
    effects = h.read(2, 7)
    assert [e for e in effects if isinstance(e, ReadRefused)] == [
        ReadRefused(7, "not the leader", 1)
    ]


def test_read_index_waits_for_a_heartbeat_quorum() -> None:
    h = stable()
    commit = h.cores[1].log.committed
    effects = h.read(1, 1)
    assert ready(effects) == []
    assert {m.dst for m in h.mailbox if isinstance(m, Heartbeat)} == {2, 3}
    h.deliver()  # heartbeats out
    h.deliver(1)  # the first answer makes a quorum with the leader itself
    assert all_ready(h, 1) == [(1, commit)]


def test_read_index_without_a_quorum_never_completes() -> None:
    h = stable()
    h.isolate(1)
    h.read(1, 1)
    for _ in range(E - 1):
        h.tick(1)
        h.stabilize()
    assert all_ready(h, 1) == []
    h.heal()
    h.tick(1)
    h.stabilize()
    assert [ctx for ctx, _ in all_ready(h, 1)] == [1]


def test_read_index_is_the_commit_index_at_request_time() -> None:
    h = stable()
    h.read(1, 1)
    index = h.cores[1].log.committed
    h.propose(1, "w")  # commits before the heartbeat round completes
    h.stabilize()
    assert all_ready(h, 1) == [(1, index)]


def test_read_index_waits_for_an_entry_of_the_leaders_term() -> None:
    """A new leader does not know the commit index until its no-op commits."""
    h = Harness()
    h.campaign(1)
    while h.cores[1].role.value != "leader":
        h.deliver(1)
    assert ready(h.read(1, 5)) == []
    assert not [m for m in h.mailbox if isinstance(m, Heartbeat)]  # not even a round yet
    h.stabilize()
    assert all_ready(h, 1) == [(5, h.cores[1].log.committed)]
    assert h.cores[1].log.term(h.cores[1].log.committed) == 1


def test_pending_reads_are_refused_when_leadership_is_lost() -> None:
    h = stable()
    h.isolate(1)
    h.read(1, 1)
    h.read(1, 2)
    while h.leaders() == [1]:
        h.tick(1)
    assert [(e.ctx, e.reason) for e in all_refused(h, 1)] == [
        (1, "leadership lost"),
        (2, "leadership lost"),
    ]


def test_a_single_node_answers_at_once() -> None:
    h = Harness(voters=(1,))
    h.campaign(1)
    assert ready(h.read(1, 3)) == [(3, h.cores[1].log.committed)]


def test_joint_reads_need_both_majorities() -> None:
    joint = Membership(voters=(1, 4, 5), outgoing=(1, 2, 3))
    h = Harness(membership=joint)
    h.elect(1)
    h.stabilize()
    h.cut(1, 4)
    h.cut(1, 5)
    h.read(1, 1)
    h.stabilize()
    assert all_ready(h, 1) == []
    h.heal()
    h.tick(1)
    h.stabilize()
    assert [ctx for ctx, _ in all_ready(h, 1)] == [1]


# -- leases ---------------------------------------------------------------------------


def test_lease_reads_need_check_quorum() -> None:
    with pytest.raises(CoreMisuse, match="check_quorum"):
        RaftConfig(read_mode=ReadMode.LEASE, check_quorum=False).validate()
    with pytest.raises(CoreMisuse, match="check_quorum"):
        RaftCore(
            1,
            RaftConfig(read_mode=ReadMode.LEASE, check_quorum=False),
            1,
            DurableState.bootstrap(Membership((1,))),
        )
    with pytest.raises(CoreMisuse, match="check_quorum"):
        RaftConfig.from_json({"read_mode": "lease", "check_quorum": False})


@pytest.mark.parametrize(
    "obj",
    [
        {"election_ticks": 0},
        {"heartbeat_ticks": 10, "election_ticks": 10},
        {"lease_margin_ticks": 10},
        {"no_such_option": 1},
    ],
)
def test_config_validation(obj: dict[str, object]) -> None:
    with pytest.raises(CoreMisuse):
        RaftConfig.from_json(obj)


def test_config_json_round_trip() -> None:
    assert RaftConfig.from_json(LEASE.to_json()) == LEASE


def test_lease_read_is_served_locally_while_the_lease_holds() -> None:
    h = stable(LEASE)
    h.tick(1)
    h.stabilize()  # a confirmed heartbeat round starts the lease
    lease_until = h.cores[1].lease_until
    assert lease_until == h.now[1] + E - LEASE.lease_margin_ticks  # sent now
    h.mailbox.clear()
    assert ready(h.read(1, 1)) == [(1, h.cores[1].log.committed)]
    assert h.mailbox == []  # no round trip
    assert h.notes_of("lease_read", 1)


def test_lease_read_falls_back_to_read_index_after_expiry() -> None:
    h = stable(LEASE)
    h.tick(1)
    h.stabilize()
    h.isolate(1)
    h.tick(1, h.cores[1].lease_until - h.now[1])
    assert ready(h.read(1, 1)) == []  # lease over: needs a quorum round
    assert any(isinstance(m, Heartbeat) for m in h.sent(1)[-2:])


def test_no_lease_reads_during_a_transfer() -> None:
    h = stable(LEASE)
    h.tick(1)
    h.stabilize()
    h.cut(1, 3)
    h.transfer(1, 3)
    assert ready(h.read(1, 1)) == []


def test_followers_in_lease_refuse_to_elect_a_new_leader() -> None:
    """What makes the lease safe: a quorum that acknowledged the leader's
    heartbeat ignores vote requests for an election timeout, so no other
    leader can commit (and serve) anything newer while the lease holds."""
    h = stable(LEASE)
    h.tick(1)
    h.stabilize()
    h.isolate(1)
    h.campaign(2)
    h.stabilize()
    assert h.leaders() == [1]
    assert h.cores[1].lease_until <= h.now[1] + E


def test_a_restarted_follower_does_not_break_the_lease() -> None:
    """Bug found by this suite: a follower that acknowledged the leader's
    heartbeat, crashed and restarted came back with no leader and granted
    votes at once, so another node could be elected (and commit writes)
    while the old leader still served lease reads. A restarted node now
    ignores vote requests for an election timeout, as if it had just heard
    from a leader (thesis 4.2.3 and 6.4.1)."""
    h = stable(LEASE)
    h.cut(1, 3)
    while h.cores[3].next_deadline() > h.now[3] + 1:  # 3 is about to time out
        h.tick_all()
        h.stabilize()
    assert h.cores[1].lease_until > h.now[1]
    h.crash(2)
    h.cut(1, 2)  # the leader cannot renew its lease any more...
    for _ in range(3 * E):
        h.tick_all()
        h.stabilize()
        old = h.cores[1]
        if old.role.value == "leader" and old.now < old.lease_until:
            # ...but while it holds, no one else may lead.
            assert h.leaders() == [1], f"leader {h.leaders()} during 1's lease"
    assert set(h.leaders()) & {2, 3}  # and afterwards the cluster moves on
