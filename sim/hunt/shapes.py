"""The schedules the hunt draws: swarm schedules and schedule shapes.

Schedule number ``index`` of a hunt with seed ``seed`` is a pure function of
the two (``draw``), which is what lets ``--workers N`` split the numbers
among processes and still find the same first counterexample.

Every schedule is a *swarm* draw first: its own cluster size (3-5), its own
per-message faults (each of loss, duplication, reordering, disk stalls and
clock drift on or off, at its own rate), its own read mode, workload (number
of clients, rate, keys, operation mix) and its own rates of partitions,
crashes and pauses, laid out as explicit events, plus sometimes a few
membership changes. Every other schedule then gets a *shape* on top: a few
faults aimed at a moment where consensus bugs live (docs/hunting.md says
why each one is there); the odd-numbered schedules take them in turn:

- ``isolate-after-append``: the leader is cut off right after it appends,
  before the entries leave it;
- ``crash-after-persist``: a node crashes after its write is durable and
  acknowledged, before what that step sends or answers leaves it;
- ``change-in-election``: a membership change is issued just as the leader
  crashes or is cut off, so the change meets an election;
- ``restart-voter``: a node that just granted a vote crashes and comes back
  in the same term, within milliseconds, with messages often duplicated;
- ``pause-leader-past-lease``: the leader (lease reads on) is frozen for
  longer than its lease, then resumes and is asked to read.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from consensus.rng import mix64
from sim.cluster import SimConfig
from sim.profiles import PROFILES
from sim.schedule import FaultEvent, Schedule
from sim.workload import WorkloadConfig

Shape = Callable[[random.Random, Schedule], Schedule]


def draw(seed: int, index: int, unsafe: tuple[str, ...] = ()) -> Schedule:
    """Schedule number ``index`` of the hunt with ``seed``."""
    rng = random.Random(mix64(seed * 1_000_003 + index))
    schedule = replace(_swarm(rng, mix64(seed * 7_919 + index) % 2**31), unsafe=unsafe)
    if index % 2:  # odd numbers take the shapes in turn
        name = SHAPE_ORDER[(index // 2) % len(SHAPE_ORDER)]
        schedule = replace(SHAPES[name](rng, schedule), shape=name)
    return schedule


# ------------------------------------------------------------------ swarm


def _maybe(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 4) if rng.random() < 0.5 else 0.0


def _swarm(rng: random.Random, run_seed: int) -> Schedule:
    nodes = rng.randint(3, 5)
    duration = round(rng.uniform(4.0, 12.0), 2)
    faults = replace(
        PROFILES["none"],
        name="hunt",
        description="drawn by the hunt (swarm)",
        latency_sigma=round(rng.uniform(0.1, 0.8), 3),
        loss=_maybe(rng, 0.0, 0.10),
        duplicate=_maybe(rng, 0.0, 0.05),
        reorder=_maybe(rng, 0.0, 0.10),
        disk_ms=round(math.exp(rng.uniform(math.log(0.2), math.log(30.0))), 3),
        disk_sigma=round(rng.uniform(0.2, 1.0), 3),
        disk_stall=_maybe(rng, 0.0, 0.03),
        clock_drift=_maybe(rng, 0.0, 0.03),
    )
    ops = [op for op in ("put", "get", "delete", "cas") if rng.random() < 0.7] or ["put", "get"]
    mix = tuple((op, round(rng.uniform(0.1, 1.0), 3)) for op in ops)
    workload = WorkloadConfig(
        clients=rng.randint(1, 5),
        rate=round(rng.uniform(20.0, 150.0), 1),
        keys=rng.randint(1, 8),
        mix=mix,
    )
    events: list[FaultEvent] = []
    for do in ("partition", "crash", "pause"):
        if rng.random() < 0.5:
            events += _poisson(rng, do, rng.uniform(1.0, 6.0), duration)
    events.sort(key=lambda e: e.at)
    membership = _membership(rng, nodes, duration) if rng.random() < 0.4 else []
    return Schedule(
        nodes=nodes,
        seed=run_seed,
        duration_s=duration,
        read_mode=rng.choice(["index", "lease"]),
        faults=faults,
        workload=workload,
        events=tuple(events),
        membership=tuple(membership),
        shape="swarm",
        snapshot_every=rng.choice([20, 50, 200]),
        max_entries_per_msg=rng.choice([1, 4, 64]),
    )


def _poisson(rng: random.Random, do: str, every_s: float, duration: float) -> list[FaultEvent]:
    out: list[FaultEvent] = []
    at = rng.expovariate(1.0 / every_s)
    while at < duration:
        node: int | str = rng.choice(["leader", "follower", "any"])
        when = "at"
        if do == "crash" and rng.random() < 0.3:
            when = "after_persist"
        if do == "partition" and node == "leader" and rng.random() < 0.3:
            when = "after_append"
        length = rng.uniform(0.2, 2.0) if do != "partition" else rng.uniform(0.3, 3.0)
        one_way = do == "partition" and rng.random() < 0.3
        out.append(FaultEvent(round(at, 3), do, node, round(length, 3), when, one_way))
        at += rng.expovariate(1.0 / every_s)
    return out


def _membership(rng: random.Random, nodes: int, duration: float) -> list[dict[str, Any]]:
    """A few changes that are valid in order: a learner added then promoted,
    a voter removed or demoted, a leadership transfer."""
    steps: list[dict[str, Any]] = []
    at = rng.uniform(0.5, duration / 2)
    new = nodes + 1
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(["add", "remove", "demote", "transfer", "replace"])
        if kind == "add":
            steps.append({"at": round(at, 3), "do": "add_learner", "node": new})
            at += rng.uniform(0.2, 1.5)
            steps.append({"at": round(at, 3), "do": "promote", "node": new})
            new += 1
        elif kind == "replace":
            steps.append({"at": round(at, 3), "do": "add_learner", "node": new})
            at += rng.uniform(0.2, 1.5)
            old = rng.randint(1, nodes)
            items = [["add_voter", new], ["remove", old]]
            steps.append({"at": round(at, 3), "do": "change", "items": items})
            new += 1
        else:
            node = rng.randint(1, nodes)
            steps.append({"at": round(at, 3), "do": kind, "node": node})
        at += rng.uniform(0.2, 2.0)
    return [s for s in steps if s["at"] < duration]


# ----------------------------------------------------------------- shapes


def _times(rng: random.Random, schedule: Schedule, count: int) -> list[float]:
    """Moments for the shape's faults, after the first election."""
    low, high = 0.6, max(0.7, schedule.duration_s - 0.5)
    return sorted(round(rng.uniform(low, high), 3) for _ in range(count))


