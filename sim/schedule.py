"""Schedules: the complete, explicit description of one simulated run.

A ``raftlab sim`` run is a function of its options, but most of what happens
in it (when partitions start, who crashes) is drawn from the seed as the run
goes, so removing one fault changes every later one. A schedule instead
*lists* the faults: each one an event at a time, aimed at a node by id or by
role (the leader, a follower, the node that just voted), optionally waiting
for a trigger (the leader's next append, a node's next durable write). The
hunt (sim/hunt/) draws schedules, and shrinks a failing one by deleting
entries of these lists, which leaves the others where they were.

Besides the fault events a schedule holds the cluster size, the seed (which
still drives the network's per-message draws, the disks, the clients and
the cores' election timeouts), the duration, the concrete fault profile
(per-message loss, duplication and reordering, disk latency; its random
partition, crash and pause processes too, though the hunt leaves those off),
the read mode and unsafe modes of the core, the client workload parameters
or an explicit list of client operations (operations.py), and a membership
script (the steps of ``load_script``). The JSON format is
in docs/hunting.md; ``raftlab sim --schedule FILE`` replays a file to the
same trace, byte for byte.

``ScheduledSimulation`` is the simulator (cluster.py) with the schedule's
events put on its queue; it reuses the simulator's own crash, restart,
pause and partition steps, and adds only the triggers.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from consensus import Persist, ReadMode
from consensus.messages import AppendRequest, VoteResponse
from consensus.rng import mix64
from consensus.traced import Envelope, Sink
from kv.ports import Reply
from sim.cluster import HEARTBEAT_TICKS, SimConfig, SimStats, Simulation, raft_config_for
from sim.events import FAULT
from sim.membership import MembershipActor, NoActor, parse_script
from sim.node import SimNode
from sim.operations import ClientOp, ScriptedWorkload
from sim.profiles import PROFILES, FaultProfile
from sim.workload import Workload, WorkloadConfig
from traces.recorder import FileRecorder, StopRequest, make_header

FORMAT, VERSION = "raftlab-schedule", 1

#: What an event does.
ACTIONS = ("partition", "crash", "pause")
#: When it does it: at its time, or at the first trigger after its time.
WHENS = ("at", "after_append", "after_vote", "after_persist")
#: Nodes named by role, resolved when the event fires.
SELECTORS = ("leader", "follower", "any", "voter")


class ScheduleError(ValueError):
    """A schedule file that cannot be understood; the message names where."""


@dataclass(slots=True, frozen=True)
class FaultEvent:
    """One fault. ``node`` is an id or a selector; ``for_s`` is how long the
    partition or pause lasts, or how long a crashed node stays down."""

    at: float
    do: str
    node: int | str = "leader"
    for_s: float = 1.0
    when: str = "at"
    one_way: bool = False
    """A partition that blocks only what ``node`` sends."""

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"at": self.at, "do": self.do, "node": self.node}
        doc["for_s"] = self.for_s
        if self.when != "at":
            doc["when"] = self.when
        if self.one_way:
            doc["one_way"] = True
        return doc

    def describe(self) -> str:
        trigger = f" {self.when.replace('_', ' ')}" if self.when != "at" else ""
        target = f"n{self.node}" if isinstance(self.node, int) else f"the {self.node}"
        what = {"partition": "isolate", "crash": "crash", "pause": "pause"}[self.do]
        way = " (one way)" if self.one_way else ""
        return f"{self.at:.3f} s: {what} {target}{trigger}{way} for {self.for_s:.2f} s"


@dataclass(slots=True, frozen=True)
class Schedule:
    nodes: int = 3
    seed: int = 1
    duration_s: float = 10.0
    read_mode: str = "index"
    unsafe: tuple[str, ...] = ()
    """Unsafe modes of the core (``consensus.unsafe.MODES``): deliberate bugs."""
    faults: FaultProfile = PROFILES["none"]
    workload: WorkloadConfig = field(default_factory=WorkloadConfig)
    events: tuple[FaultEvent, ...] = ()
    membership: tuple[dict[str, Any], ...] = ()
    """Steps of a membership script (sim/membership.py ``load_script``)."""
    operations: tuple[ClientOp, ...] | None = None
    """The clients' operations, listed (sim/operations.py); ``None``: the
    random workload of ``workload`` (whose ``clients`` and timeouts apply to
    a list too)."""
    shape: str = ""
    """Which generator drew it (sim/hunt/shapes.py); only informative."""
    snapshot_every: int = 200
    max_entries_per_msg: int = 64
    """The core's batching of catch-up entries (``RaftConfig``): one entry per
    message lets a follower acknowledge an old term's tail before the new
    leader's entries, the situation of the paper's Figure 8."""
    heartbeat_ticks: int = HEARTBEAT_TICKS
    """The leaders' heartbeat interval in 10 ms ticks (the election timeout
    stays 15-30 ticks): the shrinker makes heartbeats rarer, since in a
    short counterexample they are most of the trace."""

    # ----------------------------------------------------------- the run

    def sim_config(self) -> SimConfig:
        raft = replace(
            raft_config_for(self.faults, self.read_mode),
            unsafe=self.unsafe,
            max_entries_per_msg=self.max_entries_per_msg,
            heartbeat_ticks=self.heartbeat_ticks,
        )
        return SimConfig(
            nodes=self.nodes,
            seed=self.seed,
            duration_s=self.duration_s,
            profile=self.faults,
            raft=raft,
            workload=self.workload,
            snapshot_every=self.snapshot_every,
        )

    def actor(self) -> MembershipActor:
        if not self.membership:
            return NoActor()
        steps = [dict(step) for step in self.membership]
        return parse_script(steps, "membership", self.nodes, self.duration_s)

    def header(self) -> dict[str, Any]:
        """The trace header: the simulator's fields plus the schedule itself."""
        config = self.sim_config()
        return make_header(
            "raftlab-sim", **config.header_fields(), membership="schedule", schedule=self.to_json()
        )

    def validate(self) -> None:
        """Every problem a run would hit late, as a ``ScheduleError`` now."""
        try:
            self.sim_config().validate()
            self.actor()
            for number, op in enumerate(self.operations or ()):
                problem = op.problem(self.workload.clients)
                if problem:
                    raise ScheduleError(f"operations[{number}]: {problem}")
        except ScheduleError:
            raise
        except ValueError as err:
            raise ScheduleError(str(err)) from None

    # ---------------------------------------------------------- its size

    def size(self) -> tuple[int, int, int, int, int, float]:
        """(faults, membership steps, nodes, clients, client operations,
        duration): what the shrinker makes smaller, each part on its own."""
        return (
            len(self.events),
            len(self.membership),
            self.nodes,
            self.workload.clients,
            self.client_ops(),
            self.duration_s,
        )

    def client_ops(self) -> int:
        """The client operations listed, or those the random workload asks
        for (its rate times the duration)."""
        if self.operations is not None:
            return len(self.operations)
        return round(self.workload.rate * self.duration_s) if self.workload.clients else 0

    def weight(self) -> int:
        """One number for the size: fault events, membership steps, nodes,
        and client operations."""
        return len(self.events) + len(self.membership) + self.nodes + self.client_ops()

    # --------------------------------------------------------------- JSON

    def to_json(self) -> dict[str, Any]:
        w = self.workload
        doc: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "shape": self.shape,
            "nodes": self.nodes,
            "seed": self.seed,
            "duration_s": self.duration_s,
            "read_mode": self.read_mode,
            "unsafe": list(self.unsafe),
            "snapshot_every": self.snapshot_every,
            "max_entries_per_msg": self.max_entries_per_msg,
            "heartbeat_ticks": self.heartbeat_ticks,
            "faults": self.faults.to_json(),
            "workload": {
                "clients": w.clients,
                "rate": w.rate,
                "keys": w.keys,
                "mix": {op: weight for op, weight in w.mix},
                "attempt_timeout_ms": w.attempt_timeout_ms,
                "op_timeout_ms": w.op_timeout_ms,
            },
            "events": [e.to_json() for e in self.events],
            "membership": [dict(step) for step in self.membership],
        }
        if self.operations is not None:
            doc["operations"] = [op.to_json() for op in self.operations]
        return doc

    def dumps(self) -> bytes:
        return orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2) + b"\n"


