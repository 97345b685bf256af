"""A tiny synchronous network of cores for unit tests (etcd's rafttest in spirit).

Every node has its own logical clock, a ``MemoryStorage`` that acknowledges
writes at once, and a state machine that is just the list of applied
entries. Messages wait in one FIFO mailbox until ``deliver`` or
``stabilize``; ``cut`` drops messages between nodes, as a partition would.
"""

from __future__ import annotations

from collections.abc import Iterable

from consensus import (
    Applied,
    ApplyEntries,
    Campaign,
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
    RaftConfig,
    RaftCore,
    Receive,
    RestoreSnapshot,
    Role,
    Send,
    Tick,
)
from consensus.storage import MemoryStorage


class Harness:
    def __init__(
        self,
        voters: Iterable[int] = (1, 2, 3),
        learners: Iterable[int] = (),
        config: RaftConfig | None = None,
        seed: int = 1,
    ) -> None:
        self.config = config or RaftConfig(election_ticks=10, heartbeat_ticks=1)
        self.seed = seed
        membership = Membership(tuple(sorted(voters)), learners=tuple(sorted(learners)))
        self.cores: dict[int, RaftCore] = {}
        self.storage: dict[int, MemoryStorage] = {}
        self.now: dict[int, int] = {}
        self.applied: dict[int, list[Entry]] = {}
        self.mailbox: list[Message] = []
        self.cuts: set[tuple[int, int]] = set()
        self.notes: list[tuple[int, Note]] = []
        self.effects: dict[int, list[Effect]] = {}
        self.auto_ack = True
        for node in membership.members():
            self.add_node(node, membership)

    # -- topology -------------------------------------------------------

    def add_node(self, node: int, membership: Membership | None = None) -> RaftCore:
        """Start a node; without a membership it joins empty and learns from the leader."""
        durable = DurableState.bootstrap(membership or Membership())
        self.storage[node] = MemoryStorage(durable)
        self.now[node] = self.now.get(node, 0)
        self.applied[node] = []
        core = RaftCore(node, self.config, self.seed, durable, self.now[node])
        self.cores[node] = core
        return core

    def restart(self, node: int) -> RaftCore:
        """Crash and restart from durable state; the state machine restarts empty
        (from the snapshot) and re-applies."""
        durable = self.storage[node].durable()
        core = RaftCore(node, self.config, self.seed + 1, durable, self.now[node])
        self.cores[node] = core
        snap = durable.snapshot
        self.applied[node] = [e for e in self.applied[node] if e.index <= snap.index]
        self.mailbox = [m for m in self.mailbox if m.dst != node]
        return core

    def cut(self, a: int, b: int) -> None:
        self.cuts |= {(a, b), (b, a)}

    def isolate(self, node: int) -> None:
        for other in self.cores:
            if other != node:
                self.cut(node, other)

    def heal(self) -> None:
        self.cuts.clear()

    # -- driving --------------------------------------------------------

    def step(self, node: int, inp: Input) -> list[Effect]:
        effects = self.cores[node].step(self.now[node], inp)
        self.effects.setdefault(node, []).extend(effects)
        acks: list[Input] = []
        for effect in effects:
            if isinstance(effect, Send):
                if (effect.msg.src, effect.msg.dst) not in self.cuts:
                    self.mailbox.append(effect.msg)
            elif isinstance(effect, Persist):
                self.storage[node].write(effect)
                if self.auto_ack:
                    acks.append(Persisted(effect.id))
            elif isinstance(effect, ApplyEntries):
                self.applied[node].extend(effect.entries)
                acks.append(Applied(effect.entries[-1].index))
            elif isinstance(effect, RestoreSnapshot):
                self.applied[node] = []
            elif isinstance(effect, Note):
                self.notes.append((node, effect))
        for ack in acks:
            self.step(node, ack)
        return effects

    def tick(self, node: int, ticks: int = 1) -> list[Effect]:
        self.now[node] += ticks
        return self.step(node, Tick())

    def tick_all(self, ticks: int = 1) -> None:
        for node in sorted(self.cores):
            self.tick(node, ticks)

    def campaign(self, node: int) -> None:
        self.step(node, Campaign())

    def propose(self, node: int, data: str) -> list[Effect]:
        return self.step(node, Propose(data))

    def deliver(self, count: int | None = None) -> int:
        """Deliver up to ``count`` queued messages (all currently queued if None)."""
        batch, self.mailbox = self.mailbox, []
        if count is not None:
            batch, rest = batch[:count], batch[count:]
            self.mailbox = rest + self.mailbox
        for msg in batch:
            if msg.dst in self.cores and (msg.src, msg.dst) not in self.cuts:
                self.step(msg.dst, Receive(msg))
        return len(batch)

    def stabilize(self, limit: int = 10_000) -> None:
        rounds = 0
        while self.mailbox:
            self.deliver()
            rounds += 1
            assert rounds < limit, "cluster did not stabilize"

    def elect(self, node: int) -> RaftCore:
        self.campaign(node)
        self.stabilize()
        core = self.cores[node]
        assert core.role is Role.LEADER, f"node {node} did not win: {core.role}"
        return core

    # -- observation ----------------------------------------------------

    def leaders(self) -> list[int]:
        return sorted(n for n, c in self.cores.items() if c.role is Role.LEADER)

    def data_applied(self, node: int) -> list[str]:
        return [e.data for e in self.applied[node] if e.data]

    def notes_of(self, action: str, node: int | None = None) -> list[Note]:
        return [n for who, n in self.notes if n.action == action and node in (None, who)]
