"""Persistence before send, crashes and restarts.

The I/O contract (effects.py, like etcd-io/raft's Ready): a message that
depends on a new term, vote or entries is released only once the write is
acknowledged with ``Persisted``. So a crash can lose unacknowledged writes,
but never anything another node was told.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensus import (
    AppendRequest,
    AppendResponse,
    CoreMisuse,
    DurableState,
    Entry,
    HardState,
    InstallSnapshot,
    Membership,
    Message,
    Persist,
    Persisted,
    RaftConfig,
    RaftCore,
    Receive,
    Role,
    Send,
    Snapshot,
    TimeoutNow,
    VoteRequest,
    VoteResponse,
)
from consensus.storage import MemoryStorage
from tests.harness import Harness

E = 10


def durable_term(storage: MemoryStorage, index: int) -> int | None:
    snap = storage.snapshot
    if index == snap.index:
        return snap.term
    offset = index - snap.index
    if 0 < offset <= len(storage.entries):
        return storage.entries[offset - 1].term
    return None


def check_send(h: Harness, node: int, msg: Message) -> None:
    """The message claims nothing the sender's disk does not hold."""
    disk = h.storage[node]
    hs = disk.hard_state
    core = h.cores[node]
    hypothetical = (isinstance(msg, VoteRequest) and msg.pre) or (
        isinstance(msg, VoteResponse) and msg.pre and msg.granted
    )
    if not hypothetical:
        assert msg.term <= hs.term, f"{msg} sent before term {msg.term} was durable"
    if isinstance(msg, VoteResponse) and msg.granted and not msg.pre:
        assert hs.term > msg.term or hs.vote == msg.dst, f"{msg} sent before the vote was durable"
    if isinstance(msg, VoteRequest) and not msg.pre:
        assert hs.term > msg.term or hs.vote == node, f"{msg} before the self-vote was durable"
    if isinstance(msg, AppendResponse) and msg.success and core.term == msg.term:
        assert durable_term(disk, msg.index) == core.log.term(msg.index), (
            f"{msg} acknowledges entries that are not durable"
        )


def checked(**kw: object) -> Harness:
    h = Harness(auto_persist=False, **kw)  # type: ignore[arg-type]
    h.on_send = lambda node, msg: check_send(h, node, msg)
    return h


def flush_all(h: Harness) -> None:
    for node in sorted(h.cores):
        h.flush(node)


def settle(h: Harness) -> None:
    while h.mailbox or any(h.pending_writes.values()):
        flush_all(h)
        h.deliver()


# -- persist before send -----------------------------------------------------------------


def test_candidate_sends_vote_requests_only_after_persisting_its_vote() -> None:
    h = checked(config=RaftConfig(pre_vote=False))
    effects = h.campaign(1)
    assert not [e for e in effects if isinstance(e, Send)]
    assert [e.hard_state for e in effects if isinstance(e, Persist)] == [HardState(1, 1, 1)]
    assert h.mailbox == []
    h.flush(1)
    assert {m.dst for m in h.mailbox if isinstance(m, VoteRequest)} == {2, 3}


def test_voter_answers_only_after_persisting_its_vote() -> None:
    h = checked(config=RaftConfig(pre_vote=False))
    h.campaign(1)
    h.flush(1)
    h.deliver()
    assert h.mailbox == []
    h.flush(2)
    assert [type(m) for m in h.mailbox] == [VoteResponse]
    assert h.storage[2].hard_state.vote == 1


def test_follower_acknowledges_entries_only_after_persisting_them() -> None:
    h = checked()
    h.campaign(1)
    settle(h)
    assert h.cores[1].role is Role.LEADER
    h.propose(1, "x")
    h.flush(1)
    h.deliver()  # the append reaches 2 and 3
    assert not [m for m in h.mailbox if isinstance(m, AppendResponse)]
    h.flush(2)
    acks = [m for m in h.mailbox if isinstance(m, AppendResponse)]
    assert [(m.src, m.index) for m in acks] == [(2, h.cores[1].log.last_index)]


def test_leader_counts_its_own_entries_only_once_persisted() -> None:
    h = checked(voters=(1,))
    h.campaign(1)
    h.flush(1)
    assert h.cores[1].role is Role.LEADER
    committed = h.cores[1].log.committed
    h.propose(1, "x")
    assert h.cores[1].log.committed == committed
    h.flush(1)
    assert h.cores[1].log.committed == committed + 1
    assert h.data_applied(1) == ["x"]


