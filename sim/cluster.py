"""The deterministic cluster simulator.

One event queue ordered by (virtual time, insertion number) drives every
node, the network, the disks, the clients, the fault injector and the
membership actor. All randomness comes from ``random.Random`` streams derived
from the run's seed, one per concern, so that, say, adding a client does not
change the network's draws; nothing iterates over a set without sorting.
The same seed therefore gives a byte-identical trace under any
PYTHONHASHSEED.

Time is in integer microseconds. A node's Raft clock is
``(t + phase) // tick``, with a per-node phase so that nodes do not tick in
lockstep, and (with clock drift) a per-node tick length (clocks.py); a node
gets a ``Tick`` only when its core's ``next_deadline()`` arrives, never for
idle ticks.

Each node is the production node runtime (``kv.runtime.NodeRuntime``): it
carries out its core's effects (persist before send, apply with its
follow-ups, snapshots, proposals and reads waiting on the log, tracing)
through the ports of kv/ports.py. The simulator plugs in the virtual clock,
timer and disk of node.py and is itself the runtimes' network (``send``)
and reply channel (``answer``); what it keeps is the event loop, the faults,
the disks' latency model, pauses and crashes, the clients and the
membership actor.

A paused node is a frozen process: its timers do not fire and whatever
reaches it (messages, client requests, disk completions) waits in order
until it resumes; its clock keeps running, so it resumes past its deadlines.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from consensus import (
    CoreMisuse,
    DurableState,
    Membership,
    Note,
    Persist,
    ProposeConfChange,
    RaftConfig,
    RaftCore,
    ReadMode,
    Refused,
    Role,
    TransferLeader,
)
from consensus.inputs import Input
from consensus.rng import mix64
from consensus.traced import Envelope, Sink
from kv import Command
from kv.ports import OK, REDIRECT, Reply
from kv.runtime import NodeRuntime
from sim.clocks import lease_margin_for, tick_length_us, tolerated_drift
from sim.compiled import mypyc_attr
from sim.disk import DiskModel
from sim.events import ACK, ACTOR, ARRIVE, DELIVER, FAULT, REPLY, WAKE
from sim.membership import (
    AdminAction,
    ChangeMembership,
    ClusterView,
    MembershipActor,
    NoActor,
    StartNode,
    StopNode,
    TransferLeadership,
)
from sim.network import Network
from sim.node import NEVER, SimNode
from sim.profiles import PROFILES, FaultProfile, get_profile
from sim.workload import Client, Operation, Workload, WorkloadConfig

# Independent random streams (new ones go at the end, so old ones keep their draws).
_NET, _FAULTS, _CLIENTS, _ACTOR_RNG, _DISK_RNG, _PHASES, _CORES, _CLOCKS, _SWARM = range(9)

#: The simulator's core timing: a 150 ms election timeout, 50 ms heartbeats.
ELECTION_TICKS, HEARTBEAT_TICKS = 15, 5


def raft_config_for(profile: FaultProfile, read_mode: str = "index") -> RaftConfig:
    """The simulator's core configuration for ``read_mode`` under ``profile``.

    In lease mode the lease margin is the smallest that absorbs the profile's
    clock drift bound (see clocks.py), so the run stays within what its
    configuration declares; the trace header records both.
    """
    try:
        mode = ReadMode(read_mode)
    except ValueError:
        raise ValueError(f"--read-mode must be 'index' or 'lease', got {read_mode!r}") from None
    margin = 1
    if mode is ReadMode.LEASE:
        margin = lease_margin_for(profile.clock_drift, ELECTION_TICKS)
    return RaftConfig(
        election_ticks=ELECTION_TICKS,
        heartbeat_ticks=HEARTBEAT_TICKS,
        read_mode=mode,
        lease_margin_ticks=margin,
    )


@dataclass(slots=True, frozen=True)
class SimConfig:
    nodes: int = 5
    seed: int = 1
    duration_s: float = 30.0
    profile: FaultProfile = PROFILES["default"]
    tick_ms: float = 10.0
    raft: RaftConfig = field(
        default_factory=lambda: RaftConfig(
            election_ticks=ELECTION_TICKS, heartbeat_ticks=HEARTBEAT_TICKS
        )
    )
    workload: WorkloadConfig = field(default_factory=WorkloadConfig)
    snapshot_every: int = 200
    """Entries applied between snapshots (log compaction)."""
    actor_every_ms: float = 250.0

    @classmethod
    def for_faults(
        cls,
        faults: str,
        *,
        read_mode: str = "index",
        unsafe: tuple[str, ...] = (),
        **fields: Any,
    ) -> SimConfig:
        """A run under the fault profile named ``faults``, its core set up for
        ``read_mode`` as ``raft_config_for`` fits it to that profile, with the
        ``unsafe`` modes on; ``fields`` are the other fields (nodes, seed...).

        The one way the CLI, the benches and the tests build a simulation from
        names. ValueError names an unknown profile, read mode or unsafe mode."""
        profile = get_profile(faults)
        raft = replace(raft_config_for(profile, read_mode), unsafe=tuple(unsafe))
        try:
            raft.validate()
        except CoreMisuse as err:
            raise ValueError(f"--unsafe: {err}") from None
        return cls(profile=profile, raft=raft, **fields)

    def validate(self) -> None:
        if not 1 <= self.nodes <= 64:
            raise ValueError(f"--nodes must be between 1 and 64, got {self.nodes}")
        if self.duration_s <= 0:
            raise ValueError(f"--duration must be positive, got {self.duration_s}")
        if self.tick_ms <= 0:
            raise ValueError("tick must be positive")
        try:
            self.raft.validate()
        except CoreMisuse as err:
            raise ValueError(f"raft configuration: {err}") from None
        self.workload.validate()
        self._validate_drift()

    def _validate_drift(self) -> None:
        """Lease reads assume bounded drift: refuse a profile that lets clocks
        drift further than the lease configuration absorbs."""
        raft, drift = self.raft, self.profile.clock_drift
        if raft.read_mode is not ReadMode.LEASE:
            return
        tolerated = tolerated_drift(raft.election_ticks, raft.lease_margin_ticks)
        if drift > tolerated:
            needed = lease_margin_for(drift, raft.election_ticks)
            raise ValueError(
                f"faults {self.profile.name!r} let clocks drift by up to {drift:.2%}, but lease "
                f"reads with election_ticks={raft.election_ticks} and lease_margin_ticks="
                f"{raft.lease_margin_ticks} tolerate only {tolerated:.2%} "
                f"(lease_margin_ticks={needed} would)"
            )

    def faults(self) -> FaultProfile:
        """The concrete fault profile of this run (a swarm profile drawn for the seed)."""
        return self.profile.realize(random.Random(mix64(self.seed * 7919 + _SWARM)))

    def header_fields(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "nodes": list(range(1, self.nodes + 1)),
            "duration_s": self.duration_s,
            "tick_us": int(self.tick_ms * 1000),
            "raft": self.raft.to_json(),
            "faults": self.faults().to_json(),
            "workload": {
                "clients": self.workload.clients,
                "rate": self.workload.rate,
                "keys": self.workload.keys,
            },
            "snapshot_every": self.snapshot_every,
        }


@dataclass(slots=True)
class SimStats:
    sim_seconds: float = 0.0
    steps: int = 0
    leaders: dict[int, list[int]] = field(default_factory=dict)
    commit: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    membership: list[str] = field(default_factory=list)
    ops: Counter[str] = field(default_factory=Counter)
    peer_errors: int = 0
    final_membership: str = ""


# Compiled (make accel), a class may be subclassed by interpreted code only if
# it says so: sim/schedule.py's ScheduledSimulation is one.
@mypyc_attr(allow_interpreted_subclasses=True)
class Simulation:
    def __init__(
        self,
        config: SimConfig,
        sink: Sink | None = None,
        actor: MembershipActor | None = None,
    ) -> None:
        config.validate()
        self.config = config
        self.sink = sink
        self.actor: MembershipActor = actor or NoActor()
        self.now = 0
        self.end = int(config.duration_s * 1_000_000)
        self.tick_us = int(config.tick_ms * 1000)
        self._queue: list[tuple[int, int, int, Any, Any]] = []
        self._counter = 0
        rngs = [random.Random(mix64(config.seed * 7919 + k)) for k in range(_SWARM)]
        self.profile = p = config.faults()
        self.net = Network(p, rngs[_NET])
        self.fault_rng = rngs[_FAULTS]
        self.disk = DiskModel(p, rngs[_DISK_RNG])
        self.phase_rng = rngs[_PHASES]
        self.clock_rng = rngs[_CLOCKS]
        self.core_rng = rngs[_CORES]
        self.workload = self._make_workload(rngs[_CLIENTS])
        self.stats = SimStats()
        self.nodes: dict[int, SimNode] = {}
        self.clients: list[Client] = []
        #: ReadIndex contexts, numbered across the cluster (as the trace has them)
        self._read_ids = itertools.count(1)
        self._lc: dict[str, int] = {}
        self._partitioned = False
        self._retired: set[int] = set()
        self._conf_indexes: set[object] = set()
        self._handlers: list[Callable[[Any, Any], None]] = [
            self._on_deliver,
            self._on_timer,
            self._on_disk,
            self._on_arrive,
            self._on_reply,
            self._on_wake,
            self._on_fault,
            self._on_actor,
            self._on_ack,
        ]
        initial = Membership(tuple(range(1, config.nodes + 1)))
        for node_id in initial.voters:
            self._start_node(node_id, DurableState.bootstrap(initial))
        for c in range(1, config.workload.clients + 1):
            client = Client(c, target=self.workload.rng.randint(1, config.nodes))
            self.clients.append(client)
            self.push(self.workload.think_us(client, self.now), WAKE, client, None)
        if p.partition_every_s:
            self.push(self._interval(p.partition_every_s), FAULT, "partition", None)
        if p.crash_every_s:
            self.push(self._interval(p.crash_every_s), FAULT, "crash", None)
        if p.pause_every_s:
            self.push(self._interval(p.pause_every_s), FAULT, "pause", None)
        if not isinstance(self.actor, NoActor):
            self.push(int(config.actor_every_ms * 1000), ACTOR, None, None)

    def _make_workload(self, rng: random.Random) -> Workload:
        """The clients' source of operations (a schedule's explicit list
        of operations replaces it: sim/operations.py)."""
        return Workload(self.config.workload, rng)

    # ------------------------------------------------------------------ loop

    def run(self, progress: Callable[[float], None] | None = None) -> SimStats:
        queue, handlers, end = self._queue, self._handlers, self.end
        next_report = 0
        while queue and queue[0][0] <= end:
            t, _, kind, a, b = heapq.heappop(queue)
            self.now = t
            handlers[kind](a, b)
            if progress is not None and t >= next_report:
                progress(t / 1_000_000)
                next_report = t + 250_000
        self.now = end
        self.stats.sim_seconds = end / 1_000_000
        runtimes = [node.runtime for node in self.nodes.values()]
        self.stats.steps = sum(r.steps for r in runtimes)
        self.stats.peer_errors = sum(r.peer_errors for r in runtimes)
        if self.disk.stalls:
            self.stats.faults["disk stall"] = self.disk.stalls
        self._final_summary()
        if progress is not None:
            progress(end / 1_000_000)
        return self.stats

    def push(self, delay_us: int, kind: int, a: Any, b: Any) -> None:
        self._counter += 1
        heapq.heappush(self._queue, (self.now + delay_us, self._counter, kind, a, b))

    def _interval(self, mean_s: float) -> int:
        return max(1000, int(self.fault_rng.expovariate(1.0 / mean_s) * 1_000_000))

    # --------------------------------------------------------------- tracing

    def _record(self, actor: str, action: str, cause: int = 0, **fields: Any) -> int:
        if self.sink is None:
            return 0
        lc = self._lc.get(actor, 0) + 1
        self._lc[actor] = lc
        event: dict[str, Any] = {"seq": 0, "t": self.now, "n": actor, "lc": lc, "act": action}
        if cause:
            event["cause"] = cause
        event.update(fields)
        return self.sink.emit(event)

    # ----------------------------------------------------------------- nodes

    def _start_node(self, node_id: int, durable: DurableState, cause: int = 0) -> None:
        node = self.nodes.get(node_id)
        if node is None:
            phase = self.phase_rng.randrange(self.tick_us)
            tick = tick_length_us(self.tick_us, self.profile.clock_drift, self.clock_rng)
            node = SimNode(node_id, self, durable, tick, phase)
            node.runtime = NodeRuntime(
                node_id,
                self.config.raft,
                clock=node,
                timer=node,
                disk=node,
                network=self,
                replies=self,
                sink=self.sink,
                snapshot_every=self.config.snapshot_every,
                read_ids=self._read_ids,
                on_note=self._observe,
            )
            self.nodes[node_id] = node
        seed = mix64(self.config.seed * 1_000_003 + node_id * 101 + node.incarnation)
        node.up = True
        node.runtime.start(durable, seed, cause)

    def _stop_node(self, node: SimNode, reason: str) -> int:
        lost = node.forget_volatile(self.now)
        node.runtime.crash()
        extra: dict[str, Any] = {"lost_writes": lost} if lost else {}
        return self._record("env", "crash", node=node.id, reason=reason, **extra)

    def _on_timer(self, node: SimNode, gen: int) -> None:
        if gen != node.timer_gen or not node.up or node.paused:
            return  # a paused node's timer is re-armed when it resumes
        node.timer_at = NEVER
        node.runtime.on_timer()

    def _on_disk(self, node: SimNode, item: tuple[int, Persist]) -> None:
        incarnation, persist = item
        if incarnation != node.incarnation or not node.up:
            return  # the write was lost in a crash
        node.writes.popleft()
        node.storage.write(persist)  # durable now, even if the process is frozen
        self._on_ack(node, (incarnation, persist.id))

    def _on_ack(self, node: SimNode, item: tuple[int, int]) -> None:
        """Tell the runtime a write completed (a frozen process learns it on
        resume; paused nodes never crash, so no write is durable but
        unacknowledged when a node restarts)."""
        incarnation, persist_id = item
        if incarnation != node.incarnation or not node.up:
            return
        if node.paused:
            node.deferred.append((ACK, node, item))
            return
        node.runtime.persisted(persist_id)

    def _observe(self, runtime: NodeRuntime, note: Note) -> None:
        action = note.action
        if action == "become_leader":
            core = runtime.core
            assert core is not None
            self.stats.leaders.setdefault(core.term, []).append(runtime.id)
        elif action == "commit":
            index = note.detail.get("index", 0)
            if isinstance(index, int) and index > self.stats.commit:
                self.stats.commit = index
        elif action == "conf_apply":
            index = note.detail.get("index")
            if index not in self._conf_indexes:  # the first node to apply it tells
                self._conf_indexes.add(index)
                self.stats.membership.append(f"{note.detail.get('change')}")

    # -------------------------------------------------------------- network

    def send(self, env: Envelope) -> None:
        """The runtimes' network (``kv.ports.Network``): the message's fate is
        drawn now; each copy that survives is a delivery event."""
        msg = env.msg
        reason, delays = self.net.fate(msg.src, msg.dst)
        if reason:
            self.stats.faults[f"drop:{reason}"] += 1
            self._record(
                "net", "drop", env.seq, mid=env.mid, src=msg.src, dst=msg.dst, reason=reason
            )
            return
        if len(delays) > 1:
            self.stats.faults["duplicate"] += 1
            self._record("net", "duplicate", env.seq, mid=env.mid, src=msg.src, dst=msg.dst)
        for delay in delays:
            self.push(delay, DELIVER, msg.dst, env)

    def _on_deliver(self, dst: int, env: Envelope) -> None:
        node = self.nodes.get(dst)
        if node is None or not node.up:
            self._record(
                "net", "drop", env.seq, mid=env.mid, src=env.msg.src, dst=dst, reason="node down"
            )
            return
        if node.paused:
            node.deferred.append((DELIVER, dst, env))
            return
        node.runtime.receive(env)

    # --------------------------------------------------------------- clients

    def _on_wake(self, client: Client, why: Any) -> None:
        if why is None:  # time for the next operation
            op = self.workload.next_operation(client, self.now)
            value = op.value if op.f != "get" else None
            op.invoke_seq = self._record(
                "client", "invoke", client=client.id, f=op.f, key=op.key, value=value
            )
            client.op = op
            client.attempt = 0
            client.next_at = self.now + self.workload.think_us(client, self.now)
            self._attempt(client)
            return
        kind, attempt = why
        current = client.op
        if current is None or attempt != client.attempt:
            return  # that attempt was answered already
        if self.now - current.invoked_us >= self.config.workload.op_timeout_ms * 1000:
            self._complete(client, "info", None)
            return
        if kind == "timeout":
            client.target = self._other_node(client.target)
        self._attempt(client)

    def _attempt(self, client: Client) -> None:
        client.attempt += 1
        op = client.op
        assert op is not None
        self.push(self.net.latency_us(), ARRIVE, client.target, (op, client.attempt))
        timeout = int(self.config.workload.attempt_timeout_ms * 1000)
        self.push(timeout, WAKE, client, ("timeout", client.attempt))

    def _on_arrive(self, node_id: int, request: tuple[Operation, int]) -> None:
        node = self.nodes.get(node_id)
        if node is None or not node.up:
            return  # lost; the client's attempt timeout handles it
        if node.paused:
            node.deferred.append((ARRIVE, node_id, request))
            return
        op = request[0]
        if op.f == "get":
            node.runtime.read(op.key, request, op.invoke_seq)
        else:
            command = Command(op.f, op.key, op.value, op.client, op.seq)
            node.runtime.propose(command, request, op.invoke_seq)

    def answer(self, request: object, reply: Reply) -> None:
        """The runtimes' replies (``kv.ports.Replies``): a reply travels back
        to its client over the network's latency (never lost)."""
        self.push(self.net.latency_us(), REPLY, request, reply)

    def _on_reply(self, request: tuple[Operation, int], reply: Reply) -> None:
        op, attempt = request
        client = self.clients[op.client - 1]
        if client.op is not op or client.attempt != attempt:
            return
        status = reply.status
        if status == OK:
            if op.f == "cas" and not reply.ok:
                self._complete(client, "fail", op.value)
            elif op.f == "get":
                self._complete(client, "ok", reply.value)
            else:
                self._complete(client, "ok", op.value)
            return
        if status == REDIRECT and reply.leader:
            client.target = reply.leader
        elif status == REDIRECT:
            client.target = self._other_node(client.target)
        client.attempt += 1  # cancels the pending attempt timeout
        self.push(20_000, WAKE, client, ("retry", client.attempt))

    def _complete(self, client: Client, outcome: str, value: Any) -> None:
        op = client.op
        assert op is not None
        self._record(
            "client",
            "complete",
            op.invoke_seq,
            client=client.id,
            type=outcome,
            f=op.f,
            key=op.key,
            value=value,
        )
        self.stats.ops[outcome] += 1
        client.op = None
        self.push(max(0, client.next_at - self.now), WAKE, client, None)

    def _other_node(self, current: int) -> int:
        candidates = sorted(n for n, node in self.nodes.items() if node.up and n != current)
        return self.workload.rng.choice(candidates) if candidates else current

    # ---------------------------------------------------------------- faults

    def _on_fault(self, kind: str, payload: Any) -> None:
        p = self.profile
        if kind == "partition":
            self._partition()
            self.push(self._interval(p.partition_every_s), FAULT, "partition", None)
        elif kind == "heal":
            self.net.heal()
            self._partitioned = False
            self.stats.faults["heal"] += 1
            self._record("net", "heal")
        elif kind == "crash":
            self._crash()
            self.push(self._interval(p.crash_every_s), FAULT, "crash", None)
        elif kind == "restart":
            node_id, cause = payload
            node = self.nodes[node_id]
            if not node.up and node_id not in self._retired:
                self.stats.faults["restart"] += 1
                self._start_node(node_id, node.storage.durable(), cause)
        elif kind == "pause":
            self._pause()
            self.push(self._interval(p.pause_every_s), FAULT, "pause", None)
        elif kind == "resume":
            self._resume(*payload)

    def _running(self) -> list[int]:
        """Nodes whose process runs and is not frozen."""
        return sorted(n for n, node in self.nodes.items() if node.up and not node.paused)

    def _may_take_down(self) -> bool:
        """Whether one more running voter may crash or pause: the injector
        keeps a quorum up so that the run makes progress."""
        running = self._running()
        voters = self._voters()
        down_voters = sum(1 for v in voters if v not in running)
        return down_voters + 1 <= (len(voters) - 1) // 2

    def _leader(self) -> int:
        best, best_term = 0, -1
        for n in self._running():
            core = self.nodes[n].runtime.core
            if core is not None and core.role is Role.LEADER and core.term > best_term:
                best, best_term = n, core.term
        return best

    def _partition(self) -> None:
        if self._partitioned:
            return
        rng, p = self.fault_rng, self.profile
        running = self._running()
        if len(running) < 2:
            return
        leader = self._leader()
        duration = int(rng.uniform(*p.partition_s) * 1_000_000)
        if rng.random() < p.asymmetric_share:
            src = leader if leader and rng.random() < 0.5 else rng.choice(running)
            others = [n for n in running if n != src]
            cut = rng.sample(others, rng.randint(1, len(others)))
            for dst in sorted(cut):
                self.net.block(src, dst)
            detail: dict[str, Any] = {"kind": "one-way", "from": src, "to": sorted(cut)}
        else:
            size = rng.randint(1, len(running) // 2)
            if leader and rng.random() < 0.5:
                minority = [leader, *rng.sample([n for n in running if n != leader], size - 1)]
            else:
                minority = rng.sample(running, size)
            groups = [sorted(minority), sorted(set(running) - set(minority))]
            self.net.partition(groups)
            detail = {"kind": "split", "groups": groups}
        self._partitioned = True
        self.stats.faults["partition"] += 1
        self._record("net", "partition", **detail, heal_after_us=duration)
        self.push(duration, FAULT, "heal", None)

    def _crash(self) -> None:
        rng, p = self.fault_rng, self.profile
        if not self._may_take_down():
            return
        running = self._running()
        writing = [n for n in running if self.nodes[n].writes]
        if writing and rng.random() < p.crash_in_flight:
            # The crash point between a write and its acknowledgement.
            victim = rng.choice(writing)
            self.stats.faults["crash:write in flight"] += 1
        else:
            leader = self._leader()
            victim = leader if leader and rng.random() < 0.3 else rng.choice(running)
        cause = self._stop_node(self.nodes[victim], "crash")
        self.stats.faults["crash"] += 1
        downtime = int(rng.uniform(*p.downtime_s) * 1_000_000)
        self.push(downtime, FAULT, "restart", (victim, cause))

    def _pause(self) -> None:
        """Freeze a node (the leader a third of the time) for a while."""
        rng, p = self.fault_rng, self.profile
        if not self._may_take_down():
            return
        leader = self._leader()
        victim = leader if leader and rng.random() < 0.33 else rng.choice(self._running())
        node = self.nodes[victim]
        duration = int(rng.uniform(*p.pause_s) * 1_000_000)
        node.paused = True
        self.stats.faults["pause"] += 1
        cause = self._record("env", "pause", node=victim, resume_after_us=duration)
        self.push(duration, FAULT, "resume", (victim, node.incarnation, cause))

    def _resume(self, node_id: int, incarnation: int, cause: int) -> None:
        """Thaw a paused node: what waited for it is handled in arrival order,
        and its timer is re-armed for deadlines that passed meanwhile."""
        node = self.nodes[node_id]
        if not node.paused or node.incarnation != incarnation:
            return  # stopped meanwhile
        node.paused = False
        waited = node.deferred
        node.deferred = []
        self._record("env", "resume", cause, node=node_id, queued=len(waited))
        for kind, a, b in waited:
            self.push(0, kind, a, b)
        node.timer_at = NEVER
        node.timer_gen += 1
        node.runtime.arm_timer()

    def _authority(self, leader: int) -> RaftCore | None:
        """The core whose configuration speaks for the cluster: the leader's,
        else that of the most advanced running node."""
        if leader:
            return self.nodes[leader].runtime.core
        cores = [n.runtime.core for n in self.nodes.values() if n.runtime.core is not None]
        return max(cores, key=lambda c: (c.term, c.log.applied, c.id)) if cores else None

    def _voters(self) -> tuple[int, ...]:
        core = self._authority(self._leader())
        return core.membership.all_voters() if core is not None else ()

    # ------------------------------------------------------------ membership

    def _view(self) -> ClusterView:
        leader = self._leader()
        core = self._authority(leader)
        membership = core.membership if core is not None else Membership()
        commit = core.log.committed if core is not None else 0
        match: tuple[tuple[int, int], ...] = ()
        if leader and core is not None:
            match = tuple((n, core.progress[n].match) for n in sorted(core.progress))
        return ClusterView(self.now, leader, membership, tuple(self._running()), match, commit)

    def _on_actor(self, _a: Any, _b: Any) -> None:
        view = self._view()
        for action in self.actor.act(view):
            self._carry_out(action, view)
        self.push(int(self.config.actor_every_ms * 1000), ACTOR, None, None)

    def _carry_out(self, action: AdminAction, view: ClusterView) -> None:
        if isinstance(action, StartNode):
            if action.node not in self.nodes:
                cause = self._record("ctrl", "act", do="start", node=action.node)
                self._start_node(action.node, DurableState.bootstrap(Membership()), cause)
            return
        if isinstance(action, StopNode):
            node = self.nodes.get(action.node)
            if node is not None and node.up:
                self._retired.add(action.node)
                self._stop_node(node, "removed from the cluster")
            return
        leader = self.nodes.get(view.leader)
        if leader is None or not leader.up:
            self.actor.result(action, False, "no leader")
            return
        if isinstance(action, ChangeMembership):
            cause = self._record("ctrl", "act", do="change", change=action.change.describe())
            inp: Input = ProposeConfChange(action.change)
        else:
            assert isinstance(action, TransferLeadership)
            cause = self._record("ctrl", "act", do="transfer", target=action.target)
            inp = TransferLeader(action.target)
        refused = next(
            (e for e in leader.runtime.step(inp, cause=cause) if isinstance(e, Refused)), None
        )
        reason = refused.reason if refused else ""
        self._record("ctrl", "result", cause, ok=refused is None, reason=reason)
        self.actor.result(action, refused is None, reason)

    def _final_summary(self) -> None:
        view = self._view()
        self.stats.final_membership = view.membership.describe()
