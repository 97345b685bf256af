"""A tiny synchronous network of cores for unit and scenario tests.

Etcd's rafttest in spirit. Every node has its own logical clock, a
``MemoryStorage`` as its disk and a state machine that is the list of applied
payloads. Messages wait in one FIFO mailbox until ``deliver`` or
``stabilize``; ``cut``/``isolate`` drop messages between nodes, as a
partition would.

Persistence has two modes. With ``auto_persist`` (the default) every
``Persist`` is written and acknowledged at once. Without it, writes queue in
``pending_writes`` and reach the disk only on ``flush`` (which also sends
``Persisted``); ``crash`` throws the queue away, so tests can check what a
crash before the acknowledgement loses.

``hold``/``release`` delay messages between two nodes (a slow link rather
than a cut one): held messages wait aside and join the mailbox on
``release``, which is how the lease scenarios deliver a reply late.

Every read answered is compared with what the cluster had already applied
when the read was asked: a read whose index is below a data entry some node
had applied by then missed a completed write, and is recorded in
``stale_reads`` (tests assert it stays empty; scenarios print it).

``events`` records every ``(node, input)`` and ``(node, effect)`` in order;
the scenario runner renders it, tests may inspect it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from consensus import (
    Applied,
    ApplyEntries,
    Campaign,
    ChangeItem,
    ChangeOp,
    Compact,
    ConfChange,
    DurableState,
    Effect,
    Entry,
    Input,
    Membership,
    Message,
    Note,
    Persist,
    Persisted,
    Propose,
    ProposeConfChange,
    RaftConfig,
    RaftCore,
    ReadIndex,
    ReadReady,
    Receive,
    RestoreSnapshot,
    Role,
    Send,
    Tick,
    TransferLeader,
    Transition,
)
from consensus.storage import MemoryStorage


def change(spec: str) -> ConfChange:
    """A ``ConfChange`` from text: ``"add_voter 4 remove 3 joint_explicit"``
    (pairs of op and node, optionally ending in a transition) or ``"leave"``."""
    words = spec.split()
    if words == ["leave"]:
        return ConfChange.leave()
    transition = Transition.AUTO
    if len(words) % 2 == 1:
        transition = Transition(words.pop())
    items = tuple(
        ChangeItem(ChangeOp(op), int(node))
        for op, node in zip(words[::2], words[1::2], strict=True)
    )
    return ConfChange(items, transition)


@dataclass(slots=True, frozen=True)
class StaleRead:
    """A read answered at ``index`` although node ``applied_by`` had applied
    data entry ``missed`` before the read was asked: linearizability broken."""

    node: int
    ctx: int
    index: int
    missed: int
    applied_by: int

    def describe(self) -> str:
        return (
            f"STALE READ: n{self.node} ctx={self.ctx} served at index {self.index}, "
            f"but n{self.applied_by} had applied entry {self.missed} before the read began"
        )


class Harness:
    def __init__(
        self,
        voters: Iterable[int] = (1, 2, 3),
        learners: Iterable[int] = (),
        config: RaftConfig | None = None,
        seed: int = 1,
        auto_persist: bool = True,
        membership: Membership | None = None,
    ) -> None:
        """Founders are ``voters`` and ``learners``, or every member of
        ``membership`` (which may be joint) when given."""
        self.config = config or RaftConfig(election_ticks=10, heartbeat_ticks=1)
        self.seed = seed
        self.auto_persist = auto_persist
        self.initial = membership or Membership(
            tuple(sorted(voters)), learners=tuple(sorted(learners))
        )
        self.cores: dict[int, RaftCore] = {}
        self.storage: dict[int, MemoryStorage] = {}
        self.pending_writes: dict[int, list[Persist]] = {}
        self.now: dict[int, int] = {}
        self.restarts: dict[int, int] = {}
        #: Entries applied since the state machine last started from a snapshot.
        self.applied: dict[int, list[Entry]] = {}
        #: The state machine: every non-empty payload applied, in order.
        self.sm: dict[int, list[str]] = {}
        self.mailbox: list[Message] = []
        self.cuts: set[tuple[int, int]] = set()
        self.holds: set[tuple[int, int]] = set()
        self.delayed: list[Message] = []
        #: (index, node) of the newest data entry any node has applied so far.
        self.newest_data = (0, 0)
        #: (node, ctx) -> ``newest_data`` when the read was asked.
        self.read_asked: dict[tuple[int, int], tuple[int, int]] = {}
        self.stale_reads: list[StaleRead] = []
        self.notes: list[tuple[int, Note]] = []
        self.effects: dict[int, list[Effect]] = {}
        self.events: list[tuple[int, Input | Effect]] = []
        #: Called with (node, message) for each ``Send`` as it is carried out,
        #: when the node's disk holds exactly the writes acknowledged so far.
        self.on_send: Callable[[int, Message], None] | None = None
        for node in self.initial.members():
            self.add_node(node, self.initial)

    # -- topology -------------------------------------------------------

    def add_node(self, node: int, membership: Membership | None = None) -> RaftCore:
        """Start a brand-new node. Founders get the initial membership; a
        joiner (no membership) starts empty at index 0 and learns its
        configuration from the leader's snapshot."""
        durable = DurableState.bootstrap(membership or Membership())
        self.storage[node] = MemoryStorage(durable)
        self.pending_writes[node] = []
        self.now.setdefault(node, 0)
        self.restarts.setdefault(node, 0)
        self.applied[node] = []
        self.sm[node] = []
        core = RaftCore(node, self.config, self.seed, durable, self.now[node])
        self.cores[node] = core
        return core

    def crash(self, node: int) -> RaftCore:
        """Crash (losing unacknowledged writes and queued messages to the
        node) and restart from the disk. The state machine restarts from the
        stored snapshot and re-applies."""
        self.pending_writes[node] = []
        durable = self.storage[node].durable()
        self.restarts[node] += 1
        core = RaftCore(node, self.config, self.seed + self.restarts[node], durable, self.now[node])
        self.cores[node] = core
        self.applied[node] = []
        self.sm[node] = _sm_from(durable.snapshot.data)
        self.mailbox = [m for m in self.mailbox if m.dst != node]
        self.delayed = [m for m in self.delayed if m.dst != node]
        return core

    restart = crash

    def cut(self, a: int, b: int) -> None:
        self.cuts |= {(a, b), (b, a)}

    def isolate(self, node: int) -> None:
        for other in sorted(self.cores):
            if other != node:
                self.cut(node, other)

    def heal(self) -> None:
        self.cuts.clear()

    def hold(self, src: int, dst: int) -> None:
        """Delay every message from ``src`` to ``dst`` until ``release``."""
        self.holds.add((src, dst))

    def release(self, src: int, dst: int) -> int:
        """Queue the held messages from ``src`` to ``dst`` (oldest first) and
        stop holding that link; returns how many were released."""
        self.holds.discard((src, dst))
        released = [m for m in self.delayed if (m.src, m.dst) == (src, dst)]
        self.delayed = [m for m in self.delayed if (m.src, m.dst) != (src, dst)]
        self.mailbox.extend(released)
        return len(released)

    # -- driving --------------------------------------------------------

    def step(self, node: int, inp: Input) -> list[Effect]:
        """Step ``node`` and carry its effects out, acking what is due."""
        self.events.append((node, inp))
        if isinstance(inp, ReadIndex):
            self.read_asked[(node, inp.ctx)] = self.newest_data
        effects = self.cores[node].step(self.now[node], inp)
        self.effects.setdefault(node, []).extend(effects)
        acks: list[Input] = []
        for effect in effects:
            self.events.append((node, effect))
            if isinstance(effect, Send):
                if self.on_send is not None:
                    self.on_send(node, effect.msg)
                link = (effect.msg.src, effect.msg.dst)
                if link in self.holds:
                    self.delayed.append(effect.msg)
                elif link not in self.cuts:
                    self.mailbox.append(effect.msg)
            elif isinstance(effect, Persist):
                if self.auto_persist:
                    self.storage[node].write(effect)
                    acks.append(Persisted(effect.id))
                else:
                    self.pending_writes[node].append(effect)
            elif isinstance(effect, ApplyEntries):
                self.applied[node].extend(effect.entries)
                self.sm[node].extend(e.data for e in effect.entries if e.data)
                for entry in effect.entries:
                    if entry.data and entry.index > self.newest_data[0]:
                        self.newest_data = (entry.index, node)
                acks.append(Applied(effect.entries[-1].index))
            elif isinstance(effect, RestoreSnapshot):
                self.applied[node] = []
                self.sm[node] = _sm_from(effect.snapshot.data)
            elif isinstance(effect, ReadReady):
                self._judge_read(node, effect)
            elif isinstance(effect, Note):
                self.notes.append((node, effect))
        for ack in acks:
            self.step(node, ack)
        return effects

    def flush(self, node: int, count: int | None = None) -> None:
        """Make the oldest ``count`` queued writes durable (all if None) and
        acknowledge them."""
        queue = self.pending_writes[node]
        batch = queue if count is None else queue[:count]
        self.pending_writes[node] = queue[len(batch) :]
        for persist in batch:
            self.storage[node].write(persist)
        if batch:
            self.step(node, Persisted(batch[-1].id))

    def tick(self, node: int, ticks: int = 1) -> list[Effect]:
        """Advance ``node``'s clock by ``ticks`` and deliver one ``Tick``."""
        self.now[node] += ticks
        return self.step(node, Tick())

    def tick_all(self, ticks: int = 1) -> None:
        for node in sorted(self.cores):
            self.tick(node, ticks)

    def campaign(self, node: int) -> list[Effect]:
        return self.step(node, Campaign())

    def propose(self, node: int, data: str) -> list[Effect]:
        return self.step(node, Propose(data))

    def propose_conf(self, node: int, change: ConfChange) -> list[Effect]:
        return self.step(node, ProposeConfChange(change))

    def transfer(self, node: int, target: int) -> list[Effect]:
        return self.step(node, TransferLeader(target))

    def read(self, node: int, ctx: int) -> list[Effect]:
        return self.step(node, ReadIndex(ctx))

    def compact(self, node: int) -> list[Effect]:
        """Snapshot the state machine at the applied index."""
        index = self.cores[node].log.applied
        return self.step(node, Compact(index, json.dumps(self.sm[node])))

    def deliver(self, count: int | None = None) -> int:
        """Deliver up to ``count`` queued messages (all currently queued if None)."""
        batch, self.mailbox = self.mailbox, []
        if count is not None:
            batch, rest = batch[:count], batch[count:]
            self.mailbox = rest + self.mailbox
        for msg in batch:
            self.receive(msg)
        return len(batch)

    def deliver_where(self, pred: Callable[[Message], bool]) -> int:
        """Deliver the queued messages matching ``pred``; keep the others."""
        batch = [m for m in self.mailbox if pred(m)]
        self.mailbox = [m for m in self.mailbox if not pred(m)]
        for msg in batch:
            self.receive(msg)
        return len(batch)

    def drop_where(self, pred: Callable[[Message], bool]) -> int:
        before = len(self.mailbox)
        self.mailbox = [m for m in self.mailbox if not pred(m)]
        return before - len(self.mailbox)

    def receive(self, msg: Message) -> None:
        if msg.dst in self.cores and (msg.src, msg.dst) not in self.cuts:
            self.step(msg.dst, Receive(msg))

    def stabilize(self, limit: int = 10_000) -> None:
        rounds = 0
        while self.mailbox:
            self.deliver()
            rounds += 1
            assert rounds < limit, "cluster did not stabilize"

    def elect(self, node: int) -> RaftCore:
        """Campaign and stabilize; the node must win."""
        self.campaign(node)
        self.stabilize()
        core = self.cores[node]
        assert core.role is Role.LEADER, f"node {node} did not win: {core.role}"
        return core

    def run_until(self, done: Callable[[], bool], max_ticks: int = 1_000) -> None:
        """Tick every node one tick at a time and stabilize, until ``done``."""
        for _ in range(max_ticks):
            if done():
                return
            self.tick_all()
            self.stabilize()
        assert done(), "condition not reached"

    # -- observation ----------------------------------------------------

    def _judge_read(self, node: int, ready: ReadReady) -> None:
        newest, by = self.read_asked.get((node, ready.ctx), (0, 0))
        if ready.index < newest:
            self.stale_reads.append(StaleRead(node, ready.ctx, ready.index, newest, by))

    def leaders(self) -> list[int]:
        return sorted(n for n, c in self.cores.items() if c.role is Role.LEADER)

    def data_applied(self, node: int) -> list[str]:
        return list(self.sm[node])

    def log_terms(self, node: int) -> list[int]:
        """Terms of the node's in-memory log entries after its snapshot."""
        return [e.term for e in self.cores[node].log.entries]

    def notes_of(self, action: str, node: int | None = None) -> list[Note]:
        return [n for who, n in self.notes if n.action == action and node in (None, who)]

    def sent(self, node: int | None = None) -> list[Message]:
        """Every message released by ``node`` (any node if None), in order."""
        return [
            e.msg for who, e in self.events if isinstance(e, Send) and (node is None or who == node)
        ]


def _sm_from(data: str) -> list[str]:
    return list(json.loads(data)) if data else []