@pytest.mark.parametrize("in_flight", [2, 3, 5])
def test_leader_counts_only_the_persisted_prefix_of_several_writes(in_flight: int) -> None:
    """With several writes in flight, each ``Persisted`` makes exactly one
    more entry count: a leader that counted a later, not yet durable write
    (its planned or last index) would commit, apply and acknowledge an entry
    a crash can still lose. A single voter shows it, since only its own
    progress counts; with followers, appends are held until the leader's
    write is durable, which hides the mistake."""
    h = checked(voters=(1,))
    h.campaign(1)
    h.flush(1)
    leader = h.cores[1]
    base = leader.log.committed
    for i in range(in_flight):
        h.propose(1, f"w{i}")
    assert len(h.pending_writes[1]) == in_flight
    assert leader.log.committed == base
    for done in range(1, in_flight + 1):
        h.flush(1, count=1)
        assert h.storage[1].last_index == base + done
        assert leader.log.committed == base + done, f"after {done} of {in_flight} writes"
        assert h.data_applied(1) == [f"w{i}" for i in range(done)]
    h.propose(1, "kept")
    h.propose(1, "lost")
    h.flush(1, count=1)
    assert leader.log.committed == base + in_flight + 1
    h.crash(1)  # the second write never lands, and nothing past the disk was committed
    assert h.cores[1].log.last_index == base + in_flight + 1


def test_held_messages_are_released_in_order() -> None:
    h = checked()
    h.campaign(1)
    settle(h)
    for x in "abc":
        h.propose(1, x)
    assert h.mailbox == []
    h.flush(1, count=1)
    first = list(h.mailbox)
    h.flush(1)
    later = h.mailbox[len(first) :]
    assert first and later
    assert max(m.entries[-1].index for m in first if isinstance(m, AppendRequest)) < max(
        m.entries[-1].index for m in later if isinstance(m, AppendRequest) and m.entries
    )


def test_persisted_beyond_the_last_write_is_misuse() -> None:
    h = checked()
    with pytest.raises(CoreMisuse, match=r"Persisted\(1\)"):
        h.cores[1].step(0, Persisted(1))


# -- crashes and restarts ------------------------------------------------------------------


def test_crash_before_persisted_loses_only_unacknowledged_entries() -> None:
    h = checked()
    h.campaign(1)
    settle(h)
    h.propose(1, "x")
    index = h.cores[1].log.last_index
    h.flush(1)
    h.deliver()
    h.flush(3)  # 3 makes it durable and acknowledges; 2 does not
    h.crash(2)  # 2 loses the entry, and with it the acknowledgement it never sent
    assert h.storage[2].durable().entries[-1].index < index
    settle(h)
    assert h.cores[1].log.committed == index  # committed thanks to 1 and 3
    h.tick(1)
    settle(h)
    assert h.data_applied(2) == h.data_applied(3) == ["x"]  # re-replicated to 2


def test_restart_keeps_term_vote_and_log() -> None:
    h = Harness(config=RaftConfig(pre_vote=False))
    h.elect(1)
    h.propose(1, "x")
    h.stabilize()
    before = h.cores[2]
    restarted = h.crash(2)
    assert (restarted.term, restarted.vote) == (before.term, before.vote) == (1, 1)
    assert restarted.log.last_index == before.log.last_index
    assert restarted.log.hash_at(restarted.log.last_index) == before.log.hash_at(
        before.log.last_index
    )
    h.tick(1)
    h.stabilize()
    assert h.data_applied(2) == ["x"]  # re-applied from the log


def test_restart_never_votes_twice_in_a_term() -> None:
    h = Harness(config=RaftConfig(pre_vote=False, check_quorum=False))
    h.campaign(1)
    h.deliver()  # 2 and 3 vote for 1 in term 1
    h.crash(2)
    h.mailbox.clear()
    h.step(2, Receive(VoteRequest(1, 3, 2, 9, 9)))
    assert [m.granted for m in h.mailbox if isinstance(m, VoteResponse)] == [False]


