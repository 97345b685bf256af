"""Log compaction and InstallSnapshot (paper section 7)."""

from __future__ import annotations

import json

import pytest

from consensus import (
    AppendRequest,
    Applied,
    ApplyEntries,
    Compact,
    CoreMisuse,
    DurableState,
    Entry,
    InstallSnapshot,
    Membership,
    Persist,
    Persisted,
    RaftConfig,
    RaftCore,
    Receive,
    RestoreSnapshot,
    Snapshot,
)
from consensus.progress import ProgressState
from tests.harness import Harness, change

E = 10


def with_history(n: int = 5) -> Harness:
    h = Harness()
    h.elect(1)
    for i in range(n):
        h.propose(1, f"v{i}")
    h.stabilize()
    return h


def test_compaction_drops_the_prefix_and_persists_the_snapshot() -> None:
    h = with_history()
    core = h.cores[1]
    applied = core.log.applied
    effects = h.compact(1)
    snap = core.log.snapshot
    assert (snap.index, snap.term) == (applied, 1)
    assert core.log.entries == []
    assert json.loads(snap.data) == [f"v{i}" for i in range(5)]
    assert snap.membership == core.membership
    writes = [e for e in effects if isinstance(e, Persist)]
    assert writes and writes[0].snapshot == snap
    assert h.storage[1].snapshot == snap and h.storage[1].entries == []


def test_compact_must_be_at_the_applied_index() -> None:
    h = with_history()
    core = h.cores[1]
    with pytest.raises(CoreMisuse):
        core.step(h.now[1], Compact(core.log.applied - 1, "[]"))


def test_compacting_twice_at_the_same_index_is_a_no_op() -> None:
    h = with_history()
    h.compact(1)
    effects = h.compact(1)
    assert not [e for e in effects if isinstance(e, Persist)]


def lagging_behind_a_snapshot() -> Harness:
    h = Harness()
    h.elect(1)
    h.cut(1, 3)
    for i in range(5):
        h.propose(1, f"v{i}")
    h.stabilize()
    h.compact(1)
    h.heal()
    return h


def test_lagging_follower_catches_up_from_a_snapshot() -> None:
    h = lagging_behind_a_snapshot()
    h.tick(1)
    h.stabilize()
    assert h.notes_of("snapshot_send", 1)
    assert h.notes_of("snapshot_install", 3)
    assert h.data_applied(3) == [f"v{i}" for i in range(5)]
    assert h.cores[1].progress[3].state is ProgressState.REPLICATE
    h.propose(1, "after")
    h.stabilize()
    assert h.data_applied(3)[-1] == "after"
    assert h.storage[3].snapshot == h.cores[1].log.snapshot


def test_the_follower_restores_its_state_machine_from_the_snapshot() -> None:
    h = lagging_behind_a_snapshot()
    h.tick(1)
    h.stabilize()
    restores = [e for who, e in h.events if who == 3 and isinstance(e, RestoreSnapshot)]
    assert len(restores) == 1 and restores[0].snapshot.index == h.cores[1].log.snapshot.index


def test_a_lost_snapshot_is_sent_again() -> None:
    """Bug found by this suite: a lost InstallSnapshot left the follower in
    the snapshot state forever (nothing ever retried it)."""
    h = lagging_behind_a_snapshot()
    dropped = 0
    for _ in range(3 * E):
        h.tick_all()
        while h.mailbox:
            if not dropped:
                dropped = h.drop_where(lambda m: isinstance(m, InstallSnapshot))
            h.deliver()
        if h.data_applied(3) == h.data_applied(1):
            break
    assert dropped == 1
    assert h.data_applied(3) == [f"v{i}" for i in range(5)]
    assert len(h.notes_of("snapshot_send", 1)) == 2


