"""The node runtime on its own: real cores and state machines, fake ports.

``World`` is a tiny deterministic driver: a clock that moves only when told,
one timer per node, disks whose writes complete only when the test says so,
and a network that delivers in FIFO order unless a node is cut off. The
simulator drives the same runtime (sim/node.py); these tests pin down what
the runtime itself promises, without the simulator's randomness.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

from consensus import (
    AppendResponse,
    DurableState,
    Membership,
    MemoryStorage,
    Persist,
    RaftConfig,
    ReadReady,
    Role,
    VoteResponse,
)
from consensus.traced import Envelope
from kv import Command
from kv.ports import OK, REDIRECT, RETRY, Reply
from kv.runtime import NodeRuntime
from traces.recorder import MemoryRecorder, make_header

CONFIG = RaftConfig(election_ticks=10, heartbeat_ticks=2)


class FakeNode:
    """One node's clock, timer and disk (kv.ports)."""

    def __init__(self, world: World, node_id: int, durable: DurableState) -> None:
        self.world = world
        self.id = node_id
        self.storage = MemoryStorage(durable)
        self.pending: deque[Persist] = deque()
        self.deadline: int | None = None
        self.runtime: NodeRuntime

    def now_us(self) -> int:
        return self.world.tick * 1000

    def ticks(self) -> int:
        return self.world.tick

    def arm(self, deadline: int) -> None:
        self.deadline = deadline

    def write(self, persist: Persist) -> None:
        self.pending.append(persist)

    def complete_writes(self) -> int:
        done = 0
        while self.pending and self.runtime.up:
            persist = self.pending.popleft()
            self.storage.write(persist)
            self.runtime.persisted(persist.id)
            done += 1
        return done


class World:
    """The network and the client replies, plus the loop that moves them."""

    def __init__(self, voters: int = 3, snapshot_every: int = 200) -> None:
        self.tick = 0
        self.inflight: deque[Envelope] = deque()
        self.replies: list[tuple[object, Reply]] = []
        self.cut: set[int] = set()
        self.checked_sends = 0
        self.recorder = MemoryRecorder(make_header("test"))
        membership = Membership(tuple(range(1, voters + 1)))
        self.nodes: dict[int, FakeNode] = {}
        for node_id in membership.voters:
            node = FakeNode(self, node_id, DurableState.bootstrap(membership))
            node.runtime = NodeRuntime(
                node_id,
                CONFIG,
                clock=node,
                timer=node,
                disk=node,
                network=self,
                replies=self,
                sink=self.recorder,
                snapshot_every=snapshot_every,
            )
            self.nodes[node_id] = node
            self.start(node_id)

    # -- ports -----------------------------------------------------------------

    def send(self, envelope: Envelope) -> None:
        """Every acknowledgement leaves only once what it acknowledges is durable."""
        msg = envelope.msg
        storage = self.nodes[msg.src].storage
        if isinstance(msg, VoteResponse) and msg.granted and not msg.pre:
            assert (storage.hard_state.term, storage.hard_state.vote) == (msg.term, msg.dst)
            self.checked_sends += 1
        if isinstance(msg, AppendResponse) and msg.success:
            assert storage.last_index >= msg.index
            self.checked_sends += 1
        self.inflight.append(envelope)

    def answer(self, request: object, reply: Reply) -> None:
        self.replies.append((request, reply))

    # -- driving -----------------------------------------------------------------

    def start(self, node_id: int) -> None:
        node = self.nodes[node_id]
        node.runtime.start(node.storage.durable(), seed=node_id * 7919)

    def crash(self, node_id: int) -> None:
        node = self.nodes[node_id]
        node.pending.clear()  # writes not yet durable die with the process
        node.deadline = None
        node.runtime.crash()

    def deliver(self) -> int:
        """Deliver what is in flight now (not what that causes)."""
        count = 0
        for _ in range(len(self.inflight)):
            env = self.inflight.popleft()
            src, dst = env.msg.src, env.msg.dst
            if src in self.cut or dst in self.cut or not self.nodes[dst].runtime.up:
                continue
            self.nodes[dst].runtime.receive(env)
            count += 1
        return count

    def settle(self) -> None:
        """Deliver messages and complete writes until nothing moves."""
        while True:
            moved = self.deliver()
            for node_id in sorted(self.nodes):
                moved += self.nodes[node_id].complete_writes()
            if not moved and not self.inflight:
                return

    def advance(self, ticks: int = 1) -> None:
        for _ in range(ticks):
            self.tick += 1
            for node_id in sorted(self.nodes):
                node = self.nodes[node_id]
                if node.runtime.up and node.deadline is not None and node.deadline <= self.tick:
                    node.deadline = None
                    node.runtime.on_timer()
            self.settle()

    def leader(self) -> int:
        for node_id in sorted(self.nodes):
            core = self.nodes[node_id].runtime.core
            if core is not None and core.role is Role.LEADER and node_id not in self.cut:
                return node_id
        return 0

    def elect(self, limit: int = 200) -> int:
        for _ in range(limit):
            if self.leader():
                return self.leader()
            self.advance()
        raise AssertionError("no leader elected")

    def runtime(self, node_id: int) -> NodeRuntime:
        return self.nodes[node_id].runtime