def test_storage_write_semantics() -> None:
    m = Membership((1, 2, 3))
    disk = MemoryStorage(DurableState.bootstrap(m))
    e = [Entry(i, 1, f"e{i}") for i in range(2, 7)]
    disk.write(Persist(1, HardState(1, 0, 1), tuple(e)))
    assert disk.last_index == 6
    disk.write(Persist(2, HardState(2, 0, 1), (Entry(4, 2, "new"),)))  # truncates 4..6
    assert [(x.index, x.term) for x in disk.entries] == [(2, 1), (3, 1), (4, 2)]
    disk.write(Persist(3, HardState(2, 0, 3), snapshot=Snapshot(3, 1, m, "s")))  # keeps 4
    assert disk.snapshot.index == 3 and [x.index for x in disk.entries] == [4]
    disk.write(Persist(4, HardState(2, 0, 3), snapshot=Snapshot(9, 3, m, "t")))  # no match
    assert disk.entries == [] and disk.last_index == 9
    disk.write(Persist(5, HardState(3, 1, 9), snapshot=Snapshot(5, 1, m)))  # older: ignored
    assert disk.snapshot.index == 9 and disk.hard_state == HardState(3, 1, 9)


# -- randomized: nothing acknowledged is ever lost ------------------------------------------

# Mostly deliveries and writes (one at a time, or a whole round), so that
# elections and commits happen; some ticks and proposals; rare drops,
# crashes and forced campaigns.
OPS = ["deliver"] * 5 + ["flush"] * 4 + ["round"] * 3 + ["tick"] * 3 + ["propose"] * 3 + [
    "drop", "crash", "campaign",
]  # fmt: skip
op = st.tuples(st.sampled_from(OPS), st.integers(0, 60))


def run_schedule(h: Harness, ops: list[tuple[str, int]]) -> None:
    proposals = 0
    for kind, arg in ops:
        node = 1 + arg % 3
        if kind == "tick":
            h.tick(node, 1 + arg % 3)
        elif kind == "deliver" and h.mailbox:
            h.receive(h.mailbox.pop(arg % len(h.mailbox)))
        elif kind == "drop" and h.mailbox:
            h.mailbox.pop(arg % len(h.mailbox))
        elif kind == "flush":
            h.flush(node, count=None if arg % 2 else 1)
        elif kind == "propose":
            proposals += 1
            h.propose(node, f"p{proposals}")
        elif kind == "crash":
            h.crash(node)
        elif kind == "campaign":
            h.campaign(node)
        elif kind == "round":  # every write lands, every queued message arrives
            flush_all(h)
            h.deliver()
        committed_is_durable_on_a_majority(h)


def committed_is_durable_on_a_majority(h: Harness) -> None:
    best = max(h.cores.values(), key=lambda c: c.log.committed)
    for index in range(2, best.log.committed + 1):
        term = best.log.term(index)
        holders = [n for n in h.storage if durable_term(h.storage[n], index) == term]
        assert len(holders) >= 2, f"committed entry {index} is durable only on {holders}"


@settings(max_examples=60)
@given(ops=st.lists(op, min_size=60, max_size=150))
def test_random_schedules_never_lose_acknowledged_state(ops: list[tuple[str, int]]) -> None:
    h = checked(config=RaftConfig(election_ticks=4, heartbeat_ticks=1))
    run_schedule(h, ops)


def test_snapshot_install_forgets_older_unacknowledged_writes() -> None:
    """Bug found by this suite: installing a snapshot clamped the persisted
    index but not the writes still in flight, so when an older write (of
    entries the snapshot replaced) was acknowledged first, the node believed
    entries past its log were durable, and as a new leader (a transfer makes
    it campaign at once) counted itself for entries it had not persisted."""
    m = Membership((1, 2, 3))
    core = RaftCore(2, RaftConfig(), 1, DurableState.bootstrap(m))
    old = tuple(Entry(i, 1) for i in range(2, 21))
    first = core.step(0, Receive(AppendRequest(1, 1, 2, 1, 0, old, 1)))
    (write_old,) = [e for e in first if isinstance(e, Persist)]
    snap = Snapshot(10, 2, m, "[]")
    second = core.step(0, Receive(InstallSnapshot(2, 3, 2, snap)))
    assert [e for e in second if isinstance(e, Persist)]  # the snapshot write, unacknowledged
    core.step(0, Persisted(write_old.id))  # the older write lands first
    assert core.log.last_index == 10
    assert core.persisted_index <= core.log.last_index
    # Now as leader (votes arrive before the snapshot write is durable): its
    # own progress may only count what is durable.
    core.step(0, Receive(TimeoutNow(2, 3, 2)))
    for voter in (1, 3):
        core.step(0, Receive(VoteResponse(3, voter, 2, True)))
    assert core.role is Role.LEADER
    assert core.progress[2].match <= core.log.last_index