def _add(schedule: Schedule, events: list[FaultEvent]) -> Schedule:
    merged = sorted([*schedule.events, *events], key=lambda e: e.at)
    return replace(schedule, events=tuple(merged))


def isolate_after_append(rng: random.Random, schedule: Schedule) -> Schedule:
    """Half the time with lease reads: a deposed leader on the wrong side
    must stop answering reads, and clients keep asking it until they time
    out, so reads and writes are both in the mix."""
    events = [
        FaultEvent(t, "partition", "leader", round(rng.uniform(0.5, 3.0), 3), "after_append")
        for t in _times(rng, schedule, rng.randint(1, 3))
    ]
    workload = _reads_and_writes(schedule.workload)
    read_mode = "lease" if rng.random() < 0.5 else schedule.read_mode
    return _add(replace(schedule, workload=workload, read_mode=read_mode), events)


def _reads_and_writes(workload: WorkloadConfig) -> WorkloadConfig:
    """At least two clients, both puts and gets in the mix, reads at least
    half of it (a client whose write times out leaves a deposed leader; one
    that reads stays), and at most two keys, so that a stale read is likely
    to be of a key just written."""
    mix = dict(workload.mix)
    mix.setdefault("put", 0.5)
    writes = sum(weight for op, weight in mix.items() if op != "get")
    mix["get"] = max(mix.get("get", 0.0), round(writes, 3))
    return replace(
        workload,
        clients=max(2, workload.clients),
        keys=min(2, workload.keys),
        mix=tuple(mix.items()),
    )