def put(key: str, value: str, client: int = 0, seq: int = 0) -> Command:
    return Command("put", key, value, client, seq)


def test_acknowledgements_wait_for_the_writes_they_acknowledge() -> None:
    world = World()
    leader = world.elect()
    world.runtime(leader).propose(put("k", "v"), "w1")
    follower = next(n for n in sorted(world.nodes) if n != leader)
    assert world.nodes[leader].pending and not world.inflight  # held for the leader's write
    world.nodes[leader].complete_writes()
    world.deliver()  # the followers receive the entry; their disks have not written it
    assert world.nodes[follower].pending
    assert not any(
        isinstance(e.msg, AppendResponse) and e.msg.src == follower and e.msg.success
        for e in world.inflight
    )
    world.nodes[follower].complete_writes()
    assert any(
        isinstance(e.msg, AppendResponse) and e.msg.src == follower and e.msg.success
        for e in world.inflight
    )
    world.settle()
    assert world.checked_sends > 0  # World.send checked every vote and append ack


def test_a_proposal_is_answered_after_its_entry_applies() -> None:
    world = World()
    leader = world.elect()
    world.runtime(leader).propose(put("k", "v"), "w1")
    assert world.replies == []  # accepted, not yet committed
    world.settle()
    assert world.replies == [("w1", Reply(OK, True, "v"))]
    assert world.runtime(leader).sm.read("k") == "v"
    assert world.runtime(leader).proposals == {}


def test_a_proposal_on_a_follower_is_redirected_to_the_leader() -> None:
    world = World()
    leader = world.elect()
    follower = next(n for n in sorted(world.nodes) if n != leader)
    world.runtime(follower).propose(put("k", "v"), "w1")
    assert world.replies == [("w1", Reply(REDIRECT, False, None, leader))]


def test_a_proposal_whose_entry_is_replaced_in_a_new_term_is_answered_retry() -> None:
    world = World()
    old = world.elect()
    world.cut = {old}  # the leader is cut off before its entry leaves
    world.runtime(old).propose(put("k", "lost"), "w1")
    world.settle()
    new = world.elect()
    assert new != old
    world.runtime(new).propose(put("k", "kept"), "w2")
    world.settle()
    world.cut = set()
    world.advance(CONFIG.election_ticks)  # the old leader hears the new one
    assert ("w1", Reply(RETRY, False)) in world.replies
    assert ("w2", Reply(OK, True, "kept")) in world.replies
    assert world.runtime(old).sm.read("k") == "kept"


def test_a_retried_request_is_applied_once_and_answered_with_its_first_result() -> None:
    world = World()
    leader = world.elect()
    append = Command("append", "k", "x", client=7, seq=1)
    world.runtime(leader).propose(append, "try1")
    world.runtime(leader).propose(append, "try2")  # e.g. resent after a timeout
    world.settle()
    assert world.replies == [("try1", Reply(OK, True, "x")), ("try2", Reply(OK, True, "x"))]
    assert world.runtime(leader).sm.read("k") == "x"