def test_a_slow_snapshot_is_not_resent_within_an_election_timeout() -> None:
    h = lagging_behind_a_snapshot()
    h.tick(1)
    while not any(isinstance(m, InstallSnapshot) for m in h.mailbox):
        h.deliver()
    slow = [m for m in h.mailbox if isinstance(m, InstallSnapshot)]
    h.drop_where(lambda m: isinstance(m, InstallSnapshot))
    for _ in range(E - 1):
        h.tick_all()
        h.stabilize()
    assert len(h.notes_of("snapshot_send", 1)) == 1
    h.receive(slow[0])  # arrives late but within the timeout
    h.stabilize()
    assert h.data_applied(3) == [f"v{i}" for i in range(5)]
    assert len(h.notes_of("snapshot_send", 1)) == 1


def test_an_old_snapshot_is_acknowledged_but_not_installed() -> None:
    h = with_history()
    follower = h.cores[2]
    committed = follower.log.committed
    old = Snapshot(2, 1, Membership((1, 2, 3)), "[]")
    h.step(2, Receive(InstallSnapshot(1, 1, 2, old)))
    assert follower.log.committed == committed and follower.log.snapshot.index == 1
    assert not h.notes_of("snapshot_install", 2)


def test_a_snapshot_matching_the_log_only_advances_commit() -> None:
    h = Harness()
    h.elect(1)
    h.propose(1, "a")
    h.deliver_where(lambda m: m.src == 1)  # 2 holds the entry, no commit yet
    h.mailbox.clear()
    follower = h.cores[2]
    index = follower.log.last_index
    snap = Snapshot(index, 1, Membership((1, 2, 3)), json.dumps(["a"]))
    h.step(2, Receive(InstallSnapshot(1, 1, 2, snap)))
    assert follower.log.committed == index
    assert follower.log.snapshot.index == 1  # no restore: the log already has it
    assert h.data_applied(2) == ["a"]


def test_a_snapshot_carries_the_membership() -> None:
    h = Harness()
    h.elect(1)
    h.propose_conf(1, change("add_learner 4"))
    h.stabilize()
    h.propose(1, "x")
    h.stabilize()
    h.compact(1)
    h.add_node(4)
    h.tick(1)
    h.stabilize()
    assert h.cores[4].membership == Membership((1, 2, 3), learners=(4,))
    assert h.data_applied(4) == ["x"]


def test_restart_after_compaction_rebuilds_from_the_snapshot() -> None:
    h = with_history()
    h.compact(2)
    h.propose(1, "later")
    h.stabilize()
    before = h.cores[2].log.hash_at(h.cores[2].log.last_index)
    h.crash(2)
    core = h.cores[2]
    assert core.log.snapshot == h.storage[2].snapshot
    assert core.log.hash_at(core.log.last_index) == before
    h.tick(1)
    h.stabilize()
    assert h.data_applied(2) == [*[f"v{i}" for i in range(5)], "later"]


def test_a_late_applied_ack_after_a_snapshot_install_is_ignored() -> None:
    """An asynchronous state machine may acknowledge entries that a snapshot
    install has meanwhile replaced; the core must not treat that as misuse."""
    voters = Membership((1, 2, 3))
    core = RaftCore(2, RaftConfig(), 1, DurableState.bootstrap(voters))
    entries = (Entry(2, 1, "a"), Entry(3, 1, "b"))
    effects = core.step(1, Receive(AppendRequest(1, 1, 2, 1, 0, entries, 3)))
    assert [e for e in effects if isinstance(e, ApplyEntries)]
    for effect in effects:
        if isinstance(effect, Persist):
            core.step(1, Persisted(effect.id))
    snap = Snapshot(10, 1, voters, json.dumps([]), 0)
    effects = core.step(2, Receive(InstallSnapshot(1, 1, 2, snap)))
    assert [e for e in effects if isinstance(e, RestoreSnapshot)]
    assert core.step(3, Applied(3)) == []
    assert core.log.applied == 10
    with pytest.raises(CoreMisuse):
        core.step(3, Applied(11))