def crash_after_persist(rng: random.Random, schedule: Schedule) -> Schedule:
    events = [
        FaultEvent(
            t,
            "crash",
            rng.choice(["leader", "follower"]),
            round(rng.uniform(0.05, 1.0), 3),
            "after_persist",
        )
        for t in _times(rng, schedule, rng.randint(1, 3))
    ]
    return _add(schedule, events)


def change_in_election(rng: random.Random, schedule: Schedule) -> Schedule:
    """The change is issued at one of the membership actor's turns (every
    ``actor_every_ms``), and either the leader is cut off as it appends right
    then (most likely the change's own entry) or crashes a few milliseconds
    later, so that the election runs inside the change's apply window; or
    the leader crashes just before the turn and its successor is cut off as
    it appends its first entry, so that the change reaches a leader that
    has not committed an entry of its own term."""
    (t,) = _times(rng, schedule, 1)
    turn = SimConfig().actor_every_ms / 1000
    during = round(math.ceil(max(t, 1.0) / turn) * turn, 3)
    length = round(rng.uniform(0.3, 2.0), 3)
    variant = rng.choice([0, 1, 2, 2])
    faults: list[FaultEvent]
    if variant == 0:
        faults = [FaultEvent(during, "partition", "leader", length, "after_append")]
    elif variant == 1:
        at = round(during + rng.uniform(0.001, 0.02), 4)
        faults = [FaultEvent(at, "crash", "leader", length)]
    else:
        # An election takes 150-300 ms: the successor is then elected up to
        # 150 ms before the turn, about as long as it stays leader cut off.
        crash_at = round(during - rng.uniform(0.28, 0.35), 3)
        faults = [
            FaultEvent(crash_at, "crash", "leader", length),
            FaultEvent(round(crash_at + 0.01, 3), "partition", "leader", 0.5, "after_append"),
        ]
    new = schedule.nodes + 1
    before = round(max(0.3, during - rng.uniform(0.3, 0.7)), 3)
    steps: list[dict[str, Any]] = [{"at": before, "do": "add_learner", "node": new}]
    kind = rng.choice(["promote", "replace", "remove"])
    if kind == "promote":
        steps.append({"at": during, "do": "promote", "node": new})
    elif kind == "replace":
        items = [["add_voter", new], ["remove", rng.randint(1, schedule.nodes)]]
        steps.append({"at": during, "do": "change", "items": items})
    else:
        steps.append({"at": during, "do": "remove", "node": rng.randint(1, schedule.nodes)})
    # The shape's own steps replace the swarm's: two scripts would clash on node ids.
    return _add(replace(schedule, membership=tuple(steps)), faults)


def restart_voter(rng: random.Random, schedule: Schedule) -> Schedule:
    events: list[FaultEvent] = []
    for t in _times(rng, schedule, rng.randint(1, 2)):
        events.append(FaultEvent(t, "crash", "leader", round(rng.uniform(0.3, 1.5), 3)))
        down = round(rng.uniform(0.001, 0.012), 4)
        events.append(FaultEvent(t, "crash", "voter", down, "after_vote"))
    # A duplicate of the vote request arrives about one latency after the
    # first: after a restart this quick, in the term the node voted in.
    faults = replace(schedule.faults, duplicate=max(schedule.faults.duplicate, 0.3))
    return _add(replace(schedule, faults=faults), events)


def pause_leader_past_lease(rng: random.Random, schedule: Schedule) -> Schedule:
    events = [
        FaultEvent(t, "pause", "leader", round(rng.uniform(0.3, 2.0), 3))
        for t in _times(rng, schedule, rng.randint(1, 3))
    ]
    workload = _reads_and_writes(schedule.workload)
    return _add(replace(schedule, read_mode="lease", workload=workload), events)


SHAPES: dict[str, Shape] = {
    "isolate-after-append": isolate_after_append,
    "crash-after-persist": crash_after_persist,
    "change-in-election": change_in_election,
    "restart-voter": restart_voter,
    "pause-leader-past-lease": pause_leader_past_lease,
}
SHAPE_ORDER = tuple(SHAPES)