def test_a_read_is_answered_once_confirmed_with_what_was_applied() -> None:
    world = World()
    leader = world.elect()
    world.runtime(leader).propose(put("k", "v"), "w1")
    world.settle()
    world.runtime(leader).read("k", "r1")
    assert ("r1", Reply(OK, True, "v")) not in world.replies  # waits for a heartbeat round
    world.settle()
    assert world.replies[-1] == ("r1", Reply(OK, True, "v"))
    follower = next(n for n in sorted(world.nodes) if n != leader)
    world.runtime(follower).read("k", "r2")
    world.settle()
    assert world.replies[-1] == ("r2", Reply(REDIRECT, False, None, leader))


def test_a_lagging_node_restores_its_state_machine_from_an_installed_snapshot() -> None:
    world = World(snapshot_every=2)
    leader = world.elect()
    lagging = next(n for n in sorted(world.nodes) if n != leader)
    world.crash(lagging)
    for i in range(6):
        world.runtime(leader).propose(put(f"k{i}", f"v{i}"), f"w{i}")
        world.settle()
    assert world.runtime(leader).core.log.snapshot.index > 1  # type: ignore[union-attr]
    world.start(lagging)
    world.advance(CONFIG.election_ticks)
    installs = [
        e
        for e in world.recorder.events
        if e["act"] == "snapshot_install" and e["n"] == f"n{lagging}"
    ]
    assert installs, "the lagging node caught up without a snapshot: the test lost its point"
    sm = world.runtime(lagging).sm
    assert [sm.read(f"k{i}") for i in range(6)] == [f"v{i}" for i in range(6)]


def test_a_crash_forgets_volatile_state_and_a_restart_rebuilds_it_from_disk() -> None:
    world = World()
    leader = world.elect()
    world.runtime(leader).propose(put("a", "1"), "w1")
    world.settle()
    world.cut = {leader}
    world.runtime(leader).propose(put("b", "2"), "w2")  # never committed
    runtime = world.runtime(leader)
    assert runtime.proposals
    world.crash(leader)
    assert not runtime.up and runtime.core is None
    assert runtime.proposals == {} and runtime.sm.read("a") is None
    world.cut = set()
    world.start(leader)
    assert runtime.up
    world.elect()
    world.advance(CONFIG.election_ticks)
    assert runtime.sm.read("a") == "1"  # from the durable log, applied again
    assert runtime.sm.read("b") is None
    assert all(request != "w2" for request, _ in world.replies)  # forgotten, not answered
    restarts = [e for e in world.recorder.events if e["act"] == "restart"]
    assert [e["n"] for e in restarts] == [f"n{leader}"]


def test_the_timer_is_armed_for_the_cores_next_deadline_after_every_step() -> None:
    world = World()
    leader = world.elect()
    for node_id, node in sorted(world.nodes.items()):
        core = node.runtime.core
        assert core is not None
        assert node.deadline == core.next_deadline(), node_id
    assert world.runtime(leader).steps > 0


def test_a_read_confirmed_ahead_of_the_state_machine_waits_for_the_apply() -> None:
    """White-box: with applies carried out in the step that hands them out,
    the core's ``ReadReady`` never runs ahead of the state machine (none did
    in the simulator's runs), so the parking path is driven directly here."""
    world = World()
    leader = world.elect()
    runtime = world.runtime(leader)
    runtime.read("k", "r1")
    (ctx,) = runtime.reads
    runtime._read_ready(ReadReady(ctx, runtime.sm.applied + 1))
    assert runtime.waiting_reads and not world.replies  # parked, not answered
    runtime.propose(put("k", "v"), "w1")
    world.settle()
    assert ("r1", Reply(OK, True, "v")) in world.replies  # answered once applied, with the write
    assert runtime.waiting_reads == []


def test_the_runtime_knows_neither_the_simulator_nor_the_io_it_is_given() -> None:
    """What differs between simulator and server stays behind the ports."""
    root = Path(__file__).resolve().parents[2] / "kv"
    for name in ("runtime.py", "ports.py"):
        tree = ast.parse((root / name).read_text())
        tops = {
            alias.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for alias in n.names
        }
        tops |= {
            n.module.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module and n.level == 0
        }
        forbidden = {"sim", "asyncio", "socket", "time", "random", "os"} & tops
        assert not forbidden, f"kv/{name} imports {sorted(forbidden)}"
