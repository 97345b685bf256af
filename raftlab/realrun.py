"""The main job on real processes: a local cluster, a client load, real faults, verdicts.

``run_real`` starts a local cluster (kv/localcluster.py) inside the run
directory, drives a closed-loop client workload for the run's duration, and
meanwhile carries out a fixed fault plan on the processes: SIGKILL of the
leader, its restart from disk, a partition isolating the new leader, the
heal, and a clean restart of a follower. Then it stops the cluster, merges
the per-node traces, the environment trace of the faults and the client
history by causality (traces/merge.py) into one trace, and judges it
exactly as a simulated run's trace is judged: every invariant checker, the
linearizability checker on the client operations, and a replay of every
node's own trace (at trace level ``full``) on a fresh core.

The plan's times are fractions of the duration, so a short run has the
same story as a long one. What happened when is printed as it happens and
kept for the report.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kv.client import ClientOptions
from kv.history import HistoryRecorder
from kv.loadgen import LoadResult, Workload, run_load
from kv.localcluster import LocalCluster

Say = Callable[[str], None]


@dataclass(slots=True, frozen=True)
class RealRunConfig:
    nodes: int = 3
    seed: int = 1
    duration_s: float = 20.0
    clients: int = 8
    keys: int = 8
    trace_level: str = "full"
    election_ms: tuple[int, int] = (150, 300)
    fsync: bool = True

    def validate(self) -> None:
        if self.nodes < 3:
            raise ValueError("--nodes must be at least 3: the fault plan kills a leader")
        if self.duration_s < 4:
            raise ValueError("--duration must be at least 4 seconds (the fault plan needs room)")
        if self.clients < 1 or self.keys < 1:
            raise ValueError("--clients and --keys must be at least 1")
        if self.trace_level not in ("full", "state"):
            raise ValueError("--trace-level must be full or state (the checkers need a trace)")


@dataclass(slots=True)
class Fault:
    """One step of the plan as it was carried out."""

    at_s: float
    what: str


@dataclass(slots=True)
class RealRunOutcome:
    cluster_dir: Path
    history: Path
    traces: Path
    load: LoadResult
    faults: list[Fault] = field(default_factory=list)


def _plan(
    cluster: LocalCluster, env: Any, started: float, duration: float, say: Say
) -> list[Fault]:
    """Carry out the fault plan (module docstring) on the running cluster."""
    done: list[Fault] = []

    def at(fraction: float) -> None:
        time.sleep(max(0.0, started + fraction * duration - time.monotonic()))

    def note(what: str) -> None:
        fault = Fault(round(time.monotonic() - started, 3), what)
        done.append(fault)
        say(f"  {fault.at_s:6.2f} s  {what}")

    at(0.2)
    victim = cluster.leader()
    cluster.kill(victim)
    env.crash(victim)
    note(f"SIGKILL node {victim} (the leader)")
    new = cluster.leader(timeout=10, among=[n for n in cluster.node_ids if n != victim])
    note(f"node {new} leads")
    at(0.35)
    cluster.start_node(victim)
    note(f"node {victim} restarted from its disk")
    at(0.5)
    lead = cluster.leader(timeout=10)
    rest = [n for n in cluster.node_ids if n != lead]
    cluster.partition([[lead], rest])
    env.partition([[lead], rest])
    note(f"partition: node {lead} (the leader) | {','.join(map(str, rest))}")
    other = cluster.leader(timeout=10, among=rest)
    note(f"node {other} leads the majority side")
    at(0.65)
    cluster.heal()
    env.heal()
    note("healed")
    at(0.75)
    lead = cluster.leader(timeout=10)
    follower = next(n for n in cluster.node_ids if n != lead)
    cluster.restart(follower)
    note(f"node {follower} restarted (clean stop, then start)")
    return done


def run_real(config: RealRunConfig, run_dir: Path, say: Say) -> RealRunOutcome:
    """Run the job in ``run_dir`` (which exists); see the module docstring."""
    from traces.nodetrace import EnvTraceWriter

    config.validate()
    cluster_dir = run_dir / "cluster"
    say(f"starting {config.nodes} node processes on 127.0.0.1 in {cluster_dir}")
    cluster = LocalCluster.up(
        cluster_dir,
        config.nodes,
        election_ms=config.election_ms,
        trace_level=config.trace_level,
        fsync=config.fsync,
        seed=config.seed,
    )
    traces = cluster.trace_dir
    traces.mkdir(parents=True, exist_ok=True)
    env = EnvTraceWriter(traces / "env.trace.jsonl", {"cluster": cluster.spec.name})
    history = HistoryRecorder(run="raftlab run", seed=config.seed, nodes=config.nodes)
    workload = Workload(
        clients=config.clients,
        keys=config.keys,
        ops=None,
        duration=config.duration_s,
        seed=config.seed,
        client_options=ClientOptions(attempt_timeout=1.0, op_timeout=8.0),
    )
    say(f"leader: node {cluster.leader()}; {config.clients} clients for {config.duration_s:g} s")

    async def drive() -> tuple[LoadResult, list[Fault]]:
        started = time.monotonic()
        load = asyncio.create_task(run_load(list(cluster.http_urls.values()), workload, history))
        faults = await asyncio.to_thread(_plan, cluster, env, started, config.duration_s, say)
        return await load, faults

    try:
        load, faults = asyncio.run(drive())
    finally:
        cluster.down()
        env.close()
    path = history.write(run_dir / "history.jsonl")
    return RealRunOutcome(cluster_dir, path, traces, load, faults)


def merge_run(outcome: RealRunOutcome, out: Path) -> int:
    """Merge the run's traces and history into ``out``; the number of events."""
    from traces.merge import merge_traces, write_merged

    header, events = merge_traces([outcome.traces], outcome.history)
    write_merged(out, header, events)
    return len(events)


def node_traces(outcome: RealRunOutcome) -> list[Path]:
    """Every per-node trace file of the run (each incarnation its own)."""
    return sorted(p for p in outcome.traces.glob("n*.trace.jsonl"))
