"""Fuzzing the core.

1. Only documented errors escape ``step`` (h11's rule): random sequences of
   valid driver inputs mixed with random, garbage-but-well-typed peer
   messages raise nothing but ``PeerError``; ``CoreMisuse`` comes only from
   the driver misuse provoked on purpose below.
2. A cluster under random delivery, loss, duplication, reordering,
   partitions, crashes, membership changes, transfers and compaction keeps
   the safety properties of the paper's Figure 3: election safety, log
   matching, leader completeness and state machine safety.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensus import (
    AppendRequest,
    AppendResponse,
    Applied,
    ApplyEntries,
    Campaign,
    ChangeItem,
    ChangeOp,
    Compact,
    ConfChange,
    CoreMisuse,
    DurableState,
    Effect,
    Entry,
    HardState,
    Heartbeat,
    HeartbeatResponse,
    Input,
    InstallSnapshot,
    Membership,
    Message,
    PeerError,
    Persist,
    Persisted,
    Propose,
    ProposeConfChange,
    RaftConfig,
    RaftCore,
    ReadIndex,
    Receive,
    Role,
    Snapshot,
    Tick,
    TimeoutNow,
    TransferLeader,
    Transition,
    VoteRequest,
    VoteResponse,
)
from tests.harness import Harness

# -- strategies for well-typed garbage ---------------------------------------------------

ids = st.integers(-1, 5)
terms = st.integers(-1, 7)
indexes = st.integers(-1, 14)

changes = st.builds(
    ConfChange,
    st.lists(st.builds(ChangeItem, st.sampled_from(list(ChangeOp)), ids), max_size=3).map(tuple),
    st.sampled_from(list(Transition)),
)
entries_free = st.lists(
    st.builds(Entry, indexes, terms, st.text(max_size=3), st.none() | changes), max_size=4
).map(tuple)


@st.composite
def entries_chained(
    draw: st.DrawFn, prev_index: int, prev_term: int, term: int
) -> tuple[Entry, ...]:
    """Entries that pass the sanity checks (consecutive, terms rising)."""
    out, t = [], max(prev_term, 0)
    for i in range(draw(st.integers(0, 4))):
        t = draw(st.integers(t, max(t, term)))
        out.append(
            Entry(prev_index + 1 + i, t, draw(st.text(max_size=2)), draw(st.none() | changes))
        )
    return tuple(out)


@st.composite
def appends(draw: st.DrawFn, dst: int) -> AppendRequest:
    term, prev_index, prev_term = draw(terms), draw(indexes), draw(terms)
    ents = draw(entries_chained(prev_index, prev_term, term) | entries_free)
    return AppendRequest(term, draw(ids), dst, prev_index, prev_term, ents, draw(indexes))


memberships = st.builds(
    Membership,
    st.lists(ids, max_size=4).map(lambda x: tuple(sorted(set(x)))),
    st.lists(ids, max_size=3).map(lambda x: tuple(sorted(set(x)))),
    st.lists(ids, max_size=2).map(lambda x: tuple(sorted(set(x)))),
    st.lists(ids, max_size=2).map(lambda x: tuple(sorted(set(x)))) | st.just(()),
    st.booleans(),
) | st.lists(ids, max_size=4).map(tuple).map(Membership)  # unsorted too


def messages(dst: int) -> st.SearchStrategy[Message]:
    d = st.just(dst) | ids
    return st.one_of(
        st.builds(VoteRequest, terms, ids, d, indexes, terms, st.booleans(), st.booleans()),
        st.builds(VoteResponse, terms, ids, d, st.booleans(), st.booleans()),
        appends(dst),
        st.builds(AppendResponse, terms, ids, d, st.booleans(), indexes, indexes, terms),
        st.builds(Heartbeat, terms, ids, d, indexes, st.integers(-1, 20)),
        st.builds(HeartbeatResponse, terms, ids, d, st.integers(-1, 20)),
        st.builds(
            InstallSnapshot,
            terms,
            ids,
            d,
            st.builds(Snapshot, indexes, terms, memberships, st.just("[]"), st.integers(0, 9)),
        ),
        st.builds(TimeoutNow, terms, ids, d),
    )


@dataclass
class Driver:
    """A correct driver around one core: it acknowledges only writes that
    were asked for, applies what it is handed, compacts at the applied index."""

    core: RaftCore
    now: int = 0
    pending: list[int] = field(default_factory=list)
    peer_errors: int = 0

    def step(self, inp: Input) -> None:
        try:
            effects = self.core.step(self.now, inp)
        except PeerError as err:
            self.peer_errors += 1
            effects = list(err.effects)  # type: ignore[arg-type]
        self.carry_out(effects)
        self.check_invariants()

    def carry_out(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Persist):
                self.pending.append(effect.id)
        for effect in effects:
            if isinstance(effect, ApplyEntries):
                self.step(Applied(effect.entries[-1].index))

    def check_invariants(self) -> None:
        log = self.core.log
        assert log.snapshot.index <= log.applied <= log.committed <= log.last_index
        assert self.core.role in Role


def driver_inputs(core: RaftCore) -> st.SearchStrategy[str | Input]:
    return st.one_of(
        st.sampled_from(["tick", "persist", "persist_one", "compact", "elect", "ack"]),
        st.builds(Propose, st.text(max_size=3)),
        st.builds(ProposeConfChange, changes),
        st.builds(TransferLeader, ids),
        st.builds(ReadIndex, st.integers(0, 9)),
        st.just(Campaign()),
        messages(core.id).map(Receive),
    )


def starting_states() -> st.SearchStrategy[DurableState]:
    plain = Membership((1, 2, 3))
    logs = st.lists(st.integers(1, 3), max_size=6).map(
        lambda ts: tuple(Entry(2 + i, t) for i, t in enumerate(sorted(ts)))
    )
    return st.one_of(
        st.just(DurableState.bootstrap(plain)),
        st.just(DurableState.bootstrap(Membership((1, 2), learners=(3,)))),
        st.just(DurableState.bootstrap(Membership((1, 4, 5), outgoing=(1, 2, 3)))),
        st.just(DurableState.bootstrap(Membership((2, 3), learners=(1,)))),
        st.just(DurableState.bootstrap(Membership())),
        logs.map(lambda es: DurableState(HardState(3, 0, 1), Snapshot(1, 0, plain), es)),
    )


def feed(driver: Driver, action: str | Input) -> None:
    core = driver.core
    if action == "tick":
        driver.now = max(driver.now + 1, core.next_deadline() if driver.now % 3 else 0)
        driver.step(Tick())
    elif action == "persist" and driver.pending:
        last, driver.pending = driver.pending[-1], []
        driver.step(Persisted(last))
    elif action == "persist_one" and driver.pending:
        driver.step(Persisted(driver.pending.pop(0)))
    elif action == "compact":
        driver.step(Compact(core.log.applied, "[]"))
    elif action == "elect":  # campaign and get the votes a real cluster would send
        driver.step(Campaign())
        for _ in range(2):  # the pre-vote round, then the real one
            feed(driver, "persist")
            for peer in core.membership.all_voters():
                if peer != core.id and core.role in (Role.PRE_CANDIDATE, Role.CANDIDATE):
                    pre = core.role is Role.PRE_CANDIDATE
                    term = core.term + 1 if pre else core.term
                    driver.step(Receive(VoteResponse(term, peer, core.id, True, pre)))
        feed(driver, "persist")
    elif action == "ack" and core.role is Role.LEADER:  # a follower catching up
        for peer in sorted(core.progress):
            if peer != core.id:
                index = core.log.last_index
                driver.step(Receive(AppendResponse(core.term, peer, core.id, True, index)))
    elif not isinstance(action, str):
        driver.step(action)


@settings(max_examples=300)
@given(data=st.data(), durable=starting_states(), node=st.sampled_from([1, 2]))
def test_only_peer_errors_escape_step(
    data: st.DataObject, durable: DurableState, node: int
) -> None:
    config = RaftConfig(election_ticks=4, max_inflight=2, max_entries_per_msg=2)
    driver = Driver(RaftCore(node, config, 1, durable))
    for action in data.draw(st.lists(driver_inputs(driver.core), min_size=10, max_size=40)):
        feed(driver, action)


def test_the_fuzzer_reaches_leadership_and_peer_errors() -> None:
    """Guard against a vacuous fuzz test: the same machinery, scripted."""
    driver = Driver(RaftCore(1, RaftConfig(), 1, DurableState.bootstrap(Membership((1, 2, 3)))))
    for action in ["elect", "ack"]:
        feed(driver, action)
    assert driver.core.role is Role.LEADER
    feed(driver, Receive(AppendRequest(driver.core.term, 2, 1, 0, 0, (), 0)))
    assert driver.peer_errors == 1  # a second leader in our own term


# -- driver misuse raises CoreMisuse -------------------------------------------------------


def fresh() -> RaftCore:
    return RaftCore(1, RaftConfig(), 1, DurableState.bootstrap(Membership((1, 2, 3))))


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([(5, Tick()), (4, Tick())], "time went backwards"),
        ([(0, Persisted(1))], "Persisted"),
        ([(0, Applied(2))], "Applied"),
        ([(0, Compact(5, ""))], "Compact"),
        ([(0, "not an input")], "not an input"),
    ],
)
def test_driver_misuse_raises_core_misuse(inputs: list[tuple[int, object]], message: str) -> None:
    core = fresh()
    with pytest.raises(CoreMisuse, match=message):
        for now, inp in inputs:
            core.step(now, inp)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [{"node_id": 0}, {"config": RaftConfig(election_ticks=1, heartbeat_ticks=1)}],
)
def test_bad_construction_raises_core_misuse(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {
        "node_id": 1,
        "config": RaftConfig(),
        "seed": 1,
        "durable": DurableState.bootstrap(Membership((1,))),
    }
    with pytest.raises(CoreMisuse):
        RaftCore(**(args | kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "msg",
    [
        AppendRequest(5, 2, 1, 1, 0, (Entry(9, 5),), 0),  # entries out of sequence
        AppendRequest(5, 2, 1, 1, 0, (Entry(2, 6),), 0),  # entry from a future term
        AppendRequest(5, 2, 1, -1, 0, (), 0),
        VoteRequest(5, 1, 1, 0, 0),  # from ourselves
        VoteRequest(5, 0, 1, 0, 0),
        VoteRequest(5, 2, 1, -3, 0),
        Heartbeat(-1, 2, 1, 0, 0),
        Heartbeat(5, 2, 3, 0, 0),  # not for us
        InstallSnapshot(5, 2, 1, Snapshot(3, 9, Membership((1, 2)))),
        InstallSnapshot(5, 2, 1, Snapshot(3, 1, Membership((2, 1)))),
    ],
)
def test_a_bad_message_has_no_effect(msg: Message) -> None:
    core = fresh()
    before = core.digest()
    with pytest.raises(PeerError) as caught:
        core.step(0, Receive(msg))
    assert core.digest() == before
    assert list(caught.value.effects) == []


# -- cluster fuzz: Figure 3's safety properties ----------------------------------------------

CLUSTER_OPS = (
    ["deliver"] * 10
    + ["tick"] * 4
    + ["propose"] * 3
    + ["drop", "duplicate", "partition", "heal", "crash", "conf", "transfer", "read", "compact"]
)


class SafetyMonitor:
    """Checks the safety properties after every operation."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.seen = 0
        self.leader_of_term: dict[int, int] = {}
        self.applied: dict[int, tuple[int, str]] = {}  # index -> (term, data) applied anywhere
        #: index -> (entry term, a term by which it was committed): the term of
        #: the first node seen holding it as committed bounds the commit term.
        self.committed: dict[int, tuple[int, int]] = {}

    def check(self) -> None:
        h = self.h
        cores = list(h.cores.values())
        for core in cores:
            if core.role is Role.LEADER:
                # Election safety: at most one leader per term.
                assert self.leader_of_term.setdefault(core.term, core.id) == core.id
        for _node, effect in h.events[self.seen :]:
            if isinstance(effect, ApplyEntries):
                for e in effect.entries:
                    # State machine safety: one entry per index, everywhere.
                    assert self.applied.setdefault(e.index, (e.term, e.data)) == (e.term, e.data)
        self.seen = len(h.events)
        for core in cores:
            log = core.log
            for index in range(log.snapshot.index, log.committed + 1):
                term = log.term(index)
                assert term is not None
                known = self.committed.setdefault(index, (term, core.term))
                assert known[0] == term, f"committed entry {index} differs on node {core.id}"
        for core in cores:
            if core.role is Role.LEADER:
                # Leader completeness: a leader of a later term holds every
                # committed entry.
                for index, (term, by) in self.committed.items():
                    if by < core.term and index >= core.log.snapshot.index:
                        assert core.log.term(index) == term, f"leader {core.id} lacks {index}"
        # Log matching: same index and term means the same prefix.
        for a in cores:
            for b in cores:
                if a.id < b.id:
                    top = min(a.log.last_index, b.log.last_index)
                    low = max(a.log.snapshot.index, b.log.snapshot.index)
                    for index in range(top, low - 1, -1):
                        if a.log.term(index) == b.log.term(index):
                            assert a.log.hash_at(index) == b.log.hash_at(index)
                            break