def load_schedule(path: str | Path) -> Schedule:
    """Read and validate a schedule file; errors name the file and field."""
    try:
        raw = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as err:
        raise ScheduleError(f"{path}: cannot read schedule: {err}") from None
    return schedule_from_json(raw, str(path))


def schedule_from_json(raw: Any, where: str = "schedule") -> Schedule:
    if not isinstance(raw, dict):
        raise ScheduleError(f"{where}: a schedule is a JSON object")
    if raw.get("format") != FORMAT or raw.get("version") != VERSION:
        raise ScheduleError(f"{where}: not a {FORMAT} version {VERSION} file")
    known = set(Schedule.__slots__) | {"format", "version"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ScheduleError(f"{where}: unknown field {unknown[0]!r}")
    get = _Getter(raw, where)
    schedule = Schedule(
        nodes=get.integer("nodes", 3),
        seed=get.integer("seed", 1),
        duration_s=get.number("duration_s", 10.0),
        read_mode=get.text("read_mode", "index"),
        unsafe=tuple(get.items("unsafe", str)),
        faults=_faults(raw.get("faults", {}), f"{where}: faults"),
        workload=_workload(raw.get("workload", {}), f"{where}: workload"),
        events=tuple(
            _event(e, f"{where}: events[{i}]") for i, e in enumerate(get.items("events", dict))
        ),
        membership=tuple(get.items("membership", dict)),
        operations=_operations(raw, where),
        shape=get.text("shape", ""),
        snapshot_every=get.integer("snapshot_every", 200),
        max_entries_per_msg=get.integer("max_entries_per_msg", 64),
        heartbeat_ticks=get.integer("heartbeat_ticks", HEARTBEAT_TICKS),
    )
    if schedule.read_mode not in [m.value for m in ReadMode]:
        raise ScheduleError(f"{where}: read_mode must be 'index' or 'lease'")
    try:
        schedule.validate()
    except ScheduleError as err:
        raise ScheduleError(f"{where}: {err}") from None
    return schedule


class _Getter:
    """Typed reads of a JSON object's fields, failing with the field's name."""

    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self.raw, self.where = raw, where

    def _get(self, key: str, default: Any, ok: Callable[[Any], bool], what: str) -> Any:
        value = self.raw.get(key, default)
        if not ok(value):
            raise ScheduleError(f"{self.where}: {key} must be {what}, got {value!r}")
        return value

    def integer(self, key: str, default: int) -> int:
        value: int = self._get(
            key, default, lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"
        )
        return value

    def number(self, key: str, default: float) -> float:
        value = self._get(
            key,
            default,
            lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v >= 0,
            "a number >= 0",
        )
        return float(value)

    def text(self, key: str, default: str) -> str:
        value: str = self._get(key, default, lambda v: isinstance(v, str), "a string")
        return value

    def items(self, key: str, kind: type) -> list[Any]:
        value: list[Any] = self._get(
            key,
            [],
            lambda v: isinstance(v, list) and all(isinstance(x, kind) for x in v),
            f"a list of {kind.__name__}",
        )
        return value


def _faults(raw: Any, where: str) -> FaultProfile:
    if not isinstance(raw, dict):
        raise ScheduleError(f"{where}: must be an object of fault profile fields")
    names = {f.name: f for f in dataclasses.fields(FaultProfile)}
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise ScheduleError(f"{where}: unknown field {unknown[0]!r}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    values.setdefault("name", "schedule")
    values.setdefault("description", "the schedule's own faults")
    try:
        profile = FaultProfile(**values)
    except TypeError as err:
        raise ScheduleError(f"{where}: {err}") from None
    if profile.swarm:
        raise ScheduleError(f"{where}: a schedule holds a concrete profile, not a swarm")
    return profile


def _workload(raw: Any, where: str) -> WorkloadConfig:
    if not isinstance(raw, dict):
        raise ScheduleError(f"{where}: must be an object")
    get = _Getter(raw, where)
    mix = raw.get("mix", {"put": 0.45, "get": 0.45, "delete": 0.1})
    if not isinstance(mix, dict) or not all(isinstance(w, int | float) for w in mix.values()):
        raise ScheduleError(f"{where}: mix must map operations to weights")
    config = WorkloadConfig(
        clients=get.integer("clients", 5),
        rate=get.number("rate", 100.0),
        keys=get.integer("keys", 8),
        mix=tuple((str(op), float(w)) for op, w in mix.items()),
        attempt_timeout_ms=get.number("attempt_timeout_ms", 300.0),
        op_timeout_ms=get.number("op_timeout_ms", 3000.0),
    )
    try:
        config.validate()
    except ValueError as err:
        raise ScheduleError(f"{where}: {err}") from None
    return config


def _operations(raw: dict[str, Any], where: str) -> tuple[ClientOp, ...] | None:
    if raw.get("operations") is None:
        return None
    out = []
    for number, item in enumerate(_Getter(raw, where).items("operations", dict)):
        here = f"{where}: operations[{number}]"
        unknown = sorted(set(item) - set(ClientOp.__slots__))
        if unknown:
            raise ScheduleError(f"{here}: unknown field {unknown[0]!r}")
        get = _Getter(item, here)
        value = item.get("value")
        out.append(
            ClientOp(
                get.integer("client", 0),
                get.number("at", 0.0),
                get.text("op", ""),
                get.text("key", ""),
                list(value) if isinstance(value, list) else value,
            )
        )
    return tuple(out)


def _event(raw: dict[str, Any], where: str) -> FaultEvent:
    get = _Getter(raw, where)
    unknown = sorted(set(raw) - set(FaultEvent.__slots__))
    if unknown:
        raise ScheduleError(f"{where}: unknown field {unknown[0]!r}")
    do, when, node = get.text("do", ""), get.text("when", "at"), raw.get("node", "leader")
    if do not in ACTIONS:
        raise ScheduleError(f"{where}: do must be one of {', '.join(ACTIONS)}, got {do!r}")
    if when not in WHENS:
        raise ScheduleError(f"{where}: when must be one of {', '.join(WHENS)}, got {when!r}")
    if not (isinstance(node, int) and not isinstance(node, bool)) and node not in SELECTORS:
        raise ScheduleError(f"{where}: node must be an id or one of {', '.join(SELECTORS)}")
    if (when == "after_vote") != (node == "voter"):
        raise ScheduleError(f"{where}: node 'voter' goes with when 'after_vote', and only it")
    if when == "after_persist" and do != "crash":
        raise ScheduleError(f"{where}: when 'after_persist' is for crashes")
    if when == "after_append" and do != "partition":
        raise ScheduleError(f"{where}: when 'after_append' is for partitions")
    one_way = raw.get("one_way", False)
    if not isinstance(one_way, bool):
        raise ScheduleError(f"{where}: one_way must be true or false")
    return FaultEvent(get.number("at", 0.0), do, node, get.number("for_s", 1.0), when, one_way)


# ---------------------------------------------------------------- running it


class ScheduledSimulation(Simulation):
    """The simulator with a schedule's fault events on its queue.

    An event whose node cannot be found when it fires (no leader, the node
    is down) is skipped and counted under ``skipped`` in the run's faults.
    """

    #: The random stream that picks among candidates ("follower", "any").
    _PICK = 1009

    def __init__(self, schedule: Schedule, sink: Sink | None = None) -> None:
        self.schedule = schedule
        super().__init__(schedule.sim_config(), sink, schedule.actor())
        self._pick_rng = random.Random(mix64(schedule.seed * 7919 + self._PICK))
        #: Armed triggers: event number -> the node it waits on (0: whichever
        #: node sends entries next, which only leaders do).
        self._after_append: dict[int, int] = {}
        self._after_vote: list[int] = []
        self._after_persist: dict[int, int] = {}
        #: The node whose step is running when it "crashes before sending".
        self._muted = 0
        #: Counts partitions: a partition replaces the one before it (which
        #: is healed first), and only the latest one's heal applies.
        self._partition_gen = 0
        for number, event in enumerate(schedule.events):
            self.push(int(event.at * 1_000_000), FAULT, "scheduled", number)

    def _make_workload(self, rng: random.Random) -> Workload:
        if self.schedule.operations is None:
            return super()._make_workload(rng)
        return ScriptedWorkload(self.config.workload, rng, self.schedule.operations)

    def _on_fault(self, kind: str, payload: Any) -> None:
        if kind == "scheduled":
            self._arm(payload)
        elif kind == "scheduled_fire":
            number, node = payload
            self._fire(self.schedule.events[number], node)
        elif kind == "scheduled_heal":
            if payload == self._partition_gen:  # else a later partition replaced it
                super()._on_fault("heal", None)
        else:
            super()._on_fault(kind, payload)

    def _arm(self, number: int) -> None:
        event = self.schedule.events[number]
        if event.when == "after_vote":
            self._after_vote.append(number)
            return
        if event.when == "after_append":  # whoever leads when entries next leave
            self._after_append[number] = event.node if isinstance(event.node, int) else 0
            return
        node = self._select(event.node)
        if not node:
            self.stats.faults["skipped"] += 1
        elif event.when == "after_persist":
            self._after_persist[number] = node
        else:
            self._fire(event, node)

    def _select(self, selector: int | str) -> int:
        """The running node a selector names now, or 0."""
        running = self._running()
        if isinstance(selector, int):
            return selector if selector in running else 0
        leader = self._leader()
        if selector == "leader":
            return leader
        pool = [n for n in running if n != leader] if selector == "follower" else running
        return self._pick_rng.choice(pool) if pool else 0

    def _fire(self, event: FaultEvent, node_id: int) -> None:
        node = self.nodes.get(node_id)
        if node is None or not node.up:
            self.stats.faults["skipped"] += 1
            return
        length = int(event.for_s * 1_000_000)
        if event.do == "crash":
            cause = self._stop_node(node, "crash")
            self.stats.faults["crash"] += 1
            self.push(length, FAULT, "restart", (node_id, cause))
        elif event.do == "pause":
            if node.paused:
                self.stats.faults["skipped"] += 1
                return
            node.paused = True
            self.stats.faults["pause"] += 1
            cause = self._record("env", "pause", node=node_id, resume_after_us=length)
            self.push(length, FAULT, "resume", (node_id, node.incarnation, cause))
        else:
            self._isolate(node_id, event.one_way, length)

    def _isolate(self, node_id: int, one_way: bool, length: int) -> None:
        others = sorted(n for n in self.nodes if n != node_id)
        detail: dict[str, Any]
        self.net.heal()
        if one_way:
            for dst in others:
                self.net.block(node_id, dst)
            detail = {"kind": "one-way", "from": node_id, "to": others}
        else:
            groups = [[node_id], others]
            self.net.partition(groups)
            detail = {"kind": "split", "groups": groups}
        self._partitioned = True
        self._partition_gen += 1
        self.stats.faults["partition"] += 1
        self._record("net", "partition", **detail, heal_after_us=length)
        self.push(length, FAULT, "scheduled_heal", self._partition_gen)

    # -- triggers --------------------------------------------------------------

    def send(self, env: Envelope) -> None:
        msg = env.msg
        if self._muted == msg.src:
            self.stats.faults["drop:crash"] += 1
            self._record(
                "net", "drop", env.seq, mid=env.mid, src=msg.src, dst=msg.dst, reason="crash"
            )
            return
        if self._after_append and isinstance(msg, AppendRequest) and msg.entries:
            for number, node in sorted(self._after_append.items()):
                if node in (0, msg.src):  # cut it off before this append leaves
                    del self._after_append[number]
                    self._fire(self.schedule.events[number], msg.src)
        super().send(env)
        if self._after_vote and isinstance(msg, VoteResponse) and msg.granted and not msg.pre:
            for number in self._after_vote:
                self.push(0, FAULT, "scheduled_fire", (number, msg.src))
            self._after_vote.clear()

    def _on_disk(self, node: SimNode, item: tuple[int, Persist]) -> None:
        """A write completes; for an armed ``after_persist`` crash, the node
        learns it (the trace shows the ``persisted`` step, so the write is
        durable in evidence too) but dies before what that step sends or
        answers leaves the process."""
        armed = sorted(n for n, target in self._after_persist.items() if target == node.id)
        incarnation = item[0]
        if not armed or incarnation != node.incarnation or not node.up or node.paused:
            super()._on_disk(node, item)
            return
        for number in armed:
            del self._after_persist[number]
        self._muted = node.id
        try:
            super()._on_disk(node, item)
        finally:
            self._muted = 0
        self._fire(self.schedule.events[armed[0]], node.id)

    def answer(self, request: object, reply: Reply) -> None:
        if not self._muted:  # else the client's attempt times out
            super().answer(request, reply)


def run_schedule(
    schedule: Schedule, sink: Sink | None, progress: Callable[[float], None] | None = None
) -> SimStats:
    return ScheduledSimulation(schedule, sink).run(progress)


def write_trace(
    schedule: Schedule,
    out: Path,
    progress: Callable[[float], None] | None = None,
    stop: StopRequest | None = None,
) -> SimStats:
    """Run a schedule and write its trace to ``out`` (what ``raftlab sim
    --schedule`` does)."""
    recorder = FileRecorder(out, schedule.header(), stop=stop)
    try:
        stats = run_schedule(schedule, recorder, progress)
    except BaseException as error:
        recorder.abort(f"failed: {type(error).__name__}: {error}")
        raise
    recorder.close()
    return stats