def run_cluster(ops: list[tuple[str, int, int]]) -> SafetyMonitor:
    h = Harness(voters=(1, 2, 3), config=RaftConfig(election_ticks=4, max_inflight=3))
    for joiner in (4, 5):
        h.add_node(joiner)
    monitor = SafetyMonitor(h)
    proposals = 0
    for kind, a, b in ops:
        node = 1 + a % 5
        leader = h.leaders()[-1] if h.leaders() else node
        if kind == "deliver" and h.mailbox:
            h.receive(h.mailbox.pop(a % len(h.mailbox)))
        elif kind == "drop" and h.mailbox:
            h.mailbox.pop(a % len(h.mailbox))
        elif kind == "duplicate" and h.mailbox:
            h.mailbox.append(h.mailbox[a % len(h.mailbox)])
        elif kind == "tick":
            h.tick(node, 1 + b % 3)
            if b % 2:
                h.stabilize()
        elif kind == "propose":
            proposals += 1
            h.propose(leader, f"p{proposals}")
        elif kind == "partition":
            h.cut(node, 1 + b % 5)
        elif kind == "heal":
            h.heal()
        elif kind == "crash":
            h.crash(node)
        elif kind == "conf":
            op = list(ChangeOp)[b % 3]
            second = [ChangeItem(ChangeOp.ADD_VOTER, 1 + (a + b) % 5)] if b % 4 == 0 else []
            cc = ConfChange((ChangeItem(op, node), *second), list(Transition)[b % 3])
            h.propose_conf(leader, cc)
        elif kind == "transfer":
            h.transfer(leader, node)
        elif kind == "read":
            h.read(leader, a)
        elif kind == "compact":
            h.compact(node)
        monitor.check()
    return monitor


cluster_op = st.tuples(st.sampled_from(CLUSTER_OPS), st.integers(0, 99), st.integers(0, 99))


@settings(max_examples=60)
@given(ops=st.lists(cluster_op, min_size=80, max_size=200))
def test_cluster_keeps_figure3_safety_properties(ops: list[tuple[str, int, int]]) -> None:
    run_cluster(ops)
